//! Schema upgrade: an older database opens with its sessions and audio intact.

use super::*;

// ---- schema upgrade ------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_v1_database_upgrades_with_sessions_and_audio_intact() {
    // GIVEN a database written by the first release (v1: audio inline)
    let db = unique_db("upgrade");
    let row = Object::new();
    Reflect::set(&row, &"id".into(), &"legacy".into()).unwrap();
    Reflect::set(
        &row,
        &"updated_at".into(),
        &JsValue::from_f64(js_sys::Date::now()),
    )
    .unwrap();
    Reflect::set(&row, &"text".into(), &"old text".into()).unwrap();
    Reflect::set(&row, &"voice_id".into(), &"v9".into()).unwrap();
    Reflect::set(&row, &"server_token".into(), &"tok".into()).unwrap();
    let params = Object::new();
    Reflect::set(&params, &"pitch".into(), &JsValue::from_f64(0.5)).unwrap();
    Reflect::set(&row, &"params".into(), &params).unwrap();
    let chunks = Array::new();
    for index in [1u8, 0] {
        let c = Object::new();
        Reflect::set(&c, &"index".into(), &JsValue::from(index)).unwrap();
        Reflect::set(&c, &"bytes".into(), &bytes(index + 10, 5)).unwrap();
        Reflect::set(&c, &"mime".into(), &"audio/wav".into()).unwrap();
        chunks.push(&c);
    }
    Reflect::set(&row, &"chunks".into(), &chunks).unwrap();
    testing::create_v1_database(&db, &[row.into()])
        .await
        .unwrap();
    // WHEN the current client opens it
    let store = open(&db, "tab-a").await;
    // THEN the session restores in the new layout, audio in order
    let restored = store.restore("legacy").await.unwrap().expect("migrated");
    assert_eq!(restored.record.text, "old text");
    assert_eq!(restored.record.voice_id.as_deref(), Some("v9"));
    assert_eq!(restored.record.server_token.as_deref(), Some("tok"));
    assert_eq!(
        Reflect::get(&restored.record.params, &"pitch".into())
            .unwrap()
            .as_f64(),
        Some(0.5)
    );
    let firsts: Vec<u8> = restored
        .chunks
        .iter()
        .map(|c| first_byte(&c.bytes))
        .collect();
    assert_eq!(firsts, vec![10, 11]);
    // AND, written before crash detection existed, it is offered once
    assert_eq!(store.detect().await.unwrap().len(), 1);
    // AND the new stores work
    assert_eq!(store.client_secret().await.unwrap().len(), 43);
}
