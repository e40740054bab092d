//! The recovery store: sessions, audio chunks, auto-save, crash detection,
//! retention and quota handling, over one IndexedDB database per store.
//!
//! Most async methods are `fn x(..) -> Boxed<..> { Box::pin(self.x_body(..)) }`:
//! the box stops each body being inlined into every caller's state machine,
//! which had made the wasm markedly bigger.

pub mod hints;
mod kv;
mod liveness;
pub mod storage;
#[doc(hidden)]
pub mod testing;

use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{BroadcastChannel, IdbDatabase, IdbTransactionMode, MessageEvent};

use kv::random_bytes;

use crate::{
    Boxed,
    error::{ClientError, Result},
    idb, js,
    locks::{self, TabLock},
    model::{self, DAY_MS, Liveness, LivenessView, SessionInput, SessionRecord, TabRecord},
    prelude::*,
    schema::{BY_UPDATED, CHUNKS, SESSIONS, TABS},
    text::{concat, u64_str},
    timer::{Listener as PageListener, Timer},
};

/// How a store is opened. `Default` suits an app; tests shorten the timers and
/// inject a clock.
#[derive(Clone)]
pub struct OpenOptions {
    pub db_name: String,
    /// Normally random per page load; tests set it to play several tabs.
    pub tab_id: Option<String>,
    pub debounce_ms: u32,
    pub max_wait_ms: u32,
    pub heartbeat_ms: u32,
    pub retention_ms: f64,
    /// Base URL of the recovery API (`https://host`), without `/api/recovery`.
    pub api_base_url: Option<String>,
    /// Flush on `visibilitychange: hidden` / `pagehide`, mark a clean exit on
    /// `pagehide`. Off only for stores that play another tab in tests.
    pub listen_page_events: bool,
    pub clock: Rc<dyn Fn() -> f64>,
}

impl core::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("db_name", &self.db_name)
            .field("tab_id", &self.tab_id)
            .field("debounce_ms", &self.debounce_ms)
            .field("max_wait_ms", &self.max_wait_ms)
            .field("heartbeat_ms", &self.heartbeat_ms)
            .field("retention_ms", &self.retention_ms)
            .field("api_base_url", &self.api_base_url)
            .finish_non_exhaustive()
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            db_name: "chatterbox-recovery".into(),
            tab_id: None,
            debounce_ms: 1000,
            max_wait_ms: 5000,
            heartbeat_ms: 10_000,
            retention_ms: DAY_MS,
            api_base_url: None,
            listen_page_events: true,
            clock: Rc::new(js_sys::Date::now),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Saving,
    Saved,
    Error,
    /// Storage was full: audio was evicted (listed) or the write was dropped.
    Quota,
    /// Another tab wrote the same session; its version was kept as a copy.
    Conflict,
    /// Another tab saved a session this tab has open.
    RemoteUpdate,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Saving => "saving",
            Status::Saved => "saved",
            Status::Error => "error",
            Status::Quota => "quota",
            Status::Conflict => "conflict",
            Status::RemoteUpdate => "remote-update",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StatusEvent {
    pub status: Status,
    pub session_ids: Vec<String>,
    pub message: Option<String>,
    /// Sessions whose audio was evicted to make room.
    pub evicted: Vec<String>,
}

pub type Listener = Rc<dyn Fn(&StatusEvent)>;

#[derive(Debug, Clone, Default)]
pub struct WriteOutcome {
    /// False when storage stayed full even after eviction.
    pub stored: bool,
    pub evicted: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub record: SessionRecord,
    pub state: Liveness,
    pub chunk_count: u32,
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub index: f64,
    pub mime: String,
    /// An `ArrayBuffer`.
    pub bytes: JsValue,
}

