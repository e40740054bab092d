//! The server copy (`serverCopy`, README "Server copy"): every session
//! this tab commits is kept on the server as it changes, so that a lost,
//! wiped or replaced browser loses nothing older than a few seconds.
//!
//! - The document (version 2: text, voice, params and the parts already
//!   copied, each with its key) goes gzip-compressed in one request,
//!   `PUT /sessions/{id}`, which both stores it and slides its token: at most
//!   one per session every [`INTERVAL_MS`] while the user types, and one at
//!   once on `visibilitychange: hidden` / `pagehide` (`keepalive`).
//! - Each committed audio part is uploaded once beside generation:
//!   `append_chunk` never waits for it. A part waits up to [`BATCH_MS`] for
//!   the parts committed after it, and they go up together as one object
//!   (one create-upload, one presigned PUT), each listed in the document
//!   with that object's key, consecutively, in the object's byte order.
//!   Then the document, listing them, is due.
//! - Failures back off (1 s, 2 s, 4 s … 30 s, jittered; `Retry-After`
//!   honoured); offline, copies wait for `online`.
//! - Local saving never waits for any of this: the store's write paths only
//!   call [`committed`] and [`part`], which start tasks and return.
//!
//! Status events tell the two copies apart: `copy-pending` (on its way),
//! `backed-up` (the server acknowledged a document covering the last local
//! commit and every committed part), `offline`, `copy-error` (with when it
//! retries and what to do).

use alloc::rc::{Rc, Weak};
use core::cell::{RefCell, RefMut};

use js_sys::{Array, Object, Promise};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::EventTarget;

use super::{
    Request, api, backoff_ms,
    backup::{Upload, blob, upload},
    bad_answer,
    document::{self, SESSION_TYPE, byte_length, copy_parts, valid_session_id},
    encode, no_progress, send, wait_ms,
};
use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    prelude::*,
    store::{Inner, Status, Store},
    text::{concat, i64_str, u64_str},
    timer::{Listener, after, on_hidden},
};

/// At most one document upload per session in this many ms while typing.
pub const INTERVAL_MS: f64 = 5_000.0;
/// The largest body a `keepalive` request may carry.
const KEEPALIVE_MAX: f64 = 65_536.0;
/// How long a committed part waits for the parts after it before they are
/// uploaded together. Each upload costs the browser three requests
/// (create-upload, the PUT's CORS preflight, the PUT): one per part made
/// Firefox 1.3 % slower to generate a take of 20 parts at a server's pace,
/// on one CPU (client/README.md); parts that go up together cost it once.
const BATCH_MS: f64 = 1_000.0;
/// The most bytes uploaded as one object (a larger part goes alone).
const BATCH_MAX: f64 = 4.0 * 1024.0 * 1024.0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = CompressionStream)]
    type Compression;
    #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
    fn new(format: &str) -> core::result::Result<Compression, JsValue>;
    type ByteStream;
    #[wasm_bindgen(method, js_name = pipeThrough)]
    fn pipe_through(this: &ByteStream, transform: &Compression) -> ByteStream;
    type BlobStream;
    #[wasm_bindgen(method)]
    fn stream(this: &BlobStream) -> ByteStream;
    #[wasm_bindgen(js_name = Response)]
    type Body;
    #[wasm_bindgen(constructor, js_class = "Response", catch)]
    fn new(body: &ByteStream) -> core::result::Result<Body, JsValue>;
    #[wasm_bindgen(method, js_name = arrayBuffer)]
    fn array_buffer(this: &Body) -> Promise;
}

/// A committed part waiting for its upload.
#[derive(Debug)]
struct PendingPart {
    index: u32,
    bytes: JsValue,
    mime: String,
}

