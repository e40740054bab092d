//! Round trips: a session and its audio saved, restored in order and deleted, and the
//! localStorage hint that follows them.

use super::*;

// ---- round trips -------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_saved_session_restores_with_text_voice_and_params() {
    // GIVEN a store
    let db = unique_db("roundtrip");
    let store = open(&db, "tab-a").await;
    // WHEN a session is saved
    let out = store.save(input("s1", "Hello world")).await.unwrap();
    // THEN it is committed and restores field for field
    assert!(out.stored);
    let restored = store.restore("s1").await.unwrap().expect("session exists");
    assert_eq!(restored.record.text, "Hello world");
    assert_eq!(restored.record.voice_id.as_deref(), Some("voice-a"));
    let speed = Reflect::get(&restored.record.params, &"speed".into()).unwrap();
    assert_eq!(speed.as_f64(), Some(1.25));
    assert!(restored.chunks.is_empty());
    assert!(store.restore("nope").await.unwrap().is_none());
}

#[wasm_bindgen_test]
async fn saving_again_bumps_the_revision_and_keeps_created_at() {
    let db = unique_db("revision");
    let store = open(&db, "tab-a").await;
    store.save(input("s1", "one")).await.unwrap();
    let first = store.get_record("s1").await.unwrap().unwrap();
    store.save(input("s1", "two")).await.unwrap();
    let second = store.get_record("s1").await.unwrap().unwrap();
    assert_eq!(second.text, "two");
    assert_eq!(second.revision, first.revision + 1.0);
    assert_eq!(second.created_at, first.created_at);
}

#[wasm_bindgen_test]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "chunk indexes are small whole JS numbers"
)]
async fn audio_chunks_restore_in_index_order_whatever_the_arrival_order() {
    // GIVEN chunks appended out of order, index 10 among them (so a string
    // sort would put it before 2)
    let db = unique_db("chunks");
    let store = open(&db, "tab-a").await;
    store.save(input("s1", "text")).await.unwrap();
    for index in [2u32, 0, 10, 1] {
        let out = store
            .append_chunk(
                "s1",
                index,
                bytes(
                    u8::try_from(index).unwrap(),
                    100 + usize::try_from(index).unwrap(),
                ),
                "audio/wav",
            )
            .await
            .unwrap();
        assert!(out.stored);
    }
    // WHEN the session is restored
    let restored = store.restore("s1").await.unwrap().unwrap();
    // THEN chunks come back in numeric index order, bytes intact
    let order: Vec<f64> = restored.chunks.iter().map(|c| c.index).collect();
    assert_eq!(order, vec![0.0, 1.0, 2.0, 10.0]);
    for c in &restored.chunks {
        assert_eq!(first_byte(&c.bytes), c.index as u8);
        assert_eq!(byte_len(&c.bytes), 100 + c.index as u32);
        assert_eq!(c.mime, "audio/wav");
    }
}

#[wasm_bindgen_test]
async fn a_chunk_that_arrives_before_any_text_save_creates_its_session() {
    let db = unique_db("chunk-first");
    let store = open(&db, "tab-a").await;
    store
        .append_chunk("s1", 0, bytes(7, 10), "audio/mpeg")
        .await
        .unwrap();
    let restored = store
        .restore("s1")
        .await
        .unwrap()
        .expect("session row created");
    assert_eq!(restored.chunks.len(), 1);
    assert_eq!(restored.record.text, "");
}

#[wasm_bindgen_test]
async fn delete_removes_the_session_and_its_audio() {
    let db = unique_db("delete");
    let store = open(&db, "tab-a").await;
    store.save(input("s1", "x")).await.unwrap();
    store
        .append_chunk("s1", 0, bytes(1, 10), "audio/wav")
        .await
        .unwrap();
    store.delete("s1").await.unwrap();
    assert!(store.restore("s1").await.unwrap().is_none());
    // Audio under the same id is gone too: a new session of that id is empty.
    store.save(input("s1", "again")).await.unwrap();
    assert!(
        store
            .restore("s1")
            .await
            .unwrap()
            .unwrap()
            .chunks
            .is_empty()
    );
}

/// The localStorage hint of `db`: session id → updatedAt, sorted by id.
fn hinted(db: &str) -> Vec<(String, f64)> {
    let storage = Reflect::get(&js_sys::global(), &"localStorage".into()).unwrap();
    let get_item: js_sys::Function = Reflect::get(&storage, &"getItem".into()).unwrap().into();
    let text = get_item
        .call1(
            &storage,
            &chatterbox_recovery_client::store::hints::key(db).into(),
        )
        .unwrap();
    let index = js_sys::JSON::parse(&text.as_string().expect("an index is stored")).unwrap();
    let mut out: Vec<(String, f64)> = Object::entries(index.unchecked_ref())
        .iter()
        .map(|e| {
            let e: Array = e.into();
            (e.get(0).as_string().unwrap(), e.get(1).as_f64().unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[wasm_bindgen_test]
async fn the_localstorage_hint_follows_saves_new_audio_and_deletes_and_is_rebuilt_at_open() {
    let db = unique_db("hint");
    let store = open(&db, "tab-a").await;
    store.save(input("a", "x")).await.unwrap();
    store
        .append_chunk("b", 0, bytes(1, 10), "audio/wav")
        .await
        .unwrap();
    let a = store.get_record("a").await.unwrap().unwrap().updated_at;
    let b = store.get_record("b").await.unwrap().unwrap().updated_at;
    assert_eq!(hinted(&db), vec![("a".into(), a), ("b".into(), b)]);

    store.delete("a").await.unwrap();
    assert_eq!(hinted(&db), vec![("b".to_string(), b)]);

    // A lost or damaged hint is rebuilt from IndexedDB by the next open.
    let storage = Reflect::get(&js_sys::global(), &"localStorage".into()).unwrap();
    let set_item: js_sys::Function = Reflect::get(&storage, &"setItem".into()).unwrap().into();
    set_item
        .call2(
            &storage,
            &chatterbox_recovery_client::store::hints::key(&db).into(),
            &"not json".into(),
        )
        .unwrap();
    store.close().await.unwrap();
    let _reopened = open(&db, "tab-b").await;
    assert_eq!(hinted(&db), vec![("b".to_string(), b)]);
}
