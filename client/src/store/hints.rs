//! The localStorage hint (client/README.md, "Storage"): per database, a small
//! index `{sessionId: updatedAt}` that a page can read synchronously at
//! start-up, before the wasm and IndexedDB are up (`peekSessions` in
//! `js/index.js`). Only a hint: written after the IndexedDB commit, never
//! read by the store itself, rebuilt from IndexedDB at every open, and any
//! failure (no localStorage, a full quota, a privacy mode) is ignored. The
//! text stays in JS: no string crosses into the wasm.

use js_sys::{JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::{js, prelude::*, text::concat};

#[wasm_bindgen]
extern "C" {
    type HintStorage;
    #[wasm_bindgen(method, catch, js_name = getItem)]
    fn get_item(this: &HintStorage, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_item(this: &HintStorage, key: &str, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = parse)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// The localStorage key of a database's index (also in `js/hint.js`, which `js/index.js` uses).
pub fn key(db_name: &str) -> String {
    concat(&["chatterbox-recovery:", db_name, ":index"])
}

fn storage() -> Option<HintStorage> {
    // Reading `localStorage` itself throws where storage is blocked.
    js::global_object("localStorage").map(JsCast::unchecked_into)
}

fn save(storage: &HintStorage, key: &str, index: &Object) {
    if let Ok(text) = JSON::stringify(index) {
        let _ = storage.set_item(key, &text);
    }
}

/// Records a session's `updatedAt`, or with `None` forgets the session.
fn edit(db_name: &str, id: &str, updated_at: Option<f64>) {
    let Some(storage) = storage() else {
        return;
    };
    let key = key(db_name);
    let index: Object = storage
        .get_item(&key)
        .and_then(|text| json_parse(&text))
        .ok()
        .filter(JsValue::is_object)
        .map_or_else(Object::new, JsCast::unchecked_into);
    match updated_at {
        Some(at) => js::set_f64(&index, id, at),
        None => {
            let _ = Reflect::delete_property(&index, &JsValue::from_str(id));
        }
    }
    save(&storage, &key, &index);
}

pub(crate) fn put(db_name: &str, id: &str, updated_at: f64) {
    edit(db_name, id, Some(updated_at));
}

pub(crate) fn remove(db_name: &str, id: &str) {
    edit(db_name, id, None);
}

/// A localStorage item, `None` when absent or unreadable (the client
/// secret's mirror, `secret.rs`).
pub(crate) fn get_item(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?.as_string()
}

/// Sets a localStorage item; failures are ignored like the hint's.
pub(crate) fn set_item(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, &JsValue::from_str(value));
    }
}

/// Replaces the whole index (at open, from what IndexedDB holds).
pub(crate) fn replace(db_name: &str, index: &Object) {
    if let Some(storage) = storage() {
        save(&storage, &key(db_name), index);
    }
}
