//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::domain::Owner;
use recovery_shared::memory::StoredObject;
use recovery_shared::metadata::MAX_METADATA_BYTES;
use recovery_shared::testing::{self, NOW, assert_problem, body_json};
use serde_json::json;

const PATH: &str = "/api/recovery/token";

/// The key of object `object` (its id that letter 22 times) in `session` of `secret`'s namespace.
fn key_in(secret: &str, session: &str, object: char) -> String {
    let owner = Owner::from_client_secret(secret).unwrap().hash();
    format!(
        "recovery/{}/{session}/{}",
        owner.as_str(),
        object.to_string().repeat(22)
    )
}

/// The key of the audio the tests upload: in session-1 of `secret`'s namespace.
fn key_of(secret: &str) -> String {
    key_in(secret, "session-1", 'o')
}

/// 321 bytes of audio uploaded under `key`, named from-upload.wav.
fn uploaded(app: &MemoryApp, key: &str) {
    let audio = StoredObject {
        filename: Some("from-upload.wav".into()),
        ..StoredObject::new(vec![1; 321], "audio/wav")
    };
    app.objects.put_object(key, audio);
}

/// 55 bytes of `content_type` (a session document, or something posing as one) under `key`.
fn session_document(app: &MemoryApp, key: &str, content_type: &str) {
    app.objects
        .put_object(key, StoredObject::new(vec![b'{'; 55], content_type));
}

/// A client, and the app holding audio it uploaded: (app, its secret, the audio's key).
fn with_upload() -> (MemoryApp, String, String) {
    let app = testing::app();
    let secret = testing::client_secret();
    let key = key_of(&secret);
    uploaded(&app, &key);
    (app, secret, key)
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
    let (app, secret, key) = with_upload();
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
    let (app, secret, key) = with_upload();
    let response = post(&app, &secret, json!({"key": key, "filename": "mine.wav"})).await;
    assert_eq!(body_json(&response)["expires_at"], "2026-01-02T00:00:00Z");
    assert_eq!(
        app.tokens.records()[0].filename.as_deref(),
        Some("mine.wav")
    );
}

#[tokio::test]
async fn a_session_document_of_the_same_session_is_stored_with_the_token() {
    let (app, secret, key) = with_upload();
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
    let (app, secret, key) = with_upload();
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
    let (app, secret, key) = with_upload();
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
async fn metadata_the_table_cannot_hold_is_a_400_naming_the_member() {
    let (app, secret, key) = with_upload();
    for (metadata, needle) in [
        (json!({"x": 1e200}), "metadata.x"),
        (json!({"y": -1e-200}), "metadata.y"),
        (json!({"": "a"}), "metadata member names"),
        (json!({"n": {"a": 1}}), "metadata.n"),
    ] {
        let problem = assert_problem(
            &post(&app, &secret, json!({"key": key, "metadata": metadata})).await,
            400,
        );
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{problem}"
        );
    }
    assert!(app.tokens.records().is_empty());
}

#[tokio::test]
async fn the_daily_token_quota_answers_429_and_stores_nothing_more() {
    let (mut app, secret, key) = with_upload();
    app.config.quota.tokens = 2;
    for _ in 0..2 {
        assert_eq!(post(&app, &secret, json!({"key": key})).await.status(), 201);
    }
    let response = post(&app, &secret, json!({"key": key})).await;
    let problem = assert_problem(&response, 429);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("recovery tokens (2)")
    );
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(app.tokens.records().len(), 2);
}

#[tokio::test]
async fn a_purged_audio_gets_no_new_token() {
    let (app, secret, key) = with_upload();
    app.tokens.mark_purged(&[&key], NOW).await.unwrap();
    assert_problem(&post(&app, &secret, json!({"key": key})).await, 404);
    assert!(app.tokens.records().is_empty());
}

#[tokio::test]
async fn refuses_oversized_metadata_with_413() {
    let (app, secret, key) = with_upload();
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
    let (app, secret, key) = with_upload();
    app.tokens.set_unavailable(true);
    assert_problem(&post(&app, &secret, json!({"key": key})).await, 503);
    app.tokens.set_unavailable(false);
    assert!(app.tokens.records().is_empty());
}

#[tokio::test]
async fn a_key_that_names_a_session_document_gets_no_audio_token() {
    // GIVEN a session document uploaded under the caller's key
    let app = testing::app();
    let secret = testing::client_secret();
    let key = key_of(&secret);
    session_document(&app, &key, recovery_shared::domain::SESSION_DOCUMENT_TYPE);
    // WHEN a token is asked for it as audio
    let problem = assert_problem(&post(&app, &secret, json!({"key": key})).await, 400);
    // THEN the answer says so and nothing is stored
    assert!(problem["detail"].as_str().unwrap().contains("audio"));
    assert!(app.tokens.records().is_empty());
}
