//! Chatterbox Recovery's shared library: the domain, the storage ports and their AWS adapters and
//! in-memory fakes, configuration, and the mapping of errors to HTTP problem responses. Every
//! function crate is a thin handler on top of this.

pub mod apigw;
pub mod app;
pub mod aws;
pub mod config;
pub mod copies;
pub mod domain;
pub mod download;
pub mod dynamodb;
pub mod http;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod metadata;
pub mod metrics;
pub mod ports;
pub mod presign;
pub mod problem;
pub mod quota;
pub mod response;
pub mod runtime;
pub mod s3;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

#[cfg(any(test, feature = "test-util"))]
pub use app::MemoryApp;
pub use app::{App, AwsApp, Clock};
pub use config::Config;
pub use problem::ApiError;

/// The version reported by the health route.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
