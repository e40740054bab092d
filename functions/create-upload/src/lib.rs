//! `POST /api/recovery/uploads`: a presigned PUT for a new key in the caller's namespace, for audio
//! or for a session document (each with its own size cap).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use recovery_shared::app::rfc3339;
use recovery_shared::domain::{
    DomainError, Filename, ObjectId, ObjectKey, SessionId, UploadContentType,
};
use recovery_shared::ports::{ObjectStore, TokenStore, UploadSpec};
use recovery_shared::quota::{QuotaCharge, QuotaKind};
use recovery_shared::{ApiError, App, http, response};
use serde::{Deserialize, Serialize};

pub const ROUTE: &str = "POST /api/recovery/uploads";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadRequest {
    session_id: String,
    content_type: String,
    #[serde(deserialize_with = "http::whole::required")]
    content_length: u64,
    filename: Option<String>,
}

#[derive(Debug, Serialize)]
struct UploadResponse {
    key: String,
    upload_url: String,
    method: String,
    /// Send these exactly: they are part of the signature.
    headers: BTreeMap<String, String>,
    expires_at: String,
}

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::serve(req, env!("CARGO_PKG_NAME"), ROUTE, |req| {
        create_upload(app, req)
    })
    .await
}

async fn create_upload<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(&req)?;
    let body: UploadRequest = http::json_body(&req)?;
    let session = SessionId::parse(&body.session_id)?;
    let content_type = UploadContentType::parse(&body.content_type)?;
    let max = match content_type {
        UploadContentType::Audio(_) => app.config.max_audio_bytes,
        UploadContentType::SessionDocument => app.config.max_session_document_bytes,
    };
    if !(1..=max).contains(&body.content_length) {
        return Err(DomainError::BadLength { max }.into());
    }
    let filename = body.filename.as_deref().map(Filename::parse).transpose()?;

    let object = ObjectId::generate().map_err(|e| anyhow::anyhow!("CSPRNG failed: {e}"))?;
    let key = ObjectKey::new(&app.config.audio_prefix, owner.hash(), session, &object);
    let lifetime = app.config.presign_ttl_seconds;
    let now = app.clock.now();
    // The upload counts against the owner's day when it is handed out: a URL is the capability.
    let charge = QuotaCharge::new(
        owner.hash(),
        now,
        &app.config.quota,
        &[
            (QuotaKind::Uploads, 1),
            (QuotaKind::UploadBytes, body.content_length),
        ],
    );
    app.tokens
        .charge_quota(&charge)
        .await
        .map_err(|e| ApiError::from_store(e, &app.config.quota, now))?;
    let presigned = app
        .objects
        .presign_upload(UploadSpec {
            key: &key,
            content_type: content_type.as_str(),
            content_length: body.content_length,
            filename: filename.as_ref().map(Filename::as_str),
            expires_in: Duration::from_secs(lifetime.into()),
        })
        .await?;
    tracing::info!(size = body.content_length, "upload presigned");
    Ok(response::json_response(
        StatusCode::CREATED,
        &UploadResponse {
            key: key.to_string(),
            upload_url: presigned.url,
            method: presigned.method,
            headers: presigned.headers.into_iter().collect(),
            expires_at: rfc3339(now + i64::from(lifetime))?,
        },
    )?)
}

#[cfg(test)]
mod tests;
