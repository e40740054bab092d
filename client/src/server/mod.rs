//! The server path (README, "Server backup and recovery"): back a whole
//! session up — a session document beside the audio object, both through
//! presigned uploads, named by one recovery token — and bring it back by
//! token on any browser.

mod backup;
pub mod copy;
pub mod document;
mod recover;
mod transfer;

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::{Object, Promise};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Response};

pub use backup::{BackupOptions, BackupOutcome, backup};
pub use copy::copies;
pub use recover::{AudioState, RecoverOutcome, recover, restore_copy};

use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    prelude::*,
    store::Store,
    text::concat,
    timer::{Timer, sleep},
};

const API_PATH: &str = "/api/recovery";
const CLIENT_HEADER: &str = "X-Recovery-Client";

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, present on Window and WorkerGlobalScope alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &Object) -> Promise;
}

/// A step of a backup or recovery, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// `upload`, `download` or `store`.
    pub phase: &'static str,
    pub loaded: f64,
    /// 0 when unknown.
    pub total: f64,
}

/// Where progress goes.
pub type OnProgress = Rc<dyn Fn(Progress)>;

/// A progress sink that ignores everything.
pub fn no_progress() -> OnProgress {
    Rc::new(|_| {})
}

fn endpoint(store: &Store, path: &str) -> Result<String> {
    let base = store.api_base_url().ok_or(ClientError::NoServer)?;
    Ok(concat(&[base.trim_end_matches('/'), API_PATH, path]))
}

fn encode(segment: &str) -> String {
    String::from(js_sys::encode_uri_component(segment))
}

/// How long an API request may take, its answer's body included.
const API_TIMEOUT_MS: u32 = 10_000;
/// Attempts of an idempotent request (GET, PUT, DELETE) that met a network
/// failure, a timeout, a 5xx or a 429.
const ATTEMPTS: u32 = 3;

#[wasm_bindgen]
extern "C" {
    type Headers;
    #[wasm_bindgen(method)]
    fn get(this: &Headers, name: &str) -> Option<String>;
}

/// An API request, sent by [`send`].
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// After `/api/recovery`.
    pub path: &'a str,
    /// Sent beside the API headers ([`api_headers`]).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a JsValue>,
    /// Outlives the page (`pagehide`); bodies up to 64 KiB.
    pub keepalive: bool,
    /// Sent again after a network failure, a timeout, a 5xx or a 429 (see
    /// [`send`]): for an idempotent request whose caller does not back off
    /// on its own.
    pub retry: bool,
}

/// An API answer, read whole within the request's timeout.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    /// The parsed JSON body, or undefined.
    pub body: JsValue,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<f64>,
}

impl Answer {
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error for a non-2xx answer, from the RFC 9457 problem's `detail`
    /// (or `title`) when the server sent one.
    pub(crate) fn problem(&self) -> ClientError {
        let title = js::get_str(&self.body, "detail")
            .or_else(|| js::get_str(&self.body, "title"))
            .unwrap_or_else(|| "request failed".into());
        ClientError::Http {
            status: self.status,
            title,
        }
    }
}

/// The wait before retry `n` (1-based): 1 s, 2 s, 4 s … capped at 30 s,
/// jittered down by up to half (`random` in 0..1) so that many clients do
/// not come back together; at least what `Retry-After` asks, up to 5 min.
pub fn backoff_ms(n: u32, retry_after: Option<f64>, random: f64) -> f64 {
    let base = f64::from(1u32 << n.clamp(1, 6).saturating_sub(1)) * 1000.0;
    let jittered = base.min(30_000.0) * (1.0 - random.clamp(0.0, 1.0) / 2.0);
    match retry_after {
        Some(s) if s > 0.0 => jittered.max((s * 1000.0).min(300_000.0)),
        _ => jittered,
    }
}

