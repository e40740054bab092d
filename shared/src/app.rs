//! What a handler is given: configuration, the two stores and a clock, built once per cold start.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::Context as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::aws::{load_sdk_config, s3_client};
use crate::config::Config;
use crate::domain::Counter;
use crate::dynamodb::DynamoTokenStore;
#[cfg(any(test, feature = "test-util"))]
use crate::memory::{MemoryObjectStore, MemoryTokenStore};
use crate::ports::TokenStore;
use crate::s3::S3ObjectStore;

#[derive(Debug)]
pub struct App<T, O> {
    pub config: Config,
    pub tokens: T,
    pub objects: O,
    pub clock: Clock,
}

/// The production wiring.
pub type AwsApp = App<DynamoTokenStore, S3ObjectStore>;
/// The unit-test wiring (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
pub type MemoryApp = App<MemoryTokenStore, MemoryObjectStore>;

impl AwsApp {
    /// Reads the configuration from the environment and builds the SDK clients.
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        Ok(Self::with_config(config).await)
    }

    pub async fn with_config(config: Config) -> Self {
        let sdk = load_sdk_config().await;
        let tokens = DynamoTokenStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.table_name.clone(),
        )
        .with_counter_timeout(std::time::Duration::from_millis(config.counter_timeout_ms));
        let objects = S3ObjectStore::new(
            s3_client(&sdk, config.s3_force_path_style),
            config.bucket_name.clone(),
            sdk.credentials_provider(),
        );
        Self {
            config,
            tokens,
            objects,
            clock: Clock::System,
        }
    }
}

impl<T: TokenStore, O> App<T, O> {
    /// Counts one event, best effort: the request is not refused because a counter could not be
    /// written (the store keeps the count for its next write; see `dynamodb/counters.rs`).
    pub async fn count(&self, counter: Counter) {
        if let Err(e) = self.tokens.increment(counter).await {
            tracing::warn!(error = %e, counter = counter.name(), "counting failed");
        }
    }
}

#[cfg(any(test, feature = "test-util"))]
impl MemoryApp {
    pub fn in_memory(config: Config, clock: Clock) -> Self {
        Self {
            config,
            tokens: MemoryTokenStore::default(),
            objects: MemoryObjectStore::default(),
            clock,
        }
    }
}

/// Wall-clock time in epoch seconds, or a fixed time a test moves by hand.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    pub fn fixed(at: i64) -> Self {
        Self::Fixed(Arc::new(AtomicI64::new(at)))
    }

    pub fn now(&self) -> i64 {
        match self {
            Self::System => OffsetDateTime::now_utc().unix_timestamp(),
            Self::Fixed(t) => t.load(Ordering::SeqCst),
        }
    }

    pub fn advance(&self, seconds: i64) {
        if let Self::Fixed(t) = self {
            t.fetch_add(seconds, Ordering::SeqCst);
        }
    }
}

/// Epoch seconds as an RFC 3339 UTC timestamp, the form every `*_at` field of the API uses.
pub fn rfc3339(epoch_seconds: i64) -> anyhow::Result<String> {
    OffsetDateTime::from_unix_timestamp(epoch_seconds)
        .context("timestamp out of range")?
        .format(&Rfc3339)
        .context("formatting a timestamp")
}

/// Epoch milliseconds as an RFC 3339 UTC timestamp (with a fraction when there is one).
pub fn rfc3339_millis(epoch_millis: i64) -> anyhow::Result<String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_millis) * 1_000_000)
        .context("timestamp out of range")?
        .format(&Rfc3339)
        .context("formatting a timestamp")
}