/// One session's copy.
#[derive(Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent flags of one session's copy, not states of one machine"
)]
struct Session {
    id: String,
    /// The newest revision committed here.
    committed: f64,
    /// The newest revision the server acknowledged.
    acked: f64,
    /// When the last document upload started (the store's clock).
    last_put: f64,
    /// No upload before this (backoff).
    retry_at: f64,
    failures: u32,
    /// A task is copying this session.
    running: bool,
    /// Upload at once, with `keepalive` (the page is being hidden).
    force: bool,
    /// Ends the task's current wait.
    wake: Option<js_sys::Function>,
    /// Committed parts not uploaded yet, oldest first.
    parts: Vec<PendingPart>,
    /// Since when the oldest of them waits (the store's clock).
    parts_since: f64,
    /// The server refused parts uploaded together as too large: each goes
    /// alone from now on.
    alone: bool,
    /// How many times the session's audio was cleared: parts uploading
    /// across a clear belong to the old take.
    clears: u32,
    /// A part was copied since the last document: the document is due.
    parts_dirty: bool,
    /// The server refused for good (the copy was deleted, or too big), or
    /// the session is gone here.
    stopped: bool,
}

impl Session {
    fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            committed: 0.0,
            acked: 0.0,
            last_put: f64::NEG_INFINITY,
            retry_at: 0.0,
            failures: 0,
            running: false,
            force: false,
            wake: None,
            parts: Vec::new(),
            parts_since: 0.0,
            alone: false,
            clears: 0,
            parts_dirty: false,
            stopped: false,
        }
    }

    /// The document is behind what is committed here.
    fn behind(&self) -> bool {
        self.committed > self.acked || self.parts_dirty
    }

    fn due(&self) -> bool {
        !self.stopped && (self.behind() || !self.parts.is_empty())
    }
}

/// The copy state of an open store (`Inner::copy`).
#[derive(Default)]
pub struct Engine {
    sessions: RefCell<Vec<Session>>,
    page_events: RefCell<Vec<Listener>>,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Engine")
    }
}

impl Engine {
    /// The session's state, created on first use. A borrow of the whole
    /// list: every caller lets it go within the statement or block, before
    /// anything that could come back here (a `kick`, an await).
    fn session(&self, id: &str) -> RefMut<'_, Session> {
        let mut list = self.sessions.borrow_mut();
        let at = list.iter().position(|s| s.id == id).unwrap_or_else(|| {
            list.push(Session::new(id));
            list.len() - 1
        });
        RefMut::map(list, |list| &mut list[at])
    }

    fn due(&self) -> Vec<String> {
        self.sessions
            .borrow()
            .iter()
            .filter(|s| s.due())
            .map(|s| s.id.clone())
            .collect()
    }
}

/// Starts the copy of a store opened with `server_copy`: listens to the
/// page and the network, and takes up what an earlier page left uncopied.
pub(crate) fn start(store: &Store) {
    let _ = store.inner.copy.set(Engine::default());
    let Some(engine) = store.inner.copy.get() else {
        return;
    };
    let window: EventTarget = js::global().unchecked_into();
    let weak = Rc::downgrade(&store.inner);
    // Back online: every copy that waits goes now.
    let mut listeners = vec![Listener::new(&window, "online", move |_| {
        copy_now(&weak, false);
    })];
    if let (true, Some(document)) = (
        store.opts().listen_page_events,
        js::global_object("document"),
    ) {
        let weak = Rc::downgrade(&store.inner);
        listeners.push(on_hidden(&document, move || copy_now(&weak, true)));
        let weak = Rc::downgrade(&store.inner);
        listeners.push(Listener::new(&window, "pagehide", move |_| {
            copy_now(&weak, true);
        }));
    }
    *engine.page_events.borrow_mut() = listeners;
    spawn_local(resume(store.clone()));
}

/// Every copy that is behind goes now. `hiding`: the page is being hidden
/// or left, so the local flush goes first and the uploads outlive the page.
fn copy_now(weak: &Weak<Inner>, hiding: bool) {
    if let Some(inner) = weak.upgrade() {
        let store = Store { inner };
        spawn_local(async move {
            if hiding {
                let _ = store.flush().await;
            }
            if let Some(engine) = store.inner.copy.get() {
                for id in engine.due() {
                    // Back online: no backoff left to sit out.
                    engine.session(&id).retry_at = 0.0;
                    kick(&store, &id, hiding);
                }
            }
        });
    }
}

