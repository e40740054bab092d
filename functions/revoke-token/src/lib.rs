//! `DELETE /api/recovery/token/{token}`: the user dismissed recovery. Idempotent;
//! `?purge=true` also deletes the audio and the session document (for the token of a session's
//! server copy: the whole session, as below).
//!
//! `DELETE /api/recovery/sessions/{session_id}`: the owner deletes a session's server copy:
//! every object under the session's prefix (document, parts, earlier backups), every token
//! naming any of them (410 from then on), and the copy's entry. Idempotent.

use std::convert::Infallible;

use lambda_http::{Body, Request, RequestExt, Response};
use recovery_shared::copies::purge_session;
use recovery_shared::domain::{SessionId, Token, is_session_copy_key};
use recovery_shared::ports::{DeleteOutcome, ObjectStore, TokenStore};
use recovery_shared::{ApiError, App, http, response};

pub const ROUTE: &str = "DELETE /api/recovery/token/{token}";
/// A session's server copy, by its session id.
pub const SESSION_ROUTE: &str = "DELETE /api/recovery/sessions/{session_id}";

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    let session = http::path_param(&req, "session_id").is_some();
    if session {
        return http::serve(req, env!("CARGO_PKG_NAME"), SESSION_ROUTE, |req| {
            delete_session(app, req)
        })
        .await;
    }
    http::serve(req, env!("CARGO_PKG_NAME"), ROUTE, |req| {
        revoke_token(app, req)
    })
    .await
}

async fn delete_session<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(&req)?.hash();
    let session = SessionId::parse(http::path_param(&req, "session_id").unwrap_or_default())?;
    let tokens = purge_session(app, &owner, &session).await?;
    tracing::info!(tokens, "session copy deleted");
    Ok(response::no_content())
}

fn purge_requested(req: &Request) -> Result<bool, ApiError> {
    match req
        .query_string_parameters_ref()
        .and_then(|q| q.first("purge"))
    {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(ApiError::BadRequest(
            "purge must be true or false".to_owned(),
        )),
    }
}

async fn revoke_token<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(&req)?.hash();
    let token = Token::parse(http::path_param(&req, "token").unwrap_or_default())?;
    let purge = purge_requested(&req)?;
    let hash = token.hash();

    let Some(record) = app.tokens.get_token(&hash).await? else {
        // Already revoked (or never issued): the outcome the caller wants holds.
        return Ok(response::no_content());
    };
    if record.owner_hash != owner {
        return Err(ApiError::Forbidden(
            "this token belongs to another client".to_owned(),
        ));
    }
    // The token itself goes last: if anything before fails, it still exists and a retry (the
    // route is idempotent) finishes the job.
    if purge && is_session_copy_key(&record.audio_key) {
        // A copy's token names the whole session: its document and every part beside it. The
        // token itself is purged with the rest, not deleted, so its recovery link answers 410
        // (deleted by its owner) as after `DELETE /sessions/{id}`; its record expires by TTL.
        let session = SessionId::parse(&record.session_id)?;
        let tokens = purge_session(app, &owner, &session).await?;
        tracing::info!(tokens, "session copy purged through its token");
        return Ok(response::no_content());
    } else if purge {
        let now = app.clock.now();
        let keys = record.object_keys();
        // No new token can name the objects from here on; then the objects go, before the slow
        // part, so that however many tokens there are, a retry never finds them still stored.
        let tokens = app.tokens.mark_purged(&keys, now).await?;
        for key in &keys {
            app.objects.delete_object(key).await?;
        }
        // Every token of the audio or the session document answers 410 from here on.
        app.tokens.purge_tokens(&tokens, now).await?;
    }
    match app.tokens.delete_token(&hash, &owner).await? {
        DeleteOutcome::Deleted | DeleteOutcome::Missing => {}
        DeleteOutcome::NotOwner => {
            return Err(ApiError::Forbidden(
                "this token belongs to another client".to_owned(),
            ));
        }
    }
    tracing::info!(purge, "token revoked");
    Ok(response::no_content())
}

#[cfg(test)]
mod tests;
