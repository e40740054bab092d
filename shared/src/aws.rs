//! SDK configuration shared by every function: bounded timeouts and few retries, so that a hung
//! dependency turns into a 503 well inside the Lambda timeout.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The longest one SDK operation may take, retries included. The functions' timeout in
/// template.yaml (10 s) leaves room for two sequential operations plus start-up.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);

pub async fn load_sdk_config() -> SdkConfig {
    // The SDK's default HTTPS client (hyper + rustls), on ring rather than aws-lc-rs: the same
    // TLS 1.2/1.3 suites for AWS endpoints, in a smaller bootstrap (see the workspace manifest).
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .read_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// An S3 client; emulators without wildcard DNS need path-style addressing.
pub fn s3_client(sdk: &SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
