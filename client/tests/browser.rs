//! The client in headless Chromium: `client/scripts/test.sh` runs this file
//! with wasm-bindgen-test-runner. Each test works on its own database.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::rc::Rc;

use chatterbox_recovery_client::{
    OpenOptions, RecoveryStore, Status, Store,
    model::{DAY_MS, Liveness},
    server::no_progress,
    store::testing,
};
use common::*;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

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
                bytes(index as u8, 100 + index as usize),
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

// ---- auto-save -------------------------------------------------------------------

/// The statuses seen, in order.
fn statuses(events: &Events) -> Vec<Status> {
    events.0.borrow().iter().map(|(_, e)| e.status).collect()
}

#[wasm_bindgen_test]
async fn autosave_says_pending_at_once_then_saving_then_saved_once_committed() {
    // GIVEN a store
    let db = unique_db("autosave");
    let store = open(&db, "tab-a").await;
    let events = Events::attach(&store);
    // WHEN an edit is handed to autosave
    store.autosave(input("s1", "typed"));
    // THEN `pending` is out before anything was written
    assert_eq!(statuses(&events), vec![Status::Pending]);
    assert!(store.has_pending());
    // AND the write follows by itself: saving, then saved, in that order
    eventually(|| events.count(Status::Saved) == 1).await;
    assert_eq!(
        statuses(&events),
        vec![Status::Pending, Status::Saving, Status::Saved]
    );
    assert_eq!(store.get_record("s1").await.unwrap().unwrap().text, "typed");
    assert!(!store.has_pending());
    assert_eq!(
        events.of(Status::Saved)[0].session_ids,
        vec!["s1".to_string()]
    );
}

#[wasm_bindgen_test]
async fn edits_made_during_a_write_go_together_in_the_next_and_saved_waits_for_it() {
    // GIVEN a store whose first write is in flight when two more edits come
    let db = unique_db("coalesce");
    let store = open(&db, "tab-a").await;
    let events = Events::attach(&store);
    let in_flight = Rc::new(std::cell::RefCell::new(Vec::new()));
    let (typist, seen) = (store.clone(), in_flight.clone());
    store.on_status(Rc::new(
        move |e: &chatterbox_recovery_client::StatusEvent| {
            if e.status == Status::Saving {
                seen.borrow_mut().push(typist.writes_in_flight());
                if seen.borrow().len() == 1 {
                    typist.autosave(input("s1", "ab"));
                    typist.autosave(input("s1", "abc"));
                }
            }
        },
    ));
    // WHEN the first edit is written
    store.autosave(input("s1", "a"));
    eventually(|| events.count(Status::Saved) == 1).await;
    // THEN the two later edits went in one second write, after the first
    // (never two writes in flight), and `saved` came only after it
    assert_eq!(*in_flight.borrow(), vec![1, 1]);
    assert_eq!(
        statuses(&events),
        vec![
            Status::Pending,
            Status::Saving,
            Status::Pending,
            Status::Pending,
            Status::Saving,
            Status::Saved
        ]
    );
    let record = store.get_record("s1").await.unwrap().unwrap();
    assert_eq!(record.text, "abc");
    assert_eq!(record.revision, 2.0, "three edits, two writes");
}

#[wasm_bindgen_test]
async fn steady_typing_is_committed_as_it_goes_not_after_it_stops() {
    let db = unique_db("typing");
    let store = open(&db, "tab-a").await;
    // WHEN the user types every 20 ms
    let mut committed_while_typing = Vec::new();
    for n in 1..=40 {
        store.autosave(input("s1", &"x".repeat(n)));
        sleep(20).await;
        if let Some(r) = store.get_record("s1").await.unwrap() {
            committed_while_typing.push(r.text.len());
        }
    }
    // THEN edits were committed while typing went on (no waiting for quiet)
    assert!(
        committed_while_typing.iter().any(|&len| len < 40),
        "{committed_while_typing:?}"
    );
    store.flush().await.unwrap();
    assert_eq!(
        store.get_record("s1").await.unwrap().unwrap().text.len(),
        40
    );
}

