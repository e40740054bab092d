//! The JS layer: the client secret, the key-value API, errors as `Error` objects, the class's
//! methods, status listeners and User Timing.

use super::*;

// ---- client secret, key-value, the JS layer -----------------------------------------------------

#[wasm_bindgen_test]
async fn the_client_secret_is_created_once_and_kept() {
    let db = unique_db("secret");
    let a = open(&db, "tab-a").await;
    let secret = a.client_secret().await.unwrap();
    assert_eq!(secret.len(), 43, "256 bits, base64url without padding");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    a.close().await.unwrap();
    let b = open(&db, "tab-b").await;
    assert_eq!(b.client_secret().await.unwrap(), secret);
    let other = open(&unique_db("secret-2"), "tab-c").await;
    assert_ne!(other.client_secret().await.unwrap(), secret);
}

/// Opens a store through the exported JS class, as an app would.
async fn open_js(db: &str) -> JsValue {
    let options = Object::new();
    Reflect::set(&options, &"dbName".into(), &db.into()).unwrap();
    Reflect::set(&options, &"listenPageEvents".into(), &JsValue::FALSE).unwrap();
    JsFuture::from(RecoveryStore::open(Some(options.unchecked_into())))
        .await
        .unwrap()
}

/// Calls a method of the JS object and awaits the promise it returns.
async fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = Reflect::get(obj, &method.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let args: Array = args.iter().collect();
    let promise: js_sys::Promise = f.apply(obj, &args)?.dyn_into().unwrap();
    JsFuture::from(promise).await
}

#[wasm_bindgen_test]
async fn the_key_value_api_round_trips_strings_for_the_zustand_adapter() {
    let db = unique_db("kv");
    let js = open_js(&db).await;
    let state = JsValue::from_str("{\"state\":{\"n\":1},\"version\":0}");
    assert!(
        call(&js, "getItem", &["app".into()])
            .await
            .unwrap()
            .is_null()
    );
    call(&js, "setItem", &["app".into(), state.clone()])
        .await
        .unwrap();
    assert_eq!(call(&js, "getItem", &["app".into()]).await.unwrap(), state);
    call(&js, "removeItem", &["app".into()]).await.unwrap();
    assert!(
        call(&js, "getItem", &["app".into()])
            .await
            .unwrap()
            .is_null()
    );
}

#[wasm_bindgen_test]
async fn js_promises_reject_with_an_error_object() {
    let db = unique_db("reject");
    let js = open_js(&db).await;
    let args = [
        "s".into(),
        JsValue::from(0),
        "not bytes".into(),
        "audio/wav".into(),
    ];
    let err = call(&js, "appendChunk", &args).await.expect_err("rejects");
    assert!(err.is_instance_of::<js_sys::Error>());
    let message = Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.contains("ArrayBuffer"), "{message}");
    let no_server = call(&js, "backup", &["s".into()])
        .await
        .expect_err("rejects");
    assert!(no_server.is_instance_of::<js_sys::Error>());
}

