//! The CORS preflight a browser sends before a cross-origin request, as the smoke test sends it
//! to a deployed stack and the e2e tests to the local gateway and the bucket.

/// An `OPTIONS` of `url` from a page on `origin` that is about to send `method` with
/// `request_headers` (comma-separated, as a browser lists them).
pub fn preflight(
    http: &reqwest::Client,
    url: &str,
    origin: &str,
    method: &str,
    request_headers: &str,
) -> reqwest::RequestBuilder {
    http.request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", request_headers)
}
