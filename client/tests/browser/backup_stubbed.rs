//! Whole-session recovery with `fetch` stubbed: a session document brought back part by part,
//! hostile documents and size claims refused, the authorization provider asked per request.

use super::*;

// ---- whole-session recovery and hostile answers, stubbed ----------------------------------

/// Stubs the token lookup: the audio (`audio_len` bytes of 7) and, unless
/// `doc` is null, the session document are served from blob: URLs, and the
/// lookup answers with their description, `extra` fields laid over it.
/// Returns the function that puts `fetch` back and returns the
/// `Authorization` headers the lookups carried.
fn stub_backup(doc: &JsValue, audio_len: u32, extra: &JsValue) -> js_sys::Function {
    let install = js_sys::Function::new_with_args(
        "doc, audioLen, extra",
        "const blobUrl = (part) => URL.createObjectURL(new Blob([part]));
         const text = doc === null ? null : typeof doc === 'string' ? doc : JSON.stringify(doc);
         const info = { url: blobUrl(new Uint8Array(audioLen).fill(7)), size: audioLen,
           content_type: 'audio/wav', metadata: {} };
         if (text !== null) { info.session_url = blobUrl(text); info.session_size = new Blob([text]).size; }
         Object.assign(info, extra ?? {});
         const real = globalThis.fetch; const auth = [];
         globalThis.fetch = async (url, init) => {
           if (!String(url).includes('/api/recovery/audio')) return real(url, init);
           const headers = new Headers(init?.headers);
           auth.push([headers.get('authorization'), headers.get('x-recovery-client')]);
           return new Response(JSON.stringify(info), { status: 200, headers: { 'content-type': 'application/json' } });
         };
         return () => { globalThis.fetch = real; return auth; };",
    );
    install
        .call3(&JsValue::NULL, doc, &JsValue::from(audio_len), extra)
        .unwrap()
        .dyn_into()
        .unwrap()
}

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

async fn stub_store(name: &str) -> Store {
    Store::open(OpenOptions {
        api_base_url: Some("http://stub.invalid".into()),
        ..options(&unique_db(name), "tab-a")
    })
    .await
    .unwrap()
}

const DOC: &str = r#"{"version":1,"id":"orig~2","text":"Hello there.","voiceId":"emily",
  "params":{"seed":5,"temperature":0.8,"parts":2},"createdAt":1000,"updatedAt":2000,
  "parts":[{"index":0,"mime":"audio/wav","size":3},{"index":1,"mime":"audio/wav","size":5}]}"#;

#[wasm_bindgen_test]
async fn a_session_document_brings_back_text_voice_params_and_every_part_under_its_own_id() {
    let store = stub_store("doc").await;
    let restore_fetch = stub_backup(&json(DOC), 8, &JsValue::NULL);
    let out = chatterbox_recovery_client::server::recover(
        &store,
        None,
        Some(&"D".repeat(43)),
        no_progress(),
    )
    .await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    let session = out.expect("recovered").session.expect("stored");
    assert_eq!(session.record.id, "orig~2");
    assert_eq!(session.record.text, "Hello there.");
    assert_eq!(session.record.voice_id.as_deref(), Some("emily"));
    let seed = Reflect::get(&session.record.params, &"seed".into()).unwrap();
    assert_eq!(seed.as_f64(), Some(5.0));
    let sizes: Vec<(f64, u32)> = session
        .chunks
        .iter()
        .map(|c| (c.index, byte_len(&c.bytes)))
        .collect();
    assert_eq!(sizes, vec![(0.0, 3), (1.0, 5)]);
    assert_eq!(session.record.server_token, Some("D".repeat(43)));
    // It is this tab's now: not offered as a crashed tab's.
    assert!(store.detect().await.unwrap().is_empty());
}

/// Recovers by token against the stub and expects a refusal naming `why`,
/// with nothing stored.
async fn expect_refused(name: &str, doc: JsValue, audio_len: u32, extra: JsValue, why: &str) {
    let store = stub_store(name).await;
    let restore_fetch = stub_backup(&doc, audio_len, &extra);
    let out = chatterbox_recovery_client::server::recover(
        &store,
        None,
        Some(&"E".repeat(43)),
        no_progress(),
    )
    .await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    let err = out.expect_err("a hostile answer is refused");
    assert!(err.to_string().contains(why), "{name}: {err}");
    assert!(
        store.list().await.unwrap().is_empty(),
        "{name}: nothing stored"
    );
}

