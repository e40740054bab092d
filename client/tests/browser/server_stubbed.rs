//! Server answers with `fetch` stubbed: 410, 404, 500 and a refused download URL.

use super::*;

// ---- server answers, stubbed -------------------------------------------------------

/// Replaces `fetch` for requests to the redeem routes (`/api/recovery/audio`) with a canned
/// problem answer; returns the function that puts the real one back.
fn stub_audio_lookup(status: u16) -> js_sys::Function {
    let install = js_sys::Function::new_with_args(
        "status",
        "const real = globalThis.fetch;
         globalThis.fetch = async (url, init) => String(url).includes('/api/recovery/audio')
           ? new Response(JSON.stringify({ type: 'about:blank', title: 'stubbed', status }),
               { status, headers: { 'content-type': 'application/problem+json' } })
           : real(url, init);
         return () => { globalThis.fetch = real; };",
    );
    install
        .call1(&JsValue::NULL, &JsValue::from(status))
        .unwrap()
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_410_from_the_server_is_audio_expired_with_text_and_params_restored() {
    let db = unique_db("stub-410");
    let store = Store::open(OpenOptions {
        api_base_url: Some("http://stub.invalid".into()),
        ..options(&db, "tab-a")
    })
    .await
    .unwrap();
    store.save(input("s1", "keep me")).await.unwrap();
    let restore_fetch = stub_audio_lookup(410);
    let out = chatterbox_recovery_client::server::recover(
        &store,
        Some("s1"),
        Some(&"A".repeat(43)),
        no_progress(),
    )
    .await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    let out = out.expect("410 is an outcome");
    assert_eq!(
        out.audio,
        chatterbox_recovery_client::server::AudioState::Expired
    );
    let session = out.session.unwrap();
    assert_eq!(session.record.text, "keep me");
    assert!(
        !Reflect::get(&session.record.params, &"speed".into())
            .unwrap()
            .is_undefined()
    );
}

#[wasm_bindgen_test]
async fn a_404_from_the_server_is_not_found_and_a_500_is_an_error() {
    let db = unique_db("stub-404");
    let store = Store::open(OpenOptions {
        api_base_url: Some("http://stub.invalid".into()),
        ..options(&db, "tab-a")
    })
    .await
    .unwrap();
    let token = "B".repeat(43);
    let restore_fetch = stub_audio_lookup(404);
    let out = chatterbox_recovery_client::server::recover(
        &store,
        Some("s1"),
        Some(&token),
        no_progress(),
    )
    .await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    assert_eq!(
        out.unwrap().audio,
        chatterbox_recovery_client::server::AudioState::NotFound
    );

    let restore_fetch = stub_audio_lookup(500);
    let out = chatterbox_recovery_client::server::recover(
        &store,
        Some("s1"),
        Some(&token),
        no_progress(),
    )
    .await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    let err = out.expect_err("a 500 is an error");
    assert!(err.to_string().contains("500"), "{err}");
}

/// Replaces `XMLHttpRequest` with one that answers every request `status`
/// with no body; returns the function that puts the real one back.
fn fake_object_storage(status: u16) -> js_sys::Function {
    let install = js_sys::Function::new_with_args(
        "status",
        "const Real = globalThis.XMLHttpRequest;
         globalThis.XMLHttpRequest = class extends EventTarget {
           open() {} setRequestHeader() {} abort() {}
           get upload() { return new EventTarget(); }
           send() { setTimeout(() => { this.status = status; this.response = null;
             this.dispatchEvent(new ProgressEvent('loadend')); }); }
         };
         return () => { globalThis.XMLHttpRequest = Real; };",
    );
    install
        .call1(&JsValue::NULL, &JsValue::from(status))
        .unwrap()
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_refused_download_url_is_looked_up_again_and_an_expiry_meanwhile_reported() {
    // GIVEN a lookup that hands out a URL object storage then refuses (it
    // expired with the token), and a second lookup that says 410
    let install = js_sys::Function::new_no_args(
        "let lookups = 0; const real = globalThis.fetch;
         globalThis.fetch = async (url, init) => {
           url = String(url);
           if (url.includes('/api/recovery/audio')) {
             lookups += 1;
             return lookups === 1
               ? new Response(JSON.stringify({ url: 'http://stub.invalid/object', size: 3, metadata: {} }),
                   { status: 200, headers: { 'content-type': 'application/json' } })
               : new Response('{}', { status: 410 });
           }
           return real(url, init);
         };
         return () => { globalThis.fetch = real; return lookups; };",
    );
    let restore_fetch: js_sys::Function =
        install.call0(&JsValue::NULL).unwrap().dyn_into().unwrap();
    let restore_xhr = fake_object_storage(403);
    let db = unique_db("stub-403");
    let store = Store::open(OpenOptions {
        api_base_url: Some("http://stub.invalid".into()),
        ..options(&db, "tab-a")
    })
    .await
    .unwrap();
    store.save(input("s1", "keep me")).await.unwrap();
    // WHEN the audio is recovered
    let out = chatterbox_recovery_client::server::recover(
        &store,
        Some("s1"),
        Some(&"C".repeat(43)),
        no_progress(),
    )
    .await;
    let lookups = restore_fetch.call0(&JsValue::NULL).unwrap();
    restore_xhr.call0(&JsValue::NULL).unwrap();
    // THEN the token was looked up twice and the expiry reported, not an error
    assert_eq!(
        out.unwrap().audio,
        chatterbox_recovery_client::server::AudioState::Expired
    );
    assert_eq!(lookups.as_f64(), Some(2.0));
}