#[wasm_bindgen_test]
async fn a_failed_write_says_error_keeps_the_edit_pending_and_the_next_write_saves_it() {
    // GIVEN a store whose next write fails (not on the quota)
    let db = unique_db("autosave-error");
    let store = open(&db, "tab-a").await;
    let events = Events::attach(&store);
    store.inject_errors(1);
    // WHEN an edit is handed over
    store.autosave(input("s1", "first"));
    eventually(|| events.count(Status::Error) == 1).await;
    // THEN the indicator hears `error`, never `saved`, and the edit waits
    assert_eq!(
        statuses(&events),
        vec![Status::Pending, Status::Saving, Status::Error]
    );
    assert!(
        events.of(Status::Error)[0]
            .message
            .as_deref()
            .unwrap()
            .contains("injected")
    );
    assert!(store.has_pending());
    assert!(store.get_record("s1").await.unwrap().is_none());
    // WHEN the user types on
    store.autosave(input("s1", "first, then more"));
    eventually(|| events.count(Status::Saved) == 1).await;
    // THEN the newest edit is committed and only then `saved` said
    assert_eq!(*statuses(&events).last().unwrap(), Status::Saved);
    assert_eq!(
        store.get_record("s1").await.unwrap().unwrap().text,
        "first, then more"
    );
    // AND `flush` rejects when its write fails
    store.inject_errors(1);
    store.autosave(input("s1", "again"));
    assert!(store.flush().await.is_err());
}

#[wasm_bindgen_test]
async fn a_save_delay_holds_the_write_back_for_more_edits() {
    let db = unique_db("delay");
    let store = Store::open(OpenOptions {
        save_delay_ms: 100,
        ..options(&db, "tab-a")
    })
    .await
    .unwrap();
    let events = Events::attach(&store);
    store.autosave(input("s1", "a"));
    store.autosave(input("s1", "ab"));
    assert!(store.get_record("s1").await.unwrap().is_none());
    eventually(|| events.count(Status::Saved) == 1).await;
    assert_eq!(events.count(Status::Saving), 1);
    assert_eq!(store.get_record("s1").await.unwrap().unwrap().text, "ab");
}

#[wasm_bindgen_test]
async fn flush_commits_queued_snapshots_at_once() {
    let db = unique_db("flush");
    let store = Store::open(OpenOptions {
        save_delay_ms: 60_000,
        ..options(&db, "tab-a")
    })
    .await
    .unwrap();
    store.autosave(input("s1", "one"));
    store.autosave(input("s2", "two"));
    store.flush().await.unwrap();
    assert_eq!(store.get_record("s1").await.unwrap().unwrap().text, "one");
    assert_eq!(store.get_record("s2").await.unwrap().unwrap().text, "two");
}

fn dispatch(target: &web_sys::EventTarget, name: &str) {
    let event = web_sys::Event::new(name).unwrap();
    target.dispatch_event(&event).unwrap();
}

/// A store that listens to page events, its autosave held back far longer
/// than a test: only a page event writes.
async fn open_listening(db: &str, tab: &str) -> Store {
    Store::open(OpenOptions {
        save_delay_ms: 60_000,
        listen_page_events: true,
        ..options(db, tab)
    })
    .await
    .unwrap()
}

#[wasm_bindgen_test]
async fn autosave_is_flushed_when_the_page_is_hidden() {
    // GIVEN a queued snapshot far from its own write
    let db = unique_db("hidden");
    let store = open_listening(&db, "tab-a").await;
    store.autosave(input("s1", "typed just now"));
    // WHEN the page becomes hidden (tab switch, phone lock)
    let document = web_sys::window().unwrap().document().unwrap();
    let hidden = Object::new();
    Reflect::set(&hidden, &"value".into(), &"hidden".into()).unwrap();
    Reflect::set(&hidden, &"configurable".into(), &JsValue::TRUE).unwrap();
    js_sys::Object::define_property(&document, &"visibilityState".into(), &hidden);
    dispatch(&document, "visibilitychange");
    Reflect::delete_property(&document, &"visibilityState".into()).unwrap();
    // THEN it is written at once
    eventually(|| !store.has_pending()).await;
    assert_eq!(
        store.get_record("s1").await.unwrap().unwrap().text,
        "typed just now"
    );
    store.close().await.unwrap();
}