#[wasm_bindgen_test]
async fn the_js_class_saves_detects_and_restores() {
    let db = unique_db("js-class");
    let js = open_js(&db).await;
    let tab = Reflect::get(&js, &"tabId".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(tab.len() >= 16);
    let session = Object::new();
    Reflect::set(&session, &"id".into(), &"s1".into()).unwrap();
    Reflect::set(&session, &"text".into(), &"hi".into()).unwrap();
    let saved = call(&js, "save", &[session.into()]).await.unwrap();
    assert_eq!(
        Reflect::get(&saved, &"stored".into()).unwrap(),
        JsValue::TRUE
    );
    call(
        &js,
        "appendChunk",
        &[
            "s1".into(),
            JsValue::from(0),
            bytes(3, 4),
            "audio/wav".into(),
        ],
    )
    .await
    .unwrap();
    let restored = call(&js, "restore", &["s1".into()]).await.unwrap();
    assert_eq!(
        Reflect::get(&restored, &"text".into()).unwrap(),
        JsValue::from_str("hi")
    );
    let chunks: Array = Reflect::get(&restored, &"chunks".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(chunks.length(), 1);
    let bytes = Reflect::get(&chunks.get(0), &"bytes".into()).unwrap();
    assert!(bytes.is_instance_of::<js_sys::ArrayBuffer>());
    let detected: Array = call(&js, "detect", &[]).await.unwrap().dyn_into().unwrap();
    assert_eq!(detected.length(), 0);
    call(&js, "close", &[]).await.unwrap();
}

#[wasm_bindgen_test]
async fn storage_estimate_reports_usage_and_quota() {
    let db = unique_db("estimate");
    let js = open_js(&db).await;
    let estimate = call(&js, "estimate", &[]).await.unwrap();
    assert!(
        Reflect::get(&estimate, &"quota".into())
            .unwrap()
            .as_f64()
            .unwrap()
            > 0.0
    );
    // persist() may be granted or not in headless Chromium; it must resolve.
    let granted = call(&js, "requestPersist", &[]).await.unwrap();
    assert!(granted.as_bool().is_some());
}

// ---- secrets, the JS layer's additions, User Timing ----------------------------------------

#[wasm_bindgen_test]
async fn the_key_value_api_can_neither_read_nor_replace_the_client_secret() {
    let db = unique_db("secret-isolated");
    let store = open(&db, "tab-a").await;
    let secret = store.client_secret().await.unwrap();
    // An app's state named like the secret is its own.
    assert_eq!(store.kv_get("clientSecret").await.unwrap(), None);
    store.kv_set("clientSecret", "app state").await.unwrap();
    store.kv_remove("secrets").await.unwrap();
    store.close().await.unwrap();
    let again = open(&db, "tab-b").await;
    assert_eq!(again.client_secret().await.unwrap(), secret);
    assert_eq!(
        again.kv_get("clientSecret").await.unwrap().as_deref(),
        Some("app state")
    );
}

#[wasm_bindgen_test]
async fn a_v2_database_keeps_its_client_secret_through_the_upgrade() {
    // GIVEN a v2 database, its secret in the key-value store
    let db = unique_db("secret-upgrade");
    let old_secret = "S".repeat(43);
    testing::create_old_database(&db, 2, &[], &[("clientSecret", &old_secret), ("app", "{}")])
        .await
        .unwrap();
    // WHEN the current client opens it
    let store = open(&db, "tab-a").await;
    // THEN the secret is the same, in its own store, and gone from the
    // key-value API; the app's keys are untouched
    assert_eq!(store.client_secret().await.unwrap(), old_secret);
    assert_eq!(store.kv_get("clientSecret").await.unwrap(), None);
    assert_eq!(store.kv_get("app").await.unwrap().as_deref(), Some("{}"));
}

#[wasm_bindgen_test]
async fn on_status_returns_a_function_that_unsubscribes() {
    let db = unique_db("unsubscribe");
    let js = open_js(&db).await;
    let install = js_sys::Function::new_with_args(
        "store",
        "const seen = []; const off = store.onStatus((e) => seen.push(e.status));
         return { seen, off, edit: (text) => store.autosave({ id: 's1', text }) };",
    );
    let handle = install.call1(&JsValue::NULL, &js).unwrap();
    let seen: Array = Reflect::get(&handle, &"seen".into()).unwrap().into();
    let off: js_sys::Function = Reflect::get(&handle, &"off".into()).unwrap().into();
    let edit: js_sys::Function = Reflect::get(&handle, &"edit".into()).unwrap().into();
    edit.call1(&JsValue::NULL, &"one".into()).unwrap();
    call(&js, "flush", &[]).await.unwrap();
    assert_eq!(seen.get(0).as_string().as_deref(), Some("pending"));
    assert_eq!(
        seen.get(seen.length() - 1).as_string().as_deref(),
        Some("saved")
    );
    let before = seen.length();
    off.call0(&JsValue::NULL).unwrap();
    off.call0(&JsValue::NULL).unwrap();
    edit.call1(&JsValue::NULL, &"two".into()).unwrap();
    call(&js, "flush", &[]).await.unwrap();
    assert_eq!(seen.length(), before, "no events after unsubscribing");
}

#[wasm_bindgen_test]
async fn autosave_detect_and_restore_leave_user_timing_measures() {
    let measures = |name: &str| {
        js_sys::Function::new_with_args(
            "n",
            "return performance.getEntriesByName(n, 'measure').length;",
        )
        .call1(&JsValue::NULL, &name.into())
        .unwrap()
        .as_f64()
        .unwrap()
    };
    let before = ["recovery:autosave", "recovery:detect", "recovery:restore"].map(measures);
    let store = open(&unique_db("timing"), "tab-a").await;
    store.autosave(input("s1", "x"));
    store.flush().await.unwrap();
    store.detect().await.unwrap();
    store.restore("s1").await.unwrap();
    let after = ["recovery:autosave", "recovery:detect", "recovery:restore"].map(measures);
    for n in 0..3 {
        assert!(after[n] > before[n], "measure {n}: {before:?} -> {after:?}");
    }
}
