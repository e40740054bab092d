//! Uploads and downloads with progress, through `XMLHttpRequest`: `fetch`
//! reports no upload progress, and a bar that jumps from 0 to 100 % tells the
//! user nothing. Only for the presigned object-storage URLs; the API itself
//! is called with `fetch`.

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::EventTarget;

use super::{OnProgress, Progress};
use crate::{
    error::{ClientError, Result},
    js,
    text::{concat, u64_str},
    timer::{Listener, sleep},
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = XMLHttpRequest)]
    type Xhr;
    #[wasm_bindgen(constructor, js_class = XMLHttpRequest, catch)]
    fn new() -> Result<Xhr, JsValue>;
    #[wasm_bindgen(method, catch, js_class = XMLHttpRequest)]
    fn open(this: &Xhr, method: &str, url: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = XMLHttpRequest, js_name = setRequestHeader)]
    fn set_request_header(this: &Xhr, name: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = XMLHttpRequest)]
    fn send(this: &Xhr, body: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_class = XMLHttpRequest)]
    fn abort(this: &Xhr);
    #[wasm_bindgen(method, getter, js_class = XMLHttpRequest)]
    fn status(this: &Xhr) -> u16;
    #[wasm_bindgen(method, getter, js_class = XMLHttpRequest)]
    fn response(this: &Xhr) -> JsValue;
    #[wasm_bindgen(method, setter, js_class = XMLHttpRequest, js_name = responseType)]
    fn set_response_type(this: &Xhr, value: &str);
    #[wasm_bindgen(method, getter, js_class = XMLHttpRequest)]
    fn upload(this: &Xhr) -> EventTarget;
    #[wasm_bindgen(method, setter, js_class = XMLHttpRequest)]
    fn set_timeout(this: &Xhr, ms: u32);
}

/// One transfer to or from a presigned URL.
pub(super) struct Transfer<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// Header names to values (the ones the URL was signed with), or
    /// undefined.
    pub headers: &'a JsValue,
    /// The request body, or undefined.
    pub body: &'a JsValue,
    /// `arraybuffer`, `json` or `text`.
    pub response_type: &'a str,
    /// Longest answer accepted, in bytes: the transfer is aborted past it.
    pub limit: f64,
    /// Told `offset` + the bytes sent (`upload`) or received so far, of
    /// `total`: the caller's progress, this transfer one part of it.
    pub progress: &'a OnProgress,
    pub offset: f64,
    pub total: f64,
    pub upload: bool,
}

impl Transfer<'_> {
    /// The progress phase, also what an error says was refused.
    fn phase(&self) -> &'static str {
        if self.upload { "upload" } else { "download" }
    }
}

/// How much of a non-2xx answer a download reads at most (object storage's
/// XML errors are well under it).
const ERROR_BODY_LIMIT: f64 = 65_536.0;

/// The Fetch standard's forbidden request-header names
/// (<https://fetch.spec.whatwg.org/#forbidden-request-header>): a script may
/// not set them, and `setRequestHeader` refuses them with a console error.
/// (The `X-HTTP-Method` family is forbidden only for some values; presigned
/// URLs never carry it.)
fn forbidden_header(name: &str) -> bool {
    const NAMES: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    let lower = name.to_ascii_lowercase();
    NAMES.contains(&lower.as_str()) || lower.starts_with("proxy-") || lower.starts_with("sec-")
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// How long a transfer may take: 30 s, plus 1 s per 32 KiB of `bytes` (a
/// slow uplink's pace), so a stalled object storage never holds a promise
/// for ever and a big part on a slow line still goes through.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a JS number: `as` saturates, the clamp wanted here"
)]
pub(super) fn timeout_ms(bytes: f64) -> u32 {
    (30_000.0 + bytes / 32.768).min(3_600_000.0) as u32
}

/// Attempts of a transfer (a presigned PUT or GET is idempotent) that met
/// a network failure, a timeout or a 5xx.
const ATTEMPTS: u32 = 2;

/// Runs the transfer, retried once after a network failure, a timeout or a
/// 5xx, and resolves with the answer of a 2xx; anything else is an error
/// that names what was refused (the upload or the download).
pub(super) async fn transfer_ok(t: &Transfer<'_>) -> Result<JsValue> {
    let mut n = 0;
    loop {
        n += 1;
        let result = transfer(t).await;
        match result {
            Ok((status, body)) if ok(status) => return Ok(body),
            Ok((status, _)) if status < 500 || n >= ATTEMPTS => {
                return Err(ClientError::Http {
                    status,
                    title: concat(&[
                        t.phase(),
                        " refused by object storage (",
                        &u64_str(status.into()),
                        ")",
                    ]),
                });
            }
            Err(e) if n >= ATTEMPTS || !matches!(e, ClientError::Network(_)) => return Err(e),
            _ => {
                let _ = sleep(1_000).await;
            }
        }
    }
}

