//! Conversions between the JS objects of the API and the core's types.

use alloc::rc::Rc;

use js_sys::{Array, Function, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::{
    error::ClientError,
    js,
    server::{self, Progress},
    store::{OpenOptions, Restored, SessionSummary, StatusEvent, WriteOutcome},
};

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a JS number: `as` saturates and turns NaN into 0, the clamp wanted here"
)]
pub(crate) fn open_options(value: &JsValue) -> OpenOptions {
    let mut o = OpenOptions::default();
    if let Some(v) = js::get_str(value, "dbName") {
        o.db_name = v;
    }
    if let Some(v) = js::get_str(value, "tabId") {
        o.tab_id = Some(v);
    }
    if let Some(v) = js::get_f64(value, "saveDelayMs") {
        o.save_delay_ms = v.max(0.0) as u32;
    }
    if let Some(v) = js::get_f64(value, "heartbeatMs") {
        o.heartbeat_ms = v.max(1.0) as u32;
    }
    if let Some(v) = js::get_f64(value, "retentionMs") {
        o.retention_ms = v;
    }
    o.api_base_url = js::get_str(value, "apiBaseUrl");
    o.authorization = js::get(value, "authorization").dyn_into::<Function>().ok();
    if let Some(v) = js::get(value, "listenPageEvents").as_bool() {
        o.listen_page_events = v;
    }
    o.server_copy = js::get_bool(value, "serverCopy");
    o
}

pub(crate) fn summary_to_js(s: &SessionSummary) -> Object {
    let o = s.record.to_js();
    js::set_str(&o, "state", s.state.as_str());
    js::set_f64(&o, "chunkCount", f64::from(s.chunk_count));
    o
}

pub(crate) fn restored_to_js(r: &Restored) -> Object {
    let o = r.record.to_js();
    let chunks: Array = r
        .chunks
        .iter()
        .map(|c| {
            let chunk = Object::new();
            js::set_f64(&chunk, "index", c.index);
            js::set_str(&chunk, "mime", &c.mime);
            js::set(&chunk, "bytes", &c.bytes);
            JsValue::from(chunk)
        })
        .collect();
    js::set(&o, "chunks", &chunks);
    o
}

pub(crate) fn write_to_js(w: &WriteOutcome) -> Object {
    let o = Object::new();
    js::set_bool(&o, "stored", w.stored);
    js::set(&o, "evicted", &js::array_of_strings(&w.evicted));
    o
}

pub(crate) fn status_to_js(e: &StatusEvent) -> Object {
    let o = Object::new();
    js::set_str(&o, "status", e.status.as_str());
    js::set(&o, "sessionIds", &js::array_of_strings(&e.session_ids));
    js::set_opt_str(&o, "message", e.message.as_deref());
    js::set(&o, "evicted", &js::array_of_strings(&e.evicted));
    o
}

pub(crate) fn progress_callback(options: &JsValue) -> server::OnProgress {
    let callback = js::get(options, "onProgress").dyn_into::<Function>().ok();
    Rc::new(move |p: Progress| {
        if let Some(f) = &callback {
            let o = Object::new();
            js::set_str(&o, "phase", p.phase);
            js::set_f64(&o, "loaded", p.loaded);
            js::set_f64(&o, "total", p.total);
            // A throwing progress callback must not break the recovery.
            let _ = f.call1(&JsValue::NULL, &o);
        }
    })
}

/// IndexedDB stores what it is given: copy a view's bytes into their own
/// buffer so a later write to the caller's array cannot change saved audio
/// and a view into a big buffer does not store all of it.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a JS number: `as` saturates and turns NaN into 0, the clamp wanted here"
)]
pub(crate) fn as_array_buffer(bytes: &JsValue) -> Result<JsValue, ClientError> {
    if bytes.is_instance_of::<js_sys::ArrayBuffer>() {
        return Ok(bytes.clone());
    }
    if js_sys::ArrayBuffer::is_view(bytes) {
        let view = js_sys::Uint8Array::new_with_byte_offset_and_length(
            &js::get(bytes, "buffer"),
            js::get_f64(bytes, "byteOffset").unwrap_or(0.0) as u32,
            js::get_f64(bytes, "byteLength").unwrap_or(0.0) as u32,
        );
        return Ok(view.slice(0, view.length()).buffer().into());
    }
    Err(ClientError::Invalid(
        "bytes must be an ArrayBuffer or a typed array".into(),
    ))
}
