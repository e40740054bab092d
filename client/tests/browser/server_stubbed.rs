//! Server answers with `fetch` stubbed: 410, 404, 500 and a refused download URL.

use chatterbox_recovery_client::server::{self, AudioState, RecoverOutcome};

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

/// A store whose API is the stub origin: every request to it is answered by a stub.
async fn stubbed_store(name: &str) -> Store {
    Store::open(OpenOptions {
        api_base_url: Some("http://stub.invalid".into()),
        ..options(&unique_db(name), "tab-a")
    })
    .await
    .unwrap()
}

/// Recovers session `s1` with `token` while the redeem route answers `status`; the real
/// `fetch` is back before the outcome is returned.
async fn recover_when_lookup_answers(
    store: &Store,
    token: &str,
    status: u16,
) -> Result<RecoverOutcome, chatterbox_recovery_client::ClientError> {
    let restore_fetch = stub_audio_lookup(status);
    let out = server::recover(store, Some("s1"), Some(token), no_progress()).await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    out
}

#[wasm_bindgen_test]
async fn a_410_from_the_server_is_audio_expired_with_text_and_params_restored() {
    let store = stubbed_store("stub-410").await;
    store.save(input("s1", "keep me")).await.unwrap();
    let out = recover_when_lookup_answers(&store, &"A".repeat(43), 410)
        .await
        .expect("410 is an outcome");
    assert_eq!(out.audio, AudioState::Expired);
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
    let store = stubbed_store("stub-404").await;
    let token = "B".repeat(43);
    let out = recover_when_lookup_answers(&store, &token, 404).await;
    assert_eq!(out.unwrap().audio, AudioState::NotFound);

    let out = recover_when_lookup_answers(&store, &token, 500).await;
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
    let store = stubbed_store("stub-403").await;
    store.save(input("s1", "keep me")).await.unwrap();
    // WHEN the audio is recovered
    let out = server::recover(&store, Some("s1"), Some(&"C".repeat(43)), no_progress()).await;
    let lookups = restore_fetch.call0(&JsValue::NULL).unwrap();
    restore_xhr.call0(&JsValue::NULL).unwrap();
    // THEN the token was looked up twice and the expiry reported, not an error
    assert_eq!(out.unwrap().audio, AudioState::Expired);
    assert_eq!(lookups.as_f64(), Some(2.0));
}
