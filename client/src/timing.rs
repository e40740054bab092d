//! User Timing: the client's work as `performance.measure` entries named
//! `recovery:autosave`, `recovery:detect` and `recovery:restore`, so an app
//! (and its tests) reads latencies with `performance.getEntriesByName`.

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::js;

#[wasm_bindgen]
extern "C" {
    type Performance;
    #[wasm_bindgen(method)]
    fn now(this: &Performance) -> f64;
    #[wasm_bindgen(method, catch)]
    fn measure(this: &Performance, name: &str, options: &Object) -> Result<JsValue, JsValue>;
}

fn performance() -> Option<Performance> {
    js::global_object("performance").map(JsCast::unchecked_into)
}

/// `performance.now()`, or 0 where there is no `performance`.
pub(crate) fn now() -> f64 {
    performance().map_or(0.0, |p| p.now())
}

/// A measure named `name` from `start` (a `now()`) to now. Best effort: a
/// browser without User Timing Level 3 simply records nothing.
pub(crate) fn measure(name: &str, start: f64) {
    if let Some(p) = performance() {
        let options = Object::new();
        js::set_f64(&options, "start", start);
        let _ = p.measure(name, &options);
    }
}