#[wasm_bindgen_test]
async fn pagehide_flushes_and_marks_a_clean_exit() {
    let db = unique_db("pagehide");
    let a = open_listening(&db, "tab-a").await;
    a.autosave(input("s1", "last words"));
    dispatch(&web_sys::window().unwrap(), "pagehide");
    eventually(|| !a.has_pending()).await;
    // Let the clean-exit write (started beside the flush) commit.
    sleep(100).await;
    // The page is then gone: its lock with it.
    a.abandon().await;
    let b = open(&db, "tab-b").await;
    assert_eq!(
        b.get_record("s1").await.unwrap().unwrap().text,
        "last words"
    );
    assert!(b.detect().await.unwrap().is_empty());
    assert_eq!(b.list().await.unwrap()[0].state, Liveness::CleanExit);
}

#[wasm_bindgen_test]
async fn the_clean_exit_mark_is_issued_before_the_pagehide_handler_returns() {
    // GIVEN a tab whose work is saved
    let db = unique_db("pagehide-now");
    let a = open_listening(&db, "tab-a").await;
    a.save(input("s1", "saved")).await.unwrap();
    // WHEN the page is torn down right after its pagehide handlers ran (here
    // the connection closes in the same task: no transaction can start later)
    dispatch(&web_sys::window().unwrap(), "pagehide");
    a.abandon().await;
    // THEN the clean exit was recorded all the same
    let b = open(&db, "tab-b").await;
    assert_eq!(b.list().await.unwrap()[0].state, Liveness::CleanExit);
    assert!(b.detect().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn a_tab_id_held_by_a_live_store_cannot_be_opened_twice() {
    let db = unique_db("same-tab");
    let _a = open(&db, "tab-a").await;
    let err = Store::open(options(&db, "tab-a")).await.unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
}

// ---- crash detection ---------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_session_left_by_a_killed_tab_is_detected_as_crashed() {
    // GIVEN tab A saved a session and was killed (no clean exit, lock gone)
    let db = unique_db("crash");
    let a = open(&db, "tab-a").await;
    a.save(input("s1", "unsaved work")).await.unwrap();
    a.append_chunk("s1", 0, bytes(1, 10), "audio/wav")
        .await
        .unwrap();
    a.abandon().await;
    // WHEN tab B starts
    let b = open(&db, "tab-b").await;
    let found = b.detect().await.unwrap();
    // THEN the session is offered for recovery
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record.id, "s1");
    assert_eq!(found[0].state, Liveness::Crashed);
    assert_eq!(found[0].chunk_count, 1);
}

#[wasm_bindgen_test]
async fn several_crashed_sessions_come_back_newest_first_each_with_its_chunk_count() {
    // GIVEN tab A saved three sessions, one after the other, with 1, 2 and
    // 3 chunks, and was killed
    let db = unique_db("crash-many");
    let a = open(&db, "tab-a").await;
    for (n, id) in ["s1", "s2", "s3"].into_iter().enumerate() {
        a.save(input(id, "work")).await.unwrap();
        for index in 0..=n {
            a.append_chunk(id, index as u32, bytes(1, 10), "audio/wav")
                .await
                .unwrap();
        }
        sleep(5).await;
    }
    a.abandon().await;
    // WHEN tab B starts
    let b = open(&db, "tab-b").await;
    let found = b.detect().await.unwrap();
    // THEN all three are offered, newest first, each with its own count
    let got: Vec<(&str, u32)> = found
        .iter()
        .map(|s| (s.record.id.as_str(), s.chunk_count))
        .collect();
    assert_eq!(got, [("s3", 3), ("s2", 2), ("s1", 1)]);
}

