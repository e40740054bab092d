//! The gateway against the repository's template: routes, JWT mode, CORS, the served directories.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::template::repo_template_path;

#[test]
fn every_template_route_has_a_handler_and_every_handler_a_template_route() {
    let template = Template::load(&repo_template_path()).unwrap();
    let routes = template.routes().unwrap();
    for route in &routes {
        let function = Function::from_logical_id(&route.function)
            .unwrap_or_else(|| panic!("{} has no local handler", route.function));
        assert_eq!(function.route(), route.key());
    }
    for function in Function::ALL {
        assert!(
            routes.iter().any(|r| r.function == function.logical_id()),
            "{function:?} is not in template.yaml"
        );
    }
    assert_eq!(routes.len(), Function::ALL.len());
}

#[test]
fn path_parameters_come_from_the_template_segments() {
    assert_eq!(
        path_parameters("/api/recovery/audio/{token}", "/api/recovery/audio/ab%2Dc"),
        [("token".to_owned(), "ab-c".to_owned())]
    );
    assert!(path_parameters("/api/recovery/health", "/api/recovery/health").is_empty());
}

async fn call(router: &Router, request: http::Request<AxumBody>) -> (StatusCode, String) {
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

fn get(uri: &str) -> http::Request<AxumBody> {
    http::Request::get(uri).body(AxumBody::empty()).unwrap()
}

#[tokio::test]
async fn the_react_example_is_served_at_react_with_its_index_for_client_routes() {
    let root = std::env::temp_dir().join(format!("gateway-react-{}", std::process::id()));
    let (demo, react) = (root.join("demo"), root.join("dist"));
    std::fs::create_dir_all(react.join("assets")).unwrap();
    std::fs::create_dir_all(&demo).unwrap();
    std::fs::write(demo.join("index.html"), "demo page").unwrap();
    std::fs::write(react.join("index.html"), "react app").unwrap();
    std::fs::write(react.join("assets/app.js"), "console.log(1)").unwrap();
    let template = Template::load(&repo_template_path()).unwrap();
    let options = |react_dir: PathBuf| GatewayOptions {
        demo_dir: Some(demo.clone()),
        react_dir: Some(react_dir),
        ..GatewayOptions::default()
    };
    let app = Arc::new(recovery_shared::testing::app());
    let gateway = router(&app, &template, &options(react.clone())).unwrap();

    assert_eq!(
        call(&gateway, get("/react/")).await,
        (StatusCode::OK, "react app".into())
    );
    let (status, body) = call(&gateway, get("/react/assets/app.js")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "console.log(1)"));
    let (status, body) = call(&gateway, get("/react/sessions/abc")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "react app"),
        "a client route"
    );
    let redirect = tower::ServiceExt::oneshot(gateway.clone(), get("/react"))
        .await
        .unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/react/");
    assert_eq!(
        call(&gateway, get("/")).await,
        (StatusCode::OK, "demo page".into())
    );
    let (status, _) = call(&gateway, get("/api/recovery/health")).await;
    assert_eq!(status, StatusCode::OK);

    // Not built: nothing at /react/, the demo as before.
    let unbuilt = router(&app, &template, &options(root.join("missing"))).unwrap();
    assert_eq!(
        call(&unbuilt, get("/react/")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&unbuilt, get("/")).await,
        (StatusCode::OK, "demo page".into())
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn hashed_assets_are_kept_by_browsers_and_every_other_file_is_revalidated() {
    let root = std::env::temp_dir().join(format!("gateway-cache-{}", std::process::id()));
    let (demo, client, react) = (root.join("demo"), root.join("client"), root.join("dist"));
    for dir in [
        react.join("assets"),
        demo.clone(),
        client.join("js"),
        client.join("pkg"),
    ] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(demo.join("index.html"), "demo page").unwrap();
    std::fs::write(demo.join("app.js"), "app").unwrap();
    std::fs::write(client.join("js/index.js"), "index").unwrap();
    std::fs::write(client.join("pkg/client_bg.wasm"), "wasm").unwrap();
    std::fs::write(react.join("index.html"), "react app").unwrap();
    std::fs::write(react.join("assets/index-Ab12Cd34.js"), "bundle").unwrap();
    let template = Template::load(&repo_template_path()).unwrap();
    let options = GatewayOptions {
        demo_dir: Some(demo),
        client_dir: Some(client),
        react_dir: Some(react),
        ..GatewayOptions::default()
    };
    let gateway = router(
        &Arc::new(recovery_shared::testing::app()),
        &template,
        &options,
    )
    .unwrap();
    let cache_control = |uri: &'static str| {
        let gateway = gateway.clone();
        async move {
            let response = tower::ServiceExt::oneshot(gateway, get(uri)).await.unwrap();
            let value = response.headers().get(http::header::CACHE_CONTROL);
            (
                response.status(),
                value.map(|v| v.to_str().unwrap().to_owned()),
            )
        }
    };
    let immutable = Some("public, max-age=31536000, immutable".to_owned());
    let revalidate = Some("no-cache".to_owned());
    assert_eq!(
        cache_control("/react/assets/index-Ab12Cd34.js").await,
        (StatusCode::OK, immutable)
    );
    for uri in [
        "/",
        "/app.js",
        "/client/js/index.js",
        "/client/pkg/client_bg.wasm",
        "/react/",
        "/react/takes/1",
    ] {
        assert_eq!(
            cache_control(uri).await,
            (StatusCode::OK, revalidate.clone()),
            "{uri}"
        );
    }
    // A missing hashed asset is a plain 404 (not the app's index), and nobody keeps it.
    assert_eq!(
        cache_control("/react/assets/index-Zz99.js").await,
        (StatusCode::NOT_FOUND, None)
    );
    // The API's answers keep their own (`no-store`).
    assert_eq!(
        cache_control("/api/recovery/health").await,
        (StatusCode::OK, Some("no-store".to_owned()))
    );
    std::fs::remove_dir_all(&root).unwrap();
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
