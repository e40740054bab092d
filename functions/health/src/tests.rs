//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::domain::Counter;
use recovery_shared::testing::{self, assert_problem, body_json};

async fn get(app: &MemoryApp) -> Response<Body> {
    let path = "/api/recovery/health";
    let req = recovery_shared::apigw::HttpApiEvent::new("GET", path, path)
        .into_request()
        .unwrap();
    handle(app, req).await.unwrap()
}

#[tokio::test]
async fn reports_ok_with_version_lifetimes_and_counters() {
    let app = testing::app();
    app.tokens.increment(Counter::Issued).await.unwrap();
    app.tokens.increment(Counter::NotFound).await.unwrap();
    let response = get(&app).await;
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], VERSION);
    assert_eq!(body["checks"], json!({"table": "ok", "bucket": "ok"}));
    assert_eq!(body["config"]["token_ttl_seconds"], 86_400);
    assert_eq!(body["config"]["presign_ttl_seconds"], 300);
    assert_eq!(
        body["counters"],
        json!({"issued": 1, "redeemed": 0, "expired": 0, "not_found": 1})
    );
}

#[tokio::test]
async fn names_the_failed_check_in_a_503() {
    let app = testing::app();
    app.objects.set_unavailable(true);
    let problem = assert_problem(&get(&app).await, 503);
    assert_eq!(
        problem["checks"],
        json!({"table": "ok", "bucket": "unavailable"})
    );
    assert_eq!(problem["detail"], "unavailable: bucket");

    app.objects.set_unavailable(false);
    app.tokens.set_unavailable(true);
    let problem = assert_problem(&get(&app).await, 503);
    assert_eq!(
        problem["checks"],
        json!({"table": "unavailable", "bucket": "ok"})
    );
}
