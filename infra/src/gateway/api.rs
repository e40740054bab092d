//! The API's emulation: each route of the template answered as API Gateway's HTTP API would,
//! by building its v2 event and calling the function's handler in-process, with the JWT
//! authorizer (JWT mode) in front of the routes the template puts behind it.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::Request as AxumRequest;
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::{MethodFilter, MethodRouter, any, on};
use http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Response};
use recovery_shared::App;
use recovery_shared::apigw::{HttpApiEvent, new_request_id};
use recovery_shared::ports::{ObjectStore, TokenStore};
use recovery_shared::problem::Problem;

use super::{Function, GatewayOptions};
use crate::jwt::JwtVerifier;
use crate::template::{Route, Template};

/// API Gateway's payload limit for HTTP APIs.
const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The template's routes, each calling its function, and a problem for any other `/api/` path.
/// Fails if the template names a function this gateway cannot run, or a handler serves a
/// different route than the template says.
pub(super) fn routes<T, O>(
    app: &Arc<App<T, O>>,
    template: &Template,
    options: &GatewayOptions,
) -> anyhow::Result<Router>
where
    T: TokenStore + 'static,
    O: ObjectStore + 'static,
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
        if !function.routes().contains(&route.key().as_str()) {
            bail!(
                "template route {} is served by {}, whose handler serves {:?}",
                route.key(),
                route.function,
                function.routes()
            );
        }
        let method = Method::from_bytes(route.method.as_bytes())
            .with_context(|| format!("bad method in {}", route.key()))?;
        let filter = MethodFilter::try_from(method)
            .map_err(|e| anyhow::anyhow!("method of {} unsupported: {e}", route.key()))?;
        let app = Arc::clone(app);
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
    Ok(router)
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

async fn invoke<T, O>(
    app: &App<T, O>,
    function: Function,
    route: &Route,
    jwt: Option<&JwtVerifier>,
    req: AxumRequest,
) -> AxumResponse
where
    T: TokenStore,
    O: ObjectStore,
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
    let Ok(request) = event.into_request() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "the request could not be read",
            &request_id,
        );
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
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        // `Body` is non-exhaustive: anything else is no body, as `Empty` is.
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
    use super::path_parameters;

    #[test]
    fn path_parameters_come_from_the_template_segments() {
        assert_eq!(
            path_parameters("/api/recovery/audio/{token}", "/api/recovery/audio/ab%2Dc"),
            [("token".to_owned(), "ab-c".to_owned())]
        );
        assert!(path_parameters("/api/recovery/health", "/api/recovery/health").is_empty());
    }
}
