//! `PUT /api/recovery/sessions/{session_id}`: stores (or overwrites) the server copy of a
//! session, the client's gzip-compressed session document, and slides the expiry of the
//! session's one recovery token (issuing it on the first copy). The body counts against the
//! owner's daily bytes quota only: overwriting a copy every few seconds for a working day never
//! meets the uploads count.

use std::convert::Infallible;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use recovery_shared::app::{rfc3339, rfc3339_millis};
use recovery_shared::domain::{
    CopyEntry, Counter, Metadata, ObjectKey, OwnerHash, SESSION_DOCUMENT_TYPE, SessionId, Token,
    TokenHash, TokenRecord,
};
use recovery_shared::ports::{ExtendOutcome, ObjectStore, PutSpec, StoreError, TokenStore};
use recovery_shared::quota::{QuotaCharge, QuotaKind};
use recovery_shared::{ApiError, App, http, response};
use serde::Serialize;

pub const ROUTE: &str = "PUT /api/recovery/sessions/{session_id}";

/// The most parts a document may list.
pub const MAX_PARTS: u32 = 10_000;
/// The latest `updated_at` accepted: 9999-12-31T23:59:59.999Z, the last instant RFC 3339 writes.
pub const MAX_UPDATED_AT_MS: i64 = 253_402_300_799_999;
/// The largest body this route takes, whatever `MAX_SESSION_DOCUMENT_BYTES` says: Lambda's
/// synchronous invocation payload is 6 MB, and the body travels in it base64-encoded (4/3 of
/// its size) beside the rest of the event.
pub const MAX_COPY_BYTES: u64 = 4 * 1024 * 1024;
/// A generated token colliding with a stored one does not happen; a broken RNG is refused.
const TOKEN_ATTEMPTS: u32 = 3;

#[derive(Debug, Serialize)]
struct CopyResponse {
    session_id: String,
    updated_at: String,
    size: u64,
    parts: u32,
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::serve(req, env!("CARGO_PKG_NAME"), ROUTE, |req| {
        copy_session(app, req)
    })
    .await
}

/// What the query says about the document.
#[derive(Debug)]
struct Query {
    parts: u32,
    updated_at_ms: i64,
    new_token: bool,
}

fn query(req: &Request) -> Result<Query, ApiError> {
    let q = req.query_string_parameters_ref();
    let get = |name: &str| q.and_then(|q| q.first(name));
    let parts = get("parts")
        .ok_or_else(|| ApiError::BadRequest("the query needs `parts`".to_owned()))?
        .parse::<u32>()
        .ok()
        .filter(|p| *p <= MAX_PARTS)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "parts must be a whole number from 0 to {MAX_PARTS}"
            ))
        })?;
    let updated_at_ms = get("updated_at")
        .ok_or_else(|| ApiError::BadRequest("the query needs `updated_at`".to_owned()))?
        .parse::<i64>()
        .ok()
        .filter(|t| (0..=MAX_UPDATED_AT_MS).contains(t))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "updated_at must be the document's updatedAt in whole epoch milliseconds"
                    .to_owned(),
            )
        })?;
    let new_token = match get("new_token") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "new_token must be true or false".to_owned(),
            ));
        }
    };
    Ok(Query {
        parts,
        updated_at_ms,
        new_token,
    })
}

/// The body's `Content-Encoding`: `Some("gzip")`, or `None` for identity (or none given).
fn content_encoding(req: &Request) -> Result<Option<&'static str>, ApiError> {
    let mut values = req.headers().get_all(header::CONTENT_ENCODING).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Ok(None),
        (Some(v), None) => v.to_str().unwrap_or_default().trim().to_ascii_lowercase(),
        (Some(_), Some(_)) => String::new(),
    };
    match value.as_str() {
        "gzip" => Ok(Some("gzip")),
        "identity" => Ok(None),
        _ => Err(ApiError::UnsupportedMediaType(
            "Content-Encoding must be gzip or identity (or absent)".to_owned(),
        )),
    }
}

fn check_content_type(req: &Request) -> Result<(), ApiError> {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if essence.is_some_and(|e| e.eq_ignore_ascii_case(SESSION_DOCUMENT_TYPE)) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "the body must be a session document sent with Content-Type: {SESSION_DOCUMENT_TYPE}"
        )))
    }
}