#[derive(Debug, Clone)]
pub struct Restored {
    pub record: SessionRecord,
    pub chunks: Vec<Chunk>,
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

/// The BroadcastChannel to the other tabs and its message handler, which
/// must live as long as the channel.
type TabChannel = (BroadcastChannel, Closure<dyn FnMut(MessageEvent)>);

pub(crate) struct Inner {
    db: IdbDatabase,
    db_name: String,
    tab_id: String,
    /// When this tab id first opened a store (kept in its `tabs` row).
    started_at: Cell<f64>,
    opts: OpenOptions,
    closed: Cell<bool>,
    lock: RefCell<Option<TabLock>>,
    heartbeat: RefCell<Option<Timer>>,
    listeners: RefCell<Vec<(u32, Listener)>>,
    next_listener: Cell<u32>,
    pending: RefCell<Vec<SessionInput>>,
    debounce: RefCell<Option<Timer>>,
    max_wait: RefCell<Option<Timer>>,
    known: RefCell<Known>,
    page_events: RefCell<Vec<PageListener>>,
    channel: RefCell<Option<TabChannel>>,
    client_secret: RefCell<Option<String>>,
    injected_quota_failures: Cell<u32>,
}

impl Store {
    pub async fn open(opts: OpenOptions) -> Result<Store> {
        let db = idb::open(&opts.db_name).await?;
        let tab_id = match &opts.tab_id {
            Some(t) => t.clone(),
            None => model::base64url(&random_bytes::<16>()?),
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
            lock: RefCell::new(lock),
            heartbeat: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(1),
            pending: RefCell::new(Vec::new()),
            debounce: RefCell::new(None),
            max_wait: RefCell::new(None),
            known: RefCell::new(Known::default()),
            page_events: RefCell::new(Vec::new()),
            channel: RefCell::new(None),
            client_secret: RefCell::new(None),
            injected_quota_failures: Cell::new(0),
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

    fn now(&self) -> f64 {
        (self.inner.opts.clock)()
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.get() {
            Err(ClientError::Closed)
        } else {
            Ok(())
        }
    }

    // ---- status events -------------------------------------------------

    pub fn on_status(&self, listener: Listener) -> u32 {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id + 1);
        self.inner.listeners.borrow_mut().push((id, listener));
        id
    }

    pub fn off_status(&self, id: u32) {
        self.inner.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    fn emit(
        &self,
        status: Status,
        session_ids: Vec<String>,
        message: Option<String>,
        evicted: Vec<String>,
    ) {
        let event = StatusEvent {
            status,
            session_ids,
            message,
            evicted,
        };
        // Clone first: a listener may (un)subscribe while being called.
        let listeners: Vec<Listener> = self
            .inner
            .listeners
            .borrow()
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for l in listeners {
            l(&event);
        }
    }

    // ---- saving ------------------------------------------------------------

    /// Queues a snapshot for saving: written after `debounce_ms` of quiet, and
    /// at the latest `max_wait_ms` after the first unsaved change.
    pub fn autosave(&self, input: SessionInput) {
        if self.inner.closed.get() {
            return;
        }
        {
            let mut pending = self.inner.pending.borrow_mut();
            pending.retain(|p| p.id != input.id);
            pending.push(input);
        }
        let weak = Rc::downgrade(&self.inner);
        *self.inner.debounce.borrow_mut() =
            Some(Timer::once(self.inner.opts.debounce_ms, move || {
                flush_in_background(&weak);
            }));
        if self.inner.max_wait.borrow().is_none() {
            let weak = Rc::downgrade(&self.inner);
            *self.inner.max_wait.borrow_mut() =
                Some(Timer::once(self.inner.opts.max_wait_ms, move || {
                    flush_in_background(&weak);
                }));
        }
    }

    pub fn has_pending(&self) -> bool {
        !self.inner.pending.borrow().is_empty()
    }

    /// Writes every queued snapshot now and resolves once committed, and also
    /// after any earlier write still in flight (IndexedDB runs read-write
    /// transactions on the same store in creation order). A full disk is
    /// reported through a `quota` event, not as an error.
    pub fn flush<'a>(&'a self) -> Boxed<'a, Result<()>> {
        Box::pin(self.flush_body())
    }

