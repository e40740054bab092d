//! The local API gateway: serves exactly the routes of `template.yaml` by building the API Gateway
//! HTTP API (v2) event for each request and calling the same handler code the Lambda functions
//! run, in-process. Everything else is the demo page directory.
//!
//! Three concerns, one module each: the API's emulation (`api.rs`: routes, v2 events, the JWT
//! authorizer's place), the static files and their cache rules (`static_files.rs`), and CORS as
//! the template configures it (`cors.rs`). This file puts them together.

mod api;
mod cors;
mod static_files;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use recovery_shared::App;
use recovery_shared::ports::{ObjectStore, TokenStore};

use crate::jwt::JwtVerifier;
use crate::template::Template;

pub use crate::functions::Function;

#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// Served at `/` (the demo page); `None` serves nothing there.
    pub demo_dir: Option<PathBuf>,
    /// The browser client's package directory (`client/`): its `js/` and built `pkg/` are
    /// served at `/client/js/` and `/client/pkg/` for the demo page to import.
    pub client_dir: Option<PathBuf>,
    /// The React example's build (`client/examples/react/dist/`), served at `/react/` whenever
    /// the directory exists, with its `index.html` for every path that is not a file (the app's
    /// own routes).
    pub react_dir: Option<PathBuf>,
    /// CORS origins (`*` for any); empty disables CORS.
    pub allowed_origins: Vec<String>,
    /// Also serve the development speech endpoint (`POST /v1/audio/speech`, see `speech/`).
    pub dev_speech: bool,
    /// JWT mode: bearer tokens checked as API Gateway's JWT authorizer does, on the routes the
    /// template puts behind it (see `jwt.rs`). `None`: no authorizer, as in a stack without
    /// `JwtIssuer`.
    pub jwt: Option<Arc<JwtVerifier>>,
}

/// Builds the gateway for `template`'s routes. Fails if the template names a function this
/// gateway cannot run, or a handler serves a different route than the template says.
pub fn router<T, O>(
    app: &Arc<App<T, O>>,
    template: &Template,
    options: &GatewayOptions,
) -> anyhow::Result<Router>
where
    T: TokenStore + 'static,
    O: ObjectStore + 'static,
{
    let mut router = api::routes(app, template, options)?;
    if options.dev_speech {
        router = router.merge(crate::speech::router());
    }
    router = static_files::serve(router, options);
    if let Some(cors) = cors::layer(template, &options.allowed_origins)? {
        router = router.layer(cors);
    }
    Ok(router)
}

#[cfg(test)]
mod tests;
