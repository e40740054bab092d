//! `POST /api/recovery/token`: a recovery token for audio the caller has uploaded.

use std::convert::Infallible;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use recovery_shared::app::rfc3339;
use recovery_shared::domain::{
    AudioContentType, Counter, ObjectKey, SessionDocument, Token, TokenRecord, is_session_document,
};
use recovery_shared::ports::{ObjectStore, StoreError, TokenStore};
use recovery_shared::quota::{QuotaCharge, QuotaKind};
use recovery_shared::{ApiError, App, http, response};
use serde::Serialize;

mod request;

use request::Issue;

pub const ROUTE: &str = "POST /api/recovery/token";
/// How many fresh tokens to try when a conditional write finds the hash taken.
const TOKEN_ATTEMPTS: usize = 3;

#[derive(Debug, Serialize)]
struct IssueResponse {
    token: String,
    expires_at: String,
    audio_url: String,
}

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::serve(req, env!("CARGO_PKG_NAME"), ROUTE, |req| {
        issue_token(app, req)
    })
    .await
}

async fn issue_token<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(&req)?;
    // The whole body is validated before anything is looked up.
    let Issue {
        key,
        ttl,
        filename,
        metadata,
        session_key,
    } = Issue::parse(&req, &app.config, &owner.hash())?;

    let object = app.objects.head_object(&key).await?.ok_or_else(|| {
        ApiError::NotFound("no audio has been uploaded under this key".to_owned())
    })?;
    // A token's audio is audio: a session document (or anything else) under `key` would be
    // offered for download as audio, and would escape a purge of the session's audio.
    let content_type = object
        .content_type
        .as_deref()
        .and_then(|t| AudioContentType::parse(t).ok())
        .ok_or_else(|| ApiError::BadRequest("key does not name an audio object".to_owned()))?;
    let session = match &session_key {
        None => None,
        Some(session_key) => Some(session_document(app, session_key).await?),
    };

    let now = app.clock.now();
    let token = new_token()?;
    let mut record = TokenRecord {
        token_hash: token.hash(),
        audio_key: key.to_string(),
        owner_hash: owner.hash(),
        session_id: key.session().as_str().to_owned(),
        created_at: now,
        expires_at: now + i64::from(ttl.get()),
        content_type: content_type.as_str().to_owned(),
        size_bytes: object.size_bytes,
        filename: filename.map(|f| f.as_str().to_owned()).or(object.filename),
        metadata,
        session,
        purged_at: None,
    };
    let token = store_token(app, &mut record, token).await?;
    app.count(Counter::Issued).await;
    tracing::info!(
        ttl_seconds = ttl.get(),
        size = record.size_bytes,
        "token issued"
    );

    let body = IssueResponse {
        audio_url: audio_url(&req, &token),
        token: token.as_str().to_owned(),
        expires_at: rfc3339(record.expires_at)?,
    };
    Ok(response::json_response(StatusCode::CREATED, &body)?)
}

/// The session document under `session_key`: it exists and is a session document.
async fn session_document<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    session_key: &ObjectKey,
) -> Result<SessionDocument, ApiError> {
    let document = app.objects.head_object(session_key).await?.ok_or_else(|| {
        ApiError::NotFound(
            "no session document has been uploaded under this session_key".to_owned(),
        )
    })?;
    if !document
        .content_type
        .as_deref()
        .is_some_and(is_session_document)
    {
        return Err(ApiError::BadRequest(
            "session_key does not name a session document".to_owned(),
        ));
    }
    Ok(SessionDocument {
        key: session_key.to_string(),
        size_bytes: document.size_bytes,
    })
}

/// Stores `record` (under `token`'s hash, or a fresh token's if that one is taken) with the day's
/// token quota charged, and returns the token stored.
async fn store_token<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    record: &mut TokenRecord,
    mut token: Token,
) -> Result<Token, ApiError> {
    let now = record.created_at;
    let charge = QuotaCharge::new(
        record.owner_hash.clone(),
        now,
        &app.config.quota,
        &[(QuotaKind::Tokens, 1)],
    );
    // Collisions of 256-bit random tokens do not happen; the retry only keeps a broken RNG from
    // ever overwriting a record (the write is conditional). The record, the audio's index and the
    // quota are one atomic write: the token is returned if and only if it is stored.
    let mut attempts = 1;
    loop {
        match app.tokens.put_token(record, Some(&charge)).await {
            Ok(()) => return Ok(token),
            Err(StoreError::AlreadyExists) if attempts < TOKEN_ATTEMPTS => {
                attempts += 1;
                token = new_token()?;
                record.token_hash = token.hash();
            }
            Err(StoreError::AlreadyExists) => {
                return Err(anyhow::anyhow!("{TOKEN_ATTEMPTS} generated tokens collided").into());
            }
            Err(StoreError::Purged) => {
                return Err(ApiError::NotFound(
                    "the audio under this key has been deleted".to_owned(),
                ));
            }
            Err(e) => return Err(ApiError::from_store(e, &app.config.quota, now)),
        }
    }
}

fn new_token() -> Result<Token, ApiError> {
    Token::generate().map_err(|e| anyhow::anyhow!("CSPRNG failed: {e}").into())
}

/// The absolute URL of the redeem route on the host the caller used.
fn audio_url(req: &Request, token: &Token) -> String {
    let path = format!("/api/recovery/audio/{}", token.as_str());
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty());
    let Some(host) = host else {
        return path;
    };
    let scheme = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "http" || *p == "https")
        .unwrap_or("https");
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests;