    async fn flush_body(&self) -> Result<()> {
        self.check_open()?;
        self.inner.debounce.borrow_mut().take();
        self.inner.max_wait.borrow_mut().take();
        let batch: Vec<SessionInput> = core::mem::take(&mut *self.inner.pending.borrow_mut());
        let ids: Vec<String> = batch.iter().map(|s| s.id.clone()).collect();
        if !batch.is_empty() {
            self.emit(Status::Saving, ids.clone(), None, Vec::new());
        }
        let protect = ids.first().cloned().unwrap_or_default();
        let (result, evicted) = self
            .with_quota_retry(&protect, || self.write_sessions(&batch))
            .await;
        match result {
            Ok(_) if batch.is_empty() => Ok(()),
            Ok(_) => {
                if !evicted.is_empty() {
                    self.emit(
                        Status::Quota,
                        ids.clone(),
                        Some(
                            "storage was full: older audio was removed, text and parameters kept"
                                .into(),
                        ),
                        evicted,
                    );
                }
                self.emit(Status::Saved, ids, None, Vec::new());
                Ok(())
            }
            Err(ClientError::Quota) => {
                self.emit(
                    Status::Quota,
                    ids,
                    Some("storage is full: the latest changes could not be saved".into()),
                    evicted,
                );
                self.requeue(batch);
                Ok(())
            }
            Err(e) => {
                self.emit(Status::Error, ids, Some(e.message()), evicted);
                self.requeue(batch);
                Err(e)
            }
        }
    }

    /// Puts back snapshots that failed to save, unless a newer one was queued
    /// meanwhile, so the next flush retries them.
    fn requeue(&self, batch: Vec<SessionInput>) {
        let mut pending = self.inner.pending.borrow_mut();
        for input in batch {
            if !pending.iter().any(|p| p.id == input.id) {
                pending.push(input);
            }
        }
    }

