//! The gateway against the repository's template: its routes and handlers, JWT mode. The static
//! files' tests are beside them (`static_files/tests.rs`) and use this file's helpers.
#![allow(clippy::unwrap_used)]
use axum::body::Body as AxumBody;
use http::StatusCode;

use super::*;
use crate::template::repo_template_path;

#[test]
fn every_template_route_has_a_handler_and_every_handler_a_template_route() {
    let template = Template::load(&repo_template_path()).unwrap();
    let routes = template.routes().unwrap();
    for route in &routes {
        let function = Function::from_logical_id(&route.function)
            .unwrap_or_else(|| panic!("{} has no local handler", route.function));
        assert!(
            function.routes().contains(&route.key().as_str()),
            "{} leads to {function:?}, which serves {:?}",
            route.key(),
            function.routes()
        );
    }
    for function in Function::ALL {
        for key in function.routes() {
            assert!(
                routes
                    .iter()
                    .any(|r| r.function == function.logical_id() && r.key() == *key),
                "{function:?} serves {key}, which template.yaml does not route to it"
            );
        }
    }
    let handled: usize = Function::ALL.iter().map(|f| f.routes().len()).sum();
    assert_eq!(routes.len(), handled);
}

pub(super) async fn call(
    router: &Router,
    request: http::Request<AxumBody>,
) -> (StatusCode, String) {
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn jwt_gateway() -> Router {
    let template = Template::load(&repo_template_path()).unwrap();
    let options = GatewayOptions {
        jwt: Some(Arc::new(crate::jwt::tests::verifier())),
        ..GatewayOptions::default()
    };
    router(
        &Arc::new(recovery_shared::testing::app()),
        &template,
        &options,
    )
    .unwrap()
}

fn upload(authorization: Option<&str>) -> http::Request<AxumBody> {
    let mut request = http::Request::post("/api/recovery/uploads")
        .header("content-type", "application/json")
        // In JWT mode the client secret must not stand in for a missing token.
        .header(
            "x-recovery-client",
            recovery_shared::testing::client_secret(),
        );
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let body = r#"{"session_id":"s-1","content_type":"audio/wav","content_length":1000}"#;
    request.body(AxumBody::from(body)).unwrap()
}

#[tokio::test]
async fn jwt_mode_files_a_good_tokens_request_under_its_subject() {
    use crate::jwt::tests::{good_claims, sign};
    let gateway = jwt_gateway();
    let token = sign(&good_claims("user-42"));
    let (status, body) = call(&gateway, upload(Some(&format!("Bearer {token}")))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = serde_json::from_str::<serde_json::Value>(&body).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = recovery_shared::domain::Owner::from_subject("user-42")
        .unwrap()
        .hash();
    assert!(
        key.starts_with(&format!("recovery/{}/s-1/", owner.as_str())),
        "{key}"
    );
}

#[tokio::test]
async fn jwt_mode_answers_401_like_api_gateway_to_a_missing_or_bad_token() {
    use crate::jwt::tests::{ISSUER, good_claims, sign};
    let gateway = jwt_gateway();
    let mut expired = good_claims("u");
    expired["exp"] = serde_json::json!(1_000_000_000);
    let mut wrong_issuer = good_claims("u");
    wrong_issuer["iss"] = serde_json::json!(format!("{ISSUER}/other"));
    let mut wrong_audience = good_claims("u");
    wrong_audience["aud"] = serde_json::json!("another-app");
    let good = sign(&good_claims("u"));
    let forged = format!("{}x", &good[..good.len() - 1]);
    let cases = [
        None,
        Some("Bearer".to_owned()),
        Some(format!("Bearer {}", sign(&expired))),
        Some(format!("Bearer {}", sign(&wrong_issuer))),
        Some(format!("Bearer {}", sign(&wrong_audience))),
        Some(format!("Bearer {forged}")),
    ];
    for authorization in cases {
        let (status, body) = call(&gateway, upload(authorization.as_deref())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(body, r#"{"message":"Unauthorized"}"#);
    }
    // Health stays open, as its route has AuthorizationType NONE.
    let health = http::Request::get("/api/recovery/health")
        .body(AxumBody::empty())
        .unwrap();
    let (status, body) = call(&gateway, health).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn without_jwt_mode_a_bearer_header_carries_no_identity() {
    use crate::jwt::tests::{good_claims, sign};
    let template = Template::load(&repo_template_path()).unwrap();
    let gateway = router(
        &Arc::new(recovery_shared::testing::app()),
        &template,
        &GatewayOptions::default(),
    )
    .unwrap();
    let token = sign(&good_claims("user-42"));
    let request = http::Request::post("/api/recovery/uploads")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(AxumBody::from(
            r#"{"session_id":"s-1","content_type":"audio/wav","content_length":1000}"#,
        ))
        .unwrap();
    let (status, body) = call(&gateway, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body.contains("\"status\":401"),
        "a problem from the handler: {body}"
    );
}

pub(super) fn get(uri: &str) -> http::Request<AxumBody> {
    http::Request::get(uri).body(AxumBody::empty()).unwrap()
}

#[test]
fn a_template_route_without_a_known_function_stops_the_gateway() {
    let text = std::fs::read_to_string(repo_template_path())
        .unwrap()
        .replace("HealthFunction", "StatusFunction");
    let template = Template::parse(&text).unwrap();
    let app = Arc::new(recovery_shared::testing::app());
    let err = router(&app, &template, &GatewayOptions::default()).unwrap_err();
    assert!(err.to_string().contains("StatusFunction"), "{err}");
}