/// What an earlier page left uncopied is copied now: edits after the last
/// acknowledged revision, and parts never uploaded (a crash cut the upload
/// short, or the server copy was off when they came). Sessions another open
/// tab is writing are that tab's to copy.
async fn resume(store: Store) {
    for summary in store.list().await.unwrap_or_default() {
        let r = &summary.record;
        if summary.state == crate::model::Liveness::OtherTab {
            continue;
        }
        if r.revision > r.copied_revision {
            committed(&store, &r.id, r.revision);
        }
        let copied = copy_parts(r);
        if summary.chunk_count > copied.length()
            && let Ok(Some(session)) = store.read_session(&r.id).await
        {
            let has = |index: f64| {
                copied
                    .iter()
                    .any(|p| js::get_f64(&p, "index") == Some(index))
            };
            for chunk in session.chunks.iter().filter(|c| !has(c.index)) {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "stored indexes are u32"
                )]
                part(
                    &store,
                    &r.id,
                    chunk.index as u32,
                    chunk.bytes.clone(),
                    &chunk.mime,
                );
            }
        }
    }
}

/// A session write committed revision `revision`: its copy is due.
pub(crate) fn committed(store: &Store, id: &str, revision: f64) {
    if let Some(engine) = store.inner.copy.get() {
        {
            let mut s = engine.session(id);
            s.committed = s.committed.max(revision);
        }
        kick(store, id, false);
    }
}

/// A committed audio part: uploaded once, beside whatever the app does
/// next (nothing here is awaited by the write); then the document, listing
/// it, is due. Parts of a type other than `audio/*` are never uploaded
/// (`appendChunk` refuses them when `serverCopy` is on).
pub(crate) fn part(store: &Store, id: &str, index: u32, bytes: JsValue, mime: &str) {
    if let (Some(engine), true) = (store.inner.copy.get(), mime.starts_with("audio/")) {
        {
            let mut s = engine.session(id);
            if s.parts.is_empty() {
                s.parts_since = store.now();
            }
            s.parts.push(PendingPart {
                index,
                bytes,
                mime: mime.to_owned(),
            });
        }
        kick(store, id, false);
    }
}

/// The session's audio was cleared (`clear_chunks`): the parts not uploaded
/// yet are the old take's and never go; the document, listing no parts, is
/// due.
pub(crate) fn cleared(store: &Store, id: &str) {
    if let Some(engine) = store.inner.copy.get() {
        {
            let mut s = engine.session(id);
            s.parts.clear();
            s.clears += 1;
            s.parts_dirty = true;
        }
        kick(store, id, false);
    }
}

/// Forgets a deleted session (its record is gone; nothing more to copy).
pub(crate) fn forget(store: &Store, id: &str) {
    if let Some(engine) = store.inner.copy.get() {
        engine.session(id).stopped = true;
    }
}

/// Starts the copy task of a session unless one runs, and ends its wait;
/// `force` makes its next document upload go at once with `keepalive`.
fn kick(store: &Store, id: &str, force: bool) {
    let Some(engine) = store.inner.copy.get() else {
        return;
    };
    let (start, wake) = {
        let mut s = engine.session(id);
        s.force |= force;
        let start = !s.running && s.due();
        s.running |= start;
        (start, s.wake.take())
    };
    if let Some(wake) = wake {
        let _ = wake.call0(&JsValue::NULL);
    }
    if start {
        spawn_local(run(store.clone(), id.to_owned()));
    }
}

/// What a session's copy task does next.
enum Next {
    Done,
    Wait(f64),
    Parts,
    Document { keepalive: bool },
}

