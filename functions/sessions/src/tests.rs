//! The handler on the in-memory stores: the caller's copies, and one restored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::apigw::HttpApiEvent;
use recovery_shared::domain::{Owner, OwnerHash, TokenHash};
use recovery_shared::memory::StoredObject;
use recovery_shared::testing::{self, NOW, assert_problem, body_json};

const LIST: &str = "/api/recovery/sessions";
const ONE: &str = "/api/recovery/sessions/{session_id}";

fn owner(secret: &str) -> OwnerHash {
    Owner::from_client_secret(secret).unwrap().hash()
}

/// A stored copy of `session` for `secret`, edited at `updated_at_ms`, expiring at `expires_at`.
async fn copied(app: &MemoryApp, secret: &str, session: &str, updated_at_ms: i64, expires_at: i64) {
    let key = ObjectKey::session_copy(
        "recovery/",
        owner(secret),
        SessionId::parse(session).unwrap(),
    );
    app.objects.put_object(
        key.as_str(),
        StoredObject::new(vec![0x1f, 0x8b, 1, 2], SESSION_DOCUMENT_TYPE),
    );
    app.tokens
        .put_copy(
            &owner(secret),
            &CopyEntry {
                session_id: session.into(),
                updated_at_ms,
                size: 4,
                parts: 1,
                expires_at,
                token_hash: TokenHash::from_stored("ab".repeat(32)),
            },
            &[],
        )
        .await
        .unwrap();
}

async fn list(app: &MemoryApp, secret: &str) -> Response<Body> {
    let req = testing::event("GET", LIST, LIST, secret)
        .into_request()
        .unwrap();
    handle(app, req).await.unwrap()
}

async fn one(app: &MemoryApp, secret: &str, session: &str) -> Response<Body> {
    let req = testing::event("GET", ONE, &format!("{LIST}/{session}"), secret)
        .path_parameter("session_id", session)
        .into_request()
        .unwrap();
    handle(app, req).await.unwrap()
}

#[tokio::test]
async fn the_list_is_the_callers_own_copies_newest_first_without_expired_ones() {
    let app = testing::app();
    let (a, b) = (testing::client_secret(), testing::client_secret());
    copied(&app, &a, "older", 1_000, NOW + 100).await;
    copied(&app, &a, "newer", 2_000, NOW + 100).await;
    copied(&app, &a, "expired", 3_000, NOW).await;
    copied(&app, &b, "theirs", 4_000, NOW + 100).await;
    let response = list(&app, &a).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = body_json(&response);
    let ids: Vec<&str> = body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["newer", "older"]);
    assert_eq!(body["sessions"][0]["updated_at"], "1970-01-01T00:00:02Z");
    assert_eq!(body["sessions"][0]["expires_at"], "2026-01-01T00:01:40Z");
    assert_eq!(body["sessions"][0]["size"], 4);
    assert_eq!(body["sessions"][0]["parts"], 1);
    // An owner without copies has an empty list.
    let nobody = body_json(&list(&app, &testing::client_secret()).await);
    assert_eq!(nobody["sessions"], serde_json::json!([]));
}

#[tokio::test]
async fn one_copy_comes_back_with_its_document_and_every_other_object_of_the_session() {
    let app = testing::app();
    let secret = testing::client_secret();
    copied(&app, &secret, "s", 1_500, NOW + 100).await;
    let part = format!("recovery/{}/s/{}", owner(&secret).as_str(), "p".repeat(22));
    app.objects
        .put_object(&part, StoredObject::new(vec![1; 10], "audio/wav"));
    // Another session's object is not a part of this one.
    let elsewhere = format!("recovery/{}/s2/{}", owner(&secret).as_str(), "q".repeat(22));
    app.objects
        .put_object(&elsewhere, StoredObject::new(vec![1], "audio/wav"));
    let response = one(&app, &secret, "s").await;
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["session_id"], "s");
    assert_eq!(body["updated_at"], "1970-01-01T00:00:01.5Z");
    assert_eq!(body["size"], 4);
    // The URL lives no longer than the copy: 100 s left, under the 300 s presign lifetime.
    assert_eq!(body["url_expires_at"], "2026-01-01T00:01:40Z");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .contains("/s/session-copy?expires_in=100")
    );
    let parts = body["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["key"], part.as_str());
    assert_eq!(parts[0]["size"], 10);
    assert!(parts[0]["url"].as_str().unwrap().contains(&part));
}

#[tokio::test]
async fn another_owners_copy_is_not_found_and_an_expired_one_is_gone() {
    let app = testing::app();
    let (a, b) = (testing::client_secret(), testing::client_secret());
    copied(&app, &a, "s", 1, NOW + 10).await;
    copied(&app, &a, "old", 1, NOW).await;
    assert_problem(&one(&app, &b, "s").await, 404);
    assert_problem(&one(&app, &a, "missing").await, 404);
    assert_problem(&one(&app, &a, "old").await, 410);
    assert_problem(&one(&app, &a, "a.b").await, 400);
}

#[tokio::test]
async fn without_identity_both_routes_answer_401() {
    let app = testing::app();
    let bare = HttpApiEvent::new("GET", LIST, LIST).into_request().unwrap();
    assert_problem(&handle(&app, bare).await.unwrap(), 401);
    let bare = HttpApiEvent::new("GET", ONE, "/api/recovery/sessions/s")
        .path_parameter("session_id", "s")
        .into_request()
        .unwrap();
    assert_problem(&handle(&app, bare).await.unwrap(), 401);
}

#[tokio::test]
async fn a_storage_outage_is_a_503_problem() {
    let app = testing::app();
    let secret = testing::client_secret();
    copied(&app, &secret, "s", 1, NOW + 10).await;
    app.objects.set_unavailable(true);
    assert_problem(&one(&app, &secret, "s").await, 503);
    app.tokens.set_unavailable(true);
    assert_problem(&list(&app, &secret).await, 503);
}
