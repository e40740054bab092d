//! Timers and event listeners that are cancelled when dropped (what
//! gloo-timers and gloo-events provided, without std and with fewer imports).

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue, closure::Closure, prelude::wasm_bindgen};
use web_sys::EventTarget;

use crate::prelude::*;

#[wasm_bindgen]
extern "C" {
    // The globals, present on Window and WorkerGlobalScope alike.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = setInterval)]
    fn set_interval(handler: &Function, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    #[wasm_bindgen(js_name = clearInterval)]
    fn clear_interval(id: &JsValue);
}

/// Resolves after `ms` (a backoff between retries). Nothing to cancel:
/// `setTimeout` calls the promise's own resolve function.
pub(crate) fn sleep(ms: u32) -> wasm_bindgen_futures::JsFuture {
    let (promise, resolve, _) = crate::js::deferred();
    set_timeout(&resolve, ms);
    promise.into()
}

/// `setTimeout(f, ms)` with a function of the caller's.
pub(crate) fn after(ms: u32, f: &Function) {
    set_timeout(f, ms);
}

/// A `setTimeout` (or, repeating, `setInterval`) that is cleared on drop.
pub(crate) struct Timer {
    id: JsValue,
    repeat: bool,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    pub(crate) fn once(ms: u32, f: impl FnMut() + 'static) -> Self {
        Self::new(ms, false, Box::new(f))
    }

    pub(crate) fn every(ms: u32, f: impl FnMut() + 'static) -> Self {
        Self::new(ms, true, Box::new(f))
    }

    fn new(ms: u32, repeat: bool, f: Box<dyn FnMut()>) -> Self {
        let callback = Closure::wrap(f);
        let handler: &Function = callback.as_ref().unchecked_ref();
        let id = if repeat {
            set_interval(handler, ms)
        } else {
            set_timeout(handler, ms)
        };
        Self {
            id,
            repeat,
            _callback: callback,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.repeat {
            clear_interval(&self.id);
        } else {
            clear_timeout(&self.id);
        }
    }
}

impl core::fmt::Debug for Timer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Timer")
    }
}

/// An event listener that is removed on drop.
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(JsValue) + 'static,
    ) -> Self {
        let f: Box<dyn FnMut(JsValue)> = Box::new(f);
        let callback = Closure::wrap(f);
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Self {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

/// A `visibilitychange` listener on `document` that calls `f` when the page
/// becomes hidden (the last moment a page is sure to run on mobile).
pub(crate) fn on_hidden(document: &JsValue, f: impl Fn() + 'static) -> Listener {
    let doc = document.clone();
    Listener::new(document.unchecked_ref(), "visibilitychange", move |_| {
        if crate::js::get_str(&doc, "visibilityState").as_deref() == Some("hidden") {
            f();
        }
    })
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

impl core::fmt::Debug for Listener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.kind)
    }
}
