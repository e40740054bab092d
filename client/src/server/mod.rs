//! The server path (README, "Server backup and recovery"): back a whole
//! session up — a session document beside the audio object, both through
//! presigned uploads, named by one recovery token — and bring it back by
//! token on any browser.

mod backup;
pub mod document;
mod recover;
mod transfer;

use alloc::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

pub use backup::{BackupOptions, BackupOutcome, backup};
pub use recover::{AudioState, RecoverOutcome, recover};

use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    prelude::*,
    store::Store,
    text::concat,
};

const API_PATH: &str = "/api/recovery";
const CLIENT_HEADER: &str = "X-Recovery-Client";

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, present on Window and WorkerGlobalScope alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Promise;
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

fn send<'a>(
    url: &'a str,
    method: &'a str,
    headers: &'a Object,
    body: Option<&'a JsValue>,
) -> Boxed<'a, Result<Response>> {
    Box::pin(async move {
        let init = RequestInit::new();
        init.set_method(method);
        init.set_headers(headers);
        if let Some(body) = body {
            init.set_body(body);
        }
        let response = JsFuture::from(global_fetch(url, &init))
            .await
            .map_err(|e| ClientError::api_unreachable(url, &e))?;
        Ok(response.unchecked_into())
    })
}

/// The headers of every API request: the client secret, and the value of
/// the app's `authorization` provider, asked afresh for each request.
fn api_headers(store: &Store) -> Boxed<'_, Result<Object>> {
    Box::pin(async move {
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
    })
}

async fn json_body(response: &Response) -> Result<JsValue> {
    let promise = response.json().map_err(|e| ClientError::network(&e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| ClientError::network(&e))
}

/// Turns a non-2xx answer into an error, using the RFC 9457 problem's
/// `detail` (or `title`) when the server sent one.
async fn problem(response: &Response) -> ClientError {
    let status = response.status();
    let body = json_body(response).await.unwrap_or(JsValue::UNDEFINED);
    let title = js::get_str(&body, "detail")
        .or_else(|| js::get_str(&body, "title"))
        .unwrap_or_else(|| response.status_text());
    ClientError::Http { status, title }
}

fn post_json<'a>(store: &'a Store, path: &'a str, body: &'a Object) -> Boxed<'a, Result<JsValue>> {
    Box::pin(async move {
        let headers = api_headers(store).await?;
        js::set_str(&headers, "Content-Type", "application/json");
        let text =
            js_sys::JSON::stringify(body).map_err(|e| ClientError::Invalid(js::describe(&e)))?;
        let response = send(
            &endpoint(store, path)?,
            "POST",
            &headers,
            Some(&text.into()),
        )
        .await?;
        if !response.ok() {
            return Err(problem(&response).await);
        }
        json_body(&response).await
    })
}

fn bad_answer(route: &str, field: &str) -> ClientError {
    ClientError::BadAnswer(concat(&[route, ": no usable ", field]))
}

/// Revokes a token (the user dismissed recovery), deleting the audio and
/// the session document too.
pub fn revoke<'a>(store: &'a Store, token: &'a str) -> Boxed<'a, Result<()>> {
    Box::pin(async move {
        let headers = api_headers(store).await?;
        let url = endpoint(store, &concat(&["/token/", &encode(token), "?purge=true"]))?;
        let response = send(&url, "DELETE", &headers, None).await?;
        if response.ok() || response.status() == 404 {
            Ok(())
        } else {
            Err(problem(&response).await)
        }
    })
}

/// The user declined recovery: revokes (and purges) the server copy when
/// there is one, then deletes the session locally. A failed revoke is logged,
/// not raised: the server copy expires on its own, and the user asked for
/// the session to go.
pub async fn dismiss(store: &Store, session_id: &str) -> Result<()> {
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
}
