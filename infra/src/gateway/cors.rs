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
    let exposed = cors
        .expose_headers
        .iter()
        .map(|h| HeaderName::from_bytes(h.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("an exposed CORS header in the template is invalid")?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(methods)
            .allow_headers(headers)
            .expose_headers(exposed)
            .max_age(Duration::from_secs(cors.max_age)),
    ))
}
