//! Building answers: every response of this API, success or problem, carries the same cache and
//! referrer headers. Below both the handlers' HTTP layer (`http.rs`) and the problems
//! (`problem.rs`), and depending on neither.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// A response that no cache keeps and that leaks no referrer: every answer of this API either
/// carries a capability (token, presigned URL) or is about one.
pub fn response(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response<Body> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A JSON answer. Serialising the API's own response types does not fail; were it ever to, the
/// handler answers with its unexpected-error problem.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> anyhow::Result<Response<Body>> {
    let text = serde_json::to_string(body)?;
    Ok(response(status, "application/json", text))
}

pub fn no_content() -> Response<Body> {
    let mut r = response(StatusCode::NO_CONTENT, "application/json", Body::Empty);
    r.headers_mut().remove(header::CONTENT_TYPE);
    r
}