/// A session's copy task, while anything is behind: parts together,
/// [`BATCH_MS`] after the oldest waiting one began to wait (at once when the
/// page is being hidden); the document no sooner than `INTERVAL_MS`
/// after the previous one (unless the page is being hidden); after a
/// failure, nothing before the backoff is over.
async fn run(store: Store, id: String) {
    loop {
        let Some(engine) = store.inner.copy.get() else {
            return;
        };
        let now = store.now();
        let next = {
            let mut s = engine.session(&id);
            let wait = s.retry_at - now;
            if store.is_closed() || !s.due() {
                s.running = false;
                Next::Done
            } else if s.force && s.behind() {
                s.force = false;
                Next::Document { keepalive: true }
            } else if wait > 0.0 {
                Next::Wait(wait)
            } else {
                // Parts wait for the parts after them (not while the page is
                // being hidden); the document waits for its interval.
                let parts = match s.parts.first() {
                    Some(_) if !s.force => s.parts_since + BATCH_MS - now,
                    Some(_) => 0.0,
                    None => f64::INFINITY,
                };
                let document = if s.behind() {
                    s.last_put + INTERVAL_MS - now
                } else {
                    f64::INFINITY
                };
                if parts <= 0.0 {
                    Next::Parts
                } else if document <= 0.0 {
                    Next::Document { keepalive: false }
                } else {
                    Next::Wait(parts.min(document))
                }
            }
        };
        let result = match next {
            Next::Done => return,
            Next::Wait(ms) => {
                wait(&store, &id, ms).await;
                continue;
            }
            Next::Parts => copy_parts_together(&store, &id).await,
            Next::Document { keepalive } => {
                let was_dirty = {
                    let mut s = engine.session(&id);
                    s.last_put = now;
                    core::mem::take(&mut s.parts_dirty)
                };
                store.emit(Status::CopyPending, vec![id.clone()], None, Vec::new());
                let result = put_document(&store, &id, keepalive).await;
                engine.session(&id).parts_dirty |= was_dirty && result.is_err();
                result
            }
        };
        settle(&store, &id, result);
    }
}

const OFFLINE: &str = "Offline: your work is saved on this device and will be backed up when the browser is back online";

/// Books the outcome of an upload and tells the app.
fn settle(store: &Store, id: &str, result: Put) {
    let Some(engine) = store.inner.copy.get() else {
        return;
    };
    let ids = vec![id.to_owned()];
    match result {
        Ok(revision) => {
            let backed_up = {
                let mut s = engine.session(id);
                s.acked = s.acked.max(revision);
                s.failures = 0;
                s.retry_at = 0.0;
                !s.behind() && s.parts.is_empty()
            };
            // Never while an edit is still uncommitted here.
            if backed_up && !store.has_pending() {
                store.emit(Status::BackedUp, ids, None, Vec::new());
            }
        }
        Err((error, retry_after)) => {
            // 410: the owner deleted the copy; the session is gone here.
            let gone = matches!(
                error,
                ClientError::Http { status: 410, .. } | ClientError::NotFound(_)
            );
            let delay = {
                let mut s = engine.session(id);
                s.failures += 1;
                s.stopped |= gone;
                // The backoff, not the typing throttle, says when to retry.
                s.last_put = f64::NEG_INFINITY;
                let delay = backoff_ms(s.failures, retry_after, js_sys::Math::random());
                s.retry_at = store.now() + delay;
                delay
            };
            // A request that could not go out while the browser says it is
            // offline: `offline`, and the `online` event ends the wait. (Only
            // then: `navigator.onLine` is false on machines whose API is on
            // loopback alone, so it never stops a request by itself.)
            if !gone && !online() && matches!(error, ClientError::Network(_)) {
                store.emit(Status::Offline, ids, Some(OFFLINE.into()), Vec::new());
                return;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a wait of at most 5 min, rounded up to seconds"
            )]
            let what = if gone {
                "; the server no longer takes this session".to_owned()
            } else {
                concat(&[
                    ": will retry in ",
                    &u64_str(((delay + 999.0) / 1000.0) as u64),
                    " s",
                ])
            };
            let hint = match error {
                ClientError::Http {
                    status: 401 | 403, ..
                } => "; sign in again if this persists",
                ClientError::Http { status: 429, .. } => {
                    "; the server's daily limit may be reached"
                }
                _ => "",
            };
            let cause = match &error {
                ClientError::Http { status, .. } => {
                    concat(&["HTTP ", &u64_str(u64::from(*status))])
                }
                other => other.message(),
            };
            let message = concat(&[
                "Server copy failed (",
                &cause,
                ")",
                &what,
                "; your work is saved on this device",
                hint,
            ]);
            store.emit(Status::CopyError, ids, Some(message), Vec::new());
        }
    }
}

