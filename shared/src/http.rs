//! The edge of every handler: who is calling, what they sent, how we answer, and the one place
//! where errors become responses and get logged.

use std::future::Future;
use std::time::Instant;

use lambda_http::http::{HeaderValue, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::config::OriginSecret;
use crate::domain::Owner;
use crate::ports::StoreError;
use crate::problem::ApiError;

/// The header that carries the browser's client secret when the stack runs without a JWT authorizer.
pub const CLIENT_HEADER: &str = "x-recovery-client";
/// Request bodies are small JSON documents; anything bigger is refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// One budget for all the storage calls of a request, well below the functions' 10 s timeout
/// (template.yaml), so that every answer, a 503 included, is a problem document of ours and never
/// Lambda's timeout.
pub const ROUTE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(6);

/// API Gateway's request id (what its access log shows), else the Lambda invocation id.
pub fn request_id(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(id) = ctx.request_id.as_deref().filter(|id| !id.is_empty())
    {
        return id.to_owned();
    }
    req.lambda_context_ref()
        .map(|ctx| ctx.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The header the stack's CloudFront distribution adds to every request it forwards.
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";

/// Whether a request came through the edge, when the stack has one: the distribution overwrites
/// whatever a viewer sends in [`ORIGIN_VERIFY_HEADER`] with the stack's secret, so only requests
/// it forwarded carry it. Compared in constant time, so the answer's timing tells nothing of it.
pub fn check_origin(secret: Option<&OriginSecret>, req: &Request) -> Result<(), ApiError> {
    use subtle::ConstantTimeEq as _;
    let Some(secret) = secret else {
        return Ok(());
    };
    let sent = req
        .headers()
        .get(ORIGIN_VERIFY_HEADER)
        .map_or(&[][..], HeaderValue::as_bytes);
    if bool::from(sent.ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "call the API through its CloudFront address (the stack's ApiUrl output)".to_owned(),
        ))
    }
}

/// The caller: the JWT `sub` claim when an authorizer ran, else the client-secret header. A JWT
/// without `sub` is refused: it never falls back to the header.
pub fn owner(req: &Request) -> Result<Owner, ApiError> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(jwt) = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref())
    {
        // API Gateway hands claims on as text, so a JSON `null` subject arrives as "null": an
        // owner every such token would share. A subject must be a string (the local gateway's
        // JWT mode refuses other types outright); here the one text that cannot be a real one
        // is refused too.
        let sub = jwt
            .claims
            .get("sub")
            .filter(|sub| sub.as_str() != "null")
            .ok_or_else(|| {
                ApiError::Unauthorized("the bearer token has no string `sub` claim".to_owned())
            })?;
        return Owner::from_subject(sub).map_err(|e| ApiError::Unauthorized(e.to_string()));
    }
    let secret = req
        .headers()
        .get(CLIENT_HEADER)
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "send the X-Recovery-Client header (or a bearer token where the API uses one)"
                    .to_owned(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("X-Recovery-Client must be ASCII".to_owned()))?;
    Owner::from_client_secret(secret).map_err(|e| ApiError::Unauthorized(e.to_string()))
}

/// A path parameter of the route (`{session_id}`, `{token}`), if the request has it.
pub fn path_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.path_parameters_ref().and_then(|p| p.first(name))
}

/// Parses a JSON request body strictly: the right media type, a bounded size, no unknown fields
/// (the request types deny them).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media_type.as_deref() != Some("application/json") {
        return Err(ApiError::UnsupportedMediaType(
            "the request body must be JSON sent with Content-Type: application/json".to_owned(),
        ));
    }
    let bytes = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "the request body is {} bytes; the limit is {MAX_BODY_BYTES}",
            bytes.len()
        )));
    }
    if bytes.is_empty() {
        return Err(ApiError::BadRequest(
            "the request body is empty; a JSON object is expected".to_owned(),
        ));
    }
    // The path names the offending field, which serde's own message does not always do.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        ApiError::BadRequest(format!("the request body is not valid{at}: {}", e.inner()))
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("the request body is not valid: {e}")))?;
    Ok(value)
}

/// `deserialize_with` helpers for whole numbers: JSON Schema's `integer` (what openapi.yaml
/// promises) includes `2.0`, which serde's `u64` refuses.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "only whole floats in 0..=2^53 are cast, which u64 holds exactly"
    )]
    fn from_value<E: Error>(v: &serde_json::Value) -> Result<u64, E> {
        // 2^53: above it a float no longer stands for one whole number.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        match v {
            serde_json::Value::Number(n) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|x| x.fract() == 0.0 && (0.0..=EXACT).contains(x))
                        // Whole and in range: the conversion is exact.
                        .map(|x| x as u64)
                })
                .ok_or_else(|| E::custom(format!("{n} is not a whole number from 0 to 2^64-1"))),
            other => Err(E::custom(format!(
                "invalid type: {other}, expected a whole number"
            ))),
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        from_value(&serde_json::Value::deserialize(d)?)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(None),
            v => from_value(&v).map(Some),
        }
    }
}

/// Whether the caller asked for JSON rather than a redirect.
pub fn wants_json(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        })
}

/// Runs one handler inside a span carrying the request id, turns its error into a problem
/// response and logs the outcome. The route is the template (`/audio/{token}`), never the raw
/// path, so tokens stay out of the logs.
///
/// `function` names the function in metrics (its crate name). Every function's `handle` is one
/// call of this; what the handlers still repeat is their generic signature, which the gateway
/// and `runtime::run_function` call them by.
pub async fn serve<F, Fut>(
    req: Request,
    function: &'static str,
    route: &'static str,
    handle: F,
) -> Result<Response<Body>, std::convert::Infallible>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %request_id, route);
    async move {
        let started = Instant::now();
        let outcome = tokio::time::timeout(ROUTE_DEADLINE, handle(req))
            .await
            .unwrap_or_else(|_| {
                Err(ApiError::Unavailable(StoreError::unavailable(
                    "the request's deadline passed",
                    anyhow::anyhow!("storage calls took longer than {ROUTE_DEADLINE:?}"),
                )))
            });
        let response = match outcome {
            Ok(response) => response,
            Err(err) => {
                if err.status().is_server_error() {
                    // The full cause chain goes to the log and nowhere else.
                    tracing::error!(error = %err_chain(&err), "request failed");
                } else {
                    tracing::info!(reason = %err, "request refused");
                }
                err.into_response(&request_id)
            }
        };
        let status = response.status().as_u16();
        let latency_ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::info!(status, duration_ms = latency_ms, "request done");
        crate::metrics::emit(function, status, latency_ms, &request_id);
        Ok(response)
    }
    .instrument(span)
    .await
}

/// A printable copy of an error's cause chain (the error itself is not `Clone`).
fn err_chain(err: &ApiError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