    /// Saves one session immediately (the queue for it is dropped: this
    /// snapshot is newer).
    pub fn save<'a>(&'a self, input: SessionInput) -> Boxed<'a, Result<WriteOutcome>> {
        Box::pin(self.save_body(input))
    }

    async fn save_body(&self, input: SessionInput) -> Result<WriteOutcome> {
        self.check_open()?;
        self.inner.pending.borrow_mut().retain(|p| p.id != input.id);
        let id = input.id.clone();
        self.emit(Status::Saving, vec![id.clone()], None, Vec::new());
        let batch = [input];
        let (result, evicted) = self
            .with_quota_retry(&id, || self.write_sessions(&batch))
            .await;
        self.report_write(id, result, evicted)
    }

    fn report_write(
        &self,
        id: String,
        result: Result<()>,
        evicted: Vec<String>,
    ) -> Result<WriteOutcome> {
        match result {
            Ok(()) => {
                if !evicted.is_empty() {
                    self.emit(
                        Status::Quota,
                        vec![id.clone()],
                        Some(
                            "storage was full: older audio was removed, text and parameters kept"
                                .into(),
                        ),
                        evicted.clone(),
                    );
                }
                self.emit(Status::Saved, vec![id], None, Vec::new());
                Ok(WriteOutcome {
                    stored: true,
                    evicted,
                })
            }
            Err(ClientError::Quota) => {
                self.emit(
                    Status::Quota,
                    vec![id],
                    Some("storage is full: this write was dropped".into()),
                    evicted.clone(),
                );
                Ok(WriteOutcome {
                    stored: false,
                    evicted,
                })
            }
            Err(e) => {
                self.emit(Status::Error, vec![id], Some(e.message()), evicted);
                Err(e)
            }
        }
    }

    /// One read-write transaction over `sessions`: each row is read and
    /// rewritten with the next revision. If another tab wrote a row since this
    /// tab last saw it, that version is kept as a copy rather than lost.
    fn write_sessions<'a>(&'a self, batch: &'a [SessionInput]) -> Boxed<'a, Result<()>> {
        Box::pin(self.write_sessions_body(batch))
    }

    async fn write_sessions_body(&self, batch: &[SessionInput]) -> Result<()> {
        if !batch.is_empty() {
            self.take_injected_failure()?;
        }
        let tab = self.inner.tab_id.clone();
        let now = self.now();
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readwrite)?;
        let sessions = idb::store(&tx, SESSIONS)?;
        let mut written = Vec::with_capacity(batch.len());
        let mut conflicts = Vec::new();
        for input in batch {
            let existing =
                idb::request(idb::req(sessions.get(&JsValue::from_str(&input.id)))?).await?;
            let record = match SessionRecord::from_js(&existing) {
                None => SessionRecord::new(input, &tab, now),
                Some(old) => {
                    let known = self.inner.known.borrow().revision(&input.id);
                    if old.tab_id != tab && known.is_some_and(|k| k != old.revision) {
                        let mut copy = old.clone();
                        copy.id = concat(&[&old.id, "~", &u64_str(old.revision as u64)]);
                        copy.conflict_of = Some(old.id.clone());
                        idb::req(sessions.put(&copy.to_js()))?;
                        conflicts.push((old.id.clone(), copy.id, copy.updated_at));
                    }
                    old.updated_with(input, &tab, now)
                }
            };
            idb::req(sessions.put(&record.to_js()))?;
            written.push((record.id, record.revision, record.updated_at));
        }
        idb::committed(&tx).await?;
        for (id, rev, updated_at) in &written {
            self.inner.known.borrow_mut().saw(id, Some(*rev));
            self.notify_other_tabs(id, *rev);
            hints::put(&self.inner.db_name, id, *updated_at);
        }
        for (id, copy, updated_at) in conflicts {
            hints::put(&self.inner.db_name, &copy, updated_at);
            self.emit(
                Status::Conflict,
                vec![id, copy],
                Some("another tab changed this session; its version was kept as a copy".into()),
                Vec::new(),
            );
        }
        Ok(())
    }

    /// Retries `op` after evicting the oldest completed sessions' audio, one
    /// session at a time, for as long as it fails on the quota.
    async fn with_quota_retry<T, F, Fut>(&self, protect: &str, op: F) -> (Result<T>, Vec<String>)
    where
        F: Fn() -> Fut,
        Fut: core::future::Future<Output = Result<T>>,
    {
        // Sessions whose audio was removed, and every session tried (one
        // whose mark could not be written has nothing left to remove).
        let mut evicted = Vec::new();
        let mut tried = Vec::new();
        loop {
            match op().await {
                Err(ClientError::Quota) => match self.evict_oldest_audio(protect, &tried).await {
                    Ok(Some((id, removed))) => {
                        if removed {
                            evicted.push(id.clone());
                        }
                        tried.push(id);
                    }
                    Ok(None) => return (Err(ClientError::Quota), evicted),
                    Err(e) => return (Err(e), evicted),
                },
                other => return (other, evicted),
            }
        }
    }

    /// Drops the audio of the oldest completed session other than `protect`,
    /// keeping its text and parameters. `None` when nothing is left to evict.
    fn evict_oldest_audio<'a>(
        &'a self,
        protect: &'a str,
        done: &'a [String],
    ) -> Boxed<'a, Result<Option<(String, bool)>>> {
        Box::pin(self.evict_oldest_audio_body(protect, done))
    }

    /// Removes the audio of the oldest evictable session: its id, and whether
    /// it had any audio left to remove.
    async fn evict_oldest_audio_body(
        &self,
        protect: &str,
        done: &[String],
    ) -> Result<Option<(String, bool)>> {
        let all = self.all_sessions().await?;
        let Some(victim) = model::oldest_evictable(&all, protect, done) else {
            return Ok(None);
        };
        // The delete commits on its own: with the quota used up, Chromium
        // refuses a transaction that also writes (the mark below) as a whole,
        // and the delete is what makes room.
        let tx = idb::transaction(&self.inner.db, &[CHUNKS], IdbTransactionMode::Readwrite)?;
        let chunks = idb::store(&tx, CHUNKS)?;
        let range = idb::session_chunk_range(&victim)?;
        let count = idb::req(chunks.count_with_key(&range))?;
        idb::req(chunks.delete(&range))?;
        let removed = idb::request(count).await?.as_f64().unwrap_or(0.0) > 0.0;
        idb::committed(&tx).await?;
        // The mark only keeps later evictions from picking the session again;
        // if even it does not fit, `done` does that for this caller.
        let _ = self.mark_audio_evicted(&victim).await;
        Ok(Some((victim, removed)))
    }

    async fn mark_audio_evicted(&self, id: &str) -> Result<()> {
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readwrite)?;
        let sessions = idb::store(&tx, SESSIONS)?;
        let row = idb::request(idb::req(sessions.get(&JsValue::from_str(id)))?).await?;
        if let Some(mut record) = SessionRecord::from_js(&row) {
            record.audio_evicted = true;
            idb::req(sessions.put(&record.to_js()))?;
        }
        idb::committed(&tx).await
    }

    fn take_injected_failure(&self) -> Result<()> {
        let n = self.inner.injected_quota_failures.get();
        if n > 0 {
            self.inner.injected_quota_failures.set(n - 1);
            return Err(ClientError::Quota);
        }
        Ok(())
    }

    /// Test hook: the next `n` writes fail as if the quota were exceeded.
    #[doc(hidden)]
    pub fn inject_quota_failures(&self, n: u32) {
        self.inner.injected_quota_failures.set(n);
    }

    // ---- audio ---------------------------------------------------------------

    /// Stores one audio chunk in its own transaction. Never fails on a full
    /// disk: evicts older audio, and reports `stored: false` with a `quota`
    /// event if that was not enough.
    pub fn append_chunk<'a>(
        &'a self,
        session_id: &'a str,
        index: u32,
        bytes: JsValue,
        mime: &'a str,
    ) -> Boxed<'a, Result<WriteOutcome>> {
        Box::pin(self.append_chunk_body(session_id, index, bytes, mime))
    }

    async fn append_chunk_body(
        &self,
        session_id: &str,
        index: u32,
        bytes: JsValue,
        mime: &str,
    ) -> Result<WriteOutcome> {
        self.check_open()?;
        let (result, evicted) = self
            .with_quota_retry(session_id, || {
                self.write_chunk(session_id, index, &bytes, mime)
            })
            .await;
        match result {
            Ok(()) if evicted.is_empty() => Ok(WriteOutcome {
                stored: true,
                evicted,
            }),
            other => self.report_write(session_id.to_owned(), other, evicted),
        }
    }

    fn write_chunk<'a>(
        &'a self,
        session_id: &'a str,
        index: u32,
        bytes: &'a JsValue,
        mime: &'a str,
    ) -> Boxed<'a, Result<()>> {
        Box::pin(self.write_chunk_body(session_id, index, bytes, mime))
    }

    async fn write_chunk_body(
        &self,
        session_id: &str,
        index: u32,
        bytes: &JsValue,
        mime: &str,
    ) -> Result<()> {
        self.take_injected_failure()?;
        let known = self.inner.known.borrow().exists(session_id);
        let stores: &[&str] = if known {
            &[CHUNKS]
        } else {
            &[CHUNKS, SESSIONS]
        };
        let tx = idb::transaction(&self.inner.db, stores, IdbTransactionMode::Readwrite)?;
        let chunks = idb::store(&tx, CHUNKS)?;
        let row = Object::new();
        js::set_str(&row, "sessionId", session_id);
        js::set_f64(&row, "index", f64::from(index));
        js::set_str(&row, "mime", mime);
        js::set(&row, "bytes", bytes);
        idb::req(chunks.put(&row))?;
        let mut created = None;
        if !known {
            // Audio can arrive before the first text save: give it a session
            // row so detect() sees it.
            let sessions = idb::store(&tx, SESSIONS)?;
            let existing =
                idb::request(idb::req(sessions.get(&JsValue::from_str(session_id)))?).await?;
            if existing.is_undefined() {
                let input = SessionInput {
                    id: session_id.to_owned(),
                    text: String::new(),
                    voice_id: None,
                    params: JsValue::NULL,
                };
                let record = SessionRecord::new(&input, &self.inner.tab_id, self.now());
                idb::req(sessions.put(&record.to_js()))?;
                created = Some(record.updated_at);
            }
        }
        idb::committed(&tx).await?;
        if let Some(at) = created {
            hints::put(&self.inner.db_name, session_id, at);
        }
        self.inner.known.borrow_mut().saw(session_id, None);
        Ok(())
    }

    /// Replaces a session's audio with `chunks`, each in its own transaction.
    pub(crate) fn replace_audio<'a>(
        &'a self,
        session_id: &'a str,
        chunks: &'a [(u32, JsValue)],
        mime: &'a str,
        progress: &'a dyn Fn(usize),
    ) -> Boxed<'a, Result<WriteOutcome>> {
        Box::pin(self.replace_audio_body(session_id, chunks, mime, progress))
    }

    async fn replace_audio_body(
        &self,
        session_id: &str,
        chunks: &[(u32, JsValue)],
        mime: &str,
        progress: &dyn Fn(usize),
    ) -> Result<WriteOutcome> {
        let tx = idb::transaction(&self.inner.db, &[CHUNKS], IdbTransactionMode::Readwrite)?;
        idb::req(idb::store(&tx, CHUNKS)?.delete(&idb::session_chunk_range(session_id)?))?;
        idb::committed(&tx).await?;
        let mut evicted_all = Vec::new();
        for (n, (index, bytes)) in chunks.iter().enumerate() {
            let outcome = self
                .append_chunk(session_id, *index, bytes.clone(), mime)
                .await?;
            evicted_all.extend(outcome.evicted);
            if !outcome.stored {
                return Ok(WriteOutcome {
                    stored: false,
                    evicted: evicted_all,
                });
            }
            progress(n + 1);
        }
        self.update_record(session_id, Box::new(|r| r.audio_evicted = false))
            .await?;
        Ok(WriteOutcome {
            stored: true,
            evicted: evicted_all,
        })
    }

    /// Marks the session finished: its audio becomes evictable when storage
    /// fills up.
    pub fn complete<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(self.complete_body(session_id))
    }

    async fn complete_body(&self, session_id: &str) -> Result<()> {
        self.check_open()?;
        if self
            .inner
            .pending
            .borrow()
            .iter()
            .any(|p| p.id == session_id)
        {
            self.flush().await?;
        }
        self.update_record(session_id, Box::new(|r| r.completed = true))
            .await
    }

    pub(crate) fn update_record<'a>(
        &'a self,
        session_id: &'a str,
        change: Box<dyn FnOnce(&mut SessionRecord) + 'a>,
    ) -> Boxed<'a, Result<()>> {
        Box::pin(self.update_record_body(session_id, change))
    }

    async fn update_record_body(
        &self,
        session_id: &str,
        change: Box<dyn FnOnce(&mut SessionRecord) + '_>,
    ) -> Result<()> {
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readwrite)?;
        let sessions = idb::store(&tx, SESSIONS)?;
        let row = idb::request(idb::req(sessions.get(&JsValue::from_str(session_id)))?).await?;
        let mut record = SessionRecord::from_js(&row)
            .ok_or_else(|| ClientError::NotFound(session_id.to_owned()))?;
        change(&mut record);
        idb::req(sessions.put(&record.to_js()))?;
        idb::committed(&tx).await
    }

    pub fn get_record<'a>(
        &'a self,
        session_id: &'a str,
    ) -> Boxed<'a, Result<Option<SessionRecord>>> {
        Box::pin(self.get_record_body(session_id))
    }

    async fn get_record_body(&self, session_id: &str) -> Result<Option<SessionRecord>> {
        self.check_open()?;
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readonly)?;
        let row = idb::request(idb::req(
            idb::store(&tx, SESSIONS)?.get(&JsValue::from_str(session_id)),
        )?)
        .await?;
        Ok(SessionRecord::from_js(&row))
    }

    // ---- detect / restore / dismiss ------------------------------------------

    /// Sessions left by a tab that is gone without a clean exit and younger
    /// than the retention period, newest first.
    pub fn detect<'a>(&'a self) -> Boxed<'a, Result<Vec<SessionSummary>>> {
        Box::pin(self.detect_body())
    }

    async fn detect_body(&self) -> Result<Vec<SessionSummary>> {
        let now = self.now();
        let retention = self.inner.opts.retention_ms;
        Ok(self
            .summaries()
            .await?
            .into_iter()
            .filter(|s| {
                s.state == Liveness::Crashed
                    && !model::is_expired(s.record.updated_at, now, retention)
            })
            .collect())
    }

    /// Every stored session with where its tab stands, newest first.
    pub fn list<'a>(&'a self) -> Boxed<'a, Result<Vec<SessionSummary>>> {
        Box::pin(self.list_body())
    }

    async fn list_body(&self) -> Result<Vec<SessionSummary>> {
        self.summaries().await
    }

    fn summaries<'a>(&'a self) -> Boxed<'a, Result<Vec<SessionSummary>>> {
        Box::pin(self.summaries_body())
    }

    async fn summaries_body(&self) -> Result<Vec<SessionSummary>> {
        self.check_open()?;
        // Asked before the transaction: awaiting the lock manager inside it
        // would let it commit under us.
        let held = locks::held_tabs(&self.inner.db_name).await;
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, TABS, CHUNKS],
            IdbTransactionMode::Readonly,
        )?;
        // Through the updatedAt index: oldest first, reversed below, so no
        // sort (and no sort code in the wasm).
        let by_updated = idb::store(&tx, SESSIONS)?
            .index(BY_UPDATED)
            .map_err(|e| ClientError::from_idb(&e))?;
        let rows_req = idb::req(by_updated.get_all())?;
        let tabs_req = idb::req(idb::store(&tx, TABS)?.get_all())?;
        let rows: Array = idb::request(rows_req).await?.unchecked_into();
        let tabs: Array = idb::request(tabs_req).await?.unchecked_into();
        let records: Vec<SessionRecord> = rows
            .iter()
            .filter_map(|r| SessionRecord::from_js(&r))
            .collect();
        // Issue every count before awaiting any, so they run as one batch.
        let chunks = idb::store(&tx, CHUNKS)?;
        let counts = records
            .iter()
            .map(|r| idb::req(chunks.count_with_key(&idb::session_chunk_range(&r.id)?)))
            .collect::<Result<Vec<_>>>()?;
        let tabs: Vec<TabRecord> = tabs.iter().filter_map(|t| TabRecord::from_js(&t)).collect();
        let view = LivenessView {
            own_tab: &self.inner.tab_id,
            held: held.as_deref(),
            now: self.now(),
            heartbeat_timeout_ms: f64::from(self.inner.opts.heartbeat_ms) * 3.0,
        };
        let mut out = Vec::with_capacity(records.len());
        for (record, count) in records.into_iter().zip(counts) {
            let chunk_count = idb::request(count).await?.as_f64().unwrap_or(0.0) as u32;
            let state = model::classify(
                &record.tab_id,
                tabs.iter().find(|t| t.tab_id == record.tab_id),
                &view,
            );
            out.push(SessionSummary {
                record,
                state,
                chunk_count,
            });
        }
        out.reverse();
        Ok(out)
    }

    /// Text, voice, parameters and the audio chunks in index order.
    pub fn restore<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<Option<Restored>>> {
        Box::pin(self.restore_body(session_id))
    }

    async fn restore_body(&self, session_id: &str) -> Result<Option<Restored>> {
        self.check_open()?;
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, CHUNKS],
            IdbTransactionMode::Readonly,
        )?;
        let row_req = idb::req(idb::store(&tx, SESSIONS)?.get(&JsValue::from_str(session_id)))?;
        let chunks_req = idb::req(
            idb::store(&tx, CHUNKS)?.get_all_with_key(&idb::session_chunk_range(session_id)?),
        )?;
        let row = idb::request(row_req).await?;
        let chunk_rows: Array = idb::request(chunks_req).await?.unchecked_into();
        let Some(record) = SessionRecord::from_js(&row) else {
            return Ok(None);
        };
        // Keys are [sessionId, index], so IndexedDB already returns them in
        // numeric index order.
        let chunks = chunk_rows
            .iter()
            .map(|c| Chunk {
                index: js::get_f64(&c, "index").unwrap_or(0.0),
                mime: js::get_str(&c, "mime").unwrap_or_default(),
                bytes: js::get(&c, "bytes"),
            })
            .collect();
        self.inner
            .known
            .borrow_mut()
            .saw(&record.id, Some(record.revision));
        Ok(Some(Restored { record, chunks }))
    }

    /// Deletes a session and its audio.
    pub fn delete<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(self.delete_body(session_id))
    }

    async fn delete_body(&self, session_id: &str) -> Result<()> {
        self.check_open()?;
        self.inner
            .pending
            .borrow_mut()
            .retain(|p| p.id != session_id);
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, CHUNKS],
            IdbTransactionMode::Readwrite,
        )?;
        idb::req(idb::store(&tx, SESSIONS)?.delete(&JsValue::from_str(session_id)))?;
        idb::req(idb::store(&tx, CHUNKS)?.delete(&idb::session_chunk_range(session_id)?))?;
        idb::committed(&tx).await?;
        self.inner.known.borrow_mut().forget(session_id);
        hints::remove(&self.inner.db_name, session_id);
        Ok(())
    }

    fn all_sessions<'a>(&'a self) -> Boxed<'a, Result<Vec<SessionRecord>>> {
        Box::pin(self.all_sessions_body())
    }

    async fn all_sessions_body(&self) -> Result<Vec<SessionRecord>> {
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readonly)?;
        let rows: Array = idb::request(idb::req(idb::store(&tx, SESSIONS)?.get_all())?)
            .await?
            .unchecked_into();
        Ok(rows
            .iter()
            .filter_map(|r| SessionRecord::from_js(&r))
            .collect())
    }

    /// Removes sessions (and their audio) older than the retention period,
    /// and rows of tabs not seen for as long.
    pub fn purge_expired<'a>(&'a self) -> Boxed<'a, Result<Vec<String>>> {
        Box::pin(self.purge_expired_body())
    }

    async fn purge_expired_body(&self) -> Result<Vec<String>> {
        let now = self.now();
        let retention = self.inner.opts.retention_ms;
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, CHUNKS, TABS],
            IdbTransactionMode::Readwrite,
        )?;
        let sessions = idb::store(&tx, SESSIONS)?;
        let chunks = idb::store(&tx, CHUNKS)?;
        let tabs = idb::store(&tx, TABS)?;
        let rows_req = idb::req(sessions.get_all())?;
        let tabs_req = idb::req(tabs.get_all())?;
        let rows: Array = idb::request(rows_req).await?.unchecked_into();
        let tab_rows: Array = idb::request(tabs_req).await?.unchecked_into();
        let mut removed = Vec::new();
        let kept = Object::new();
        for record in rows.iter().filter_map(|r| SessionRecord::from_js(&r)) {
            if model::is_expired(record.updated_at, now, retention) {
                idb::req(sessions.delete(&JsValue::from_str(&record.id)))?;
                idb::req(chunks.delete(&idb::session_chunk_range(&record.id)?))?;
                removed.push(record.id);
            } else {
                js::set_f64(&kept, &record.id, record.updated_at);
            }
        }
        for tab in tab_rows.iter().filter_map(|t| TabRecord::from_js(&t)) {
            if tab.tab_id != self.inner.tab_id
                && model::is_expired(tab.heartbeat_at, now, retention)
            {
                idb::req(tabs.delete(&JsValue::from_str(&tab.tab_id)))?;
            }
        }
        idb::committed(&tx).await?;
        // At every open: the index starts again from what IndexedDB holds.
        hints::replace(&self.inner.db_name, &kept);
        Ok(removed)
    }

    /// Flushes, records a clean exit and releases the tab lock: what a tab
    /// that closes normally does, so its sessions are not offered as crashed.
    pub fn close<'a>(&'a self) -> Boxed<'a, Result<()>> {
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

    /// Test hook: stops like a killed tab would, without flushing and without
    /// a clean-exit mark.
    #[doc(hidden)]
    pub async fn abandon(&self) {
        self.inner.pending.borrow_mut().clear();
        self.shut_down().await;
    }

    async fn shut_down(&self) {
        self.inner.closed.set(true);
        self.inner.debounce.borrow_mut().take();
        self.inner.max_wait.borrow_mut().take();
        self.inner.heartbeat.borrow_mut().take();
        self.inner.page_events.borrow_mut().clear();
        if let Some((channel, _)) = self.inner.channel.borrow_mut().take() {
            channel.close();
        }
        self.inner.db.close();
        let lock = self.inner.lock.borrow_mut().take();
        if let Some(lock) = lock {
            let _ = JsFuture::from(lock.release()).await;
        }
    }
}

fn flush_in_background(weak: &Weak<Inner>) {
    if let Some(inner) = weak.upgrade() {
        spawn_local(async move {
            // Failures reach the app as `error` / `quota` status events.
            let _ = Store { inner }.flush().await;
        });
    }
}