/// Waits `ms` on the timer seam; a `kick` ends the wait early.
async fn wait(store: &Store, id: &str, ms: f64) {
    let (promise, resolve, _) = js::deferred();
    if let Some(engine) = store.inner.copy.get() {
        engine.session(id).wake = Some(resolve.clone());
    }
    // Through the store's timer seam when it has one (tests), else
    // `setTimeout`.
    match &store.opts().schedule {
        Some(schedule) => schedule(wait_ms(ms), resolve),
        None => after(wait_ms(ms), &resolve),
    }
    let _ = JsFuture::from(promise).await;
}

/// False when the browser says it is offline.
fn online() -> bool {
    js::get(&js::get(&js::global(), "navigator"), "onLine")
        .as_bool()
        .unwrap_or(true)
}

/// An upload's outcome: the revision the server acknowledged (0 for a
/// part); or the error and `Retry-After`.
type Put = core::result::Result<f64, (ClientError, Option<f64>)>;

/// Uploads the session's document once (no retry: the task backs off and
/// reports) and keeps what the server answered: the token of a 201, the
/// acknowledged revision.
fn put_document<'a>(store: &'a Store, id: &'a str, keepalive: bool) -> Boxed<'a, Put> {
    Box::pin(async move {
        let plain = |e: ClientError| (e, None);
        let record = store
            .get_record(id)
            .await
            .map_err(plain)?
            .ok_or_else(|| plain(ClientError::NotFound(id.to_owned())))?;
        let text = document::build_copy(&record)
            .map_err(|e| plain(ClientError::Invalid(js::describe(&e))))?;
        let (body, gzipped) = gzip(&text).await;
        let headers = [("Content-Type", SESSION_TYPE), ("Content-Encoding", "gzip")];
        #[allow(
            clippy::cast_possible_truncation,
            reason = "updatedAt is a whole number of ms"
        )]
        let path = concat(&[
            "/sessions/",
            &encode(id),
            "?parts=",
            &u64_str(u64::from(copy_parts(&record).length())),
            "&updated_at=",
            &i64_str(record.updated_at as i64),
            if record.server_token.is_none() {
                "&new_token=true"
            } else {
                ""
            },
        ]);
        let answer = send(
            store,
            &Request {
                method: "PUT",
                path: &path,
                // `Content-Encoding` only when compressed.
                headers: if gzipped { &headers } else { &headers[..1] },
                body: Some(&body),
                // (Uncompressed, the body's size is not known cheaply: no keepalive.)
                keepalive: keepalive && gzipped && byte_length(&body) <= KEEPALIVE_MAX,
                // Once: the task backs off and reports.
                retry: false,
            },
        )
        .await
        .map_err(plain)?;
        if !answer.ok() {
            return Err((answer.problem(), answer.retry_after));
        }
        let token = js::get_str(&answer.body, "token");
        let expires_at = js::get_str(&answer.body, "expires_at");
        let revision = record.revision;
        store
            .update_record(
                id,
                Box::new(move |r| {
                    r.copied_revision = r.copied_revision.max(revision);
                    if token.is_some() {
                        r.server_token = token;
                        r.server_token_expires_at = expires_at;
                    }
                }),
            )
            .await
            .map_err(plain)?;
        Ok(revision)
    })
}

/// The document gzip-compressed (`CompressionStream`), or as it is where
/// the browser has none.
async fn gzip(text: &JsValue) -> (JsValue, bool) {
    let compressed = async {
        let source = blob(&Array::of1(text), SESSION_TYPE).ok()?;
        let stream = source
            .unchecked_ref::<BlobStream>()
            .stream()
            .pipe_through(&Compression::new("gzip").ok()?);
        JsFuture::from(Body::new(&stream).ok()?.array_buffer())
            .await
            .ok()
    };
    match compressed.await {
        Some(bytes) => (bytes, true),
        None => (text.clone(), false),
    }
}

