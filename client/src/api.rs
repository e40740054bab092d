//! The `#[wasm_bindgen]` layer: JS objects in, JS objects out, every async
//! method a `Promise` that rejects with an `Error` (via `JsError`). All logic
//! lives in the Rust core ([`crate::store`], [`crate::server`]); the
//! TypeScript types of the objects it takes and returns are in `ts_types.rs`.

use alloc::rc::Rc;
use core::{cell::RefCell, future::Future};

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::{JsError, JsValue, closure::Closure, prelude::wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;

use crate::{
    Boxed,
    convert::{
        as_array_buffer, open_options, progress_callback, restored_to_js, status_to_js,
        summary_to_js, write_to_js,
    },
    error::ClientError,
    js,
    model::SessionInput,
    prelude::*,
    server::{self, BackupOptions},
    store::{self, SessionSummary, StatusEvent, Store},
    text::concat,
};

// Optional option objects: typed in TypeScript, read field by field here.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "OpenOptions")]
    pub type JsOpenOptions;
    #[wasm_bindgen(typescript_type = "BackupOptions")]
    pub type JsBackupOptions;
    #[wasm_bindgen(typescript_type = "RecoverOptions")]
    pub type JsRecoverOptions;
}

#[allow(clippy::needless_pass_by_value, reason = "the shape `map_err` takes")]
fn js_err(e: ClientError) -> JsValue {
    JsError::new(&e.message()).into()
}

/// Boxes the method's future as is: no per-method wrapper state machine.
fn promise<F>(fut: F) -> Promise
where
    F: Future<Output = Result<JsValue, ClientError>> + 'static,
{
    to_promise(Box::pin(fut))
}

/// The one instance of `future_to_promise`: generic per method, it cost
/// about a kilobyte of wasm each.
fn to_promise(fut: Boxed<'static, Result<JsValue, ClientError>>) -> Promise {
    future_to_promise(async move { fut.await.map_err(js_err) })
}

/// A store operation on one id (a session's or a key's) that resolves to
/// nothing, as a `Promise<void>`: one future type for the methods that are
/// just that, rather than one each.
type OnId = for<'a> fn(&'a Store, &'a str) -> Boxed<'a, Result<(), ClientError>>;

fn on_id(store: &Store, id: String, op: OnId) -> Promise {
    let store = store.clone();
    promise(async move { op(&store, &id).await.map(|()| JsValue::UNDEFINED) })
}

/// `flush` or `close`, as a `Promise<void>` (one future type for both).
type OnStore = for<'a> fn(&'a Store) -> Boxed<'a, Result<(), ClientError>>;

fn on_store(store: &Store, op: OnStore) -> Promise {
    let store = store.clone();
    promise(async move { op(&store).await.map(|()| JsValue::UNDEFINED) })
}

/// `detect` or `list`, as a `Promise<SessionSummary[]>` (one future type for
/// both).
type Summaries = for<'a> fn(&'a Store) -> Boxed<'a, Result<Vec<SessionSummary>, ClientError>>;

fn summaries(store: &Store, op: Summaries) -> Promise {
    let store = store.clone();
    promise(async move {
        let list = op(&store).await?;
        Ok(list.iter().map(summary_to_js).collect::<Array>().into())
    })
}

/// The JS listeners subscribed through `onStatus`, with their ids in the
/// core, shared with the unsubscribe functions handed out.
type JsListeners = Rc<RefCell<Vec<(Function, u32)>>>;

/// Local, crash-safe persistence of TTS sessions, with crash detection and
/// the recovery-token server path.
#[wasm_bindgen]
#[derive(Debug)]
pub struct RecoveryStore {
    store: Store,
    listeners: JsListeners,
}

