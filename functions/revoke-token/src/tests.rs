//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::domain::{Metadata, Owner, TokenRecord};
use recovery_shared::memory::StoredObject;
use recovery_shared::testing::{self, NOW, assert_problem};

const ROUTE_PATH: &str = "/api/recovery/token/{token}";
const KEY: &str = "recovery/o/s/x";

async fn issued(app: &MemoryApp, secret: &str) -> Token {
    let token = Token::generate().unwrap();
    app.objects.put_object(
        KEY,
        StoredObject {
            bytes: vec![0; 4],
            content_type: "audio/wav".into(),
            filename: None,
        },
    );
    app.tokens
        .put_token(
            &TokenRecord {
                token_hash: token.hash(),
                audio_key: KEY.into(),
                owner_hash: Owner::from_client_secret(secret).unwrap().hash(),
                session_id: "s".into(),
                created_at: NOW,
                expires_at: NOW + 60,
                content_type: "audio/wav".into(),
                size_bytes: 4,
                filename: None,
                metadata: Metadata::new(),
                session: None,
                purged_at: None,
            },
            None,
        )
        .await
        .unwrap();
    token
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
    let app = testing::app();
    let secret = testing::client_secret();
    let token = issued(&app, &secret).await;
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
    let app = testing::app();
    let secret = testing::client_secret();
    let token = issued(&app, &secret).await;
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
    let app = testing::app();
    let secret = testing::client_secret();
    let token = issued(&app, &secret).await;
    let doc = "recovery/o/s/doc";
    app.objects.put_object(
        doc,
        StoredObject {
            bytes: vec![b'{'; 2],
            content_type: "application/vnd.chatterbox.session+json".into(),
            filename: None,
        },
    );
    let mut record = app.tokens.records()[0].clone();
    app.tokens
        .delete_token(&record.token_hash, &record.owner_hash)
        .await
        .unwrap();
    record.session = Some(recovery_shared::domain::SessionDocument {
        key: doc.into(),
        size_bytes: 2,
    });
    app.tokens.put_token(&record, None).await.unwrap();
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
    let app = testing::app();
    let secret = testing::client_secret();
    let first = issued(&app, &secret).await;
    let doc = recovery_shared::domain::SessionDocument {
        key: "recovery/o/s/doc".into(),
        size_bytes: 2,
    };
    let mut record = app.tokens.records()[0].clone();
    app.tokens
        .delete_token(&record.token_hash, &record.owner_hash)
        .await
        .unwrap();
    record.session = Some(doc.clone());
    app.tokens.put_token(&record, None).await.unwrap();
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
    let app = testing::app();
    let secret = testing::client_secret();
    let token = issued(&app, &secret).await;
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
    let app = testing::app();
    let secret = testing::client_secret();
    let token = issued(&app, &secret).await;
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
