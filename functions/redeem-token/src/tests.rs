//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::domain::{OwnerHash, TokenHash};
use recovery_shared::testing::{self, NOW, assert_problem, body_json};

const ROUTE_PATH: &str = "/api/recovery/audio/{token}";

/// 99 bytes of `audio/wav` under `recovery/o/s/x` in session `sess`, good for a minute.
fn record(token: &Token) -> TokenRecord {
    TokenRecord {
        size_bytes: 99,
        ..testing::token_record(
            token,
            "recovery/o/s/x",
            OwnerHash::from_stored("o".into()),
            "sess",
        )
    }
}

async fn put(app: &MemoryApp, record: &TokenRecord) {
    app.tokens.put_token(record, None).await.unwrap();
}

/// A token of [`record`] living `ttl` seconds, with `filename` and one metadata member.
async fn stored_token(app: &MemoryApp, ttl: i64, filename: Option<&str>) -> Token {
    let token = Token::generate().unwrap();
    let mut metadata = Metadata::new();
    metadata.insert("voice".into(), "v2".into());
    let record = TokenRecord {
        expires_at: NOW + ttl,
        filename: filename.map(str::to_owned),
        metadata,
        ..record(&token)
    };
    put(app, &record).await;
    token
}

async fn send(app: &MemoryApp, event: recovery_shared::apigw::HttpApiEvent) -> Response<Body> {
    handle(app, event.into_request().unwrap()).await.unwrap()
}

async fn get(app: &MemoryApp, token: &str, json: bool) -> Response<Body> {
    let path = format!("/api/recovery/audio/{token}");
    let mut event = recovery_shared::apigw::HttpApiEvent::new("GET", ROUTE_PATH, &path)
        .path_parameter("token", token);
    if json {
        event = event.header("accept", "text/html, application/json;q=0.9");
    }
    send(app, event).await
}

#[tokio::test]
async fn redirects_to_a_presigned_url_that_names_the_file_and_is_not_cached() {
    let app = testing::app();
    let token = stored_token(&app, 3600, Some("take 1.wav")).await;
    let response = get(&app, token.as_str(), false).await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.contains("recovery/o/s/x"), "{location}");
    assert!(location.contains("expires_in=300"), "{location}");
    assert!(
        location.contains("filename*=UTF-8''take%201.wav"),
        "{location}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert_eq!(app.tokens.counters().await.unwrap().redeemed, 1);
}

#[tokio::test]
async fn answers_json_when_asked_and_can_be_redeemed_again() {
    let app = testing::app();
    let token = stored_token(&app, 3600, None).await;
    for _ in 0..2 {
        let response = get(&app, token.as_str(), true).await;
        assert_eq!(response.status(), 200);
        let body = body_json(&response);
        assert_eq!(body["size"], 99);
        assert_eq!(body["content_type"], "audio/wav");
        assert_eq!(body["filename"], "recovery-sess.wav");
        assert_eq!(body["metadata"]["voice"], "v2");
        assert_eq!(body["url_expires_at"], "2026-01-01T00:05:00Z");
        assert_eq!(body["expires_at"], "2026-01-01T01:00:00Z");
    }
    assert_eq!(app.tokens.counters().await.unwrap().redeemed, 2);
}

#[tokio::test]
async fn a_token_with_a_session_document_answers_its_url_and_size_in_json() {
    let app = testing::app();
    let token = Token::generate().unwrap();
    let record = TokenRecord {
        expires_at: NOW + 120,
        session: Some(recovery_shared::domain::SessionDocument {
            key: "recovery/o/s/doc".into(),
            size_bytes: 321,
        }),
        ..record(&token)
    };
    put(&app, &record).await;
    let body = body_json(&get(&app, token.as_str(), true).await);
    assert_eq!(body["session_size"], 321);
    let session_url = body["session_url"].as_str().unwrap();
    assert!(session_url.contains("recovery/o/s/doc"), "{session_url}");
    assert!(session_url.contains("expires_in=120"), "{session_url}");
    // Without one, the fields are absent.
    let plain = stored_token(&app, 60, None).await;
    let body = body_json(&get(&app, plain.as_str(), true).await);
    assert!(body.get("session_url").is_none() && body.get("session_size").is_none());
}

#[tokio::test]
async fn the_url_never_outlives_the_token_or_the_signing_credentials() {
    let app = testing::app();
    let token = stored_token(&app, 120, None).await;
    let body = body_json(&get(&app, token.as_str(), true).await);
    assert_eq!(body["url_expires_at"], "2026-01-01T00:02:00Z");
    assert!(body["url"].as_str().unwrap().contains("expires_in=120"));

    app.objects.set_credentials_expiry(Some(NOW + 30));
    let body = body_json(&get(&app, token.as_str(), true).await);
    assert_eq!(body["url_expires_at"], "2026-01-01T00:00:30Z");

    app.objects.set_credentials_expiry(Some(NOW));
    assert_problem(&get(&app, token.as_str(), true).await, 503);
}

#[tokio::test]
async fn a_download_name_loses_bidi_controls_and_takes_the_extension_of_its_type() {
    let app = testing::app();
    let token = stored_token(&app, 3600, Some("invoice\u{202e}gpj.exe")).await;
    let body = body_json(&get(&app, token.as_str(), true).await);
    assert_eq!(body["filename"], "invoicegpj.wav");
}

