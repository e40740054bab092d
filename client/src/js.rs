//! Small helpers for reading and writing plain JS objects without serde: the
//! records are a handful of fields, and serde's generated code would cost more
//! wasm than these few Reflect calls.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::{prelude::*, text::concat};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// `globalThis`: the window, or the worker's global scope. One import,
/// where `js_sys::global()` probes four names.
pub(crate) fn global() -> JsValue {
    GLOBAL_THIS.with(JsValue::clone)
}

/// A property of `globalThis` (`indexedDB`, `navigator`, ...), `None` unless
/// it is an object.
pub(crate) fn global_object(key: &str) -> Option<JsValue> {
    let value = get(&global(), key);
    value.is_object().then_some(value)
}

pub(crate) fn set(obj: &Object, key: &str, value: &JsValue) {
    // Reflect.set only fails on frozen or exotic objects, which we never build.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

pub(crate) fn set_str(obj: &Object, key: &str, value: &str) {
    set(obj, key, &JsValue::from_str(value));
}

pub(crate) fn set_opt_str(obj: &Object, key: &str, value: Option<&str>) {
    match value {
        Some(v) => set_str(obj, key, v),
        None => set(obj, key, &JsValue::NULL),
    }
}

pub(crate) fn set_f64(obj: &Object, key: &str, value: f64) {
    set(obj, key, &JsValue::from_f64(value));
}

pub(crate) fn set_bool(obj: &Object, key: &str, value: bool) {
    set(obj, key, &JsValue::from_bool(value));
}

pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

pub(crate) fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

pub(crate) fn get_bool(obj: &JsValue, key: &str) -> bool {
    get(obj, key).as_bool().unwrap_or(false)
}

/// A promise plus the function that resolves it, for bridging callback APIs
/// (IndexedDB events, Web Locks) into futures.
pub(crate) fn deferred() -> (Promise, Function, Function) {
    let mut resolve = JsValue::UNDEFINED;
    let mut reject = JsValue::UNDEFINED;
    // The executor runs synchronously inside the Promise constructor.
    let promise = Promise::new(&mut |res, rej| {
        resolve = res.into();
        reject = rej.into();
    });
    (promise, resolve.unchecked_into(), reject.unchecked_into())
}

pub(crate) fn array_of_strings(items: &[String]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

/// A readable "Name: message" for a thrown JS value, for error messages.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(s) = value.as_string() {
        return s;
    }
    let name = get_str(value, "name");
    let message = get_str(value, "message");
    match (name, message) {
        (Some(n), Some(m)) if !m.is_empty() => concat(&[&n, ": ", &m]),
        (Some(n), _) => n,
        (None, Some(m)) => m,
        (None, None) => String::from("unknown JavaScript error"),
    }
}
