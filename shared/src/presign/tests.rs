//! The presigner checked against the SDK's own presigning (same method, headers and URL parts), and its edge cases.
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
        urls[0]
            .contains("response-content-disposition=attachment%3B%20filename%3D%22take%201.wav%22"),
        "{}",
        urls[0]
    );
    assert!(
        urls[2].contains("/recovery/a%20b/na%C3%AFve%2Btake%3D1%3B%282%29%21%2A%27/~x_y-z.wav?"),
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
