//! Records as stored in IndexedDB (schema v3, `schema.rs`) and the pure rules over them:
//! crash classification, retention, eviction order. The rules
//! are plain Rust so they are unit-tested natively, without a browser.

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::{js, prelude::*};

pub const DAY_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

/// What the app hands to `save` / `autosave`.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub id: String,
    pub text: String,
    pub voice_id: Option<String>,
    /// Any structured-cloneable value (the TTS parameters); stored as is.
    pub params: JsValue,
}

impl SessionInput {
    pub fn from_js(value: &JsValue) -> Result<Self, String> {
        let id = js::get_str(value, "id").ok_or("session.id must be a string")?;
        if id.is_empty() {
            return Err("session.id must not be empty".into());
        }
        let text = match js::get(value, "text") {
            t if t.is_undefined() || t.is_null() => String::new(),
            t => t.as_string().ok_or("session.text must be a string")?,
        };
        let voice_id = js::get_str(value, "voiceId");
        let params = js::get(value, "params");
        Ok(Self {
            id,
            text,
            voice_id,
            params: if params.is_undefined() {
                JsValue::NULL
            } else {
                params
            },
        })
    }
}

/// A session's metadata row (store `sessions`). Audio lives in `chunks`.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub text: String,
    pub voice_id: Option<String>,
    pub params: JsValue,
    /// The tab that last wrote the session: the key to crash detection.
    pub tab_id: String,
    pub revision: f64,
    pub completed: bool,
    /// Set when quota eviction dropped the audio: text and params remain.
    pub audio_evicted: bool,
    pub server_token: Option<String>,
    pub server_token_expires_at: Option<String>,
    /// Set on a copy kept because another tab overwrote this session.
    pub conflict_of: Option<String>,
    /// Server copy: the parts already uploaded, `[{index, mime, size, key}]`
    /// in index order (the copy document lists exactly these), or undefined.
    pub copy_parts: JsValue,
    /// Server copy: the newest revision the server acknowledged (0: none).
    pub copied_revision: f64,
}

impl SessionRecord {
    pub fn new(input: &SessionInput, tab_id: &str, now: f64) -> Self {
        Self {
            id: input.id.clone(),
            created_at: now,
            updated_at: now,
            text: input.text.clone(),
            voice_id: input.voice_id.clone(),
            params: input.params.clone(),
            tab_id: tab_id.to_owned(),
            revision: 1.0,
            completed: false,
            audio_evicted: false,
            server_token: None,
            server_token_expires_at: None,
            conflict_of: None,
            copy_parts: JsValue::UNDEFINED,
            copied_revision: 0.0,
        }
    }

    /// The next revision of `self` carrying the app's latest input.
    #[must_use]
    pub fn updated_with(&self, input: &SessionInput, tab_id: &str, now: f64) -> Self {
        Self {
            text: input.text.clone(),
            voice_id: input.voice_id.clone(),
            params: input.params.clone(),
            tab_id: tab_id.to_owned(),
            updated_at: now.max(self.updated_at),
            revision: self.revision + 1.0,
            ..self.clone()
        }
    }

    pub fn to_js(&self) -> Object {
        let o = Object::new();
        js::set_str(&o, "id", &self.id);
        js::set_f64(&o, "createdAt", self.created_at);
        js::set_f64(&o, "updatedAt", self.updated_at);
        js::set_str(&o, "text", &self.text);
        js::set_opt_str(&o, "voiceId", self.voice_id.as_deref());
        js::set(&o, "params", &self.params);
        js::set_str(&o, "tabId", &self.tab_id);
        js::set_f64(&o, "revision", self.revision);
        js::set_bool(&o, "completed", self.completed);
        js::set_bool(&o, "audioEvicted", self.audio_evicted);
        js::set_opt_str(&o, "serverToken", self.server_token.as_deref());
        js::set_opt_str(
            &o,
            "serverTokenExpiresAt",
            self.server_token_expires_at.as_deref(),
        );
        js::set_opt_str(&o, "conflictOf", self.conflict_of.as_deref());
        if self.copy_parts.is_object() {
            js::set(&o, "copyParts", &self.copy_parts);
        }
        js::set_f64(&o, "copiedRevision", self.copied_revision);
        o
    }

