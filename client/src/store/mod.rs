//! The recovery store: sessions, audio chunks, auto-save, crash detection,
//! retention and quota handling, over one IndexedDB database per store.
//!
//! One concern per module: `events` (status events), `autosave` (the
//! write-through queue and session writes), `quota` (eviction when storage
//! is full), `chunks` (audio and record updates), `recovery` (detect,
//! restore, delete), `retention` (what expires), `liveness` (this tab's row,
//! page events, other tabs), `kv` and `secret` (key-value data and the client
//! secret), `hints` (the localStorage index).
//!
//! Most async methods are `fn x(..) -> Boxed<..> { Box::pin(self.x_body(..)) }`:
//! the box stops each body being inlined into every caller's state machine,
//! which had made the wasm markedly bigger.

mod autosave;
mod chunks;
mod events;
pub mod hints;
mod kv;
mod liveness;
mod quota;
mod recovery;
mod retention;
mod secret;
pub mod storage;
// Compiled in every build for the write seam; its hooks only with `test-hooks`.
pub mod testing;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::Function;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, IdbDatabase};

pub use autosave::WriteOutcome;
pub use chunks::NewChunk;
pub use events::{Listener, Status, StatusEvent};
pub use recovery::{Chunk, Restored, SessionSummary};
pub(crate) use secret::random_bytes;

use crate::{
    error::{ClientError, Result},
    idb,
    locks::{self, TabLock},
    model::{self, DAY_MS},
    prelude::*,
    text::concat,
    timer::{Listener as PageListener, Timer},
};

/// How a store is opened. `Default` suits an app; tests shorten the timers and
/// inject a clock.
#[derive(Clone)]
pub struct OpenOptions {
    pub db_name: String,
    /// Normally random per page load; tests set it to play several tabs.
    pub tab_id: Option<String>,
    /// How long an edit may wait for more edits before its write starts, ms.
    /// 0 (the default): the write starts at once, and edits made while it is
    /// in flight go together in the next one.
    pub save_delay_ms: u32,
    pub heartbeat_ms: u32,
    pub retention_ms: f64,
    /// Base URL of the recovery API (`https://host`), without `/api/recovery`.
    pub api_base_url: Option<String>,
    /// Called before every API request; a string it resolves to is sent as
    /// the `Authorization` header (bearer tokens of JWT stacks).
    pub authorization: Option<Function>,
    /// Flush on `visibilitychange: hidden` / `pagehide`, mark a clean exit on
    /// `pagehide`. Off only for stores that play another tab in tests.
    pub listen_page_events: bool,
    pub clock: Rc<dyn Fn() -> f64>,
    /// Keep a copy of every session on the server as it changes
    /// (`server::copy`); needs `api_base_url`.
    pub server_copy: bool,
    /// The timer seam of the server copy's waits (throttle and backoff):
    /// `schedule(ms, resolve)` calls `resolve` after `ms`. `None`:
    /// `setTimeout`. Tests drive it with `clock` as fake time.
    pub schedule: Option<Rc<dyn Fn(u32, Function)>>,
}

impl core::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("db_name", &self.db_name)
            .field("tab_id", &self.tab_id)
            .field("save_delay_ms", &self.save_delay_ms)
            .field("heartbeat_ms", &self.heartbeat_ms)
            .field("retention_ms", &self.retention_ms)
            .field("api_base_url", &self.api_base_url)
            .field("server_copy", &self.server_copy)
            .finish_non_exhaustive()
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            db_name: "chatterbox-recovery".into(),
            tab_id: None,
            save_delay_ms: 0,
            heartbeat_ms: 10_000,
            retention_ms: DAY_MS,
            api_base_url: None,
            authorization: None,
            listen_page_events: true,
            clock: Rc::new(js_sys::Date::now),
            server_copy: false,
            schedule: None,
        }
    }
}

/// A handle to an open store; clones share it.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Rc<Inner>,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("db_name", &self.inner.db_name)
            .field("tab_id", &self.inner.tab_id)
            .finish_non_exhaustive()
    }
}

/// The sessions this tab has written or read, with the revision it last
/// saw. A Vec, not a map: a tab holds a handful of sessions, and a hash map
/// costs kilobytes of wasm.
#[derive(Debug, Default)]
struct Known(Vec<(String, Option<f64>)>);

impl Known {
    fn revision(&self, id: &str) -> Option<f64> {
        self.0.iter().find(|(i, _)| i == id).and_then(|(_, r)| *r)
    }

    fn exists(&self, id: &str) -> bool {
        self.0.iter().any(|(i, _)| i == id)
    }

    /// Records that the session exists; `revision` when its content was seen.
    fn saw(&mut self, id: &str, revision: Option<f64>) {
        match self.0.iter_mut().find(|(i, _)| i == id) {
            Some(entry) => {
                if revision.is_some() {
                    entry.1 = revision;
                }
            }
            None => self.0.push((id.to_owned(), revision)),
        }
    }

    fn forget(&mut self, id: &str) {
        self.0.retain(|(i, _)| i != id);
    }
}