#[wasm_bindgen_test]
async fn a_document_claiming_a_huge_number_of_parts_is_refused_cleanly() {
    let parts = js_sys::Function::new_no_args(
        "return { version: 1, id: 'h1', text: '', parts: Array.from({ length: 20000 }, (_, index) => ({ index, size: 0 })) };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    expect_refused("many-parts", parts, 8, JsValue::NULL, "too many parts").await;
}

#[wasm_bindgen_test]
async fn part_sizes_that_overflow_or_do_not_add_up_are_refused() {
    let overflow = json(
        r#"{"version":1,"id":"h2","parts":[{"index":0,"size":9007199254740992},{"index":1,"size":9007199254740992}]}"#,
    );
    expect_refused("overflow", overflow, 8, JsValue::NULL, "add up").await;
    let short = json(r#"{"version":1,"id":"h3","parts":[{"index":0,"size":3}]}"#);
    expect_refused("short", short, 8, JsValue::NULL, "add up").await;
    let negative = json(r#"{"version":1,"id":"h4","parts":[{"index":0,"size":-8}]}"#);
    expect_refused("negative", negative, 8, JsValue::NULL, "whole number").await;
}

#[wasm_bindgen_test]
async fn claimed_sizes_past_the_limits_are_refused_before_downloading() {
    let huge_audio = json(r#"{"size":1e13}"#);
    expect_refused("huge-audio", json(DOC), 8, huge_audio, "size").await;
    let huge_doc = json(r#"{"session_size":50000000}"#);
    expect_refused("huge-doc", json(DOC), 8, huge_doc, "session_size").await;
    // Object storage sending more than the lookup claimed is cut off.
    let understated = json(r#"{"size":4}"#);
    expect_refused(
        "understated",
        JsValue::NULL,
        8,
        understated,
        "longer than claimed",
    )
    .await;
    let bad_id = json(r#"{"version":1,"id":"../x","parts":[]}"#);
    expect_refused("bad-id", bad_id, 0, json(r#"{"size":0}"#), "id").await;
}

#[wasm_bindgen_test]
async fn run_length_metadata_claiming_billions_of_parts_is_not_expanded() {
    // GIVEN an older backup (no document) whose metadata claims 2e11 parts
    let store = stub_store("metadata").await;
    let metadata =
        json(r#"{"metadata":{"session_id":"m1","chunk_sizes":"1*99999999999,1*99999999999"}}"#);
    let restore_fetch = stub_backup(&JsValue::NULL, 8, &metadata);
    let out = chatterbox_recovery_client::server::recover(
        &store,
        None,
        Some(&"F".repeat(43)),
        no_progress(),
    )
    .await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    // THEN the audio comes back whole, as one part
    let session = out.expect("recovered").session.unwrap();
    assert_eq!(session.record.id, "m1");
    assert_eq!(session.chunks.len(), 1);
    assert_eq!(byte_len(&session.chunks[0].bytes), 8);
}

#[wasm_bindgen_test]
async fn the_authorization_provider_is_asked_for_every_request() {
    // GIVEN a store whose provider hands out a new bearer token each time
    let provider = js_sys::Function::new_no_args(
        "globalThis.__calls = (globalThis.__calls ?? 0) + 1; return Promise.resolve(`Bearer t-${globalThis.__calls}`);",
    );
    js_sys::Reflect::set(&js_sys::global(), &"__calls".into(), &JsValue::from(0)).unwrap();
    let store = Store::open(OpenOptions {
        api_base_url: Some("http://stub.invalid".into()),
        authorization: Some(provider),
        ..options(&unique_db("auth"), "tab-a")
    })
    .await
    .unwrap();
    let restore_fetch = stub_backup(&json(DOC), 8, &JsValue::NULL);
    for _ in 0..2 {
        chatterbox_recovery_client::server::recover(
            &store,
            Some("orig~2"),
            Some(&"G".repeat(43)),
            no_progress(),
        )
        .await
        .unwrap();
    }
    let seen: Array = restore_fetch.call0(&JsValue::NULL).unwrap().into();
    // THEN each lookup carried the provider's value of the moment, and the
    // client secret beside it
    let auth: Vec<Option<String>> = seen
        .iter()
        .map(|pair| Array::from(&pair).get(0).as_string())
        .collect();
    assert_eq!(
        auth,
        vec![Some("Bearer t-1".into()), Some("Bearer t-2".into())]
    );
    let secret = store.client_secret().await.unwrap();
    assert_eq!(Array::from(&seen.get(0)).get(1).as_string(), Some(secret));
}
