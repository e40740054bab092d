//! Helpers for the handlers' unit tests (feature `test-util`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use lambda_http::{Body, Response};

use crate::apigw::HttpApiEvent;
use crate::domain::{Metadata, OwnerHash, Token, TokenRecord};
use crate::{Clock, Config, MemoryApp};

/// A fixed moment for tests: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;

pub fn config() -> Config {
    config_with(&[])
}

/// The test configuration with some variables added or replaced.
pub fn config_with(extra: &[(&str, &str)]) -> Config {
    let mut vars = HashMap::from([
        ("TABLE_NAME".to_owned(), "tokens".to_owned()),
        ("BUCKET_NAME".to_owned(), "audio".to_owned()),
        ("MAX_AUDIO_BYTES".to_owned(), "1000000".to_owned()),
    ]);
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_vars(&vars).expect("test configuration is valid")
}

pub fn app() -> MemoryApp {
    MemoryApp::in_memory(config(), Clock::fixed(NOW))
}

/// The test app with some configuration variables added or replaced.
pub fn app_with(extra: &[(&str, &str)]) -> MemoryApp {
    MemoryApp::in_memory(config_with(extra), Clock::fixed(NOW))
}

/// A fresh 128-bit client secret, made the way the browser client makes it.
pub fn client_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An event for `route` with the client secret set.
pub fn event(method: &str, route: &str, path: &str, secret: &str) -> HttpApiEvent {
    HttpApiEvent::new(method, route, path).header(crate::http::CLIENT_HEADER, secret)
}

pub fn body_json(response: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).expect("the body is JSON")
}

/// Asserts that `response` is a problem document with `status`, and returns it.
pub fn assert_problem(response: &Response<Body>, status: u16) -> serde_json::Value {
    assert_eq!(
        response.status(),
        status,
        "body: {:?}",
        String::from_utf8_lossy(response.body().as_ref())
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem = body_json(response);
    assert_eq!(problem["status"], status);
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
    problem
}

/// A token record good for a minute from [`NOW`]: 4 bytes of `audio/wav` under `audio_key`, with
/// no filename, metadata or session document. A test changes the fields it is about with
/// `TokenRecord { field, ..token_record(..) }`.
pub fn token_record(
    token: &Token,
    audio_key: &str,
    owner_hash: OwnerHash,
    session_id: &str,
) -> TokenRecord {
    TokenRecord {
        token_hash: token.hash(),
        audio_key: audio_key.into(),
        owner_hash,
        session_id: session_id.into(),
        created_at: NOW,
        expires_at: NOW + 60,
        content_type: "audio/wav".into(),
        size_bytes: 4,
        filename: None,
        metadata: Metadata::new(),
        session: None,
        purged_at: None,
    }
}
