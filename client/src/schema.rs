//! Schema versions and the upgrade path.
//!
//! v1 (the first release) kept each session in one row of `sessions`:
//! `{id, updated_at, text, params, voice_id, chunks: [{index, bytes, mime}],
//! server_token?}`. Rewriting a whole session
//! on every audio chunk made chunk writes quadratic, so
//! v2 splits the audio into `chunks` (one row per chunk, key
//! `[sessionId, index]`), renames fields to camelCase, adds the crash-detection
//! rows in `tabs` and a small key-value store `kv` (client secret, Zustand
//! adapter).
//!
//! v3 moves the client secret out of `kv` into a store of its own,
//! `secrets`, so that no key an app writes through the key-value API (a
//! Zustand store named `clientSecret`, say) can read or replace it. An
//! existing secret moves with the upgrade: the server knows the caller by it.

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters, IdbOpenDbRequest};

use crate::{js, prelude::*};

pub const VERSION: u32 = 3;

pub const SESSIONS: &str = "sessions";
pub const CHUNKS: &str = "chunks";
pub const TABS: &str = "tabs";
pub const KV: &str = "kv";
pub const SECRETS: &str = "secrets";
/// The key of the client secret in `secrets` (and, up to v2, in `kv`).
pub const CLIENT_SECRET: &str = "clientSecret";
pub const BY_UPDATED: &str = "updatedAt";

/// Runs inside `upgradeneeded`, synchronously creating stores; the v1 data
/// migration continues in request callbacks of the same versionchange
/// transaction.
pub(crate) fn upgrade(
    req: &IdbOpenDbRequest,
    old_version: f64,
    new_version: u32,
) -> Result<(), JsValue> {
    let db: IdbDatabase = req.result()?.unchecked_into();
    let tx = req
        .transaction()
        .ok_or_else(|| JsValue::from_str("no versionchange transaction"))?;
    if old_version < 1.0 {
        create_v1(&db)?;
    }
    if old_version < 2.0 && new_version >= 2 {
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&Array::of2(
            &JsValue::from_str("sessionId"),
            &JsValue::from_str("index"),
        ));
        db.create_object_store_with_optional_parameters(CHUNKS, &params)?;
        let params = IdbObjectStoreParameters::new();
        params.set_key_path(&JsValue::from_str("tabId"));
        db.create_object_store_with_optional_parameters(TABS, &params)?;
        db.create_object_store(KV)?;
        let sessions = tx.object_store(SESSIONS)?;
        sessions.create_index_with_str_and_optional_parameters(
            BY_UPDATED,
            BY_UPDATED,
            &IdbIndexParameters::new(),
        )?;
        if old_version >= 1.0 {
            migrate_v1_rows(&tx)?;
        }
    }
    if old_version < 3.0 && new_version >= 3 {
        db.create_object_store(SECRETS)?;
        if old_version >= 2.0 {
            move_secret(&tx)?;
        }
    }
    Ok(())
}

/// The v1 layout, also used by tests to build a v1 database to upgrade.
pub(crate) fn create_v1(db: &IdbDatabase) -> Result<(), JsValue> {
    let params = IdbObjectStoreParameters::new();
    params.set_key_path(&JsValue::from_str("id"));
    db.create_object_store_with_optional_parameters(SESSIONS, &params)?;
    Ok(())
}

fn migrate_v1_rows(tx: &web_sys::IdbTransaction) -> Result<(), JsValue> {
    let sessions = tx.object_store(SESSIONS)?;
    let chunks = tx.object_store(CHUNKS)?;
    let all = sessions.get_all()?;
    let rows_req = all.clone();
    let on_rows = Closure::once_into_js(move || {
        let rows: Array = rows_req
            .result()
            .map(JsCast::unchecked_into)
            .unwrap_or_default();
        for row in rows.iter() {
            if let Err(e) = migrate_row(&sessions, &chunks, &row) {
                web_sys::console::error_2(&JsValue::from_str("recovery: v1 row skipped"), &e);
            }
        }
    });
    all.set_onsuccess(Some(on_rows.unchecked_ref()));
    Ok(())
}

/// Moves the client secret from `kv` to `secrets`, in the versionchange
/// transaction.
fn move_secret(tx: &web_sys::IdbTransaction) -> Result<(), JsValue> {
    let kv = tx.object_store(KV)?;
    let secrets = tx.object_store(SECRETS)?;
    let key = JsValue::from_str(CLIENT_SECRET);
    let read = kv.get(&key)?;
    let req = read.clone();
    let on_read = Closure::once_into_js(move || {
        if let Some(secret) = req.result().ok().filter(JsValue::is_string) {
            let _ = secrets.put_with_key(&secret, &key);
            let _ = kv.delete(&key);
        }
    });
    read.set_onsuccess(Some(on_read.unchecked_ref()));
    Ok(())
}

fn migrate_row(
    sessions: &web_sys::IdbObjectStore,
    chunks: &web_sys::IdbObjectStore,
    row: &JsValue,
) -> Result<(), JsValue> {
    let Some(id) = js::get_str(row, "id") else {
        return Ok(());
    };
    let updated_at = js::get_f64(row, "updated_at").unwrap_or(0.0);
    let old_chunks: Array = js::get(row, "chunks").dyn_into().unwrap_or_default();
    for chunk in old_chunks.iter() {
        let c = Object::new();
        js::set_str(&c, "sessionId", &id);
        js::set(&c, "index", &js::get(&chunk, "index"));
        js::set(&c, "mime", &js::get(&chunk, "mime"));
        js::set(&c, "bytes", &js::get(&chunk, "bytes"));
        chunks.put(&c)?;
    }
    let record = crate::model::SessionRecord {
        id,
        created_at: updated_at,
        updated_at,
        text: js::get_str(row, "text").unwrap_or_default(),
        voice_id: js::get_str(row, "voice_id"),
        params: js::get(row, "params"),
        // v1 had no crash detection: an unknown tab reads as a crash, so
        // recent work is offered once rather than silently kept.
        tab_id: String::new(),
        revision: 1.0,
        completed: false,
        audio_evicted: false,
        server_token: js::get_str(row, "server_token"),
        server_token_expires_at: None,
        conflict_of: None,
        copy_parts: JsValue::UNDEFINED,
        copied_revision: 0.0,
    };
    sessions.put(&record.to_js())?;
    Ok(())
}