async fn copy_session<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(&req)?.hash();
    let session = SessionId::parse(http::path_param(&req, "session_id").unwrap_or_default())?;
    let query = query(&req)?;
    let max = app.config.max_session_document_bytes.min(MAX_COPY_BYTES);
    let (body, encoding) = document_body(&req, max)?;
    let size = body.len() as u64;

    let now = app.clock.now();
    // The bytes only: an overwrite is not a new upload.
    let charge = QuotaCharge::new(
        owner.clone(),
        now,
        &app.config.quota,
        &[(QuotaKind::UploadBytes, size)],
    );
    app.tokens
        .charge_quota(&charge)
        .await
        .map_err(|e| ApiError::from_store(e, &app.config.quota, now))?;

    let document =
        ObjectKey::session_copy(&app.config.audio_prefix, owner.clone(), session.clone());
    let expires_at = now + i64::from(app.config.token_ttl_seconds);
    // The token before the object: a copy of a session its owner deleted is refused (410)
    // without being written back.
    let copies = app.tokens.copies(&owner).await?;
    let existing = copies
        .iter()
        .find(|e| e.session_id == session.as_str())
        .cloned();
    // Other sessions' expired copies leave the list with this write.
    let expired: Vec<&str> = copies
        .iter()
        .filter(|e| e.expires_at <= now && e.session_id != session.as_str())
        .map(|e| e.session_id.as_str())
        .collect();
    // A copy of an older edit than the one stored (a retry that lands after a later copy, or
    // an in-flight copy overtaken by the one sent on `pagehide`) must not replace it: the token
    // still slides, and the answer names the edit the server holds.
    let newer = existing
        .as_ref()
        .filter(|e| e.updated_at_ms > query.updated_at_ms)
        .map(|e| (e.updated_at_ms, e.size, e.parts));
    let (token_hash, issued) = slide_or_issue(
        app, &owner, &session, &document, &query, size, expires_at, existing,
    )
    .await?;

    let (updated_at_ms, size, parts) = if let Some(stored) = newer {
        stored
    } else {
        app.objects
            .store_object(PutSpec {
                key: &document,
                body: body.to_vec(),
                content_type: SESSION_DOCUMENT_TYPE,
                content_encoding: encoding,
            })
            .await?;
        (query.updated_at_ms, size, query.parts)
    };
    app.tokens
        .put_copy(
            &owner,
            &CopyEntry {
                session_id: session.as_str().to_owned(),
                updated_at_ms,
                size,
                parts,
                expires_at,
                token_hash,
            },
            &expired,
        )
        .await?;
    tracing::info!(
        size,
        parts,
        stale = newer.is_some(),
        issued = issued.is_some(),
        "session copied"
    );

    let status = if issued.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(response::json_response(
        status,
        &CopyResponse {
            session_id: session.as_str().to_owned(),
            updated_at: rfc3339_millis(updated_at_ms)?,
            size,
            parts,
            expires_at: rfc3339(expires_at)?,
            token: issued.map(|t| t.as_str().to_owned()),
        },
    )?)
}

/// The document as sent, and its encoding (`Some("gzip")` or identity), checked.
fn document_body(req: &Request, max: u64) -> Result<(&[u8], Option<&'static str>), ApiError> {
    check_content_type(req)?;
    let encoding = content_encoding(req)?;
    let body = req.body().as_ref();
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty; send the session document".to_owned(),
        ));
    }
    let size = body.len() as u64;
    if size > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "the session document is {size} bytes as sent; the limit is {max}"
        )));
    }
    // The gzip magic number: a body that is not gzip would be stored as if it were, and every
    // browser would then fail to decode the copy.
    if encoding.is_some() && !body.starts_with(&[0x1f, 0x8b]) {
        return Err(ApiError::BadRequest(
            "the body is not gzip data, yet Content-Encoding says gzip".to_owned(),
        ));
    }
    Ok((body, encoding))
}

/// The session's token: its expiry slid to a token lifetime from now, or a new one issued (on
/// the first copy, when the old one is gone, or when the client asks). The new token comes back
/// to be shown once.
#[allow(
    clippy::too_many_arguments,
    reason = "the request's parts, each checked by the caller; a struct would only rename them"
)]
async fn slide_or_issue<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    owner: &OwnerHash,
    session: &SessionId,
    document: &ObjectKey,
    query: &Query,
    size: u64,
    expires_at: i64,
    existing: Option<CopyEntry>,
) -> Result<(TokenHash, Option<Token>), ApiError> {
    Ok(match existing {
        Some(entry) if !query.new_token => {
            match app
                .tokens
                .extend_token(&entry.token_hash, document.as_str(), expires_at)
                .await?
            {
                ExtendOutcome::Extended => (entry.token_hash, None),
                ExtendOutcome::Missing => {
                    issue(app, owner, session, document, size, expires_at).await?
                }
                ExtendOutcome::Purged => return Err(purged()),
            }
        }
        Some(entry) => {
            let issued = issue(app, owner, session, document, size, expires_at).await?;
            // The client lost the old token: nobody should hold a working one it cannot revoke.
            app.tokens
                .purge_tokens(&[entry.token_hash], app.clock.now())
                .await?;
            issued
        }
        None => issue(app, owner, session, document, size, expires_at).await?,
    })
}

fn purged() -> ApiError {
    ApiError::Gone(
        "the owner deleted this session's copy; a copy of it is no longer accepted".to_owned(),
    )
}

/// Issues the session's token, charged to the day's token quota, indexed under the document.
async fn issue<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    owner: &OwnerHash,
    session: &SessionId,
    document: &ObjectKey,
    size: u64,
    expires_at: i64,
) -> Result<(TokenHash, Option<Token>), ApiError> {
    let now = app.clock.now();
    let charge = QuotaCharge::new(
        owner.clone(),
        now,
        &app.config.quota,
        &[(QuotaKind::Tokens, 1)],
    );
    let mut attempts = 0;
    loop {
        attempts += 1;
        let token = Token::generate().map_err(|e| anyhow::anyhow!("CSPRNG failed: {e}"))?;
        let record = TokenRecord {
            token_hash: token.hash(),
            audio_key: document.as_str().to_owned(),
            owner_hash: owner.clone(),
            session_id: session.as_str().to_owned(),
            created_at: now,
            expires_at,
            content_type: SESSION_DOCUMENT_TYPE.to_owned(),
            size_bytes: size,
            filename: None,
            metadata: Metadata::new(),
            session: None,
            purged_at: None,
        };
        match app.tokens.put_token(&record, Some(&charge)).await {
            Ok(()) => {
                app.count(Counter::Issued).await;
                return Ok((record.token_hash, Some(token)));
            }
            Err(StoreError::AlreadyExists) if attempts < TOKEN_ATTEMPTS => {}
            Err(StoreError::AlreadyExists) => {
                return Err(anyhow::anyhow!("{TOKEN_ATTEMPTS} generated tokens collided").into());
            }
            Err(StoreError::Purged) => return Err(purged()),
            Err(e) => return Err(ApiError::from_store(e, &app.config.quota, now)),
        }
    }
}

#[cfg(test)]
mod tests;
