//! IndexedDB plumbing: requests and transactions as futures, and opening the
//! database through the schema upgrade.
//!
//! Every future here resolves from the IDB event through promise reactions,
//! i.e. in the microtask checkpoint that follows the event, while the
//! transaction is still active. Callers may therefore await several requests
//! of one transaction in a row, but must not await anything else (a timer,
//! a fetch) before the last request is issued, or the transaction
//! auto-commits underneath them.

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    prelude::*,
    schema,
};

fn factory() -> Result<IdbFactory> {
    // `indexedDB` exists on both Window and WorkerGlobalScope.
    js::global_object("indexedDB")
        .map(JsCast::unchecked_into)
        .ok_or(ClientError::IndexedDbUnavailable)
}

/// Resolves with the request's result once its `success` event fires.
pub(crate) fn request<'a>(req: IdbRequest) -> Boxed<'a, Result<JsValue>> {
    Box::pin(request_body(req))
}

async fn request_body(req: IdbRequest) -> Result<JsValue> {
    let (promise, resolve, reject) = js::deferred();
    req.set_onsuccess(Some(&resolve));
    req.set_onerror(Some(&reject));
    JsFuture::from(promise)
        .await
        .map_err(|e| ClientError::from_idb(&e))?;
    req.result().map_err(|e| ClientError::from_idb(&e))
}

/// Resolves when the transaction has committed, i.e. the data is durable as
/// far as the browser promises; rejects with the abort reason (a quota
/// failure often only shows here, at commit).
pub(crate) fn committed(tx: &IdbTransaction) -> Boxed<'_, Result<()>> {
    Box::pin(committed_body(tx))
}

async fn committed_body(tx: &IdbTransaction) -> Result<()> {
    let (promise, resolve, reject) = js::deferred();
    tx.set_oncomplete(Some(&resolve));
    tx.set_onabort(Some(&reject));
    JsFuture::from(promise)
        .await
        .map_err(|_| match tx.error() {
            Some(e) => ClientError::from_idb(&e),
            None => ClientError::IndexedDb("transaction aborted".into()),
        })?;
    Ok(())
}

/// Asks for the commit now rather than when the transaction next goes idle
/// (`IDBTransaction.commit()`; web-sys marks it deprecated only because
/// older browsers lack it, and there the call fails and auto-commit stays).
pub(crate) fn commit_now(tx: &IdbTransaction) {
    #[allow(deprecated)]
    let _ = tx.commit();
}

pub(crate) fn transaction(
    db: &IdbDatabase,
    stores: &[&str],
    mode: IdbTransactionMode,
) -> Result<IdbTransaction> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    db.transaction_with_str_sequence_and_mode(&names, mode)
        .map_err(|e| ClientError::from_idb(&e))
}

pub(crate) fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore> {
    tx.object_store(name).map_err(|e| ClientError::from_idb(&e))
}

/// Maps the `Result<IdbRequest, JsValue>` of a web-sys call into our error.
pub(crate) fn req(r: core::result::Result<IdbRequest, JsValue>) -> Result<IdbRequest> {
    r.map_err(|e| ClientError::from_idb(&e))
}

/// All keys `[session_id, n]` of one session in the `chunks` store.
pub(crate) fn session_chunk_range(session_id: &str) -> Result<JsValue> {
    let lower = Array::of2(&JsValue::from_str(session_id), &JsValue::from_f64(0.0));
    let upper = Array::of2(
        &JsValue::from_str(session_id),
        &JsValue::from_f64(f64::INFINITY),
    );
    IdbKeyRange::bound(&lower, &upper)
        .map(JsValue::from)
        .map_err(|e| ClientError::from_idb(&e))
}

/// Opens (creating or upgrading) the database at the current schema version.
pub(crate) async fn open(name: &str) -> Result<IdbDatabase> {
    let open_req: IdbOpenDbRequest = factory()?
        .open_with_u32(name, schema::VERSION)
        .map_err(|e| ClientError::from_idb(&e))?;

    let for_upgrade = open_req.clone();
    // A `JsValue` event, as every other handler here takes: one closure
    // type (and one set of wasm-bindgen shims) for all of them.
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let old_version = js::get_f64(&event, "oldVersion").unwrap_or(0.0);
        if let Err(e) = schema::upgrade(&for_upgrade, old_version, schema::VERSION) {
            // Aborting the versionchange transaction makes the open fail
            // with this error instead of leaving a half-migrated store.
            web_sys::console::error_2(&JsValue::from_str("recovery: upgrade failed"), &e);
            if let Some(tx) = for_upgrade.transaction() {
                let _ = tx.abort();
            }
        }
    });
    open_req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));

    let (promise, resolve, reject) = js::deferred();
    open_req.set_onsuccess(Some(&resolve));
    open_req.set_onerror(Some(&reject));
    let blocked = reject.clone();
    let on_blocked = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let _ = blocked.call1(&JsValue::NULL, &JsValue::from_str("blocked"));
    });
    open_req.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));

    let outcome = JsFuture::from(promise).await;
    open_req.set_onupgradeneeded(None);
    open_req.set_onblocked(None);
    drop(on_upgrade);
    drop(on_blocked);
    match outcome {
        Ok(_) => {}
        Err(e) if e.as_string().as_deref() == Some("blocked") => return Err(ClientError::Blocked),
        Err(e) => return Err(ClientError::from_idb(&e)),
    }
    let db: IdbDatabase = open_req
        .result()
        .map_err(|e| ClientError::from_idb(&e))?
        .unchecked_into();
    // A newer version of this code in another tab wants to upgrade: let it,
    // rather than blocking it forever.
    let for_close = db.clone();
    let on_version_change = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        for_close.close();
    });
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    // Lives as long as the connection; one per open store.
    on_version_change.forget();
    Ok(db)
}

#[cfg(feature = "test-hooks")]
pub(crate) async fn delete_database(name: &str) -> Result<()> {
    let req = factory()?
        .delete_database(name)
        .map_err(|e| ClientError::from_idb(&e))?;
    request(req.unchecked_into()).await.map(|_| ())
}