/// One attempt of `r` at `url`, aborted after [`API_TIMEOUT_MS`].
async fn attempt(url: &str, r: &Request<'_>, headers: &Object) -> Result<Answer> {
    let controller = AbortController::new().map_err(|e| ClientError::network(&e))?;
    // A plain object, its fields set as the other request objects' are:
    // one import (`Reflect.set`) rather than a setter import per field.
    let init = Object::new();
    js::set_str(&init, "method", r.method);
    js::set(&init, "headers", headers);
    js::set(&init, "signal", &controller.signal());
    if let Some(body) = r.body {
        js::set(&init, "body", body);
    }
    if r.keepalive {
        js::set_bool(&init, "keepalive", true);
    }
    let timed_out = Rc::new(Cell::new(false));
    let flag = timed_out.clone();
    let _timer = Timer::once(API_TIMEOUT_MS, move || {
        flag.set(true);
        controller.abort();
    });
    let failed = |e: JsValue| {
        if timed_out.get() {
            ClientError::Network(concat(&["the API at ", url, " did not answer within 10 s"]))
        } else {
            ClientError::api_unreachable(url, &e)
        }
    };
    let response: Response = JsFuture::from(global_fetch(url, &init))
        .await
        .map_err(failed)?
        .unchecked_into();
    // Read within the same timeout: a server that sends its headers and
    // then stalls must not hold the promise either. Not JSON (an empty body,
    // a proxy's HTML page): undefined.
    let body = match response.json() {
        Ok(promise) => match JsFuture::from(promise).await {
            Ok(body) => body,
            Err(e) if timed_out.get() => return Err(failed(e)),
            Err(_) => JsValue::UNDEFINED,
        },
        Err(_) => JsValue::UNDEFINED,
    };
    let headers: Headers = js::get(&response, "headers").unchecked_into();
    Ok(Answer {
        status: response.status(),
        body,
        retry_after: headers
            .get("retry-after")
            .map(|v| js_sys::Number::parse_float(&v))
            .filter(|v| !v.is_nan()),
    })
}

/// Sends an API request with the API headers and `r.headers`: with
/// `r.retry`, again with backoff after a network failure, a timeout, a 5xx
/// or a 429, up to [`ATTEMPTS`] in all; no attempt waits longer than
/// [`API_TIMEOUT_MS`]. Every request to the API goes through here.
pub(crate) fn send<'a>(store: &'a Store, r: &'a Request<'a>) -> Boxed<'a, Result<Answer>> {
    Box::pin(async move {
        let headers = api_headers(store).await?;
        for (name, value) in r.headers {
            js::set_str(&headers, name, value);
        }
        let url = endpoint(store, r.path)?;
        let mut n = 0;
        loop {
            n += 1;
            let result = attempt(&url, r, &headers).await;
            let again = match &result {
                Err(ClientError::Network(_)) => None,
                Ok(a) if a.status >= 500 || a.status == 429 => a.retry_after,
                _ => break result,
            };
            if !r.retry || n >= ATTEMPTS {
                break result;
            }
            let _ = sleep(wait_ms(backoff_ms(n, again, js_sys::Math::random()))).await;
        }
    })
}

/// A wait in ms as `setTimeout` takes it.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a wait of at most 5 min: `as` saturates, NaN becomes 0"
)]
pub(crate) fn wait_ms(ms: f64) -> u32 {
    ms as u32
}

/// A request with a JSON body (or none) and a JSON answer, retried unless
/// it is a POST; a non-2xx answer is an error.
fn api<'a>(
    store: &'a Store,
    method: &'a str,
    path: &'a str,
    body: Option<&'a JsValue>,
) -> Boxed<'a, Result<JsValue>> {
    Box::pin(async move {
        let answer = send(
            store,
            &Request {
                method,
                path,
                headers: if body.is_some() {
                    &[("Content-Type", "application/json")]
                } else {
                    &[]
                },
                body,
                keepalive: false,
                // A POST is not idempotent: never sent twice.
                retry: method != "POST",
            },
        )
        .await?;
        if answer.ok() {
            Ok(answer.body)
        } else {
            Err(answer.problem())
        }
    })
}