/// Uploads the oldest committed parts of the queue once, together as one
/// object: the oldest, and those after it while they fit in [`BATCH_MAX`]
/// (create-upload, then the presigned PUT of their bytes in order; each
/// part's type is in the document, the object's is the first part's).
/// Lists each in the record's `copy_parts` with the object's key, in the
/// object's order, and takes them off the queue. Parts the server
/// refuses for good (400, 413, 415) are taken off after a `copy-error`;
/// they stay on this device. Refused as too large together, they go again
/// one by one. After any other failure they wait for the next try. If the
/// audio was cleared meanwhile (`clears` changed), they were the old take's:
/// neither listed nor taken off (the queue is the new take's).
fn copy_parts_together<'a>(store: &'a Store, id: &'a str) -> Boxed<'a, Put> {
    Box::pin(async move {
        let Some(engine) = store.inner.copy.get() else {
            return Ok(0.0);
        };
        let (entries, bodies) = (Array::new(), Array::new());
        let mut size = 0.0;
        let (mime, clears) = {
            let s = engine.session(id);
            for part in &s.parts {
                let bytes = byte_length(&part.bytes);
                if entries.length() > 0 && (s.alone || size + bytes > BATCH_MAX) {
                    break;
                }
                size += bytes;
                let entry = Object::new();
                js::set_f64(&entry, "index", f64::from(part.index));
                js::set_str(&entry, "mime", &part.mime);
                js::set_f64(&entry, "size", bytes);
                entries.push(&entry);
                bodies.push(&part.bytes);
            }
            (
                s.parts.first().map(|p| p.mime.clone()).unwrap_or_default(),
                s.clears,
            )
        };
        let object = Upload {
            content_type: &mime,
            body: blob(&bodies, &mime).map_err(|e| (e, None))?.into(),
            length: size,
            filename: None,
        };
        let n = entries.length();
        let uploaded = upload(store, id, &object, 0.0, size, &no_progress()).await;
        let current = || engine.session(id).clears == clears;
        // Takes the parts off the queue, and says whether the document must
        // list them.
        let done = |copied: bool| {
            let mut s = engine.session(id);
            if s.clears == clears {
                let mut k = 0;
                s.parts.retain(|_| {
                    k += 1;
                    k > n
                });
                s.parts_dirty |= copied;
                // Parts committed meanwhile wait from now.
                s.parts_since = store.now();
            }
        };
        let key = match uploaded {
            Ok(key) => key,
            Err(error) => {
                match error {
                    // Too large together: each goes alone, at once.
                    ClientError::Http { status: 413, .. } if n > 1 => {
                        engine.session(id).alone = true;
                        return Ok(0.0);
                    }
                    // Refused for good (type or size): reported as a failure;
                    // the parts stay on this device.
                    ClientError::Http {
                        status: 400 | 413 | 415,
                        ..
                    } => done(false),
                    _ => {}
                }
                return Err((error, None));
            }
        };
        for entry in entries.iter() {
            js::set_str(entry.unchecked_ref(), "key", &key);
        }
        store
            .update_record(
                id,
                Box::new(move |r| {
                    if current() {
                        for entry in entries.iter() {
                            r.copy_parts = with_part(&r.copy_parts, &entry).into();
                        }
                    }
                }),
            )
            .await
            .map_err(|e| (e, None))?;
        done(true);
        Ok(0.0)
    })
}

/// `parts` (`[{index, …}]` in index order, or undefined) with `entry` in
/// its place: replacing the part with the same index, if any.
fn with_part(parts: &JsValue, entry: &JsValue) -> Array {
    let list = if Array::is_array(parts) {
        Array::from(parts)
    } else {
        Array::new()
    };
    let index = js::get_f64(entry, "index");
    let at = list
        .iter()
        .position(|p| js::get_f64(&p, "index") >= index)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or_else(|| list.length());
    let same = js::get_f64(&list.get(at), "index") == index;
    list.splice(at, u32::from(same), entry);
    list
}

/// The caller's server copies (`GET /sessions`), newest first, as the API
/// lists them: `[{session_id, updated_at, size, parts, expires_at}]`, at
/// most 1,000, each with a valid session id.
pub fn copies(store: &Store) -> Boxed<'_, Result<Array>> {
    Box::pin(async move {
        let list = js::get(&api(store, "GET", "/sessions", None).await?, "sessions");
        if !Array::is_array(&list) {
            return Err(bad_answer("sessions", "sessions"));
        }
        Ok(Array::from(&list)
            .iter()
            .take(1_000)
            .filter(|s| js::get_str(s, "session_id").is_some_and(|id| valid_session_id(&id)))
            .collect())
    })
}
