//! Serves the API of `template.yaml`, the demo page and (unless `DEV_SPEECH=0`) the development
//! speech endpoint on 127.0.0.1:3000 (or `GATEWAY_ADDR`); with `JWT_ISSUER`, `JWT_AUDIENCE` and
//! `JWT_JWKS_FILE`, in JWT mode (see `jwt.rs`).

use std::sync::Arc;

use anyhow::Context as _;
use recovery_infra::gateway::{GatewayOptions, router};
use recovery_infra::jwt::JwtVerifier;
use recovery_infra::path_from_env;
use recovery_infra::template::Template;
use recovery_shared::{AwsApp, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lambda_http::tracing::init_default_subscriber();
    let addr = std::env::var("GATEWAY_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let template = Template::load(&path_from_env("TEMPLATE_PATH", "template.yaml"))?;
    let config = Config::from_env()?;
    let demo_dir = path_from_env("DEMO_DIR", "client/demo");
    let options = GatewayOptions {
        demo_dir: Some(demo_dir),
        client_dir: Some(path_from_env("CLIENT_DIR", "client")),
        react_dir: Some(path_from_env("REACT_DIR", "client/examples/react/dist")),
        allowed_origins: config.allowed_origins.clone(),
        dev_speech: dev_speech_from_env()?,
        jwt: JwtVerifier::from_env()?.map(Arc::new),
    };
    if let Some(jwt) = &options.jwt {
        tracing::info!(
            ?jwt,
            "JWT mode: bearer tokens required as by API Gateway's JWT authorizer"
        );
    }
    let app = Arc::new(AwsApp::with_config(config).await);
    let router = router(&app, &template, &options)?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "local gateway listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await
        .context("serving")
}

/// `DEV_SPEECH` (default on): whether to serve the development speech endpoint.
fn dev_speech_from_env() -> anyhow::Result<bool> {
    match std::env::var("DEV_SPEECH").as_deref() {
        Err(_) | Ok("1" | "true" | "on") => Ok(true),
        Ok("0" | "false" | "off") => Ok(false),
        Ok(other) => anyhow::bail!("DEV_SPEECH must be 1/true/on or 0/false/off, not \"{other}\""),
    }
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