/// The headers of every API request: the client secret, and the value of
/// the app's `authorization` provider, asked afresh for each request.
/// (Its one caller is [`send`]: not boxed.)
async fn api_headers(store: &Store) -> Result<Object> {
    let headers = Object::new();
    js::set_str(&headers, CLIENT_HEADER, &store.client_secret().await?);
    js::set_str(&headers, "Accept", "application/json");
    if let Some(provider) = store.authorization() {
        let failed = |e: JsValue| {
            ClientError::Invalid(concat(&[
                "the authorization provider failed: ",
                &js::describe(&e),
            ]))
        };
        let value = provider.call0(&JsValue::NULL).map_err(failed)?;
        let value = JsFuture::from(Promise::resolve(&value))
            .await
            .map_err(failed)?;
        if let Some(v) = value.as_string().filter(|v| !v.is_empty()) {
            js::set_str(&headers, "Authorization", &v);
        }
    }
    Ok(headers)
}

fn post_json<'a>(store: &'a Store, path: &'a str, body: &'a Object) -> Boxed<'a, Result<JsValue>> {
    Box::pin(async move {
        let text =
            js_sys::JSON::stringify(body).map_err(|e| ClientError::Invalid(js::describe(&e)))?;
        api(store, "POST", path, Some(&text.into())).await
    })
}

fn bad_answer(route: &str, field: &str) -> ClientError {
    ClientError::BadAnswer(concat(&[route, ": no usable ", field]))
}

/// Revokes a token (the user dismissed recovery), deleting the audio and
/// the session document too.
pub fn revoke<'a>(store: &'a Store, token: &'a str) -> Boxed<'a, Result<()>> {
    Box::pin(async move {
        let path = concat(&["/token/", &encode(token), "?purge=true"]);
        match api(store, "DELETE", &path, None).await {
            Err(ClientError::Http { status: 404, .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    })
}

/// The user declined recovery: revokes (and purges) the server copy when
/// there is one, then deletes the session locally. A failed revoke is logged,
/// not raised: the server copy expires on its own, and the user asked for
/// the session to go.
pub fn dismiss<'a>(store: &'a Store, session_id: &'a str) -> Boxed<'a, Result<()>> {
    Box::pin(async move {
        let token = store
            .get_record(session_id)
            .await?
            .and_then(|r| r.server_token);
        if let (Some(token), Some(_)) = (token, store.api_base_url())
            && let Err(e) = revoke(store, &token).await
        {
            web_sys::console::warn_1(&JsValue::from_str(&concat(&[
                "recovery: revoking the backup of ",
                session_id,
                " failed: ",
                &e.message(),
            ])));
        }
        store.delete(session_id).await
    })
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "whole milliseconds: exact equality is the assertion"
)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn retries_wait_one_two_four_seconds_and_never_more_than_thirty() {
        assert_eq!(backoff_ms(1, None, 0.0), 1_000.0);
        assert_eq!(backoff_ms(2, None, 0.0), 2_000.0);
        assert_eq!(backoff_ms(3, None, 0.0), 4_000.0);
        assert_eq!(backoff_ms(9, None, 0.0), 30_000.0);
        assert_eq!(backoff_ms(40, None, 0.0), 30_000.0);
    }

    #[test]
    fn jitter_shortens_a_wait_by_at_most_half() {
        assert_eq!(backoff_ms(3, None, 1.0), 2_000.0);
        assert_eq!(backoff_ms(3, None, 0.5), 3_000.0);
    }

    #[test]
    fn retry_after_is_honoured_up_to_five_minutes() {
        assert_eq!(backoff_ms(1, Some(20.0), 0.0), 20_000.0);
        assert_eq!(backoff_ms(1, Some(3_600.0), 0.0), 300_000.0);
        assert_eq!(backoff_ms(6, Some(1.0), 0.0), 30_000.0);
    }
}