#[tokio::test]
async fn every_token_of_purged_audio_answers_410() {
    let app = testing::app();
    let a = stored_token(&app, 3600, None).await;
    let b = stored_token(&app, 3600, None).await;
    let tokens = app
        .tokens
        .mark_purged(&["recovery/o/s/x"], NOW)
        .await
        .unwrap();
    app.tokens.purge_tokens(&tokens, NOW).await.unwrap();
    for token in [a, b] {
        let problem = assert_problem(&get(&app, token.as_str(), false).await, 410);
        assert!(problem["detail"].as_str().unwrap().contains("deleted"));
    }
}

#[tokio::test]
async fn refuses_an_expired_token_with_410_even_while_the_record_remains() {
    let app = testing::app();
    let token = stored_token(&app, 60, None).await;
    app.clock.advance(60);
    let problem = assert_problem(&get(&app, token.as_str(), false).await, 410);
    assert!(problem["detail"].as_str().unwrap().contains("expired"));
    assert_eq!(app.tokens.records().len(), 1);
    assert_eq!(app.tokens.counters().await.unwrap().expired, 1);
}

#[tokio::test]
async fn an_unknown_token_is_404_and_a_malformed_one_400() {
    let app = testing::app();
    let unknown = Token::generate().unwrap();
    assert_problem(&get(&app, unknown.as_str(), false).await, 404);
    assert_eq!(app.tokens.counters().await.unwrap().not_found, 1);
    for bad in ["short", &"*".repeat(43), &"A".repeat(44)] {
        assert_problem(&get(&app, bad, false).await, 400);
    }
    // What the table holds is no token: a copy of it redeems nothing.
    stored_token(&app, 60, None).await;
    let stored_hash: TokenHash = app.tokens.records()[0].token_hash.clone();
    assert_problem(&get(&app, stored_hash.as_str(), false).await, 400);
}

/// The header route: the token in `X-Recovery-Token` (each of `tokens` as one header line).
async fn get_with_header(app: &MemoryApp, tokens: &[&str]) -> Response<Body> {
    let path = "/api/recovery/audio";
    let mut event = recovery_shared::apigw::HttpApiEvent::new("GET", path, path);
    for token in tokens {
        event = event.header("x-recovery-token", token);
    }
    send(app, event).await
}

#[tokio::test]
async fn the_token_in_the_header_answers_the_same_json_as_in_the_path() {
    let app = testing::app();
    let token = stored_token(&app, 3600, Some("take 1.wav")).await;
    let in_path = get(&app, token.as_str(), true).await;
    // No Accept header: the header form always answers JSON, never a redirect.
    let in_header = get_with_header(&app, &[token.as_str()]).await;
    assert_eq!(in_header.status(), 200);
    assert_eq!(in_header.headers()["cache-control"], "no-store");
    assert_eq!(in_header.headers()["referrer-policy"], "no-referrer");
    assert_eq!(body_json(&in_header), body_json(&in_path));
    assert_eq!(app.tokens.counters().await.unwrap().redeemed, 2);
}

#[tokio::test]
async fn the_header_route_refuses_a_missing_malformed_or_repeated_token_with_400() {
    let app = testing::app();
    let token = stored_token(&app, 3600, None).await;
    assert_problem(&get_with_header(&app, &[]).await, 400);
    assert_problem(&get_with_header(&app, &["short"]).await, 400);
    assert_problem(
        &get_with_header(&app, &[token.as_str(), token.as_str()]).await,
        400,
    );
    let unknown = Token::generate().unwrap();
    assert_problem(&get_with_header(&app, &[unknown.as_str()]).await, 404);
}

#[tokio::test]
async fn answers_503_when_the_table_is_down() {
    let app = testing::app();
    let token = stored_token(&app, 60, None).await;
    app.tokens.set_unavailable(true);
    assert_problem(&get(&app, token.as_str(), false).await, 503);
}

#[tokio::test]
async fn a_server_copys_token_answers_its_document_and_every_other_object_of_the_session() {
    use recovery_shared::memory::StoredObject;
    let app = testing::app();
    let token = Token::generate().unwrap();
    let document = "recovery/o/sess/session-copy";
    let record = TokenRecord {
        content_type: SESSION_DOCUMENT_TYPE.into(),
        size_bytes: 5,
        ..testing::token_record(&token, document, OwnerHash::from_stored("o".into()), "sess")
    };
    put(&app, &record).await;
    let object = |n: usize, content_type: &str| StoredObject::new(vec![1; n], content_type);
    // The copy was overwritten since the token was made: 12 bytes now.
    app.objects
        .put_object(document, object(12, SESSION_DOCUMENT_TYPE));
    app.objects
        .put_object("recovery/o/sess/part-a", object(3, "audio/wav"));
    app.objects
        .put_object("recovery/o/other/part-b", object(4, "audio/wav"));
    let response = get(&app, token.as_str(), true).await;
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["content_type"], SESSION_DOCUMENT_TYPE);
    assert_eq!(body["size"], 12);
    assert!(body["url"].as_str().unwrap().contains(document));
    assert_eq!(body["parts"].as_array().unwrap().len(), 1);
    assert_eq!(body["parts"][0]["key"], "recovery/o/sess/part-a");
    assert_eq!(body["parts"][0]["size"], 3);
    // Audio tokens answer no `parts`.
    let audio = stored_token(&app, 60, None).await;
    let body = body_json(&get(&app, audio.as_str(), true).await);
    assert!(body.get("parts").is_none(), "{body}");
}
