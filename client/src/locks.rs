//! The per-tab Web Lock. web-sys only exposes `LockManager` behind
//! `--cfg=web_sys_unstable_apis`, which every downstream build would have to
//! set, so the two calls used here are bound directly.

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;

use crate::{js, prelude::*, text::concat};

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request_with_options(
        this: &LockManager,
        name: &str,
        options: &Object,
        callback: &Function,
    ) -> Promise;

    #[wasm_bindgen(method)]
    fn query(this: &LockManager) -> Promise;
}

fn lock_manager() -> Option<LockManager> {
    let locks = js::get(&js::global_object("navigator")?, "locks");
    locks.is_object().then(|| locks.unchecked_into())
}

pub(crate) fn lock_name(db_name: &str, tab_id: &str) -> String {
    concat(&["chatterbox-recovery:", db_name, ":tab:", tab_id])
}

fn tab_of<'a>(db_name: &str, lock: &'a str) -> Option<&'a str> {
    lock.strip_prefix("chatterbox-recovery:")?
        .strip_prefix(db_name)?
        .strip_prefix(":tab:")
}

/// A held lock; released by [`TabLock::release`] or when the tab goes away
/// (which is the whole point: the browser releases it even on a crash).
#[derive(Debug)]
pub(crate) struct TabLock {
    release: Function,
    /// Settles once the lock manager has actually let go.
    released: Promise,
}

impl TabLock {
    /// Requests the lock and waits until it is granted. `None` where the
    /// browser has no Web Locks (the heartbeat then decides liveness).
    /// `Err` when another live tab holds it: only possible when the app
    /// passes the same `tabId` twice.
    pub(crate) async fn acquire(name: &str) -> Result<Option<TabLock>, ()> {
        let Some(manager) = lock_manager() else {
            return Ok(None);
        };
        let (held_until, release, _) = js::deferred();
        let (granted, on_granted, _) = js::deferred();
        // Returning `held_until` from the callback keeps the lock until we
        // resolve it. With `ifAvailable` the callback gets `null` instead of
        // waiting behind a holder.
        let callback = wasm_bindgen::closure::Closure::once_into_js(move |lock: JsValue| {
            let _ = on_granted.call1(&JsValue::NULL, &JsValue::from_bool(!lock.is_null()));
            if lock.is_null() {
                JsValue::UNDEFINED
            } else {
                JsValue::from(held_until)
            }
        });
        let options = Object::new();
        js::set_str(&options, "mode", "exclusive");
        js::set_bool(&options, "ifAvailable", true);
        let released = manager.request_with_options(name, &options, callback.unchecked_ref());
        match JsFuture::from(granted).await {
            Ok(v) if v.as_bool() == Some(true) => Ok(Some(TabLock { release, released })),
            Ok(_) => Err(()),
            // The lock manager refused the request (e.g. an opaque origin):
            // fall back to the heartbeat.
            Err(_) => Ok(None),
        }
    }

    /// Lets the lock go; the returned promise settles when other tabs can
    /// see it free.
    pub(crate) fn release(self) -> Promise {
        let _ = self.release.call0(&JsValue::NULL);
        self.released
    }
}

/// Tab ids (of this database) whose lock is held by some live tab, or `None`
/// without Web Locks.
pub(crate) async fn held_tabs(db_name: &str) -> Option<Vec<String>> {
    let manager = lock_manager()?;
    let snapshot = JsFuture::from(manager.query()).await.ok()?;
    let held: Array = js::get(&snapshot, "held").dyn_into().ok()?;
    Some(
        held.iter()
            .filter_map(|l| js::get_str(&l, "name"))
            .filter_map(|n| tab_of(db_name, &n).map(str::to_owned))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_name_round_trips_to_its_tab_for_the_same_database_only() {
        let name = lock_name("db", "t1");
        assert_eq!(tab_of("db", &name), Some("t1"));
        assert_eq!(tab_of("other", &name), None);
    }
}
