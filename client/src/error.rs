//! Errors of the client core. The wasm layer turns each into a `JsError` whose
//! message is the `Display` text, so messages are written for app developers.

use wasm_bindgen::JsValue;

use crate::js;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The browser refused a write because the origin's storage is full.
    #[error("storage quota exceeded")]
    Quota,
    #[error("IndexedDB is not available in this context")]
    IndexedDbUnavailable,
    #[error("IndexedDB error: {0}")]
    IndexedDb(String),
    #[error("the database is open in another tab with an older version; close it and retry")]
    Blocked,
    #[error("no session with id \"{0}\"")]
    NotFound(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("no recovery server configured (pass apiBaseUrl when opening the store)")]
    NoServer,
    #[error("session \"{0}\" has no server backup token")]
    NoToken(String),
    #[error("recovery server: {status} {title}")]
    Http { status: u16, title: String },
    #[error("network error: {0}")]
    Network(String),
    #[error("the store is closed")]
    Closed,
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

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
    #[doc(hidden)]
    pub fn from_idb_for_tests(value: &JsValue) -> Self {
        Self::from_idb(value)
    }

    pub(crate) fn network(value: &JsValue) -> Self {
        ClientError::Network(js::describe(value))
    }

    pub fn is_quota(&self) -> bool {
        matches!(self, ClientError::Quota)
    }
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
