//! `POST /api/recovery/token`: a recovery token for audio the caller has uploaded.

use std::convert::Infallible;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use recovery_shared::app::rfc3339;
use recovery_shared::domain::{
    AudioKey, Counter, Filename, Metadata, Token, TokenRecord, TtlSeconds,
};
use recovery_shared::ports::{AudioStore, StoreError, TokenStore};
use recovery_shared::{ApiError, App, http};
use serde::{Deserialize, Serialize};

pub const ROUTE: &str = "POST /api/recovery/token";
/// Metadata is a hint for the recovery UI (voice, parameters, an excerpt), not a document store.
pub const MAX_METADATA_BYTES: usize = 2048;
/// How many fresh tokens to try when a conditional write finds the hash taken.
const TOKEN_ATTEMPTS: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    key: String,
    ttl_seconds: Option<u64>,
    filename: Option<String>,
    metadata: Option<Metadata>,
}

#[derive(Debug, Serialize)]
struct IssueResponse {
    token: String,
    expires_at: String,
    audio_url: String,
}

pub async fn handle<T: TokenStore, A: AudioStore>(
    app: &App<T, A>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::serve(req, env!("CARGO_PKG_NAME"), ROUTE, |req| {
        issue_token(app, req)
    })
    .await
}

async fn issue_token<T: TokenStore, A: AudioStore>(
    app: &App<T, A>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let owner = http::owner(&req)?;
    let body: IssueRequest = http::json_body(&req)?;
    // The whole body is validated before anything is looked up.
    let key = AudioKey::parse(&app.config.audio_prefix, &body.key)?;
    let max_ttl = app.config.token_ttl_seconds;
    let ttl = TtlSeconds::parse(body.ttl_seconds.unwrap_or(max_ttl.into()), max_ttl)?;
    let filename = body.filename.as_deref().map(Filename::parse).transpose()?;
    let metadata = body.metadata.unwrap_or_default();
    check_metadata(&metadata)?;
    if key.owner() != &owner.hash() {
        return Err(ApiError::Forbidden(
            "this key belongs to another client".to_owned(),
        ));
    }

    let object = app.audio.head_audio(&key).await?.ok_or_else(|| {
        ApiError::NotFound("no audio has been uploaded under this key".to_owned())
    })?;

    let now = app.clock.now();
    let mut token = new_token()?;
    let mut record = TokenRecord {
        token_hash: token.hash(),
        audio_key: key.to_string(),
        owner_hash: owner.hash(),
        session_id: key.session().as_str().to_owned(),
        created_at: now,
        expires_at: now + i64::from(ttl.get()),
        content_type: object
            .content_type
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        size_bytes: object.size_bytes,
        filename: filename.map(|f| f.as_str().to_owned()).or(object.filename),
        metadata,
    };
    // Collisions of 256-bit random tokens do not happen; the retry only keeps a broken RNG from
    // ever overwriting a record (the write is conditional).
    let mut attempts = 1;
    loop {
        match app.tokens.put_token(&record).await {
            Ok(()) => break,
            Err(StoreError::AlreadyExists) if attempts < TOKEN_ATTEMPTS => {
                attempts += 1;
                token = new_token()?;
                record.token_hash = token.hash();
            }
            Err(StoreError::AlreadyExists) => {
                return Err(anyhow::anyhow!("{TOKEN_ATTEMPTS} generated tokens collided").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Err(e) = app.tokens.increment(Counter::Issued).await {
        // The token is stored and valid; a lost count is not worth failing the request for.
        tracing::warn!(error = %e, "counting an issued token failed");
    }
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
    http::json_response(StatusCode::CREATED, &body)
}

fn new_token() -> Result<Token, ApiError> {
    Token::generate().map_err(|e| anyhow::anyhow!("CSPRNG failed: {e}").into())
}

/// Metadata must be a small flat object: values are strings, numbers, booleans or null.
fn check_metadata(metadata: &Metadata) -> Result<(), ApiError> {
    if let Some((name, _)) = metadata.iter().find(|(_, v)| v.is_object() || v.is_array()) {
        return Err(ApiError::BadRequest(format!(
            "metadata must be flat: `{name}` holds an object or array"
        )));
    }
    let size = serde_json::to_string(metadata)
        .map_err(anyhow::Error::from)?
        .len();
    if size > MAX_METADATA_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "metadata is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}"
        )));
    }
    Ok(())
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
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use recovery_shared::MemoryApp;
    use recovery_shared::domain::Owner;
    use recovery_shared::memory::StoredObject;
    use recovery_shared::testing::{self, NOW, assert_problem, body_json};
    use serde_json::json;

    const PATH: &str = "/api/recovery/token";

    fn key_of(secret: &str) -> String {
        let owner = Owner::from_client_secret(secret).unwrap().hash();
        format!("recovery/{}/session-1/{}", owner.as_str(), "o".repeat(22))
    }

    fn uploaded(app: &MemoryApp, key: &str) {
        app.audio.put_object(
            key,
            StoredObject {
                bytes: vec![1; 321],
                content_type: "audio/wav".into(),
                filename: Some("from-upload.wav".into()),
            },
        );
    }

    async fn post(app: &MemoryApp, secret: &str, body: serde_json::Value) -> Response<Body> {
        let req = testing::event("POST", PATH, PATH, secret)
            .header("host", "api.example.com")
            .json(&body)
            .into_request()
            .unwrap();
        handle(app, req).await.unwrap()
    }

    #[tokio::test]
    async fn issues_a_token_for_an_uploaded_object_and_stores_only_its_hash() {
        // GIVEN audio uploaded under the caller's key
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        // WHEN the caller asks for a token with metadata
        let response = post(
            &app,
            &secret,
            json!({"key": key, "ttl_seconds": 600, "metadata": {"voice": "v1", "temperature": 0.7}}),
        )
        .await;
        // THEN a 43-character token comes back once, and the table holds only its hash
        assert_eq!(response.status(), 201);
        let body = body_json(&response);
        let token = body["token"].as_str().unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(body["expires_at"], "2026-01-01T00:10:00Z");
        assert_eq!(
            body["audio_url"],
            format!("https://api.example.com/api/recovery/audio/{token}")
        );
        let records = app.tokens.records();
        assert_eq!(records.len(), 1);
        let record = &records[0];
        assert_eq!(record.token_hash, Token::parse(token).unwrap().hash());
        assert_eq!(record.expires_at, NOW + 600);
        assert_eq!(record.size_bytes, 321);
        assert_eq!(record.content_type, "audio/wav");
        assert_eq!(record.session_id, "session-1");
        assert_eq!(record.filename.as_deref(), Some("from-upload.wav"));
        assert_eq!(record.metadata["voice"], "v1");
        assert!(!format!("{record:?}").contains(token));
        assert_eq!(app.tokens.counters().await.unwrap().issued, 1);
    }

    #[tokio::test]
    async fn the_default_lifetime_is_the_configured_maximum_and_a_filename_overrides_the_uploaded_one()
     {
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        let response = post(&app, &secret, json!({"key": key, "filename": "mine.wav"})).await;
        assert_eq!(body_json(&response)["expires_at"], "2026-01-02T00:00:00Z");
        assert_eq!(
            app.tokens.records()[0].filename.as_deref(),
            Some("mine.wav")
        );
    }

    #[tokio::test]
    async fn refuses_another_clients_key_with_403_and_writes_nothing() {
        let app = testing::app();
        let theirs = key_of(&testing::client_secret());
        uploaded(&app, &theirs);
        let response = post(&app, &testing::client_secret(), json!({"key": theirs})).await;
        assert_problem(&response, 403);
        assert!(app.tokens.records().is_empty());
    }

    #[tokio::test]
    async fn refuses_a_key_with_no_object_with_404() {
        let app = testing::app();
        let secret = testing::client_secret();
        let response = post(&app, &secret, json!({"key": key_of(&secret)})).await;
        assert_problem(&response, 404);
        assert!(app.tokens.records().is_empty());
    }

    #[tokio::test]
    async fn refuses_malformed_keys_lifetimes_and_metadata_with_400() {
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        for body in [
            json!({"key": format!("{key}/../../other")}),
            json!({"key": "recovery/../../etc/passwd"}),
            json!({"key": key, "ttl_seconds": 0}),
            json!({"key": key, "ttl_seconds": 86_401}),
            json!({"key": key, "metadata": {"nested": {"a": 1}}}),
            json!({"key": key, "metadata": [1]}),
            json!({"key": key, "filename": ".."}),
            json!({"key": key, "token": "mine"}),
        ] {
            assert_problem(&post(&app, &secret, body).await, 400);
        }
        assert!(app.tokens.records().is_empty());
    }

    #[tokio::test]
    async fn refuses_oversized_metadata_with_413() {
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        let response = post(
            &app,
            &secret,
            json!({"key": key, "metadata": {"text": "x".repeat(MAX_METADATA_BYTES)}}),
        )
        .await;
        assert_problem(&response, 413);
        assert!(app.tokens.records().is_empty());
    }

    #[tokio::test]
    async fn answers_503_and_stores_nothing_when_the_table_is_down() {
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        app.tokens.set_unavailable(true);
        assert_problem(&post(&app, &secret, json!({"key": key})).await, 503);
        app.tokens.set_unavailable(false);
        assert!(app.tokens.records().is_empty());
    }
}