/// The BroadcastChannel to the other tabs and its `message` listener, which
/// must live as long as the channel.
type TabChannel = (BroadcastChannel, PageListener);

/// This tab's presence: its lock, heartbeat, page listeners and channel.
#[derive(Default)]
struct Presence {
    lock: RefCell<Option<TabLock>>,
    heartbeat: RefCell<Option<Timer>>,
    page_events: RefCell<Vec<PageListener>>,
    channel: RefCell<Option<TabChannel>>,
}

pub(crate) struct Inner {
    db: IdbDatabase,
    db_name: String,
    tab_id: String,
    /// When this tab id first opened a store (kept in its `tabs` row).
    started_at: Cell<f64>,
    opts: OpenOptions,
    closed: Cell<bool>,
    presence: Presence,
    events: events::Listeners,
    queue: autosave::Queue,
    known: RefCell<Known>,
    client_secret: RefCell<Option<String>>,
    /// The server copy's state, when `server_copy` is on.
    pub(crate) copy: core::cell::OnceCell<crate::server::copy::Engine>,
    #[cfg(feature = "test-hooks")]
    hooks: testing::Hooks,
}

impl Store {
    pub async fn open(opts: OpenOptions) -> Result<Store> {
        if opts.server_copy && opts.api_base_url.is_none() {
            return Err(ClientError::Invalid(
                "serverCopy needs apiBaseUrl (the origin of the recovery API)".into(),
            ));
        }
        let db = idb::open(&opts.db_name).await?;
        let tab_id = match &opts.tab_id {
            Some(t) => t.clone(),
            None => model::base64url(&secret::random_bytes::<16>()?),
        };
        let lock = TabLock::acquire(&locks::lock_name(&opts.db_name, &tab_id))
            .await
            .map_err(|()| {
                ClientError::Invalid(concat(&[
                    "tab id \"",
                    &tab_id,
                    "\" is in use by another open store",
                ]))
            })?;
        let inner = Rc::new(Inner {
            db,
            db_name: opts.db_name.clone(),
            tab_id,
            started_at: Cell::new((opts.clock)()),
            opts,
            closed: Cell::new(false),
            presence: Presence {
                lock: RefCell::new(lock),
                ..Presence::default()
            },
            events: events::Listeners::default(),
            queue: autosave::Queue::default(),
            known: RefCell::new(Known::default()),
            client_secret: RefCell::new(None),
            copy: core::cell::OnceCell::new(),
            #[cfg(feature = "test-hooks")]
            hooks: testing::Hooks::default(),
        });
        let store = Store { inner };
        let ready = match store.open_tab_row().await {
            Ok(()) => store.purge_expired().await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = ready {
            // Give the lock and the connection back rather than hold them
            // for a store nobody got.
            store.shut_down().await;
            return Err(e);
        }
        store.start_heartbeat();
        if store.inner.opts.listen_page_events {
            store.listen_page_events();
        }
        store.listen_other_tabs();
        if store.inner.opts.server_copy {
            crate::server::copy::start(&store);
        }
        Ok(store)
    }

    pub fn tab_id(&self) -> &str {
        &self.inner.tab_id
    }

    pub fn db_name(&self) -> &str {
        &self.inner.db_name
    }

    pub(crate) fn api_base_url(&self) -> Option<&str> {
        self.inner.opts.api_base_url.as_deref()
    }

    pub(crate) fn authorization(&self) -> Option<&Function> {
        self.inner.opts.authorization.as_ref()
    }

    pub(crate) fn opts(&self) -> &OpenOptions {
        &self.inner.opts
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    pub(crate) fn now(&self) -> f64 {
        (self.inner.opts.clock)()
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.get() {
            Err(ClientError::Closed)
        } else {
            Ok(())
        }
    }

    /// Flushes, records a clean exit and releases the tab lock: what a tab
    /// that closes normally does, so its sessions are not offered as crashed.
    pub fn close(&self) -> Boxed<'_, Result<()>> {
        Box::pin(self.close_body())
    }

    async fn close_body(&self) -> Result<()> {
        if self.inner.closed.get() {
            return Ok(());
        }
        let flushed = self.flush().await;
        let marked = self.write_tab_row(true).await;
        self.shut_down().await;
        flushed.and(marked)
    }

    async fn shut_down(&self) {
        self.inner.closed.set(true);
        self.inner.queue.timer.borrow_mut().take();
        let presence = &self.inner.presence;
        presence.heartbeat.borrow_mut().take();
        presence.page_events.borrow_mut().clear();
        if let Some((channel, _)) = presence.channel.borrow_mut().take() {
            channel.close();
        }
        self.inner.db.close();
        let lock = presence.lock.borrow_mut().take();
        if let Some(lock) = lock {
            let _ = JsFuture::from(lock.release()).await;
        }
    }
}

/// A `JsValue` for a session id, the key of `sessions`.
fn key(id: &str) -> JsValue {
    JsValue::from_str(id)
}
