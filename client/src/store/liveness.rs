//! This tab's liveness as other tabs see it: its row in `tabs` (heartbeat,
//! clean-exit mark), the page events that flush and mark, and the
//! BroadcastChannel notices between tabs.

use alloc::rc::{Rc, Weak};

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{BroadcastChannel, EventTarget, IdbTransaction, IdbTransactionMode};

use super::{Inner, Status, Store, autosave::flush_in_background};
use crate::{
    error::Result,
    idb, js,
    model::TabRecord,
    prelude::*,
    schema::TABS,
    text::{concat, u64_str},
    timer::{Listener, Timer, on_hidden},
};

impl Store {
    /// This tab's first row: keeps the `startedAt` of an earlier store that
    /// used the same tab id.
    pub(super) fn open_tab_row(&self) -> Boxed<'_, Result<()>> {
        Box::pin(self.open_tab_row_body())
    }

    async fn open_tab_row_body(&self) -> Result<()> {
        let tx = idb::transaction(&self.inner.db, &[TABS], IdbTransactionMode::Readonly)?;
        let key = JsValue::from_str(&self.inner.tab_id);
        let existing = idb::request(idb::req(idb::store(&tx, TABS)?.get(&key))?).await?;
        if let Some(earlier) = TabRecord::from_js(&existing) {
            self.inner.started_at.set(earlier.started_at);
        }
        self.write_tab_row(false).await
    }

    pub(super) fn write_tab_row(&self, clean_exit: bool) -> Boxed<'_, Result<()>> {
        Box::pin(async move { idb::committed(&self.put_tab_row(clean_exit)?).await })
    }

    /// Issues the write of this tab's row in the caller's task and commits
    /// it at once. On `pagehide` the page can be torn down as soon as the
    /// handler returns, so the clean-exit mark must not wait for anything: no
    /// read first, no microtask, no auto-commit. (Where `commit()` is missing
    /// the transaction still auto-commits.)
    fn put_tab_row(&self, clean_exit: bool) -> Result<IdbTransaction> {
        let row = TabRecord {
            tab_id: self.inner.tab_id.clone(),
            started_at: self.inner.started_at.get(),
            heartbeat_at: self.now(),
            clean_exit,
        };
        let tx = idb::transaction(&self.inner.db, &[TABS], IdbTransactionMode::Readwrite)?;
        idb::req(idb::store(&tx, TABS)?.put(&row.to_js()))?;
        idb::commit_now(&tx);
        Ok(tx)
    }

    pub(super) fn start_heartbeat(&self) {
        let weak = Rc::downgrade(&self.inner);
        let interval = Timer::every(self.inner.opts.heartbeat_ms, move || {
            if let Some(inner) = weak.upgrade() {
                spawn_local(async move {
                    let store = Store { inner };
                    if !store.inner.closed.get() {
                        let _ = store.write_tab_row(false).await;
                    }
                });
            }
        });
        *self.inner.presence.heartbeat.borrow_mut() = Some(interval);
    }

    pub(super) fn listen_page_events(&self) {
        // Only a window has a document (and page events); a worker has neither.
        let Some(document) = js::global_object("document") else {
            return;
        };
        let window: EventTarget = js::global().unchecked_into();
        let mut listeners = Vec::new();
        let weak = Rc::downgrade(&self.inner);
        listeners.push(on_hidden(&document, move || flush_in_background(&weak)));
        let weak = Rc::downgrade(&self.inner);
        listeners.push(Listener::new(&window, "pagehide", move |_| {
            if let Some(inner) = weak.upgrade() {
                // The mark is written before this handler returns; the flush
                // starts now too (chained after the mark, it might never run).
                let store = Store { inner };
                let _ = store.put_tab_row(true);
                spawn_local(async move {
                    let _ = store.flush().await;
                });
            }
        }));
        let weak = Rc::downgrade(&self.inner);
        // Back from the back/forward cache: the tab lives again.
        listeners.push(Listener::new(&window, "pageshow", move |event| {
            let persisted = js::get_bool(&event, "persisted");
            if let (true, Some(inner)) = (persisted, weak.upgrade()) {
                spawn_local(async move {
                    let _ = Store { inner }.write_tab_row(false).await;
                });
            }
        }));
        *self.inner.presence.page_events.borrow_mut() = listeners;
    }

    pub(super) fn channel_name(&self) -> String {
        concat(&["chatterbox-recovery:", &self.inner.db_name])
    }

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a revision, a whole JS number, printed as an integer"
    )]
    pub(super) fn listen_other_tabs(&self) {
        let Ok(channel) = BroadcastChannel::new(&self.channel_name()) else {
            return;
        };
        let weak: Weak<Inner> = Rc::downgrade(&self.inner);
        let on_message = Listener::new(&channel, "message", move |event| {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let data = js::get(&event, "data");
            let (Some(id), Some(tab)) = (js::get_str(&data, "id"), js::get_str(&data, "tabId"))
            else {
                return;
            };
            let open_here = inner.known.borrow().revision(&id).is_some();
            if tab != inner.tab_id && open_here {
                let rev = js::get_f64(&data, "revision").unwrap_or(0.0);
                Store { inner }.emit(
                    Status::RemoteUpdate,
                    vec![id],
                    Some(concat(&[
                        "revision ",
                        &u64_str(rev as u64),
                        " saved in another tab",
                    ])),
                    Vec::new(),
                );
            }
        });
        *self.inner.presence.channel.borrow_mut() = Some((channel, on_message));
    }

    pub(super) fn notify_other_tabs(&self, id: &str, revision: f64) {
        if let Some((channel, _)) = self.inner.presence.channel.borrow().as_ref() {
            let msg = Object::new();
            js::set_str(&msg, "id", id);
            js::set_str(&msg, "tabId", &self.inner.tab_id);
            js::set_f64(&msg, "revision", revision);
            let _ = channel.post_message(&msg);
        }
    }
}
