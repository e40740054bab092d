//! `GET /api/recovery/audio/{token}` and `GET /api/recovery/audio` with the token in the
//! `X-Recovery-Token` header: a short-lived presigned download of the audio a token names.
//!
//! The path form is the link (`audio_url`, a 302 to the download). The header form is how the
//! browser client redeems: the token stays out of the URL, so no access log of a CDN or proxy in
//! front of the API ever holds it; it always answers JSON, as the path form does with
//! `Accept: application/json`.

use std::convert::Infallible;
use std::time::Duration;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use recovery_shared::app::rfc3339;
use recovery_shared::copies::{PartLink, presigned_parts};
use recovery_shared::domain::{
    Counter, Filename, Metadata, SESSION_DOCUMENT_TYPE, Token, TokenRecord, is_session_copy_key,
    prefix_of_key,
};
use recovery_shared::ports::{DownloadSpec, ObjectStore, StoreError, TokenStore};
use recovery_shared::{ApiError, App, download, http, response};
use serde::Serialize;

pub const ROUTE: &str = "GET /api/recovery/audio/{token}";
/// The same redemption with the token in [`TOKEN_HEADER`] instead of the path.
pub const HEADER_ROUTE: &str = "GET /api/recovery/audio";
/// Where the header form carries the token.
pub const TOKEN_HEADER: &str = "x-recovery-token";

#[derive(Debug, Serialize)]
struct AudioResponse {
    url: String,
    url_expires_at: String,
    expires_at: String,
    content_type: String,
    size: u64,
    filename: String,
    metadata: Metadata,
    /// A presigned GET of the session document, when the token has one; lives as `url` does.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_size: Option<u64>,
    /// For the token of a session's server copy (`url` is then its document): a presigned GET
    /// of every other object under the session's prefix, its parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    parts: Option<Vec<PartLink>>,
}

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    // API Gateway fills in `{token}` on the path route only.
    let in_path = path_token(&req).is_some();
    let route = if in_path { ROUTE } else { HEADER_ROUTE };
    http::serve(req, env!("CARGO_PKG_NAME"), route, |req| {
        redeem_token(app, req, in_path)
    })
    .await
}

fn path_token(req: &Request) -> Option<&str> {
    req.path_parameters_ref().and_then(|p| p.first("token"))
}

/// The token the request presents: from the path, or from the header on the header route.
fn presented_token(req: &Request, in_path: bool) -> Result<Token, ApiError> {
    if in_path {
        return Ok(Token::parse(path_token(req).unwrap_or_default())?);
    }
    let mut values = req.headers().get_all(TOKEN_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Ok(Token::parse(value.to_str().unwrap_or_default())?),
        (None, _) => Err(ApiError::BadRequest(
            "send the recovery token in the X-Recovery-Token header".to_owned(),
        )),
        (Some(_), Some(_)) => Err(ApiError::BadRequest(
            "send one X-Recovery-Token header, not several".to_owned(),
        )),
    }
}

async fn redeem_token<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
    in_path: bool,
) -> Result<Response<Body>, ApiError> {
    // No caller identity here: the token is the capability, so a fresh browser can recover.
    let token = presented_token(&req, in_path)?;
    let Some(record) = app.tokens.get_token(&token.hash()).await? else {
        app.count(Counter::NotFound).await;
        return Err(ApiError::NotFound(
            "no recovery token like this exists (it may have been revoked)".to_owned(),
        ));
    };
    let now = app.clock.now();
    if record.purged_at.is_some() {
        return Err(ApiError::Gone(
            "the audio of this recovery token has been deleted by its owner".to_owned(),
        ));
    }
    // DynamoDB's TTL deletes within days, not on the second: the record may outlive its token.
    if now >= record.expires_at {
        app.count(Counter::Expired).await;
        return Err(ApiError::Gone(format!(
            "this recovery token expired at {}; the audio is no longer available",
            rfc3339(record.expires_at)?
        )));
    }

    let lifetime = url_lifetime(app, &record, now).await?;
    let filename = download_name(&record);
    let presigned = app
        .objects
        .presign_download(DownloadSpec {
            key: &record.audio_key,
            content_disposition: &filename.content_disposition(),
            content_type: &record.content_type,
            expires_in: Duration::from_secs(lifetime.unsigned_abs()),
        })
        .await?;
    app.count(Counter::Redeemed).await;
    tracing::info!(url_lifetime = lifetime, "token redeemed");

    if !in_path || http::wants_json(&req) {
        let session_url = match &record.session {
            None => None,
            Some(document) => Some(
                app.objects
                    .presign_download(DownloadSpec {
                        key: &document.key,
                        content_disposition: &session_filename(&record).content_disposition(),
                        content_type: SESSION_DOCUMENT_TYPE,
                        expires_in: Duration::from_secs(lifetime.unsigned_abs()),
                    })
                    .await?
                    .url,
            ),
        };
        let mut size = record.size_bytes;
        let parts = match prefix_of_key(&record.audio_key) {
            Some(prefix) if is_session_copy_key(&record.audio_key) => {
                let (document, parts) = presigned_parts(
                    app,
                    &record.audio_key,
                    prefix,
                    Duration::from_secs(lifetime.unsigned_abs()),
                )
                .await?;
                // The copy is overwritten in place: its size now, not when the token was made.
                size = document.map_or(size, |d| d.size_bytes);
                Some(parts)
            }
            _ => None,
        };
        return Ok(response::json_response(
            StatusCode::OK,
            &AudioResponse {
                url: presigned.url,
                url_expires_at: rfc3339(now + lifetime)?,
                expires_at: rfc3339(record.expires_at)?,
                content_type: record.content_type,
                size,
                filename: filename.as_str().to_owned(),
                metadata: record.metadata,
                session_url,
                session_size: record.session.as_ref().map(|d| d.size_bytes),
                parts,
            },
        )?);
    }
    let mut response = response::json_response(
        StatusCode::FOUND,
        &serde_json::json!({ "url": presigned.url }),
    )?;
    let location = HeaderValue::from_str(&presigned.url)
        .map_err(|e| anyhow::anyhow!("presigned URL is not a header value: {e}"))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// A presigned URL lives for the configured lifetime, but never past the token's expiry nor past
/// the signing credentials' expiry (a URL signed with expired credentials is refused by S3).
async fn url_lifetime<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    record: &TokenRecord,
    now: i64,
) -> Result<i64, ApiError> {
    let mut lifetime = i64::from(app.config.presign_ttl_seconds).min(record.expires_at - now);
    if let Some(credentials_expiry) = app.objects.signing_credentials_expiry().await? {
        lifetime = lifetime.min(credentials_expiry - now);
    }
    if lifetime < 1 {
        return Err(StoreError::unavailable(
            "signing credentials have expired",
            anyhow::anyhow!("credentials expire before a URL could be used"),
        )
        .into());
    }
    Ok(lifetime)
}

/// The name the browser saves the file under: the one given (else one made from the session),
/// cleaned, with the extension of the content type.
fn download_name(record: &TokenRecord) -> Filename {
    download::download_name(
        record.filename.as_deref(),
        &format!("recovery-{}", record.session_id),
        &record.content_type,
    )
}

/// The name offered for the session document.
fn session_filename(record: &TokenRecord) -> Filename {
    download::download_name(
        None,
        &format!("recovery-{}-session", record.session_id),
        SESSION_DOCUMENT_TYPE,
    )
}

#[cfg(test)]
mod tests;
