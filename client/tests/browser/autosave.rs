//! Auto-save: the statuses it reports, batching edits, flushing on page events, one store per
//! tab id.

use super::*;

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
