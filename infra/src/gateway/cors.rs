//! CORS for the API, as the template's `CorsConfiguration` sets it, with this run's origins.

use std::time::Duration;

use anyhow::Context as _;
use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::template::Template;

/// The API's CORS as the template configures it, with the origins of this run; `None` when no
/// origin is allowed.
pub(super) fn layer(template: &Template, origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
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
    let methods = parse_all(&cors.allow_methods, Method::from_bytes, "a CORS method")?;
    let headers = parse_all(&cors.allow_headers, HeaderName::from_bytes, "a CORS header")?;
    let exposed = parse_all(
        &cors.expose_headers,
        HeaderName::from_bytes,
        "an exposed CORS header",
    )?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(methods)
            .allow_headers(headers)
            .expose_headers(exposed)
            .max_age(Duration::from_secs(cors.max_age)),
    ))
}

/// Each of the template's `values` as `parse` reads it, or which `what` is invalid.
fn parse_all<T, E>(
    values: &[String],
    parse: impl Fn(&[u8]) -> Result<T, E>,
    what: &str,
) -> anyhow::Result<Vec<T>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    values
        .iter()
        .map(|v| parse(v.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{what} in the template is invalid"))
}