    pub fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            id: js::get_str(value, "id")?,
            created_at: js::get_f64(value, "createdAt").unwrap_or(0.0),
            updated_at: js::get_f64(value, "updatedAt").unwrap_or(0.0),
            text: js::get_str(value, "text").unwrap_or_default(),
            voice_id: js::get_str(value, "voiceId"),
            params: js::get(value, "params"),
            tab_id: js::get_str(value, "tabId").unwrap_or_default(),
            revision: js::get_f64(value, "revision").unwrap_or(1.0),
            completed: js::get_bool(value, "completed"),
            audio_evicted: js::get_bool(value, "audioEvicted"),
            server_token: js::get_str(value, "serverToken"),
            server_token_expires_at: js::get_str(value, "serverTokenExpiresAt"),
            conflict_of: js::get_str(value, "conflictOf"),
            copy_parts: js::get(value, "copyParts"),
            copied_revision: js::get_f64(value, "copiedRevision").unwrap_or(0.0),
        })
    }
}

/// A tab's liveness row (store `tabs`).
#[derive(Debug, Clone, PartialEq)]
pub struct TabRecord {
    pub tab_id: String,
    pub started_at: f64,
    pub heartbeat_at: f64,
    pub clean_exit: bool,
}

impl TabRecord {
    pub fn to_js(&self) -> Object {
        let o = Object::new();
        js::set_str(&o, "tabId", &self.tab_id);
        js::set_f64(&o, "startedAt", self.started_at);
        js::set_f64(&o, "heartbeatAt", self.heartbeat_at);
        js::set_bool(&o, "cleanExit", self.clean_exit);
        o
    }

    pub fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            tab_id: js::get_str(value, "tabId")?,
            started_at: js::get_f64(value, "startedAt").unwrap_or(0.0),
            heartbeat_at: js::get_f64(value, "heartbeatAt").unwrap_or(0.0),
            clean_exit: js::get_bool(value, "cleanExit"),
        })
    }
}

/// Where the tab that last wrote a session stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Written by this tab.
    Own,
    /// Another tab that is still open: not a crash.
    OtherTab,
    /// That tab closed normally (pagehide / `close()`).
    CleanExit,
    /// That tab is gone without a clean exit: offer recovery.
    Crashed,
}

impl Liveness {
    pub fn as_str(self) -> &'static str {
        match self {
            Liveness::Own => "own",
            Liveness::OtherTab => "other-tab",
            Liveness::CleanExit => "clean-exit",
            Liveness::Crashed => "crashed",
        }
    }
}

/// What the liveness check knows about the other tabs.
#[derive(Debug)]
pub struct LivenessView<'a> {
    pub own_tab: &'a str,
    /// Tab ids whose Web Lock is held right now; `None` where the browser has
    /// no Web Locks, and the heartbeat decides instead.
    pub held: Option<&'a [String]>,
    pub now: f64,
    /// A heartbeat older than this means the tab is gone (fallback only).
    pub heartbeat_timeout_ms: f64,
}

pub fn classify(session_tab: &str, tab: Option<&TabRecord>, view: &LivenessView<'_>) -> Liveness {
    if session_tab == view.own_tab {
        return Liveness::Own;
    }
    let alive = match view.held {
        Some(held) => held.iter().any(|t| t == session_tab),
        None => tab.is_some_and(|t| {
            !t.clean_exit && view.now - t.heartbeat_at < view.heartbeat_timeout_ms
        }),
    };
    if alive {
        Liveness::OtherTab
    } else if tab.is_some_and(|t| t.clean_exit) {
        Liveness::CleanExit
    } else {
        Liveness::Crashed
    }
}

pub fn is_expired(updated_at: f64, now: f64, retention_ms: f64) -> bool {
    now - updated_at > retention_ms
}

