//! Presigned S3 GETs signed with the SDK's own signer, without the SDK's operation pipeline.
//!
//! `client.get_object()….presigned(…)` runs the whole orchestrator for every URL: runtime plugins
//! and config layers, a dozen interceptors, the endpoint rules, the identity cache. On the redeem
//! route that was 20–30 µs for what is a ~2 µs SigV4 signature. All of it but the signature is
//! the same on every call for one client and bucket, so [`GetPresigner`] resolves it once — the
//! endpoint parameters the SDK builds for GetObject, fed to the client's own endpoint resolver —
//! and each URL is then `aws-sigv4` (the SDK's signer) with the settings the SDK uses to presign
//! GetObject. The unit tests below hold it to the SDK's URL, signature included.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::endpoint::{Endpoint, Params, SharedEndpointResolver};
use aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningParams, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::{EndpointResolverParams, ResolveEndpoint};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::Document;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::ports::{PresignedRequest, StoreError, StoreResult};

/// The longest lifetime SigV4 allows a presigned URL (the SDK's `PresigningConfig` refuses more).
pub const MAX_EXPIRES_IN: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// RFC 3986 unreserved characters stay, everything else is percent-encoded (`%20`, never `+`):
/// the SDK's set for S3 query values.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The key is a greedy label (`/{Key+}`): its slashes are path separators and stay.
const KEY_SAFE: &AsciiSet = &UNRESERVED.remove(b'/');

/// Stands in for the key while the endpoint is resolved. S3's endpoint rules take `Key` as a
/// parameter but no rule reads it, so one endpoint serves every key of the bucket.
const PLACEHOLDER_KEY: &str = "endpoint-probe";

/// The `response-*` query parameters: headers S3 puts on the GET's response in place of the
/// object's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseOverrides<'a> {
    pub cache_control: Option<&'a str>,
    pub content_disposition: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

/// Presigns GetObject URLs for one bucket, as the SDK would with the client it was built from.
#[derive(Debug, Clone)]
pub struct GetPresigner {
    /// The resolved endpoint, `scheme://authority[/path]` without a trailing `/`: the bucket is in
    /// the host (virtual-hosted style) or in the path (path style). The key follows a `/`.
    base: String,
    signing_region: String,
    signing_name: String,
}

impl GetPresigner {
    /// Resolves the endpoint GetObject on `bucket` gets with `client`: the endpoint parameters
    /// come from the SDK itself (region, endpoint URL, path style, FIPS, dual-stack, accelerate…,
    /// most of which the client's `Config` does not expose), and the client's endpoint resolver
    /// turns them into the URL and signing scope. No request is signed or sent.
    pub async fn for_client(client: &Client, bucket: &str) -> StoreResult<Self> {
        let (params, resolver) = get_object_endpoint_params(client, bucket).await?;
        let endpoint = resolver
            .resolve_endpoint(&EndpointResolverParams::new(params))
            .await
            .map_err(|e| {
                StoreError::unavailable("resolving the S3 endpoint failed", anyhow::anyhow!(e))
            })?;
        Self::from_endpoint(&endpoint)
    }

    /// From an endpoint the S3 endpoint rules resolved: its URL, and the signing name and region
    /// of its first auth scheme. Only plain SigV4 is supported: SigV4a (multi-region access
    /// points) and S3 Express sessions are refused here rather than signed wrongly later.
    pub fn from_endpoint(endpoint: &Endpoint) -> StoreResult<Self> {
        if endpoint.headers().next().is_some() {
            return Err(setup_error(
                "the S3 endpoint requires headers a URL cannot carry",
            ));
        }
        let uri: http::Uri = endpoint
            .url()
            .parse()
            .map_err(|e| StoreError::unavailable("the S3 endpoint is not a URL", e))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(setup_error("the S3 endpoint has no scheme or host"));
        };
        // The SDK joins the endpoint's path and the request's `/{Key+}` with exactly one `/`.
        let path = uri.path();
        let path = path.strip_suffix('/').unwrap_or(path);
        let base = format!("{scheme}://{authority}{path}");

