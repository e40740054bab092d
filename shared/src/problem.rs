//! Errors of the HTTP layer and their one mapping to RFC 9457 problem responses.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::DomainError;
use crate::ports::StoreError;

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
    #[error("a storage dependency is unavailable")]
    Unavailable(#[from] StoreError),
    #[error("unexpected error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
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
            Self::BadRequest(_) | Self::Invalid(_) => "bad-request",
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
            other => other.to_string(),
        };
        Problem::new(self.status(), self.slug(), detail, instance)
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
        crate::http::response(status, "application/problem+json", body)
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
    fn an_unexpected_error_is_a_generic_500() {
        let response = ApiError::from(anyhow::anyhow!("secret internals"))
            .to_problem("r")
            .into_response();
        assert_eq!(response.status(), 500);
        assert!(!body_json(&response).to_string().contains("secret"));
    }
}