/// The session whose audio goes first when storage is full: the oldest
/// completed one, never the one being written, never one already evicted
/// (marked so, or in `done`: evicted by this caller, the mark maybe not
/// written).
pub fn oldest_evictable(
    sessions: &[SessionRecord],
    protect: &str,
    done: &[String],
) -> Option<String> {
    sessions
        .iter()
        .filter(|s| s.completed && !s.audio_evicted && s.id != protect && !done.contains(&s.id))
        .min_by(|a, b| a.updated_at.total_cmp(&b.updated_at))
        .map(|s| s.id.clone())
}

/// Unpadded base64url, the form of the client secret.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = group.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn tab(id: &str, heartbeat_at: f64, clean_exit: bool) -> TabRecord {
        TabRecord {
            tab_id: id.into(),
            started_at: 0.0,
            heartbeat_at,
            clean_exit,
        }
    }

    fn view(held: Option<&[String]>) -> LivenessView<'_> {
        LivenessView {
            own_tab: "me",
            held,
            now: 100_000.0,
            heartbeat_timeout_ms: 30_000.0,
        }
    }

    #[test]
    fn a_session_of_a_tab_without_lock_or_clean_exit_is_a_crash() {
        // GIVEN a tab that wrote a session, holds no lock and never exited cleanly
        let held = vec!["other".to_string()];
        let t = tab("gone", 99_000.0, false);
        // WHEN it is classified
        let got = classify("gone", Some(&t), &view(Some(&held)));
        // THEN it is offered for recovery
        assert_eq!(got, Liveness::Crashed);
    }

    #[test]
    fn a_session_of_a_tab_that_still_holds_its_lock_is_not_a_crash() {
        let held = vec!["alive".to_string()];
        let t = tab("alive", 0.0, false);
        assert_eq!(
            classify("alive", Some(&t), &view(Some(&held))),
            Liveness::OtherTab
        );
    }

    #[test]
    fn a_clean_exit_is_not_a_crash() {
        let held: Vec<String> = vec![];
        let t = tab("closed", 0.0, true);
        assert_eq!(
            classify("closed", Some(&t), &view(Some(&held))),
            Liveness::CleanExit
        );
    }

    #[test]
    fn without_web_locks_a_fresh_heartbeat_means_the_tab_is_alive() {
        let fresh = tab("t", 90_000.0, false);
        let stale = tab("t", 10_000.0, false);
        assert_eq!(classify("t", Some(&fresh), &view(None)), Liveness::OtherTab);
        assert_eq!(classify("t", Some(&stale), &view(None)), Liveness::Crashed);
    }

    #[test]
    fn own_sessions_are_never_offered() {
        assert_eq!(classify("me", None, &view(None)), Liveness::Own);
    }

    #[test]
    fn a_session_without_any_tab_row_is_a_crash() {
        let held: Vec<String> = vec![];
        assert_eq!(
            classify("legacy", None, &view(Some(&held))),
            Liveness::Crashed
        );
    }

    #[test]
    fn retention_removes_what_is_older_than_a_day() {
        assert!(is_expired(0.0, DAY_MS + 1.0, DAY_MS));
        assert!(!is_expired(1.0, DAY_MS, DAY_MS));
    }

    fn record(id: &str, updated_at: f64, completed: bool, evicted: bool) -> SessionRecord {
        let input = SessionInput {
            id: id.into(),
            text: String::new(),
            voice_id: None,
            params: JsValue::NULL,
        };
        let mut r = SessionRecord::new(&input, "t", updated_at);
        r.completed = completed;
        r.audio_evicted = evicted;
        r
    }

    #[test]
    fn eviction_takes_the_oldest_completed_sessions_first() {
        let sessions = vec![
            record("new-done", 300.0, true, false),
            record("old-done", 100.0, true, false),
            record("open", 50.0, false, false),
            record("already", 10.0, true, true),
            record("writing", 1.0, true, false),
        ];
        assert_eq!(
            oldest_evictable(&sessions, "writing", &[]).as_deref(),
            Some("old-done")
        );
        assert_eq!(
            oldest_evictable(&sessions, "writing", &["old-done".into()]).as_deref(),
            Some("new-done")
        );
        assert_eq!(oldest_evictable(&sessions[2..], "writing", &[]), None);
    }

    #[test]
    fn base64url_matches_rfc_4648_vectors_without_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0u8; 32]).len(), 43);
    }
}
