//! The local API gateway: serves exactly the routes of `template.yaml` by building the API Gateway
//! HTTP API (v2) event for each request and calling the same handler code the Lambda functions
//! run, in-process. Everything else is the demo page directory.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::Request as AxumRequest;
use axum::response::{IntoResponse, Redirect, Response as AxumResponse};
use axum::routing::{MethodFilter, MethodRouter, any, get, on};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Response};
use recovery_shared::App;
use recovery_shared::apigw::{HttpApiEvent, new_request_id};
use recovery_shared::ports::{AudioStore, TokenStore};
use recovery_shared::problem::Problem;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use crate::jwt::JwtVerifier;
use crate::template::{Route, Template};

/// API Gateway's payload limit for HTTP APIs.
const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The functions of the stack, by their logical id in `template.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    CreateUpload,
    IssueToken,
    RedeemToken,
    RevokeToken,
    Health,
}

impl Function {
    pub const ALL: [Function; 5] = [
        Function::CreateUpload,
        Function::IssueToken,
        Function::RedeemToken,
        Function::RevokeToken,
        Function::Health,
    ];

    pub fn logical_id(self) -> &'static str {
        match self {
            Function::CreateUpload => "CreateUploadFunction",
            Function::IssueToken => "IssueTokenFunction",
            Function::RedeemToken => "RedeemTokenFunction",
            Function::RevokeToken => "RevokeTokenFunction",
            Function::Health => "HealthFunction",
        }
    }

    /// The route the handler says it serves (its `ROUTE` constant).
    pub fn route(self) -> &'static str {
        match self {
            Function::CreateUpload => create_upload::ROUTE,
            Function::IssueToken => issue_token::ROUTE,
            Function::RedeemToken => redeem_token::ROUTE,
            Function::RevokeToken => revoke_token::ROUTE,
            Function::Health => health::ROUTE,
        }
    }

    pub fn from_logical_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.logical_id() == id)
    }

    /// Runs this function's handler on `req`, as its Lambda would.
    pub async fn invoke<T, A>(self, app: &App<T, A>, req: lambda_http::Request) -> Response<Body>
    where
        T: TokenStore,
        A: AudioStore,
    {
        let result: Result<Response<Body>, Infallible> = match self {
            Function::CreateUpload => create_upload::handle(app, req).await,
            Function::IssueToken => issue_token::handle(app, req).await,
            Function::RedeemToken => redeem_token::handle(app, req).await,
            Function::RevokeToken => revoke_token::handle(app, req).await,
            Function::Health => health::handle(app, req).await,
        };
        match result {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

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
    /// Also serve the development speech endpoint (`POST /v1/audio/speech`, see `speech.rs`).
    pub dev_speech: bool,
    /// JWT mode: bearer tokens checked as API Gateway's JWT authorizer does, on the routes the
    /// template puts behind it (see `jwt.rs`). `None`: no authorizer, as in a stack without
    /// `JwtIssuer`.
    pub jwt: Option<Arc<JwtVerifier>>,
}

/// Builds the gateway for `template`'s routes. Fails if the template names a function this
/// gateway cannot run, or a handler serves a different route than the template says.
pub fn router<T, A>(
    app: Arc<App<T, A>>,
    template: &Template,
    options: &GatewayOptions,
) -> anyhow::Result<Router>
where
    T: TokenStore + 'static,
    A: AudioStore + 'static,
{
    let mut by_path: BTreeMap<String, MethodRouter> = BTreeMap::new();
    for route in template.routes()? {
        let function = Function::from_logical_id(&route.function).with_context(|| {
            format!(
                "template route {} is served by {}, which the local gateway does not know",
                route.key(),
                route.function
            )
        })?;
        if function.route() != route.key() {
            bail!(
                "template route {} is served by {}, whose handler serves {}",
                route.key(),
                route.function,
                function.route()
            );
        }
        let method = Method::from_bytes(route.method.as_bytes())
            .with_context(|| format!("bad method in {}", route.key()))?;
        let filter = MethodFilter::try_from(method)
            .map_err(|e| anyhow::anyhow!("method of {} unsupported: {e}", route.key()))?;
        let app = Arc::clone(&app);
        let route = Arc::new(route);
        let path = route.path.clone();
        let jwt = options.jwt.clone().filter(|_| route.authorizer);
        let handler = move |req: AxumRequest| {
            let app = Arc::clone(&app);
            let route = Arc::clone(&route);
            let jwt = jwt.clone();
            async move { invoke(&app, function, &route, jwt.as_deref(), req).await }
        };
        let entry = by_path.remove(&path).unwrap_or_default();
        by_path.insert(path, entry.merge(on(filter, handler)));
    }

    let mut router = Router::new();
    for (path, methods) in by_path {
        router = router.route(&path, methods);
    }
    router = router.route("/api/{*rest}", any(unknown_route));
    if options.dev_speech {
        router = router.merge(crate::speech::router());
    }
    if let Some(dir) = &options.client_dir {
        router = router
            .nest_service("/client/js", ServeDir::new(dir.join("js")))
            .nest_service("/client/pkg", ServeDir::new(dir.join("pkg")));
    }
    if let Some(dir) = &options.react_dir {
        let app = ServeDir::new(dir)
            .append_index_html_on_directories(true)
            .fallback(ServeFile::new(dir.join("index.html")));
        router = router
            .route("/react", get(|| async { Redirect::permanent("/react/") }))
            .nest_service("/react/", app);
    }
    if let Some(dir) = &options.demo_dir {
        router = router.fallback_service(ServeDir::new(dir).append_index_html_on_directories(true));
    }
    if let Some(cors) = cors_layer(template, &options.allowed_origins)? {
        router = router.layer(cors);
    }
    Ok(router)
}

/// The API's CORS as the template configures it, with the origins of this run.
fn cors_layer(template: &Template, origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let cors = template.api_cors()?;
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .map(|o| HeaderValue::from_str(o))
                .collect::<Result<Vec<_>, _>>()
                .context("an allowed origin is not a header value")?,
        )
    };
    let methods = cors
        .allow_methods
        .iter()
        .map(|m| Method::from_bytes(m.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("a CORS method in the template is invalid")?;
    let headers = cors
        .allow_headers
        .iter()
        .map(|h| HeaderName::from_bytes(h.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("a CORS header in the template is invalid")?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(methods)
            .allow_headers(headers)
            .max_age(Duration::from_secs(cors.max_age)),
    ))
}

/// Path parameters the way API Gateway extracts them: each `{name}` segment of the template
/// takes the matching segment of the path, percent-decoded.
fn path_parameters(template: &str, path: &str) -> Vec<(String, String)> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, p)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            let value = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
            Some((name.to_owned(), value.into_owned()))
        })
        .collect()
}

async fn invoke<T, A>(
    app: &App<T, A>,
    function: Function,
    route: &Route,
    jwt: Option<&JwtVerifier>,
    req: AxumRequest,
) -> AxumResponse
where
    T: TokenStore,
    A: AudioStore,
{
    let request_id = new_request_id();
    let (parts, body) = req.into_parts();
    // The authorizer runs before the function, as in API Gateway.
    let claims = match jwt {
        None => None,
        Some(verifier) => {
            let authorization = parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match verifier.verify(authorization) {
                Ok(claims) => Some(claims),
                Err(why) => {
                    tracing::info!(route = %route.key(), status = 401, request_id, reason = %why, "gateway");
                    return unauthorized(&request_id);
                }
            }
        }
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await else {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
            &request_id,
        );
    };

    let mut event = HttpApiEvent::new(parts.method.as_str(), &route.path, parts.uri.path())
        .query(parts.uri.query().unwrap_or_default())
        .request_id(&request_id);
    for (name, value) in path_parameters(&route.path, parts.uri.path()) {
        event = event.path_parameter(&name, &value);
    }
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            event = event.header(name.as_str(), value);
        }
    }
    if let Some(host) = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        event = event.domain_name(host);
    }
    // API Gateway adds these; the handlers build absolute URLs from them.
    event = event.header("x-forwarded-proto", "http");
    if !bytes.is_empty() {
        event = event.body(bytes.to_vec());
    }
    if let Some(claims) = claims {
        event = event.jwt_claims(claims);
    }
    let request = match event.into_request() {
        Ok(request) => request,
        Err(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "the request could not be read",
                &request_id,
            );
        }
    };

    let response = function.invoke(app, request).await;
    // The route template, not the path: paths carry tokens.
    tracing::info!(route = %route.key(), status = response.status().as_u16(), request_id, "gateway");
    let mut response = into_axum(response);
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    response
}

fn into_axum(response: Response<Body>) -> AxumResponse {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => AxumBody::empty(),
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    AxumResponse::from_parts(parts, body)
}

fn problem(status: StatusCode, detail: &str, request_id: &str) -> AxumResponse {
    into_axum(Problem::new(status, "gateway", detail.to_owned(), request_id).into_response())
}

/// API Gateway's own answer when its JWT authorizer refuses a request.
fn unauthorized(request_id: &str) -> AxumResponse {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(http::header::CONTENT_TYPE, "application/json")],
        r#"{"message":"Unauthorized"}"#,
    )
        .into_response();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    response
}

async fn unknown_route(req: AxumRequest) -> impl IntoResponse {
    problem(
        StatusCode::NOT_FOUND,
        &format!("no route {} {}", req.method(), req.uri().path()),
        &new_request_id(),
    )
}

#[cfg(test)]
mod tests {
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
            Arc::new(recovery_shared::testing::app()),
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
            Arc::new(recovery_shared::testing::app()),
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
        let gateway = router(Arc::clone(&app), &template, &options(react.clone())).unwrap();

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
        let unbuilt = router(app, &template, &options(root.join("missing"))).unwrap();
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

    #[test]
    fn a_template_route_without_a_known_function_stops_the_gateway() {
        let text = std::fs::read_to_string(repo_template_path())
            .unwrap()
            .replace("HealthFunction", "StatusFunction");
        let template = Template::parse(&text).unwrap();
        let app = Arc::new(recovery_shared::testing::app());
        let err = router(app, &template, &GatewayOptions::default()).unwrap_err();
        assert!(err.to_string().contains("StatusFunction"), "{err}");
    }
}
