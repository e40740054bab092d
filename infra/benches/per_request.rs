//! Per-request CPU cost of the two hot routes with the in-memory stores (event parsing, handler,
//! response included), of presigning one GET as the redeem route does (`S3ObjectStore`, and the
//! SDK's operation pipeline it replaced, for comparison), and — in the same run, as the floor — a
//! bare SigV4 key derivation plus signature with HMAC-SHA256.
//!
//! `cargo bench -p recovery-infra --bench per_request` (or `scripts/measure-functions.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use recovery_infra::gateway::Function;
use recovery_shared::apigw::HttpApiEvent;
use recovery_shared::memory::StoredObject;
use recovery_shared::ports::{DownloadSpec, ObjectStore};
use recovery_shared::s3::S3ObjectStore;
use recovery_shared::testing::{self, body_json};
use serde_json::json;
use sha2::{Digest, Sha256};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SigV4 from scratch: the canonical request's hash, the string to sign, the four-step key
/// derivation and the signature. What any presigner must at least do.
fn sigv4_floor(secret: &str, canonical_request: &str) -> String {
    let hashed = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n20261125T120000Z\n20261125/us-east-1/s3/aws4_request\n{hashed}");
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), b"20261125");
    let k_region = hmac(&k_date, b"us-east-1");
    let k_service = hmac(&k_region, b"s3");
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

#[allow(
    clippy::too_many_lines,
    reason = "every route's setup and measurement side by side, as the README's table lists them"
)]
fn benches(c: &mut Criterion) {
    let rt = runtime();
    let mut app = testing::app();
    // Criterion issues tokens by the hundred thousand for one owner: no daily quota in the way.
    app.config.quota.tokens = u64::MAX;
    let secret = testing::client_secret();
    let owner = recovery_shared::domain::Owner::from_client_secret(&secret)
        .unwrap()
        .hash();
    let key = format!("recovery/{}/session/{}", owner.as_str(), "o".repeat(22));
    app.objects
        .put_object(&key, StoredObject::new(vec![0; 1024], "audio/wav"));
    let issue_body =
        json!({"key": key, "ttl_seconds": 3600, "metadata": {"voice": "emma", "seed": 7}});
    let issue_event = testing::event(
        "POST",
        "/api/recovery/token",
        "/api/recovery/token",
        &secret,
    )
    .header("host", "api.example.com")
    .json(&issue_body)
    .to_json()
    .to_string();

    c.bench_function(
        "issue (event → handler → response, in-memory stores)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let req = lambda_http::request::from_str(&issue_event).unwrap();
                let response = Function::IssueToken.invoke(&app, req).await;
                assert_eq!(response.status(), 201);
            });
        },
    );

    let issued = rt.block_on(async {
        let req = lambda_http::request::from_str(&issue_event).unwrap();
        Function::IssueToken.invoke(&app, req).await
    });
    let token = body_json(&issued)["token"].as_str().unwrap().to_owned();
    let redeem_event = HttpApiEvent::new(
        "GET",
        "/api/recovery/audio/{token}",
        &format!("/api/recovery/audio/{token}"),
    )
    .path_parameter("token", &token)
    .header("accept", "application/json")
    .to_json()
    .to_string();
    c.bench_function(
        "redeem (event → handler → response, in-memory stores)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let req = lambda_http::request::from_str(&redeem_event).unwrap();
                let response = Function::RedeemToken.invoke(&app, req).await;
                assert_eq!(response.status(), 200);
            });
        },
    );

    // Presigning one GET as the redeem route does: `S3ObjectStore::presign_download`, with static
    // credentials (no network, no credential chain). Its first call resolves the endpoint; the
    // warm-up absorbs it.
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "bench");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .build(),
    );
    let store = S3ObjectStore::new(
        s3.clone(),
        "audio",
        Some(SharedCredentialsProvider::new(credentials)),
    );
    let disposition = "attachment; filename=\"take.wav\"";
    c.bench_function("presign one GET (S3ObjectStore, aws-sigv4)", |b| {
        b.to_async(&rt).iter(|| async {
            let presigned = store
                .presign_download(DownloadSpec {
                    key: &key,
                    content_disposition: disposition,
                    content_type: "audio/wav",
                    expires_in: Duration::from_secs(300),
                })
                .await
                .unwrap();
            std::hint::black_box(presigned.url.len());
        });
    });

    // For comparison: the same URL through the SDK's operation pipeline, as it was presigned
    // before shared/src/presign.rs.
    let presigning = aws_sdk_s3::presigning::PresigningConfig::builder()
        .start_time(SystemTime::now())
        .expires_in(Duration::from_secs(300))
        .build()
        .unwrap();
    c.bench_function("presign one GET (aws-sdk-s3 orchestrator)", |b| {
        b.to_async(&rt).iter(|| async {
            let presigned = s3
                .get_object()
                .bucket("audio")
                .key(&key)
                .response_content_disposition(disposition)
                .response_content_type("audio/wav")
                .response_cache_control("no-store")
                .presigned(presigning.clone())
                .await
                .unwrap();
            std::hint::black_box(presigned.uri().len());
        });
    });

    let canonical = format!(
        "GET\n/audio/{key}\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261125T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&response-content-disposition=attachment\nhost:audio.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    );
    c.bench_function(
        "floor: bare SigV4 key derivation + signature (HMAC-SHA256)",
        |b| {
            b.iter(|| {
                std::hint::black_box(sigv4_floor(std::hint::black_box("secret"), &canonical))
            });
        },
    );
}

criterion_group! {
    name = per_request;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(per_request);
