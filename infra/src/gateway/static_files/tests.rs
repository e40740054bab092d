//! The served directories through the whole gateway: where each is served, and the cache rules.
#![allow(clippy::unwrap_used)]
use std::path::PathBuf;
use std::sync::Arc;

use http::StatusCode;

use crate::gateway::tests::{call, get};
use crate::gateway::{GatewayOptions, router};
use crate::template::{Template, repo_template_path};

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
