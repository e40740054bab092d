//! This tab's liveness as other tabs see it: its row in `tabs` (heartbeat,
//! clean-exit mark), the page events that flush and mark, and the
//! BroadcastChannel notices between tabs.

use alloc::rc::{Rc, Weak};

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::spawn_local;
use web_sys::{BroadcastChannel, EventTarget, IdbTransactionMode, MessageEvent};

use super::{Inner, Status, Store, flush_in_background};
use crate::{
    Boxed,
    error::Result,
    idb, js,
    model::TabRecord,
    prelude::*,
    schema::TABS,
    text::{concat, u64_str},
    timer::{Listener, Timer},
};

impl Store {
    pub(super) fn write_tab_row<'a>(&'a self, clean_exit: bool) -> Boxed<'a, Result<()>> {
        Box::pin(self.write_tab_row_body(clean_exit))
    }

    async fn write_tab_row_body(&self, clean_exit: bool) -> Result<()> {
        let now = self.now();
        let row = TabRecord {
            tab_id: self.inner.tab_id.clone(),
            started_at: now,
            heartbeat_at: now,
            clean_exit,
        };
        let tx = idb::transaction(&self.inner.db, &[TABS], IdbTransactionMode::Readwrite)?;
        let tabs = idb::store(&tx, TABS)?;
        let existing = idb::request(idb::req(tabs.get(&JsValue::from_str(&row.tab_id)))?).await?;
        let started_at = TabRecord::from_js(&existing).map_or(now, |t| t.started_at);
        idb::req(tabs.put(&TabRecord { started_at, ..row }.to_js()))?;
        idb::committed(&tx).await
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
        *self.inner.heartbeat.borrow_mut() = Some(interval);
    }

    pub(super) fn listen_page_events(&self) {
        // Only a window has a document (and page events); a worker has neither.
        let Some(document) = js::global_object("document") else {
            return;
        };
        let window: EventTarget = js::global().unchecked_into();
        let mut listeners = Vec::new();
        let weak = Rc::downgrade(&self.inner);
        let doc = document.clone();
        listeners.push(Listener::new(
            document.unchecked_ref(),
            "visibilitychange",
            move |_| {
                if js::get_str(&doc, "visibilityState").as_deref() == Some("hidden") {
                    flush_in_background(&weak);
                }
            },
        ));
        let weak = Rc::downgrade(&self.inner);
        listeners.push(Listener::new(&window, "pagehide", move |_| {
            if let Some(inner) = weak.upgrade() {
                // Both writes start now, while the page is still here; chained,
                // the second might never run.
                let store = Store { inner };
                let marker = store.clone();
                spawn_local(async move {
                    let _ = store.flush().await;
                });
                spawn_local(async move {
                    let _ = marker.write_tab_row(true).await;
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
        *self.inner.page_events.borrow_mut() = listeners;
    }

    pub(super) fn channel_name(&self) -> String {
        concat(&["chatterbox-recovery:", &self.inner.db_name])
    }

    pub(super) fn listen_other_tabs(&self) {
        let Ok(channel) = BroadcastChannel::new(&self.channel_name()) else {
            return;
        };
        let weak: Weak<Inner> = Rc::downgrade(&self.inner);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let data = event.data();
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
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        *self.inner.channel.borrow_mut() = Some((channel, on_message));
    }

    pub(super) fn notify_other_tabs(&self, id: &str, revision: f64) {
        if let Some((channel, _)) = self.inner.channel.borrow().as_ref() {
            let msg = Object::new();
            js::set_str(&msg, "id", id);
            js::set_str(&msg, "tabId", &self.inner.tab_id);
            js::set_f64(&msg, "revision", revision);
            let _ = channel.post_message(&msg);
        }
    }
}
