//! `POST /api/recovery/token`: a recovery token for audio the caller has uploaded.

use std::convert::Infallible;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use recovery_shared::app::rfc3339;
use recovery_shared::domain::{
    AudioKey, Counter, Filename, Metadata, SessionDocument, Token, TokenRecord, TtlSeconds,
    is_session_document,
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
    /// A session document of the same session, backed up with the audio.
    session_key: Option<String>,
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
    let session_key = body
        .session_key
        .as_deref()
        .map(|k| {
            AudioKey::parse(&app.config.audio_prefix, k).map_err(|_| {
                ApiError::BadRequest(format!(
                    "session_key is not a recovery key (expected {}<owner>/<session_id>/<object_id>)",
                    app.config.audio_prefix
                ))
            })
        })
        .transpose()?;
    if let Some(session_key) = &session_key
        && session_key.session() != key.session()
    {
        return Err(ApiError::BadRequest(
            "session_key must be in the same session as key".to_owned(),
        ));
    }
    if key.owner() != &owner.hash() {
        return Err(ApiError::Forbidden(
            "this key belongs to another client".to_owned(),
        ));
    }
    if session_key
        .as_ref()
        .is_some_and(|k| k.owner() != &owner.hash())
    {
        return Err(ApiError::Forbidden(
            "this session_key belongs to another client".to_owned(),
        ));
    }

    let object = app.audio.head_audio(&key).await?.ok_or_else(|| {
        ApiError::NotFound("no audio has been uploaded under this key".to_owned())
    })?;
    let session = match &session_key {
        None => None,
        Some(session_key) => {
            let document = app.audio.head_audio(session_key).await?.ok_or_else(|| {
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
            Some(SessionDocument {
                key: session_key.to_string(),
                size_bytes: document.size_bytes,
            })
        }
    };

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
        session,
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

    fn session_document(app: &MemoryApp, key: &str, content_type: &str) {
        app.audio.put_object(
            key,
            StoredObject {
                bytes: vec![b'{'; 55],
                content_type: content_type.into(),
                filename: None,
            },
        );
    }

    fn key_in(secret: &str, session: &str, object: char) -> String {
        let owner = Owner::from_client_secret(secret).unwrap().hash();
        format!(
            "recovery/{}/{session}/{}",
            owner.as_str(),
            object.to_string().repeat(22)
        )
    }

    #[tokio::test]
    async fn a_session_document_of_the_same_session_is_stored_with_the_token() {
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        let doc = key_in(&secret, "session-1", 'd');
        session_document(&app, &doc, "application/vnd.chatterbox.session+json");
        let response = post(&app, &secret, json!({"key": key, "session_key": doc})).await;
        assert_eq!(response.status(), 201);
        let record = &app.tokens.records()[0];
        assert_eq!(
            record.session,
            Some(SessionDocument {
                key: doc,
                size_bytes: 55
            })
        );
    }

    #[tokio::test]
    async fn a_session_key_is_checked_like_the_key() {
        let app = testing::app();
        let secret = testing::client_secret();
        let key = key_of(&secret);
        uploaded(&app, &key);
        let other_session = key_in(&secret, "session-2", 'd');
        session_document(
            &app,
            &other_session,
            "application/vnd.chatterbox.session+json",
        );
        let audio_not_doc = key_in(&secret, "session-1", 'a');
        session_document(&app, &audio_not_doc, "audio/wav");
        let stranger = testing::client_secret();
        let theirs = key_in(&stranger, "session-1", 'd');
        session_document(&app, &theirs, "application/vnd.chatterbox.session+json");
        let missing = key_in(&secret, "session-1", 'm');
        for (session_key, status) in [
            (json!("recovery/../x"), 400),
            (json!(7), 400),
            (json!(other_session), 400),
            (json!(audio_not_doc), 400),
            (json!(theirs), 403),
            (json!(missing), 404),
        ] {
            let problem = assert_problem(
                &post(
                    &app,
                    &secret,
                    json!({"key": key, "session_key": session_key}),
                )
                .await,
                status,
            );
            assert!(
                problem["detail"].as_str().unwrap().contains("session"),
                "{problem}"
            );
        }
        assert!(app.tokens.records().is_empty());
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
