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
