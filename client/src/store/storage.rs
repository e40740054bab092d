//! `navigator.storage` figures and the persistence request.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::js;

fn manager() -> Option<web_sys::StorageManager> {
    let storage = js::get(&js::global_object("navigator")?, "storage");
    storage.is_object().then(|| storage.unchecked_into())
}

/// `(usage, quota)` in bytes, `None` where the browser does not say.
pub async fn estimate() -> Option<(f64, f64)> {
    let promise = manager()?.estimate().ok()?;
    let e = JsFuture::from(promise).await.ok()?;
    Some((js::get_f64(&e, "usage")?, js::get_f64(&e, "quota")?))
}

/// Asks the browser not to evict this origin's storage under pressure.
pub async fn persist() -> bool {
    let Some(m) = manager() else {
        return false;
    };
    let Ok(promise) = m.persist() else {
        return false;
    };
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}