/// Runs the transfer: the status and the answer (`response`), once done.
/// A network failure or a timeout is an error; an HTTP status is the
/// caller's to judge.
pub(super) async fn transfer(t: &Transfer<'_>) -> Result<(u16, JsValue)> {
    let xhr = Xhr::new().map_err(|e| ClientError::network(&e))?;
    xhr.open(t.method, t.url)
        .map_err(|e| ClientError::network(&e))?;
    let size = if t.upload {
        super::document::byte_length(t.body).max(js::get_f64(t.body, "size").unwrap_or(0.0))
    } else {
        t.limit.min(1e9)
    };
    xhr.set_timeout(timeout_ms(size));
    if t.headers.is_object() {
        for entry in Object::entries(t.headers.unchecked_ref()).iter() {
            let name = js::get(&entry, "0").as_string().unwrap_or_default();
            let value = js::get(&entry, "1").as_string().unwrap_or_default();
            // The browser sets these itself (Content-Length from the body,
            // which is the length the URL was signed with) and logs an
            // error for every attempt: they are not ours to send.
            if forbidden_header(&name) {
                continue;
            }
            let _ = xhr.set_request_header(&name, &value);
        }
    }
    xhr.set_response_type(t.response_type);
    let too_big = Rc::new(Cell::new(false));
    let progress = {
        let (xhr, too_big, limit) = (
            xhr.clone().unchecked_into::<Xhr>(),
            too_big.clone(),
            t.limit,
        );
        let (on_progress, offset, total, phase) =
            (t.progress.clone(), t.offset, t.total, t.phase());
        let upload = t.upload;
        move |event: JsValue| {
            let loaded = js::get_f64(&event, "loaded").unwrap_or(0.0);
            // The body's length as the browser knows it (0: unknown).
            let length = if js::get_bool(&event, "lengthComputable") {
                js::get_f64(&event, "total").unwrap_or(0.0)
            } else {
                0.0
            };
            // An error answer (an expired URL's 403) is the status's to
            // judge, not the claimed size's; it is bounded all the same.
            let limit = if ok(xhr.status()) {
                limit
            } else {
                limit.max(ERROR_BODY_LIMIT)
            };
            if !upload && (loaded > limit || length > limit) {
                too_big.set(true);
                xhr.abort();
                return;
            }
            on_progress(Progress {
                phase,
                loaded: offset + loaded,
                total,
            });
        }
    };
    let target: EventTarget = if t.upload {
        xhr.upload()
    } else {
        xhr.clone().unchecked_into()
    };
    let _progress = Listener::new(&target, "progress", progress);
    let timed_out = Rc::new(Cell::new(false));
    let flag = timed_out.clone();
    let _timeout = Listener::new(xhr.unchecked_ref(), "timeout", move |_| flag.set(true));
    let (done, resolve, _) = js::deferred();
    let _done = Listener::new(xhr.unchecked_ref(), "loadend", move |event| {
        let _ = resolve.call1(&JsValue::NULL, &event);
    });
    xhr.send(t.body).map_err(|e| ClientError::network(&e))?;
    let end = JsFuture::from(done)
        .await
        .map_err(|e| ClientError::network(&e))?;
    let loaded = js::get_f64(&end, "loaded").unwrap_or(0.0);
    let limit = if ok(xhr.status()) {
        t.limit
    } else {
        t.limit.max(ERROR_BODY_LIMIT)
    };
    if too_big.get() || (!t.upload && loaded > limit) {
        return Err(ClientError::BadAnswer(
            "download longer than claimed".into(),
        ));
    }
    match xhr.status() {
        0 if timed_out.get() => Err(ClientError::Network(concat(&[
            t.method,
            " to object storage timed out",
        ]))),
        0 => Err(ClientError::storage_unreachable(t.method, t.url)),
        status => Ok((status, xhr.response())),
    }
}

#[cfg(test)]
mod tests {
    use super::forbidden_header;

    #[test]
    fn content_length_and_other_forbidden_names_are_skipped_in_any_case() {
        for name in [
            "content-length",
            "Content-Length",
            "Host",
            "Sec-Fetch-Mode",
            "Proxy-Authorization",
        ] {
            assert!(forbidden_header(name), "{name}");
        }
    }

    #[test]
    fn the_headers_a_presigned_put_is_signed_with_are_sent() {
        for name in [
            "content-type",
            "x-amz-meta-session",
            "x-amz-content-sha256",
            "Content-MD5",
        ] {
            assert!(!forbidden_header(name), "{name}");
        }
    }
}
