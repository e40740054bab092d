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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    use aws_sdk_s3::config::{BehaviorVersion, Region};
    use aws_sdk_s3::presigning::PresigningConfig;

    const BUCKET: &str = "chatterbox-audio";
    const KEYS: &[&str] = &[
        "recovery/9f86d081884c7d659a2feaa0c55ad015/s3ss10n/Zm9vYmFyYmF6cXV4.wav",
        // Not a key the service makes; encoded as the SDK would all the same.
        "recovery/a b/naïve+take=1;(2)!*'/~x_y-z.wav",
    ];
    const DISPOSITION: &str = "attachment; filename=\"take 1.wav\"; filename*=UTF-8''take%201.wav";

    /// 2026-11-25T12:00:00Z
    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_608_000)
    }

    fn credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn client(
        region: &str,
        credentials: &Credentials,
        tweak: impl FnOnce(aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder,
    ) -> Client {
        let builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials.clone());
        Client::from_conf(tweak(builder).build())
    }

    fn overrides() -> ResponseOverrides<'static> {
        ResponseOverrides {
            cache_control: Some("no-store"),
            content_disposition: Some(DISPOSITION),
            content_type: Some("audio/wav"),
        }
    }

    async fn sdk_url(client: &Client, key: &str, expires_in: Duration) -> PresignedRequest {
        let presigned = client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .response_cache_control("no-store")
            .response_content_disposition(DISPOSITION)
            .response_content_type("audio/wav")
            .presigned(
                PresigningConfig::builder()
                    .start_time(at())
                    .expires_in(expires_in)
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        crate::s3::to_port(&presigned)
    }

    /// Scheme, host, port, path and the multiset of decoded query parameters.
    fn parts(url: &str) -> (String, String, Option<u16>, String, Vec<(String, String)>) {
        let url = url::Url::parse(url).unwrap();
        let mut query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        query.sort();
        (
            url.scheme().to_owned(),
            url.host_str().unwrap().to_owned(),
            url.port(),
            url.path().to_owned(),
            query,
        )
    }

    fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Presigns every key with and without a session token on the client `tweak` configures,
    /// both ways, and returns the presigner's URLs after checking each against the SDK's.
    async fn assert_same_as_sdk(
        region: &str,
        tweak: impl Fn(aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder,
    ) -> Vec<String> {
        let mut urls = Vec::new();
        for token in [None, Some("FQoGZXIvYXdzEBYaDExample//session+token=")] {
            let credentials = credentials(token);
            let client = client(region, &credentials, &tweak);
            let presigner = GetPresigner::for_client(&client, BUCKET).await.unwrap();
            for key in KEYS {
                for expires_in in [Duration::from_secs(300), Duration::from_secs(3599)] {
                    let ours = presigner
                        .presign_get(key, &overrides(), expires_in, at(), &credentials)
                        .unwrap();
                    let sdk = sdk_url(&client, key, expires_in).await;
                    assert_eq!(ours.method, sdk.method);
                    assert_eq!(ours.headers, sdk.headers, "{}", sdk.url);
                    let (ours_parts, sdk_parts) = (parts(&ours.url), parts(&sdk.url));
                    assert_eq!(
                        ours_parts, sdk_parts,
                        "\nours: {}\nsdk:  {}",
                        ours.url, sdk.url
                    );
                    // What the equality above rests on: the same signature over the same scope.
                    let query = &ours_parts.4;
                    assert_eq!(
                        param(query, "X-Amz-Signature").map(str::len),
                        Some(64),
                        "{}",
                        ours.url
                    );
                    assert_eq!(param(query, "X-Amz-Security-Token"), token);
                    assert_eq!(
                        param(query, "X-Amz-Expires"),
                        Some(expires_in.as_secs().to_string().as_str())
                    );
                    assert_eq!(param(query, "x-id"), Some("GetObject"));
                    assert_eq!(
                        param(query, "response-content-disposition"),
                        Some(DISPOSITION)
                    );
                    urls.push(ours.url);
                }
            }
        }
        urls
    }

    #[tokio::test]
    async fn virtual_hosted_urls_match_the_sdks_signature_and_all() {
        let urls = assert_same_as_sdk("eu-west-1", |b| b).await;
        assert!(
            urls[0].starts_with(
                "https://chatterbox-audio.s3.eu-west-1.amazonaws.com/recovery/9f86d081884c7d659a2feaa0c55ad015/"
            ),
            "{}",
            urls[0]
        );
        // Query values are percent-encoded (`%20`, not `+`); so is everything but `/` in the key.
        assert!(
            urls[0].contains(
                "response-content-disposition=attachment%3B%20filename%3D%22take%201.wav%22"
            ),
            "{}",
            urls[0]
        );
        assert!(
            urls[2]
                .contains("/recovery/a%20b/na%C3%AFve%2Btake%3D1%3B%282%29%21%2A%27/~x_y-z.wav?"),
            "{}",
            urls[2]
        );
    }

    #[tokio::test]
    async fn path_style_urls_on_a_custom_endpoint_match_the_sdks() {
        let urls = assert_same_as_sdk("us-east-1", |b| {
            b.force_path_style(true)
                .endpoint_url("http://127.0.0.1:4566")
        })
        .await;
        assert!(
            urls[0].starts_with("http://127.0.0.1:4566/chatterbox-audio/recovery/"),
            "{}",
            urls[0]
        );
    }

    #[tokio::test]
    async fn other_endpoint_shapes_match_the_sdks() {
        // A custom endpoint with a path, virtual-hosted.
        let urls = assert_same_as_sdk("us-east-1", |b| {
            b.endpoint_url("http://localhost:4566/base/")
        })
        .await;
        assert!(
            urls[0].starts_with("http://chatterbox-audio.localhost:4566/base/recovery/"),
            "{}",
            urls[0]
        );
        // Path style on AWS, FIPS, dual-stack.
        assert_same_as_sdk("us-west-2", |b| b.force_path_style(true)).await;
        assert_same_as_sdk("us-gov-west-1", |b| b.use_fips(true)).await;
        assert_same_as_sdk("ap-southeast-2", |b| b.use_dual_stack(true)).await;
    }

    #[tokio::test]
    async fn a_different_request_gets_a_different_signature() {
        // The equivalence tests compare signatures; this shows a signature does depend on what
        // the tests vary, so equal signatures mean equal canonical requests.
        let credentials = credentials(None);
        let client = client("eu-west-1", &credentials, |b| b);
        let presigner = GetPresigner::for_client(&client, BUCKET).await.unwrap();
        let signature = |key: &str, overrides: &ResponseOverrides<'_>, at: SystemTime| {
            let url = presigner
                .presign_get(key, overrides, Duration::from_secs(300), at, &credentials)
                .unwrap()
                .url;
            param(&parts(&url).4, "X-Amz-Signature").unwrap().to_owned()
        };
        let base = signature(KEYS[0], &overrides(), at());
        assert_ne!(base, signature(KEYS[1], &overrides(), at()));
        let other_type = ResponseOverrides {
            content_type: Some("audio/mpeg"),
            ..overrides()
        };
        assert_ne!(base, signature(KEYS[0], &other_type, at()));
        assert_ne!(
            base,
            signature(KEYS[0], &overrides(), at() + Duration::from_secs(1))
        );
    }

    #[tokio::test]
    async fn empty_keys_and_lifetimes_over_a_week_are_refused() {
        let credentials = credentials(None);
        let client = client("eu-west-1", &credentials, |b| b);
        let presigner = GetPresigner::for_client(&client, BUCKET).await.unwrap();
        let presign = |key: &str, expires_in: Duration| {
            presigner.presign_get(key, &overrides(), expires_in, at(), &credentials)
        };
        assert!(presign("", Duration::from_secs(300)).is_err());
        assert!(presign(KEYS[0], MAX_EXPIRES_IN).is_ok());
        assert!(presign(KEYS[0], MAX_EXPIRES_IN + Duration::from_secs(1)).is_err());
    }

    #[tokio::test]
    async fn the_endpoint_is_resolved_without_credentials_or_network() {
        // No credentials provider and no HTTP client: building the presigner needs neither.
        let client = Client::from_conf(
            aws_sdk_s3::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("eu-west-1"))
                .build(),
        );
        let presigner = GetPresigner::for_client(&client, BUCKET).await.unwrap();
        assert_eq!(
            presigner.base,
            "https://chatterbox-audio.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(presigner.signing_region, "eu-west-1");
        assert_eq!(presigner.signing_name, "s3");
    }
}
