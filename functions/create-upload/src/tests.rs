//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::testing::{self, assert_problem, body_json};
use serde_json::json;

const PATH: &str = "/api/recovery/uploads";

/// The body asking for `length` bytes of WAV in session `s`.
fn wav(length: u64) -> serde_json::Value {
    json!({"session_id": "s", "content_type": "audio/wav", "content_length": length})
}

async fn post(
    app: &recovery_shared::MemoryApp,
    secret: &str,
    body: serde_json::Value,
) -> Response<Body> {
    let req = testing::event("POST", PATH, PATH, secret)
        .json(&body)
        .into_request()
        .unwrap();
    handle(app, req).await.unwrap()
}

#[tokio::test]
async fn creates_a_presigned_put_in_the_callers_namespace() {
    // GIVEN a caller with a client secret
    let app = testing::app();
    let secret = testing::client_secret();
    // WHEN they ask to upload a WAV
    let response = post(
        &app,
        &secret,
        json!({"session_id": "s-1", "content_type": "audio/wav", "content_length": 1234, "filename": "take.wav"}),
    )
    .await;
    // THEN they get a key under their owner hash and the signed headers to send
    assert_eq!(response.status(), 201);
    let body = body_json(&response);
    let owner = recovery_shared::domain::Owner::from_client_secret(&secret)
        .unwrap()
        .hash();
    let key = body["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("recovery/{}/s-1/", owner.as_str())),
        "{key}"
    );
    assert!(!key.contains(&secret));
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["headers"]["content-type"], "audio/wav");
    assert_eq!(body["headers"]["content-length"], "1234");
    assert_eq!(body["expires_at"], "2026-01-01T00:05:00Z");
    assert!(body["upload_url"].as_str().unwrap().contains(key));
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_session_document_has_its_own_content_type_and_size_cap() {
    let app = testing::app();
    let secret = testing::client_secret();
    let doc = |length: u64| json!({"session_id": "s~2", "content_type": "application/vnd.chatterbox.session+json", "content_length": length});
    let response = post(&app, &secret, doc(1_048_576)).await;
    assert_eq!(response.status(), 201);
    let body = body_json(&response);
    assert!(body["key"].as_str().unwrap().contains("/s~2/"));
    assert_eq!(
        body["headers"]["content-type"],
        "application/vnd.chatterbox.session+json"
    );
    let problem = assert_problem(&post(&app, &secret, doc(1_048_577)).await, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("1048576"),
        "{problem}"
    );
}

#[tokio::test]
async fn the_daily_quotas_of_uploads_and_bytes_answer_429_with_retry_after() {
    let mut app = testing::app();
    app.config.quota.uploads = 2;
    app.config.quota.upload_bytes = 150;
    let secret = testing::client_secret();
    assert_eq!(post(&app, &secret, wav(100)).await.status(), 201);
    // 100 + 60 bytes would pass the day's 150.
    let response = post(&app, &secret, wav(60)).await;
    let problem = assert_problem(&response, 429);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("uploaded bytes")
    );
    assert_eq!(response.headers()["retry-after"], "86400");
    assert_eq!(post(&app, &secret, wav(50)).await.status(), 201);
    let problem = assert_problem(&post(&app, &secret, wav(1)).await, 429);
    assert!(problem["detail"].as_str().unwrap().contains("uploads (2)"));
    // Another owner has a day of their own; so has the same owner tomorrow.
    assert_eq!(
        post(&app, &testing::client_secret(), wav(1)).await.status(),
        201
    );
    app.clock.advance(86_400);
    assert_eq!(post(&app, &secret, wav(1)).await.status(), 201);
}

#[tokio::test]
async fn two_uploads_of_one_session_get_different_keys() {
    let app = testing::app();
    let secret = testing::client_secret();
    let body = wav(1);
    let a = body_json(&post(&app, &secret, body.clone()).await);
    let b = body_json(&post(&app, &secret, body).await);
    assert_ne!(a["key"], b["key"]);
}

#[tokio::test]
async fn refuses_a_caller_without_a_client_secret_with_401() {
    let app = testing::app();
    let req = recovery_shared::apigw::HttpApiEvent::new("POST", PATH, PATH)
        .json(&wav(1))
        .into_request()
        .unwrap();
    assert_problem(&handle(&app, req).await.unwrap(), 401);
}

#[tokio::test]
async fn refuses_a_short_client_secret_with_401() {
    let app = testing::app();
    let response = post(&app, "short", wav(1)).await;
    assert_problem(&response, 401);
}

#[tokio::test]
async fn refuses_invalid_bodies_with_a_400_naming_the_problem() {
    let app = testing::app();
    let secret = testing::client_secret();
    for (body, needle) in [
        (
            json!({"session_id": "s", "content_type": "video/mp4", "content_length": 1}),
            "audio",
        ),
        (
            json!({"session_id": "s", "content_type": "audio/wav", "content_length": 0}),
            "content_length",
        ),
        (
            json!({"session_id": "s", "content_type": "audio/wav", "content_length": 1_000_001}),
            "1000000",
        ),
        (
            json!({"session_id": "s", "content_type": "audio/wav", "content_length": -1}),
            "content_length",
        ),
        (
            json!({"session_id": "../x", "content_type": "audio/wav", "content_length": 1}),
            "session_id",
        ),
        (
            json!({"session_id": "s", "content_type": "audio/wav", "content_length": 1, "filename": "a/b"}),
            "filename",
        ),
        (
            json!({"session_id": "s", "content_type": "audio/wav", "content_length": 1, "extra": true}),
            "unknown field",
        ),
        (
            json!({"content_type": "audio/wav", "content_length": 1}),
            "session_id",
        ),
        (json!([1, 2]), "not valid"),
    ] {
        let problem = assert_problem(&post(&app, &secret, body.clone()).await, 400);
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{body} -> {problem}"
        );
    }
}

#[tokio::test]
async fn refuses_a_body_that_is_not_json_with_415_and_an_oversized_one_with_413() {
    let app = testing::app();
    let secret = testing::client_secret();
    let req = testing::event("POST", PATH, PATH, &secret)
        .header("content-type", "text/plain")
        .body("session_id=s")
        .into_request()
        .unwrap();
    assert_problem(&handle(&app, req).await.unwrap(), 415);

    let req = testing::event("POST", PATH, PATH, &secret)
        .header("content-type", "application/json")
        .body(vec![b' '; http::MAX_BODY_BYTES + 1])
        .into_request()
        .unwrap();
    assert_problem(&handle(&app, req).await.unwrap(), 413);

    let req = testing::event("POST", PATH, PATH, &secret)
        .header("content-type", "application/json")
        .body("{not json")
        .into_request()
        .unwrap();
    assert_problem(&handle(&app, req).await.unwrap(), 400);
}

#[tokio::test]
async fn answers_503_when_the_bucket_is_unavailable() {
    let app = testing::app();
    app.objects.set_unavailable(true);
    let response = post(&app, &testing::client_secret(), wav(1)).await;
    let problem = assert_problem(&response, 503);
    assert!(!problem.to_string().contains("injected"));
}
