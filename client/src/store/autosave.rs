//! Write-through auto-save with coalescing: an edit handed to `autosave` is
//! written at once (after `save_delay_ms`, 0 by default); while a write is in
//! flight, newer edits wait in the queue, one snapshot per session, and the
//! newest goes next when it commits. At most one auto-save write is in
//! flight, so a hard kill loses at most the edits of about two commit round
//! trips. `pending` is emitted at once for every edit, `saved` only when
//! everything handed to `autosave` is committed.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use wasm_bindgen_futures::spawn_local;
use web_sys::IdbTransactionMode;

use super::{Inner, Status, Store, hints, key};
use crate::{
    Boxed,
    error::{ClientError, Result},
    idb,
    model::{SessionInput, SessionRecord},
    prelude::*,
    schema::SESSIONS,
    text::{concat, u64_str},
    timer::Timer,
    timing,
};

#[derive(Debug, Clone, Default)]
pub struct WriteOutcome {
    /// False when storage stayed full even after eviction.
    pub stored: bool,
    pub evicted: Vec<String>,
}

/// A snapshot waiting to be written, and when it was handed over
/// (`performance.now()`, for the `recovery:autosave` measure).
struct Queued {
    input: SessionInput,
    at: f64,
}

/// The auto-save queue and the writes in flight.
#[derive(Default)]
pub(super) struct Queue {
    /// The newest uncommitted snapshot per session.
    pending: RefCell<Vec<Queued>>,
    /// Session writes issued and not yet settled.
    writes: Cell<u32>,
    /// A write of the queue is scheduled (microtask or `save_delay_ms` timer).
    scheduled: Cell<bool>,
    pub(super) timer: RefCell<Option<Timer>>,
    /// Sessions committed since the last `saved` event.
    committed: RefCell<Vec<String>>,
}

impl Queue {
    /// Forgets every queued snapshot (a test tab that dies).
    #[cfg(feature = "test-hooks")]
    pub(super) fn drop_all(&self) {
        self.pending.borrow_mut().clear();
    }

    /// Session writes in flight (tests check there is at most one).
    #[cfg(feature = "test-hooks")]
    pub(super) fn writes(&self) -> u32 {
        self.writes.get()
    }
}

impl Store {
    /// Queues a snapshot for writing. Emits `pending` at once; the write
    /// starts after `save_delay_ms`, or when the write in flight commits.
    pub fn autosave(&self, input: SessionInput) {
        if self.inner.closed.get() {
            return;
        }
        let id = input.id.clone();
        {
            let mut pending = self.inner.queue.pending.borrow_mut();
            pending.retain(|p| p.input.id != id);
            pending.push(Queued {
                input,
                at: timing::now(),
            });
        }
        self.emit(Status::Pending, vec![id], None, Vec::new());
        self.schedule();
    }

    /// True while an edit handed to `autosave` is not committed.
    pub fn has_pending(&self) -> bool {
        let q = &self.inner.queue;
        !q.pending.borrow().is_empty() || q.writes.get() > 0
    }

    /// Starts a write of the queue soon, unless one is scheduled or in
    /// flight (its commit starts the next).
    fn schedule(&self) {
        let q = &self.inner.queue;
        if q.scheduled.get() || q.writes.get() > 0 {
            return;
        }
        q.scheduled.set(true);
        let weak = Rc::downgrade(&self.inner);
        let run = move || {
            if let Some(inner) = weak.upgrade() {
                spawn_local(pump(inner));
            }
        };
        match self.inner.opts.save_delay_ms {
            0 => run(),
            ms => *q.timer.borrow_mut() = Some(Timer::once(ms, run)),
        }
    }

