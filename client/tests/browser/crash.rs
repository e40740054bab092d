//! Crash detection: sessions of a tab gone without a clean exit are offered, others not; two
//! tabs on one session keep both versions.

use super::*;

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
            a.append_chunk(id, u32::try_from(index).unwrap(), bytes(1, 10), "audio/wav")
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