#[wasm_bindgen]
impl RecoveryStore {
    /// Opens the store: upgrades the schema, takes this tab's lock, removes
    /// sessions past retention. Call once per page.
    #[wasm_bindgen(unchecked_return_type = "Promise<RecoveryStore>")]
    pub fn open(options: Option<JsOpenOptions>) -> Promise {
        let opts = open_options(&options.map(JsValue::from).unwrap_or_default());
        promise(async move {
            let store = Store::open(opts).await?;
            Ok(RecoveryStore {
                store,
                listeners: JsListeners::default(),
            }
            .into())
        })
    }

    #[wasm_bindgen(getter, js_name = tabId)]
    pub fn tab_id(&self) -> String {
        self.store.tab_id().to_owned()
    }

    /// Queues a snapshot: `pending` at once, written at once (or after the
    /// write in flight), `saved` when everything queued is committed.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "wasm-bindgen passes JS values in by value"
    )]
    pub fn autosave(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SessionInput")] session: JsValue,
    ) -> Result<(), JsError> {
        let input = SessionInput::from_js(&session).map_err(|e| JsError::new(&e))?;
        self.store.autosave(input);
        Ok(())
    }

    /// Writes every queued autosave now; resolves when committed.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> Promise {
        on_store(&self.store, Store::flush)
    }

    /// Saves a snapshot now; resolves when committed.
    #[wasm_bindgen(unchecked_return_type = "Promise<WriteResult>")]
    pub fn save(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SessionInput")] session: JsValue,
    ) -> Promise {
        let store = self.store.clone();
        promise(async move {
            let input = SessionInput::from_js(&session).map_err(ClientError::Invalid)?;
            Ok(write_to_js(&store.save(input).await?).into())
        })
    }

    /// Stores one audio chunk as it arrives (one transaction per chunk).
    /// Resolves `{stored: false}` rather than rejecting when storage is full.
    #[wasm_bindgen(js_name = appendChunk, unchecked_return_type = "Promise<WriteResult>")]
    pub fn append_chunk(
        &self,
        id: String,
        index: u32,
        #[wasm_bindgen(unchecked_param_type = "ArrayBuffer | ArrayBufferView")] bytes: JsValue,
        mime: String,
    ) -> Promise {
        let store = self.store.clone();
        promise(async move {
            // What goes to the server must be audio (create-upload takes
            // nothing else): refused here, before anything is stored.
            if store.opts().server_copy && !mime.starts_with("audio/") {
                return Err(ClientError::Invalid(concat(&[
                    "part type must be audio/* with serverCopy on, not \"",
                    &mime,
                    "\"",
                ])));
            }
            let buffer = as_array_buffer(&bytes)?;
            Ok(write_to_js(&store.append_chunk(&id, index, buffer, &mime).await?).into())
        })
    }

    /// Marks a session finished (its audio may be evicted first when full).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn complete(&self, id: String) -> Promise {
        on_id(&self.store, id, Store::complete)
    }

    /// Drops a session's audio to start its take anew, in one transaction:
    /// `completed` and `audioEvicted` are reset; text, voice, params and the
    /// server token stay. The server copy (if on) then lists no parts.
    #[wasm_bindgen(js_name = clearChunks, unchecked_return_type = "Promise<void>")]
    pub fn clear_chunks(&self, id: String) -> Promise {
        on_id(&self.store, id, Store::clear_chunks)
    }

    /// Sessions left by a crashed or killed tab, newest first.
    #[wasm_bindgen(unchecked_return_type = "Promise<SessionSummary[]>")]
    pub fn detect(&self) -> Promise {
        summaries(&self.store, Store::detect)
    }

    /// Every stored session, with the state of the tab that wrote it.
    #[wasm_bindgen(unchecked_return_type = "Promise<SessionSummary[]>")]
    pub fn list(&self) -> Promise {
        summaries(&self.store, Store::list)
    }

    /// Text, voice, parameters and audio chunks in order; `null` if unknown.
    #[wasm_bindgen(unchecked_return_type = "Promise<RestoredSession | null>")]
    pub fn restore(&self, id: String) -> Promise {
        let store = self.store.clone();
        promise(async move {
            Ok(match store.restore(&id).await? {
                Some(r) => JsValue::from(restored_to_js(&r)),
                None => JsValue::NULL,
            })
        })
    }

    /// The user declined recovery: deletes the session, and revokes (and
    /// purges) its server backup when there is one. A failing revoke does
    /// not keep the local data.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn dismiss(&self, id: String) -> Promise {
        on_id(&self.store, id, server::dismiss)
    }

    /// Deletes a session and its audio.
    #[wasm_bindgen(js_name = "delete", unchecked_return_type = "Promise<void>")]
    pub fn delete_session(&self, id: String) -> Promise {
        on_id(&self.store, id, Store::delete)
    }

    /// `{usage, quota}` in bytes, or `null` where the browser does not say.
    #[wasm_bindgen(unchecked_return_type = "Promise<StorageEstimate | null>")]
    pub fn estimate(&self) -> Promise {
        promise(async move {
            Ok(match store::storage::estimate().await {
                Some((usage, quota)) => {
                    let o = Object::new();
                    js::set_f64(&o, "usage", usage);
                    js::set_f64(&o, "quota", quota);
                    JsValue::from(o)
                }
                None => JsValue::NULL,
            })
        })
    }

    /// Asks for persistent storage (`navigator.storage.persist()`).
    #[wasm_bindgen(js_name = requestPersist, unchecked_return_type = "Promise<boolean>")]
    pub fn request_persist(&self) -> Promise {
        promise(async move { Ok(JsValue::from_bool(store::storage::persist().await)) })
    }

    /// Calls `listener` with every status event (auto-save indicator);
    /// returns the function that unsubscribes it.
    #[wasm_bindgen(js_name = onStatus, unchecked_return_type = "() => void")]
    pub fn on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: StatusEvent) => void")] listener: Function,
    ) -> JsValue {
        let f = listener.clone();
        let id = self.store.on_status(Rc::new(move |e: &StatusEvent| {
            // A throwing listener must not break saving.
            let _ = f.call1(&JsValue::NULL, &status_to_js(e));
        }));
        self.listeners.borrow_mut().push((listener, id));
        let (store, listeners) = (self.store.clone(), self.listeners.clone());
        let unsubscribe: Box<dyn FnMut()> = Box::new(move || {
            store.off_status(id);
            listeners.borrow_mut().retain(|(_, i)| *i != id);
        });
        Closure::wrap(unsubscribe).into_js_value()
    }

    /// Unsubscribes `listener` (as the function `onStatus` returned does).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "wasm-bindgen passes JS values in by value"
    )]
    #[wasm_bindgen(js_name = offStatus)]
    pub fn off_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: StatusEvent) => void")] listener: Function,
    ) {
        let store = &self.store;
        self.listeners.borrow_mut().retain(|(f, id)| {
            let keep = f != &listener;
            if !keep {
                store.off_status(*id);
            }
            keep
        });
    }

    /// Backs the whole session up on the server (text, voice, params, every
    /// part) and keeps the token with it.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a JS number: `as` saturates and turns NaN into 0, the clamp wanted here"
    )]
    #[wasm_bindgen(unchecked_return_type = "Promise<BackupResult>")]
    pub fn backup(&self, id: String, options: Option<JsBackupOptions>) -> Promise {
        let store = self.store.clone();
        let options = options.map(JsValue::from).unwrap_or_default();
        promise(async move {
            let opts = BackupOptions {
                ttl_seconds: js::get_f64(&options, "ttlSeconds").map(|v| v.max(1.0) as u32),
                filename: js::get_str(&options, "filename"),
            };
            let on_progress = progress_callback(&options);
            let out = server::backup(&store, &id, &opts, on_progress).await?;
            let o = Object::new();
            js::set_str(&o, "token", &out.token);
            js::set_str(&o, "expiresAt", &out.expires_at);
            js::set_opt_str(&o, "audioUrl", out.audio_url.as_deref());
            js::set_f64(&o, "bytes", out.bytes);
            Ok(o.into())
        })
    }

    /// Brings a backed-up session back from the server into IndexedDB:
    /// text, voice, params and every part. With `id` null it comes back
    /// under the id in the backup.
    #[wasm_bindgen(unchecked_return_type = "Promise<RecoverResult>")]
    pub fn recover(&self, id: Option<String>, options: Option<JsRecoverOptions>) -> Promise {
        let store = self.store.clone();
        let options = options.map(JsValue::from).unwrap_or_default();
        promise(async move {
            let token = js::get_str(&options, "token");
            let on_progress = progress_callback(&options);
            // `restoreCopy(sessionId)` (js/index.js) comes this way.
            let out = match js::get_str(&options, "copyOf") {
                Some(copy) => server::restore_copy(&store, &copy, on_progress).await?,
                None => {
                    server::recover(&store, id.as_deref(), token.as_deref(), on_progress).await?
                }
            };
            Ok(recover_to_js(&out).into())
        })
    }

    /// The caller's server copies (`GET /api/recovery/sessions`), newest
    /// first: what to offer after the browser lost its storage.
    #[wasm_bindgen(js_name = serverCopies, unchecked_return_type = "Promise<ServerCopy[]>")]
    pub fn server_copies(&self) -> Promise {
        let store = self.store.clone();
        promise(async move { Ok(server::copies(&store).await?.into()) })
    }

    /// The `X-Recovery-Client` secret (created once, then kept).
    #[wasm_bindgen(js_name = clientSecret, unchecked_return_type = "Promise<string>")]
    pub fn client_secret(&self) -> Promise {
        let store = self.store.clone();
        promise(async move { store.client_secret().await.map(JsValue::from) })
    }

    /// Key-value access for the Zustand adapter: `null` when absent.
    #[wasm_bindgen(js_name = getItem, unchecked_return_type = "Promise<string | null>")]
    pub fn get_item(&self, key: String) -> Promise {
        let store = self.store.clone();
        promise(async move {
            Ok(store
                .kv_get(&key)
                .await?
                .map_or(JsValue::NULL, JsValue::from))
        })
    }

    #[wasm_bindgen(js_name = setItem, unchecked_return_type = "Promise<void>")]
    pub fn set_item(&self, key: String, value: String) -> Promise {
        let store = self.store.clone();
        promise(async move {
            match store.kv_set(&key, &value).await {
                // Reported as a `quota` event: persisting app state must never
                // throw into the app.
                Err(ClientError::Quota) => Ok(JsValue::UNDEFINED),
                other => other.map(|()| JsValue::UNDEFINED),
            }
        })
    }

    #[wasm_bindgen(js_name = removeItem, unchecked_return_type = "Promise<void>")]
    pub fn remove_item(&self, key: String) -> Promise {
        on_id(&self.store, key, Store::kv_remove)
    }

    /// Flushes, marks a clean exit and releases the tab: this tab's sessions
    /// will not be offered as crashed.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        on_store(&self.store, Store::close)
    }
}

fn recover_to_js(out: &server::RecoverOutcome) -> Object {
    let o = Object::new();
    js::set_str(&o, "audio", out.audio.as_str());
    match &out.session {
        Some(r) => js::set(&o, "session", &restored_to_js(r)),
        None => js::set(&o, "session", &JsValue::NULL),
    }
    js::set(&o, "evicted", &js::array_of_strings(&out.evicted));
    o
}

impl RecoveryStore {
    /// Wraps a core store opened from Rust.
    pub fn from_core(store: Store) -> Self {
        Self {
            store,
            listeners: JsListeners::default(),
        }
    }

    /// The Rust core, for tests and Rust callers.
    pub fn core(&self) -> &Store {
        &self.store
    }
}