#[wasm_bindgen_test]
async fn a_session_of_a_tab_that_closed_cleanly_is_not_offered() {
    let db = unique_db("clean");
    let a = open(&db, "tab-a").await;
    a.save(input("s1", "done")).await.unwrap();
    a.close().await.unwrap();
    let b = open(&db, "tab-b").await;
    assert!(b.detect().await.unwrap().is_empty());
    let all = b.list().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, Liveness::CleanExit);
}

#[wasm_bindgen_test]
async fn a_session_open_in_a_live_second_tab_is_not_a_crash() {
    // GIVEN tab A is alive with a session (it holds its Web Lock)
    let db = unique_db("live");
    let a = open(&db, "tab-a").await;
    a.save(input("s1", "still typing")).await.unwrap();
    // WHEN tab B starts
    let b = open(&db, "tab-b").await;
    // THEN nothing is offered, the session shows as another tab's
    assert!(b.detect().await.unwrap().is_empty());
    assert_eq!(b.list().await.unwrap()[0].state, Liveness::OtherTab);
    // AND once A dies, B sees the crash
    a.abandon().await;
    let found = b.detect().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].state, Liveness::Crashed);
}

#[wasm_bindgen_test]
async fn a_tabs_own_sessions_are_never_offered_to_itself() {
    let db = unique_db("own");
    let a = open(&db, "tab-a").await;
    a.save(input("s1", "mine")).await.unwrap();
    assert!(a.detect().await.unwrap().is_empty());
    assert_eq!(a.list().await.unwrap()[0].state, Liveness::Own);
}

#[wasm_bindgen_test]
async fn a_recovered_session_saved_by_the_new_tab_is_no_longer_offered() {
    let db = unique_db("adopt");
    let a = open(&db, "tab-a").await;
    a.save(input("s1", "before crash")).await.unwrap();
    a.abandon().await;
    let b = open(&db, "tab-b").await;
    let restored = b.restore("s1").await.unwrap().unwrap();
    assert_eq!(restored.record.text, "before crash");
    b.save(input("s1", "continued")).await.unwrap();
    b.close().await.unwrap();
    let c = open(&db, "tab-c").await;
    assert!(c.detect().await.unwrap().is_empty());
}

// ---- two tabs on one session --------------------------------------------------------

#[wasm_bindgen_test]
async fn two_tabs_writing_one_session_lose_neither_version() {
    // GIVEN tab B restored s1, then tab A saved a newer revision
    let db = unique_db("conflict");
    let a = open(&db, "tab-a").await;
    a.save(input("s1", "v1")).await.unwrap();
    let b = open(&db, "tab-b").await;
    let b_events = Events::attach(&b);
    b.restore("s1").await.unwrap().unwrap();
    a.save(input("s1", "A's edit")).await.unwrap();
    // THEN B hears about it
    eventually(|| b_events.count(Status::RemoteUpdate) == 1).await;
    // WHEN B saves its own stale edit
    b.save(input("s1", "B's edit")).await.unwrap();
    // THEN B's version is the session and A's is kept as a copy
    assert_eq!(b.get_record("s1").await.unwrap().unwrap().text, "B's edit");
    let conflicts = b_events.of(Status::Conflict);
    assert_eq!(conflicts.len(), 1);
    let copy_id = &conflicts[0].session_ids[1];
    let copy = b.get_record(copy_id).await.unwrap().unwrap();
    assert_eq!(copy.text, "A's edit");
    assert_eq!(copy.conflict_of.as_deref(), Some("s1"));
}

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

// ---- server answers, stubbed -------------------------------------------------------

/// Replaces `fetch` for requests to `/api/recovery/audio/` with a canned
/// problem answer; returns the function that puts the real one back.
fn stub_audio_lookup(status: u16) -> js_sys::Function {
    let install = js_sys::Function::new_with_args(
        "status",
        "const real = globalThis.fetch;
         globalThis.fetch = async (url, init) => String(url).includes('/api/recovery/audio/')
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
           if (url.includes('/api/recovery/audio/')) {
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
           if (!String(url).includes('/api/recovery/audio/')) return real(url, init);
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
