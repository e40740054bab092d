//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::domain::{Owner, TokenRecord};
use recovery_shared::memory::StoredObject;
use recovery_shared::testing::{self, NOW, assert_problem};

const ROUTE_PATH: &str = "/api/recovery/token/{token}";
const KEY: &str = "recovery/o/s/x";

async fn issued(app: &MemoryApp, secret: &str) -> Token {
    let token = Token::generate().unwrap();
    app.objects
        .put_object(KEY, StoredObject::new(vec![0; 4], "audio/wav"));
    app.tokens
        .put_token(
            &testing::token_record(
                &token,
                KEY,
                Owner::from_client_secret(secret).unwrap().hash(),
                "s",
            ),
            None,
        )
        .await
        .unwrap();
    token
}

/// A client, and the app holding its audio and a token of it: (app, secret, token).
async fn with_token() -> (MemoryApp, String, Token) {
    let app = testing::app();
    let secret = testing::client_secret();
    let token = issued(&app, &secret).await;
    (app, secret, token)
}

/// Stores the one token's record again with `doc` as its session document; returns the record.
async fn with_session_document(
    app: &MemoryApp,
    doc: recovery_shared::domain::SessionDocument,
) -> TokenRecord {
    let mut record = app.tokens.records()[0].clone();
    app.tokens
        .delete_token(&record.token_hash, &record.owner_hash)
        .await
        .unwrap();
    record.session = Some(doc);
    app.tokens.put_token(&record, None).await.unwrap();
    record
}

async fn delete(app: &MemoryApp, secret: &str, token: &str, query: &str) -> Response<Body> {
    let path = format!("/api/recovery/token/{token}");
    let req = testing::event("DELETE", ROUTE_PATH, &path, secret)
        .path_parameter("token", token)
        .query(query)
        .into_request()
        .unwrap();
    handle(app, req).await.unwrap()
}

#[tokio::test]
async fn revoking_removes_the_record_keeps_the_audio_and_is_idempotent() {
    let (app, secret, token) = with_token().await;
    for _ in 0..2 {
        let response = delete(&app, &secret, token.as_str(), "").await;
        assert_eq!(response.status(), 204);
        assert!(response.body().is_empty());
    }
    assert!(app.tokens.records().is_empty());
    assert!(app.objects.contains(KEY));
}

#[tokio::test]
async fn purge_also_deletes_the_audio() {
    let (app, secret, token) = with_token().await;
    assert_eq!(
        delete(&app, &secret, token.as_str(), "purge=true")
            .await
            .status(),
        204
    );
    assert!(app.tokens.records().is_empty());
    assert!(!app.objects.contains(KEY));
}

#[tokio::test]
async fn purge_deletes_the_session_document_too() {
    let (app, secret, token) = with_token().await;
    let doc = "recovery/o/s/doc";
    app.objects.put_object(
        doc,
        StoredObject::new(vec![b'{'; 2], "application/vnd.chatterbox.session+json"),
    );
    with_session_document(
        &app,
        recovery_shared::domain::SessionDocument {
            key: doc.into(),
            size_bytes: 2,
        },
    )
    .await;
    assert_eq!(
        delete(&app, &secret, token.as_str(), "purge=true")
            .await
            .status(),
        204
    );
    assert!(!app.objects.contains(doc));
    assert!(!app.objects.contains(KEY));
}

#[tokio::test]
async fn purge_reaches_every_token_that_names_the_session_document_as_well_as_the_audio() {
    // GIVEN two backups of one session: different audio, the same session document
    let (app, secret, first) = with_token().await;
    let doc = recovery_shared::domain::SessionDocument {
        key: "recovery/o/s/doc".into(),
        size_bytes: 2,
    };
    let record = with_session_document(&app, doc.clone()).await;
    let second = Token::generate().unwrap();
    let other = TokenRecord {
        token_hash: second.hash(),
        audio_key: "recovery/o/s/other-audio".into(),
        session: Some(doc),
        ..record
    };
    app.tokens.put_token(&other, None).await.unwrap();
    // WHEN the first is revoked with purge
    assert_eq!(
        delete(&app, &secret, first.as_str(), "purge=true")
            .await
            .status(),
        204
    );
    // THEN the second, whose document is gone, is purged too, and no token can name it again
    let left = app.tokens.get_token(&second.hash()).await.unwrap().unwrap();
    assert_eq!(left.purged_at, Some(NOW));
    assert!(matches!(
        app.tokens.put_token(&other, None).await,
        Err(recovery_shared::ports::StoreError::AlreadyExists)
    ));
    let again = TokenRecord {
        token_hash: Token::generate().unwrap().hash(),
        ..other
    };
    assert!(matches!(
        app.tokens.put_token(&again, None).await,
        Err(recovery_shared::ports::StoreError::Purged)
    ));
}

#[tokio::test]
async fn another_client_gets_403_and_nothing_changes() {
    let app = testing::app();
    let token = issued(&app, &testing::client_secret()).await;
    let response = delete(
        &app,
        &testing::client_secret(),
        token.as_str(),
        "purge=true",
    )
    .await;
    assert_problem(&response, 403);
    assert_eq!(app.tokens.records().len(), 1);
    assert!(app.objects.contains(KEY));
}