    /// Writes every queued snapshot now and resolves once committed, and also
    /// after any earlier write still in flight (IndexedDB runs read-write
    /// transactions on the same store in creation order). A full disk is
    /// reported through a `quota` event, not as an error.
    pub fn flush(&self) -> Boxed<'_, Result<()>> {
        Box::pin(self.flush_body())
    }

    async fn flush_body(&self) -> Result<()> {
        self.check_open()?;
        let q = &self.inner.queue;
        q.timer.borrow_mut().take();
        q.scheduled.set(false);
        let batch: Vec<Queued> = core::mem::take(&mut *q.pending.borrow_mut());
        let ids: Vec<String> = batch.iter().map(|s| s.input.id.clone()).collect();
        // Counted before `saving` goes out: an edit a listener makes on it
        // waits for this write rather than starting a second one.
        q.writes.set(q.writes.get() + 1);
        if !batch.is_empty() {
            self.emit(Status::Saving, ids.clone(), None, Vec::new());
        }
        let inputs: Vec<SessionInput> = batch.iter().map(|b| b.input.clone()).collect();
        let protect = ids.first().cloned().unwrap_or_default();
        let (result, evicted) = self
            .with_quota_retry(&protect, &|| self.write_sessions(&inputs))
            .await;
        q.writes.set(q.writes.get() - 1);
        match result {
            Ok(()) => {
                if let Some(start) = batch.iter().map(|b| b.at).reduce(f64::min) {
                    timing::measure("recovery:autosave", start);
                }
                self.emit_evicted(&ids, &evicted);
                self.settle(ids);
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

    /// After a committed session write: `saved` once nothing is queued or in
    /// flight; otherwise the newest queued snapshots go next.
    fn settle(&self, ids: Vec<String>) {
        let q = &self.inner.queue;
        q.committed.borrow_mut().extend(ids);
        if q.writes.get() > 0 {
            return;
        }
        if q.pending.borrow().is_empty() {
            let committed = core::mem::take(&mut *q.committed.borrow_mut());
            if !committed.is_empty() {
                self.emit(Status::Saved, committed, None, Vec::new());
            }
        } else {
            self.schedule();
        }
    }

    /// True when nothing handed to `autosave` waits or is being written.
    pub(super) fn is_clean(&self) -> bool {
        !self.has_pending()
    }

    /// Puts back snapshots that failed to save, unless a newer one was queued
    /// meanwhile, so the next write retries them.
    fn requeue(&self, batch: Vec<Queued>) {
        let mut pending = self.inner.queue.pending.borrow_mut();
        for queued in batch {
            if !pending.iter().any(|p| p.input.id == queued.input.id) {
                pending.push(queued);
            }
        }
    }

    /// Drops what is queued for a session (a newer snapshot is being written,
    /// or the session is deleted).
    pub(super) fn unqueue(&self, id: &str) {
        self.inner
            .queue
            .pending
            .borrow_mut()
            .retain(|p| p.input.id != id);
    }

    pub(super) fn is_queued(&self, id: &str) -> bool {
        self.inner
            .queue
            .pending
            .borrow()
            .iter()
            .any(|p| p.input.id == id)
    }

    /// Saves one session immediately (the queue for it is dropped: this
    /// snapshot is newer).
    pub fn save(&self, input: SessionInput) -> Boxed<'_, Result<WriteOutcome>> {
        Box::pin(self.save_body(input))
    }

    async fn save_body(&self, input: SessionInput) -> Result<WriteOutcome> {
        self.check_open()?;
        self.unqueue(&input.id);
        let id = input.id.clone();
        let q = &self.inner.queue;
        q.writes.set(q.writes.get() + 1);
        self.emit(Status::Saving, vec![id.clone()], None, Vec::new());
        let batch = [input];
        let (result, evicted) = self
            .with_quota_retry(&id, &|| self.write_sessions(&batch))
            .await;
        q.writes.set(q.writes.get() - 1);
        let committed = result.is_ok();
        let outcome = self.report_write(id.clone(), result, evicted);
        if committed {
            self.settle(vec![id]);
        }
        outcome
    }

    /// Turns the result of a write into its outcome and events: `quota` when
    /// audio was evicted or the write dropped, `error` on any other failure.
    pub(super) fn report_write(
        &self,
        id: String,
        result: Result<()>,
        evicted: Vec<String>,
    ) -> Result<WriteOutcome> {
        let ids = vec![id];
        match result {
            Ok(()) => {
                self.emit_evicted(&ids, &evicted);
                Ok(WriteOutcome {
                    stored: true,
                    evicted,
                })
            }
            Err(ClientError::Quota) => {
                self.emit(
                    Status::Quota,
                    ids,
                    Some("storage is full: this write was dropped".into()),
                    evicted.clone(),
                );
                Ok(WriteOutcome {
                    stored: false,
                    evicted,
                })
            }
            Err(e) => {
                self.emit(Status::Error, ids, Some(e.message()), evicted);
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

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::float_cmp,
        reason = "revisions are whole JS numbers: compared exactly, printed as integers"
    )]
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
            let existing = idb::request(idb::req(sessions.get(&key(&input.id)))?).await?;
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
            // The copy is due; it never holds this write up.
            crate::server::copy::committed(self, id, *rev);
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
}

/// The scheduled write of the queue. Failures reach the app as `error` /
/// `quota` events; the snapshots stay queued for the next write.
async fn pump(inner: Rc<Inner>) {
    let store = Store { inner };
    let q = &store.inner.queue;
    q.scheduled.set(false);
    q.timer.borrow_mut().take();
    if store.inner.closed.get() || q.pending.borrow().is_empty() {
        return;
    }
    let _ = store.flush().await;
}

/// A flush started by a page event (hidden, pagehide), not awaited.
pub(super) fn flush_in_background(weak: &alloc::rc::Weak<Inner>) {
    if let Some(inner) = weak.upgrade() {
        spawn_local(async move {
            let _ = Store { inner }.flush().await;
        });
    }
}
