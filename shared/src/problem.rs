//! Errors of the HTTP layer and their one mapping to RFC 9457 problem responses.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::DomainError;
use crate::ports::StoreError;
use crate::quota::{QuotaKind, QuotaLimits, seconds_until_reset};

/// Everything a handler can answer besides success. User errors carry a message for the caller;
/// the two server-side variants carry the cause for the log only.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A daily quota is used up; `retry_after` seconds until it resets.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// Storage refused the request as invalid: input the checks let through.
    #[error("the table refused the record as invalid")]
    Rejected(#[source] StoreError),
    #[error("a storage dependency is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("unexpected error")]
    Unexpected(#[from] anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected { .. } => Self::Rejected(e),
            other => Self::Unavailable(other),
        }
    }
}

impl ApiError {
    /// The 429 of a used-up daily quota, retryable when the UTC day ends.
    pub fn quota_exceeded(kind: QuotaKind, limits: &QuotaLimits, now: i64) -> Self {
        Self::TooManyRequests {
            detail: format!(
                "the daily quota of {} ({}) is used up; it resets at 00:00 UTC",
                kind.describe(),
                limits.of(kind)
            ),
            retry_after: seconds_until_reset(now),
        }
    }

    /// A failed store call as the caller's answer: a used-up quota is a 429 with the limit that
    /// was reached, anything else as [`From<StoreError>`] maps it.
    pub fn from_store(e: StoreError, limits: &QuotaLimits, now: i64) -> Self {
        match e {
            StoreError::QuotaExceeded(kind) => Self::quota_exceeded(kind, limits, now),
            other => other.into(),
        }
    }

    /// Seconds the caller should wait before trying again, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Invalid(_) | Self::Rejected(_) => StatusCode::BAD_REQUEST,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) | Self::Invalid(_) | Self::Rejected(_) => "bad-request",
            Self::TooManyRequests { .. } => "quota-exceeded",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Gone(_) => "expired",
            Self::PayloadTooLarge(_) => "too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Unavailable(_) => "dependency-unavailable",
            Self::Unexpected(_) => "internal-error",
        }
    }

    /// The problem document for the caller. Server-side causes are replaced by a fixed text.
    pub fn to_problem(&self, instance: &str) -> Problem {
        let detail = match self {
            Self::Unavailable(_) => {
                "A storage service is unavailable. Nothing was changed; try again shortly."
                    .to_owned()
            }
            Self::Unexpected(_) => {
                "The request could not be completed. Nothing was changed.".to_owned()
            }
            Self::Rejected(_) => "The table refused the record as invalid. Check `metadata` \
                (member names and values) and `filename`. Nothing was changed."
                .to_owned(),
            other => other.to_string(),
        };
        Problem::new(self.status(), self.slug(), detail, instance)
    }

    /// The problem response, with `Retry-After` where the error has one.
    pub fn into_response(&self, instance: &str) -> Response<Body> {
        let mut response = self.to_problem(instance).into_response();
        if let Some(seconds) = self.retry_after()
            && let Ok(value) = lambda_http::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(lambda_http::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub instance: String,
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: String, instance: &str) -> Self {
        Self {
            kind: format!("urn:chatterbox-recovery:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            instance: instance.to_owned(),
            extensions: serde_json::Map::new(),
        }
    }

    #[must_use]
    pub fn with_extension(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_owned(), value);
        self
    }

    pub fn into_response(self) -> Response<Body> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serialising a struct of strings and a JSON map cannot fail; the fallback keeps the
        // response well-formed regardless.
        let body = serde_json::to_string(&self)
            .unwrap_or_else(|_| format!(r#"{{"type":"about:blank","status":{}}}"#, self.status));
        crate::response::response(status, "application/problem+json", body)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn body_json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn a_user_error_keeps_its_detail_and_carries_the_request_id() {
        let response = ApiError::Forbidden("not your key".into())
            .to_problem("req-1")
            .into_response();
        assert_eq!(response.status(), 403);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = body_json(&response);
        assert_eq!(body["detail"], "not your key");
        assert_eq!(body["instance"], "req-1");
        assert_eq!(body["status"], 403);
        assert_eq!(body["title"], "Forbidden");
        assert_eq!(body["type"], "urn:chatterbox-recovery:problem:forbidden");
    }

    #[test]
    fn a_dependency_failure_is_a_503_that_hides_the_cause() {
        let err = ApiError::from(StoreError::unavailable(
            "DynamoDB GetItem failed",
            anyhow::anyhow!("dispatch failure: connection refused to 10.0.0.1"),
        ));
        let response = err.to_problem("req-2").into_response();
        assert_eq!(response.status(), 503);
        let text = serde_json::to_string(&body_json(&response)).unwrap();
        assert!(!text.contains("DynamoDB"), "{text}");
        assert!(!text.contains("10.0.0.1"), "{text}");
    }

    #[test]
    fn a_validation_refusal_of_the_table_is_a_400_naming_what_to_check() {
        let err = ApiError::from(StoreError::Rejected {
            context: "PutItem",
            source: anyhow::anyhow!("ValidationException: Number overflow"),
        });
        let response = err.into_response("r");
        assert_eq!(response.status(), 400);
        let body = body_json(&response);
        assert!(body["detail"].as_str().unwrap().contains("metadata"));
        assert!(!body.to_string().contains("overflow"));
    }

    #[test]
    fn a_quota_error_is_a_429_with_retry_after() {
        let response = ApiError::TooManyRequests {
            detail: "the daily quota of uploads (3) is used up".into(),
            retry_after: 120,
        }
        .into_response("r");
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "120");
        assert_eq!(
            body_json(&response)["type"],
            "urn:chatterbox-recovery:problem:quota-exceeded"
        );
    }

    #[test]
    fn an_unexpected_error_is_a_generic_500() {
        let response = ApiError::from(anyhow::anyhow!("secret internals"))
            .to_problem("r")
            .into_response();
        assert_eq!(response.status(), 500);
        assert!(!body_json(&response).to_string().contains("secret"));
    }
}
