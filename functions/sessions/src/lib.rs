//! `GET /api/recovery/sessions`: the caller's server copies, newest first; and
//! `GET /api/recovery/sessions/{session_id}`: one copy restored by its owner, as presigned GETs
//! of its document and of every other object under the session's prefix (its parts).

use std::convert::Infallible;
use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use recovery_shared::app::{rfc3339, rfc3339_millis};
use recovery_shared::copies::{PartLink, presigned_parts};
use recovery_shared::domain::{
    CopyEntry, ObjectKey, SESSION_DOCUMENT_TYPE, SessionId, session_prefix,
};
use recovery_shared::ports::{DownloadSpec, ObjectStore, StoreError, TokenStore};
use recovery_shared::{ApiError, App, download, http, response};
use serde::Serialize;

pub const ROUTE: &str = "GET /api/recovery/sessions";
/// One copy, by its session id.
pub const ONE_ROUTE: &str = "GET /api/recovery/sessions/{session_id}";

#[derive(Debug, Serialize)]
struct Listed {
    session_id: String,
    updated_at: String,
    size: u64,
    parts: u32,
    expires_at: String,
}

#[derive(Debug, Serialize)]
struct ListResponse {
    sessions: Vec<Listed>,
}

#[derive(Debug, Serialize)]
struct RestoreResponse {
    session_id: String,
    updated_at: String,
    expires_at: String,
    url: String,
    url_expires_at: String,
    size: u64,
    parts: Vec<PartLink>,
}

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    let one = session_param(&req).is_some();
    let route = if one { ONE_ROUTE } else { ROUTE };
    http::serve(req, env!("CARGO_PKG_NAME"), route, |req| async move {
        if one {
            restore(app, &req).await
        } else {
            list(app, &req).await
        }
    })
    .await
}

fn session_param(req: &Request) -> Option<&str> {
    req.path_parameters_ref()
        .and_then(|p| p.first("session_id"))
}

async fn list<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(req)?.hash();
    let now = app.clock.now();
    let mut entries: Vec<CopyEntry> = app
        .tokens
        .copies(&owner)
        .await?
        .into_iter()
        .filter(|e| e.expires_at > now)
        .collect();
    // Newest first; the id breaks ties so the order is stable.
    entries.sort_by(|a, b| {
        b.updated_at_ms
            .cmp(&a.updated_at_ms)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    let sessions = entries
        .into_iter()
        .map(|e| {
            Ok(Listed {
                updated_at: rfc3339_millis(e.updated_at_ms)?,
                expires_at: rfc3339(e.expires_at)?,
                session_id: e.session_id,
                size: e.size,
                parts: e.parts,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(response::json_response(
        StatusCode::OK,
        &ListResponse { sessions },
    )?)
}

async fn restore<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(req)?.hash();
    let session = SessionId::parse(session_param(req).unwrap_or_default())?;
    let now = app.clock.now();
    let entry = app
        .tokens
        .copies(&owner)
        .await?
        .into_iter()
        .find(|e| e.session_id == session.as_str())
        .ok_or_else(|| ApiError::NotFound("you have no copy of this session".to_owned()))?;
    if now >= entry.expires_at {
        return Err(ApiError::Gone(format!(
            "this session's copy expired at {}",
            rfc3339(entry.expires_at)?
        )));
    }
    let lifetime = i64::from(app.config.presign_ttl_seconds).min(entry.expires_at - now);
    let lifetime = match app.objects.signing_credentials_expiry().await? {
        Some(at) => lifetime.min(at - now),
        None => lifetime,
    };
    if lifetime < 1 {
        return Err(StoreError::unavailable(
            "signing credentials have expired",
            anyhow::anyhow!("credentials expire before a URL could be used"),
        )
        .into());
    }
    let expires_in = Duration::from_secs(lifetime.unsigned_abs());
    let document =
        ObjectKey::session_copy(&app.config.audio_prefix, owner.clone(), session.clone());
    let prefix = session_prefix(&app.config.audio_prefix, &owner, &session);
    let (stored, parts) = presigned_parts(app, document.as_str(), &prefix, expires_in).await?;
    let Some(stored) = stored else {
        // Listed, but the document is gone: deleted meanwhile.
        return Err(ApiError::Gone(
            "this session's copy has been deleted".to_owned(),
        ));
    };
    let name = download::download_name(
        None,
        &format!("recovery-{}-session", session.as_str()),
        SESSION_DOCUMENT_TYPE,
    );
    let url = app
        .objects
        .presign_download(DownloadSpec {
            key: document.as_str(),
            content_disposition: &name.content_disposition(),
            content_type: SESSION_DOCUMENT_TYPE,
            expires_in,
        })
        .await?
        .url;
    Ok(response::json_response(
        StatusCode::OK,
        &RestoreResponse {
            session_id: session.as_str().to_owned(),
            updated_at: rfc3339_millis(entry.updated_at_ms)?,
            expires_at: rfc3339(entry.expires_at)?,
            url,
            url_expires_at: rfc3339(now + lifetime)?,
            size: stored.size_bytes,
            parts,
        },
    )?)
}

#[cfg(test)]
mod tests;
