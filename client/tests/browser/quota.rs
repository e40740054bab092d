//! Room: sessions past retention removed at start-up, and a full disk met by evicting old
//! audio, never by a rejected write.

use super::*;

// ---- retention ----------------------------------------------------------------------

#[wasm_bindgen_test]
async fn sessions_older_than_a_day_are_removed_at_start_up() {
    // GIVEN a session (with audio) last saved 25 hours ago, and a recent one
    let db = unique_db("retention");
    let past = js_sys::Date::now() - DAY_MS - 3_600_000.0;
    let old = Store::open(OpenOptions {
        clock: Rc::new(move || past),
        ..options(&db, "tab-old")
    })
    .await
    .unwrap();
    old.save(input("old", "stale")).await.unwrap();
    old.append_chunk("old", 0, bytes(1, 10), "audio/wav")
        .await
        .unwrap();
    old.abandon().await;
    let recent = open(&db, "tab-recent").await;
    recent.save(input("new", "fresh")).await.unwrap();
    recent.abandon().await;
    // WHEN a tab starts
    let b = open(&db, "tab-b").await;
    // THEN the old session and its audio are gone, the recent one is offered
    assert!(b.restore("old").await.unwrap().is_none());
    let offered: Vec<String> = b
        .detect()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.record.id)
        .collect();
    assert_eq!(offered, vec!["new".to_string()]);
    b.save(input("old", "reused id")).await.unwrap();
    assert!(b.restore("old").await.unwrap().unwrap().chunks.is_empty());
}

// ---- quota ------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_full_disk_evicts_the_oldest_completed_audio_and_keeps_its_text() {
    // GIVEN two completed sessions with audio, the older first, and a live one
    let db = unique_db("quota");
    let store = open(&db, "tab-a").await;
    let events = Events::attach(&store);
    for id in ["older", "newer"] {
        store.save(input(id, &format!("{id} text"))).await.unwrap();
        store
            .append_chunk(id, 0, bytes(1, 1000), "audio/wav")
            .await
            .unwrap();
        store.complete(id).await.unwrap();
        sleep(5).await;
    }
    store.save(input("live", "typing")).await.unwrap();
    // WHEN the next chunk write hits the quota once
    store.inject_quota_failures(1);
    let out = store
        .append_chunk("live", 0, bytes(2, 1000), "audio/wav")
        .await
        .unwrap();
    // THEN it is stored after evicting the oldest completed session's audio
    assert!(out.stored);
    assert_eq!(out.evicted, vec!["older".to_string()]);
    let older = store.restore("older").await.unwrap().unwrap();
    assert!(older.chunks.is_empty());
    assert!(older.record.audio_evicted);
    assert_eq!(older.record.text, "older text");
    assert!(
        !Reflect::get(&older.record.params, &"speed".into())
            .unwrap()
            .is_undefined()
    );
    assert_eq!(
        store.restore("newer").await.unwrap().unwrap().chunks.len(),
        1
    );
    assert_eq!(
        store.restore("live").await.unwrap().unwrap().chunks.len(),
        1
    );
    // AND the app hears about it
    let quota = events.of(Status::Quota);
    assert_eq!(quota.len(), 1);
    assert_eq!(quota[0].evicted, vec!["older".to_string()]);
}

#[wasm_bindgen_test]
async fn when_nothing_can_be_evicted_a_write_is_dropped_without_throwing() {
    let db = unique_db("quota-full");
    let store = open(&db, "tab-a").await;
    let events = Events::attach(&store);
    store.save(input("live", "typing")).await.unwrap();
    store.inject_quota_failures(100);
    let chunk = store
        .append_chunk("live", 0, bytes(2, 1000), "audio/wav")
        .await
        .unwrap();
    assert!(!chunk.stored);
    let save = store.save(input("live", "more")).await.unwrap();
    assert!(!save.stored);
    // Autosave never throws either: the snapshot stays queued for a retry.
    store.autosave(input("live", "even more"));
    store.flush().await.unwrap();
    assert!(store.has_pending());
    assert!(events.count(Status::Quota) >= 3);
    // Once space is back, the queued snapshot goes through.
    store.inject_quota_failures(0);
    store.flush().await.unwrap();
    assert_eq!(
        store.get_record("live").await.unwrap().unwrap().text,
        "even more"
    );
}

#[wasm_bindgen_test]
fn a_quota_exceeded_dom_exception_is_recognised_on_a_request_or_at_commit() {
    use chatterbox_recovery_client::ClientError;
    let full =
        web_sys::DomException::new_with_message_and_name("full", "QuotaExceededError").unwrap();
    // As a request's error...
    assert!(ClientError::from_idb_for_tests(&full).is_quota());
    // ...and as the `error` of the target of an abort event (the transaction).
    let event = Object::new();
    let target = Object::new();
    Reflect::set(&target, &"error".into(), &full).unwrap();
    Reflect::set(&event, &"target".into(), &target).unwrap();
    assert!(ClientError::from_idb_for_tests(&event).is_quota());
    let other = web_sys::DomException::new_with_message_and_name("nope", "DataError").unwrap();
    assert!(!ClientError::from_idb_for_tests(&other).is_quota());
}

#[wasm_bindgen_test]
async fn the_js_api_never_rejects_a_chunk_on_a_full_disk() {
    let db = unique_db("quota-js");
    let store = open(&db, "tab-a").await;
    store.save(input("live", "t")).await.unwrap();
    store.inject_quota_failures(100);
    let js = RecoveryStore::from_core(store);
    let result =
        JsFuture::from(js.append_chunk("live".into(), 0, bytes(1, 10), "audio/wav".into()))
            .await
            .expect("resolves, does not reject");
    assert_eq!(
        Reflect::get(&result, &"stored".into()).unwrap(),
        JsValue::FALSE
    );
}