        let text = |value: Option<&Document>| match value {
            Some(Document::String(value)) => Some(value.clone()),
            _ => None,
        };
        // S3's rules give typed auth schemes; a custom resolver may give the older property.
        let (scheme, signing_name, signing_region) = match endpoint.auth_schemes().first() {
            Some(scheme) => (
                Some(scheme.name().to_owned()),
                text(scheme.get("signingName")),
                text(scheme.get("signingRegion")),
            ),
            None => match endpoint.properties().get("authSchemes") {
                Some(Document::Array(schemes)) => match schemes.first() {
                    Some(Document::Object(scheme)) => (
                        text(scheme.get("name")),
                        text(scheme.get("signingName")),
                        text(scheme.get("signingRegion")),
                    ),
                    _ => (None, None, None),
                },
                _ => (None, None, None),
            },
        };
        if scheme.as_deref() != Some("sigv4") {
            return Err(setup_error(
                "the S3 endpoint does not name SigV4 as its auth scheme",
            ));
        }
        let (Some(signing_name), Some(signing_region)) = (signing_name, signing_region) else {
            return Err(setup_error(
                "the S3 endpoint's SigV4 scheme has no name or region",
            ));
        };
        Ok(Self {
            base,
            signing_region,
            signing_name,
        })
    }

    /// A presigned GET of `key`, valid for `expires_in` from `now`, with `x-id=GetObject` and the
    /// given response overrides as query parameters, in the SDK's order and encoding.
    pub fn presign_get(
        &self,
        key: &str,
        overrides: &ResponseOverrides<'_>,
        expires_in: Duration,
        now: SystemTime,
        credentials: &Credentials,
    ) -> StoreResult<PresignedRequest> {
        if key.is_empty() {
            return Err(presign_error("an empty key cannot be presigned"));
        }
        if expires_in > MAX_EXPIRES_IN {
            return Err(presign_error(
                "a presigned URL cannot live longer than a week",
            ));
        }
        let mut url = String::with_capacity(self.base.len() + 3 * key.len() + 256);
        url.push_str(&self.base);
        url.push('/');
        url.extend(utf8_percent_encode(key, KEY_SAFE));
        url.push_str("?x-id=GetObject");
        for (name, value) in [
            ("response-cache-control", overrides.cache_control),
            (
                "response-content-disposition",
                overrides.content_disposition,
            ),
            ("response-content-type", overrides.content_type),
        ] {
            if let Some(value) = value {
                url.push('&');
                url.push_str(name);
                url.push('=');
                url.extend(utf8_percent_encode(value, UNRESERVED));
            }
        }

        let identity = Identity::from(credentials.clone());
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.signing_region)
            .name(&self.signing_name)
            .time(now)
            .settings(signing_settings(expires_in))
            .build()
            .map_err(|e| StoreError::unavailable("presigning GetObject failed", e))?;
        let signable = SignableRequest::new(
            "GET",
            url.as_str(),
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| StoreError::unavailable("presigning GetObject failed", e))?;
        let (instructions, _signature) = sign(signable, &SigningParams::V4(params))
            .map_err(|e| StoreError::unavailable("presigning GetObject failed", e))?
            .into_parts();
        let mut request = http::Request::get(url)
            .body(())
            .map_err(|e| StoreError::unavailable("presigning GetObject failed", e))?;
        instructions.apply_to_request_http1x(&mut request);

        Ok(PresignedRequest {
            method: "GET".to_owned(),
            url: request.uri().to_string(),
            // None when signing in the query; kept for parity with the SDK's presigned request.
            headers: request
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
        })
    }
}

/// What the SDK sets for a presigned GetObject (`aws-runtime`'s SigV4 signer with GetObject's
/// signing options and the presigning interceptor's changes).
fn signing_settings(expires_in: Duration) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    // S3 signs the path as sent: encoded once, and not normalized (`a/./b` and `a//b` are keys).
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    // GetObject asks for `x-amz-content-sha256`, but the signer adds it only to header-signed
    // requests: a presigned URL's canonical request ends in UNSIGNED-PAYLOAD and signs `host` alone.
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    // S3 checks a temporary credential's session token as part of the signature.
    settings.session_token_mode = SessionTokenMode::Include;
    settings
}

/// Starts a GetObject on `client` and stops it before serialization, keeping the endpoint
/// parameters the SDK built for it and the resolver it would give them to (the client's own, or
/// S3's default rules; `Config::endpoint_resolver` panics for the latter): nothing is signed or
/// sent, and no credentials are loaded.
async fn get_object_endpoint_params(
    client: &Client,
    bucket: &str,
) -> StoreResult<(Params, SharedEndpointResolver)> {
    let captured = Arc::new(OnceLock::new());
    // Fails by design: the interceptor stops the operation once it has the parameters.
    let stopped = client
        .get_object()
        .bucket(bucket)
        .key(PLACEHOLDER_KEY)
        .customize()
        .interceptor(CaptureEndpointParams(Arc::clone(&captured)))
        .send()
        .await;
    match (captured.get(), stopped) {
        (Some((params, resolver)), _) => Ok((params.clone(), resolver.clone())),
        (None, Err(e)) => Err(StoreError::unavailable(
            "building the S3 endpoint parameters failed",
            e,
        )),
        (None, Ok(_)) => Err(setup_error("the SDK built no S3 endpoint parameters")),
    }
}

/// Keeps the endpoint parameters GetObject stored in the config bag and the operation's endpoint
/// resolver, then stops the operation.
#[derive(Debug)]
struct CaptureEndpointParams(Arc<OnceLock<(Params, SharedEndpointResolver)>>);

impl Intercept for CaptureEndpointParams {
    fn name(&self) -> &'static str {
        "CaptureEndpointParams"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(params) = cfg
            .load::<EndpointResolverParams>()
            .and_then(|params| params.get::<Params>())
        {
            // A second call cannot happen (one operation); if it did, the first value stands.
            let _ = self
                .0
                .set((params.clone(), runtime_components.endpoint_resolver()));
        }
        Err("stopped after capturing the endpoint parameters".into())
    }
}

fn setup_error(message: &'static str) -> StoreError {
    StoreError::unavailable("resolving the S3 endpoint failed", anyhow::anyhow!(message))
}

fn presign_error(message: &'static str) -> StoreError {
    StoreError::unavailable("presigning GetObject failed", anyhow::anyhow!(message))
}

#[cfg(test)]
mod tests;