#[tokio::test]
async fn bad_tokens_and_purge_values_are_400_and_a_missing_secret_401() {
    let (app, secret, token) = with_token().await;
    assert_problem(&delete(&app, &secret, "nope", "").await, 400);
    assert_problem(
        &delete(&app, &secret, token.as_str(), "purge=yes").await,
        400,
    );
    let req = recovery_shared::apigw::HttpApiEvent::new("DELETE", ROUTE_PATH, "/x")
        .path_parameter("token", token.as_str())
        .into_request()
        .unwrap();
    assert_problem(&handle(&app, req).await.unwrap(), 401);
    assert_eq!(app.tokens.records().len(), 1);
}

#[tokio::test]
async fn a_failing_bucket_during_purge_is_503_and_keeps_the_token_for_a_retry() {
    let (app, secret, token) = with_token().await;
    app.objects.set_unavailable(true);
    assert_problem(
        &delete(&app, &secret, token.as_str(), "purge=true").await,
        503,
    );
    assert_eq!(app.tokens.records().len(), 1);
    app.objects.set_unavailable(false);
    assert_eq!(
        delete(&app, &secret, token.as_str(), "purge=true")
            .await
            .status(),
        204
    );
    assert!(!app.objects.contains(KEY));
}

const SESSION_PATH: &str = "/api/recovery/sessions/{session_id}";

async fn delete_session(app: &MemoryApp, secret: Option<&str>, session: &str) -> Response<Body> {
    let path = format!("/api/recovery/sessions/{session}");
    let event = match secret {
        Some(secret) => testing::event("DELETE", SESSION_PATH, &path, secret),
        None => recovery_shared::apigw::HttpApiEvent::new("DELETE", SESSION_PATH, &path),
    };
    let req = event
        .path_parameter("session_id", session)
        .into_request()
        .unwrap();
    handle(app, req).await.unwrap()
}

/// A copy of `session` (its document and entry), a part beside it, and a token on each.
async fn copied_session(app: &MemoryApp, secret: &str, session: &str) -> (Vec<String>, Vec<Token>) {
    use recovery_shared::domain::{CopyEntry, ObjectKey, SessionId};
    let owner = Owner::from_client_secret(secret).unwrap().hash();
    let document = ObjectKey::session_copy(
        "recovery/",
        owner.clone(),
        SessionId::parse(session).unwrap(),
    )
    .to_string();
    let part = format!("recovery/{}/{session}/{}", owner.as_str(), "p".repeat(22));
    let mut tokens = Vec::new();
    for key in [&document, &part] {
        app.objects
            .put_object(key, StoredObject::new(vec![1; 4], "audio/wav"));
        let token = Token::generate().unwrap();
        app.tokens
            .put_token(
                &testing::token_record(&token, key, owner.clone(), session),
                None,
            )
            .await
            .unwrap();
        tokens.push(token);
    }
    app.tokens
        .put_copy(
            &owner,
            &CopyEntry {
                session_id: session.into(),
                updated_at_ms: 1,
                size: 4,
                parts: 1,
                expires_at: NOW + 60,
                token_hash: tokens[0].hash(),
            },
            &[],
        )
        .await
        .unwrap();
    (vec![document, part], tokens)
}

/// Asserts that each of `tokens` is marked purged: it answers 410.
async fn assert_purged(app: &MemoryApp, tokens: &[Token]) {
    for token in tokens {
        let record = app.tokens.get_token(&token.hash()).await.unwrap().unwrap();
        assert!(record.purged_at.is_some(), "{token:?}");
    }
}

#[tokio::test]
async fn deleting_a_session_purges_every_object_and_token_under_it_and_only_the_owners() {
    let app = testing::app();
    let (a, b) = (testing::client_secret(), testing::client_secret());
    let (keys, tokens) = copied_session(&app, &a, "s").await;
    let (other_keys, other_tokens) = copied_session(&app, &b, "s").await;
    // Another owner deleting a session of the same id touches nothing of this one.
    assert_eq!(delete_session(&app, Some(&b), "s").await.status(), 204);
    for key in &keys {
        assert!(app.objects.contains(key), "{key}");
    }
    for key in &other_keys {
        assert!(!app.objects.contains(key), "{key}");
    }
    assert_purged(&app, &other_tokens).await;
    // The owner's delete: objects gone, tokens purged, entry removed; twice is fine.
    for _ in 0..2 {
        assert_eq!(delete_session(&app, Some(&a), "s").await.status(), 204);
    }
    for key in &keys {
        assert!(!app.objects.contains(key), "{key}");
    }
    assert_purged(&app, &tokens).await;
    let owner = Owner::from_client_secret(&a).unwrap().hash();
    assert!(app.tokens.copies(&owner).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_purge_through_a_copys_token_purges_the_whole_session() {
    let app = testing::app();
    let secret = testing::client_secret();
    let (keys, tokens) = copied_session(&app, &secret, "s").await;
    let response = delete(&app, &secret, tokens[0].as_str(), "purge=true").await;
    assert_eq!(response.status(), 204);
    for key in &keys {
        assert!(!app.objects.contains(key), "{key}");
    }
    // Every token of the session answers 410, the revoked one too (its link says "deleted").
    assert_purged(&app, &tokens).await;
}

#[tokio::test]
async fn deleting_a_session_needs_identity_and_a_valid_id_and_an_outage_is_503() {
    let app = testing::app();
    let secret = testing::client_secret();
    let (keys, _) = copied_session(&app, &secret, "s").await;
    assert_problem(&delete_session(&app, None, "s").await, 401);
    assert_problem(&delete_session(&app, Some(&secret), "a.b").await, 400);
    app.objects.set_unavailable(true);
    assert_problem(&delete_session(&app, Some(&secret), "s").await, 503);
    app.objects.set_unavailable(false);
    for key in &keys {
        assert!(app.objects.contains(key), "{key}");
    }
}
