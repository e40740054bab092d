//! openapi.yaml stays true: the same routes as template.yaml, the statuses the README's API table
//! names (docs/architecture.md, "The API contract"), and real responses that match its schemas.

use recovery_e2e::openapi::OpenApi;
use recovery_e2e::{Stack, client_secret};
use recovery_infra::template::{Route, Template, repo_template_path};
use serde_json::{Value, json};

#[test]
fn the_document_is_openapi_3_1_with_exactly_the_routes_of_the_template() {
    let openapi = OpenApi::load();
    assert_eq!(openapi.version(), "3.1.0");
    let template: Vec<String> = Template::load(&repo_template_path())
        .unwrap()
        .routes()
        .unwrap()
        .iter()
        .map(Route::key)
        .collect();
    assert_eq!(openapi.operations(), template);
}

#[test]
fn every_status_the_api_answers_is_documented() {
    let openapi = OpenApi::load();
    for (route, statuses) in [
        (
            "POST /api/recovery/uploads",
            vec![201, 400, 401, 413, 415, 429, 503],
        ),
        (
            "POST /api/recovery/token",
            vec![201, 400, 401, 403, 404, 413, 415, 429, 503],
        ),
        (
            "GET /api/recovery/audio/{token}",
            vec![200, 302, 400, 404, 410, 503],
        ),
        ("GET /api/recovery/audio", vec![200, 400, 404, 410, 503]),
        (
            "DELETE /api/recovery/token/{token}",
            vec![204, 400, 401, 403, 503],
        ),
        ("GET /api/recovery/health", vec![200, 503]),
        (
            "PUT /api/recovery/sessions/{session_id}",
            vec![200, 201, 400, 401, 410, 413, 415, 429, 503],
        ),
        ("GET /api/recovery/sessions", vec![200, 401, 503]),
        (
            "GET /api/recovery/sessions/{session_id}",
            vec![200, 400, 401, 404, 410, 503],
        ),
        (
            "DELETE /api/recovery/sessions/{session_id}",
            vec![204, 400, 401, 503],
        ),
    ] {
        assert_eq!(openapi.statuses(route), statuses, "{route}");
    }
}

async fn checked(openapi: &OpenApi, route: &str, response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    openapi.assert_response(route, status, &content_type, &body);
    body
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let openapi = OpenApi::load();
    let stack = Stack::start().await;
    let secret = client_secret();

    let upload = stack
        .create_upload(
            &secret,
            &json!({"session_id": "s", "content_type": "audio/wav", "content_length": 3, "filename": "a.wav"}),
        )
        .await;
    let upload = checked(&openapi, "POST /api/recovery/uploads", upload).await;
    assert_eq!(
        stack.put_presigned(&upload, vec![1, 2, 3]).await.status(),
        200
    );
    let bad = stack
        .create_upload(&secret, &json!({"session_id": "s"}))
        .await;
    checked(&openapi, "POST /api/recovery/uploads", bad).await;

    let issued = stack
        .issue_token(
            &secret,
            &json!({"key": upload["key"], "metadata": {"voice": "v", "exaggeration": 0.5}}),
        )
        .await;
    let issued = checked(&openapi, "POST /api/recovery/token", issued).await;
    let foreign = stack
        .issue_token(&client_secret(), &json!({"key": upload["key"]}))
        .await;
    checked(&openapi, "POST /api/recovery/token", foreign).await;

    let token = issued["token"].as_str().unwrap();
    let route = "GET /api/recovery/audio/{token}";
    checked(&openapi, route, stack.redeem(token, true).await).await;
    checked(&openapi, route, stack.redeem(token, false).await).await;
    checked(&openapi, route, stack.redeem("nope", false).await).await;
    checked(&openapi, route, stack.redeem(&"A".repeat(43), false).await).await;
    let route = "GET /api/recovery/audio";
    checked(&openapi, route, stack.redeem_in_header(Some(token)).await).await;
    checked(&openapi, route, stack.redeem_in_header(None).await).await;
    checked(&openapi, route, stack.redeem_in_header(Some("nope")).await).await;
    let unknown = "A".repeat(43);
    checked(
        &openapi,
        route,
        stack.redeem_in_header(Some(&unknown)).await,
    )
    .await;

    let health = stack.health().await;
    checked(&openapi, "GET /api/recovery/health", health).await;

    let revoke = stack.revoke(&secret, token, false).await;
    assert_eq!(revoke.status(), 204);
    assert!(
        openapi
            .statuses("DELETE /api/recovery/token/{token}")
            .contains(&204)
    );
    let unauthorised = stack
        .http
        .delete(stack.url(&format!("/api/recovery/token/{token}")))
        .send()
        .await
        .unwrap();
    checked(&openapi, "DELETE /api/recovery/token/{token}", unauthorised).await;
}
