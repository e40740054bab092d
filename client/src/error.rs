//! Errors of the client core. The wasm layer turns each into a `JsError` whose
//! message is the `Display` text, so messages are written for app developers.

use wasm_bindgen::JsValue;

use crate::{
    js,
    prelude::*,
    text::{concat, u64_str},
};

#[derive(Debug)]
pub enum ClientError {
    /// The browser refused a write because the origin's storage is full.
    Quota,
    IndexedDbUnavailable,
    IndexedDb(String),
    Blocked,
    NotFound(String),
    Invalid(String),
    NoServer,
    NoToken(String),
    Http {
        status: u16,
        title: String,
    },
    Network(String),
    /// The server (or object storage) answered something unusable: missing
    /// fields, or sizes and counts past what the client accepts.
    BadAnswer(String),
    Closed,
}

impl ClientError {
    /// The message for app developers (also the `Display` text). Built by
    /// hand: `core::fmt` would cost the wasm kilobytes.
    pub fn message(&self) -> String {
        match self {
            ClientError::Quota => "storage quota exceeded".into(),
            ClientError::IndexedDbUnavailable => {
                "IndexedDB is not available in this context".into()
            }
            ClientError::IndexedDb(e) => concat(&["IndexedDB error: ", e]),
            ClientError::Blocked => {
                "the database is open in another tab with an older version; close it and retry"
                    .into()
            }
            ClientError::NotFound(id) => concat(&["no session with id \"", id, "\""]),
            ClientError::Invalid(e) => concat(&["invalid argument: ", e]),
            ClientError::NoServer => {
                "no recovery server configured (pass apiBaseUrl when opening the store)".into()
            }
            ClientError::NoToken(id) => {
                concat(&["session \"", id, "\" has no server backup token"])
            }
            ClientError::Http { status, title } => concat(&[
                "recovery server: ",
                &u64_str(u64::from(*status)),
                " ",
                title,
            ]),
            ClientError::Network(e) => concat(&["network error: ", e]),
            ClientError::BadAnswer(e) => concat(&["unusable answer from the recovery server: ", e]),
            ClientError::Closed => "the store is closed".into(),
        }
    }
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for ClientError {}

pub type Result<T, E = ClientError> = core::result::Result<T, E>;

impl ClientError {
    /// Classifies an IndexedDB failure: a `DOMException` named
    /// `QuotaExceededError` (on the request, or on the transaction when the
    /// commit itself hits the quota) becomes [`ClientError::Quota`].
    pub(crate) fn from_idb(value: &JsValue) -> Self {
        let value = unwrap_event_error(value);
        if js::get_str(&value, "name").as_deref() == Some("QuotaExceededError") {
            ClientError::Quota
        } else {
            ClientError::IndexedDb(js::describe(&value))
        }
    }

    /// [`ClientError::from_idb`] for tests: real quota errors cannot be
    /// provoked on demand in a test browser.
    #[cfg(feature = "test-hooks")]
    pub fn from_idb_for_tests(value: &JsValue) -> Self {
        Self::from_idb(value)
    }

    pub(crate) fn network(value: &JsValue) -> Self {
        ClientError::Network(js::describe(value))
    }

    /// A `fetch` of the API at `url` that rejected with `value`. A
    /// `TypeError` means no response at all: the server is down, or — the
    /// usual case for an app on another origin — the browser withheld the
    /// answer because the API's CORS does not allow this page's origin. The
    /// browser does not say which, so the message names both.
    pub(crate) fn api_unreachable(url: &str, value: &JsValue) -> Self {
        let cause = js::describe(value);
        let cross = cross_origin(url);
        match cross {
            Some((api, page)) if js::get_str(value, "name").as_deref() == Some("TypeError") => {
                ClientError::Network(concat(&[
                    "the API at ",
                    &api,
                    " did not answer (",
                    &cause,
                    "); if it runs, its CORS settings may not allow this page's origin (",
                    &page,
                    "): add it to ALLOWED_ORIGINS",
                ]))
            }
            _ => ClientError::Network(cause),
        }
    }

    /// An `XMLHttpRequest` to presigned object storage that ended with no
    /// status (status 0): refused by the network, or by the browser because
    /// the bucket's CORS does not allow this page's origin.
    pub(crate) fn storage_unreachable(method: &str, url: &str) -> Self {
        match cross_origin(url) {
            Some((storage, page)) => ClientError::Network(concat(&[
                method,
                " to object storage at ",
                &storage,
                " failed: object storage refused or could not be reached; if it runs, check \
                 the bucket's CORS allows this page's origin (",
                &page,
                ")",
            ])),
            None => ClientError::Network(concat(&[method, " to object storage failed"])),
        }
    }

    pub fn is_quota(&self) -> bool {
        matches!(self, ClientError::Quota)
    }
}

/// The origin (`scheme://host[:port]`) of an absolute URL, lowercased;
/// `None` for a relative one (same origin as the page).
fn origin_of(url: &str) -> Option<String> {
    // Bytes and `get`, not `str::find` and indexing: their panics would
    // pull the panic-message formatters into the wasm
    // (scripts/stub-panic-fmt.mjs refuses the build).
    let bytes = url.as_bytes();
    let start = bytes.windows(3).position(|w| w == b"://")? + 3;
    let rest = bytes.get(start..)?;
    let end = start
        + rest
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
    Some(url.get(..end)?.to_ascii_lowercase())
}

/// `(origin of url, origin of this page)` when they differ: only then can
/// CORS be what stopped a request.
fn cross_origin(url: &str) -> Option<(String, String)> {
    let target = origin_of(url)?;
    let page = js::get_str(&js::get(&js::global(), "location"), "origin")?;
    (target != page.to_ascii_lowercase()).then_some((target, page))
}

/// IndexedDB rejects with an `Event` whose target holds the error; dig it out so
/// the message names the real cause.
fn unwrap_event_error(value: &JsValue) -> JsValue {
    let target = js::get(value, "target");
    if target.is_object() {
        let error = js::get(&target, "error");
        if error.is_object() {
            return error;
        }
    }
    value.clone()
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn an_absolute_url_has_its_scheme_host_and_port_as_origin() {
        assert_eq!(
            origin_of("http://127.0.0.1:3000/api/recovery/uploads").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            origin_of("https://Bucket.S3.example.com?X-Amz-Signature=1").as_deref(),
            Some("https://bucket.s3.example.com")
        );
        assert_eq!(
            origin_of("http://localhost:4566").as_deref(),
            Some("http://localhost:4566")
        );
    }

    #[test]
    fn a_relative_url_has_no_origin_of_its_own() {
        assert_eq!(origin_of("/api/recovery/uploads"), None);
    }
}
