//! Test hooks (feature `test-hooks`, enabled for the crate's own tests, never
//! in the package): injected write failures, a tab that dies without a
//! clean exit, databases in the layouts of earlier releases.
//!
//! Every write passes one seam, `take_injected_failure`; both of its forms
//! are here. Without the feature it is an inlined `Ok(())` and nothing else
//! in this file is compiled, so the package carries no test code.

use super::Store;
use crate::error::Result;
#[cfg(feature = "test-hooks")]
use {
    crate::{
        error::ClientError,
        idb,
        schema::{self, KV, SESSIONS},
    },
    core::cell::Cell,
    js_sys::Reflect,
    wasm_bindgen::{JsCast, JsValue, closure::Closure},
    web_sys::{IdbDatabase, IdbOpenDbRequest, IdbTransactionMode},
};

#[cfg(not(feature = "test-hooks"))]
impl Store {
    /// Without the `test-hooks` feature no failure is ever injected.
    #[allow(
        clippy::inline_always,
        clippy::unused_self,
        clippy::unnecessary_wraps,
        reason = "the same signature as the hooked seam, so the writes call one method; inlined to nothing"
    )]
    #[inline(always)]
    pub(super) fn take_injected_failure(&self) -> Result<()> {
        Ok(())
    }
}

/// Failures to inject into the next writes.
#[cfg(feature = "test-hooks")]
#[derive(Debug, Default)]
pub(super) struct Hooks {
    quota_failures: Cell<u32>,
    errors: Cell<u32>,
}

#[cfg(feature = "test-hooks")]
impl Store {
    /// The next `n` writes fail as if the quota were exceeded.
    pub fn inject_quota_failures(&self, n: u32) {
        self.inner.hooks.quota_failures.set(n);
    }

    /// The next `n` writes fail with an IndexedDB error (not the quota).
    pub fn inject_errors(&self, n: u32) {
        self.inner.hooks.errors.set(n);
    }

    pub(super) fn take_injected_failure(&self) -> Result<()> {
        let hooks = &self.inner.hooks;
        if let Some(n) = hooks.quota_failures.get().checked_sub(1) {
            hooks.quota_failures.set(n);
            return Err(ClientError::Quota);
        }
        if let Some(n) = hooks.errors.get().checked_sub(1) {
            hooks.errors.set(n);
            return Err(ClientError::IndexedDb("injected failure".into()));
        }
        Ok(())
    }

    /// Session writes issued and not settled yet.
    pub fn writes_in_flight(&self) -> u32 {
        self.inner.queue.writes()
    }

    /// Stops like a killed tab would, without flushing and without a
    /// clean-exit mark.
    pub async fn abandon(&self) {
        self.inner.queue.drop_all();
        self.shut_down().await;
    }
}

/// Creates database `name` in the layout of schema `version` (1 or 2), as an
/// earlier release left it, with `rows` in `sessions` and `kv` pairs.
#[cfg(feature = "test-hooks")]
pub async fn create_old_database(
    name: &str,
    version: u32,
    rows: &[JsValue],
    kv: &[(&str, &str)],
) -> Result<()> {
    let factory: web_sys::IdbFactory =
        Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
            .map_err(|e| ClientError::from_idb(&e))?
            .unchecked_into();
    let open: IdbOpenDbRequest = factory
        .open_with_u32(name, version)
        .map_err(|e| ClientError::from_idb(&e))?;
    let for_upgrade = open.clone();
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let _ = schema::upgrade(&for_upgrade, 0.0, version);
    });
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db: IdbDatabase = idb::request(open.clone().unchecked_into())
        .await?
        .unchecked_into();
    drop(on_upgrade);
    let stores: &[&str] = if version >= 2 {
        &[SESSIONS, KV]
    } else {
        &[SESSIONS]
    };
    let tx = idb::transaction(&db, stores, IdbTransactionMode::Readwrite)?;
    let sessions = idb::store(&tx, SESSIONS)?;
    for row in rows {
        idb::req(sessions.put(row))?;
    }
    if version >= 2 {
        let store = idb::store(&tx, KV)?;
        for (k, v) in kv {
            idb::req(store.put_with_key(&JsValue::from_str(v), &JsValue::from_str(k)))?;
        }
    }
    idb::committed(&tx).await?;
    db.close();
    Ok(())
}

/// A v1 database (audio inline in `sessions`) holding `rows`.
#[cfg(feature = "test-hooks")]
pub async fn create_v1_database(name: &str, rows: &[JsValue]) -> Result<()> {
    create_old_database(name, 1, rows, &[]).await
}

#[cfg(feature = "test-hooks")]
pub async fn delete_database(name: &str) -> Result<()> {
    idb::delete_database(name).await
}
