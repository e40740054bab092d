//! The server path against a running gateway (README, "Server backup and
//! recovery"): whole-session backup through presigned uploads, recovery by
//! token on another browser, expiry, revocation.
//!
//! The gateway's base URL is compiled in from `RECOVERY_API_URL`; without it
//! every test here fails (it is not skipped). `client/scripts/test.sh` runs
//! this file only when the variable is set, with the test page served from
//! the fixed origin <http://127.0.0.1:8765> so the gateway can allow it.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::float_cmp,
    reason = "progress figures are whole JS numbers: exact equality is the assertion"
)]

mod common;

use std::{cell::RefCell, rc::Rc};

use chatterbox_recovery_client::{
    OpenOptions, Status, Store,
    server::{self, AudioState, BackupOptions, Progress, no_progress},
};
use common::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const API_URL: Option<&str> = option_env!("RECOVERY_API_URL");

fn api_url() -> String {
    match API_URL {
        Some(url) if !url.is_empty() => url.to_owned(),
        _ => panic!(
            "RECOVERY_API_URL was not set when this test was compiled: set it to the gateway \
             base URL (e.g. http://127.0.0.1:3000) and run client/scripts/test.sh"
        ),
    }
}

async fn open_with_server(db: &str, tab: &str) -> Store {
    Store::open(OpenOptions {
        api_base_url: Some(api_url()),
        ..options(db, tab)
    })
    .await
    .expect("store opens")
}

/// A session with three chunks of different sizes (so a wrong split shows).
async fn session_with_audio(store: &Store, id: &str) {
    store.save(input(id, "text to keep")).await.unwrap();
    for (index, len) in [(0u32, 3000usize), (1, 1000), (2, 2500)] {
        store
            .append_chunk(
                id,
                index,
                bytes(u8::try_from(index).unwrap() + 1, len),
                "audio/wav",
            )
            .await
            .unwrap();
    }
    store.complete(id).await.unwrap();
}

fn progress_log() -> (Rc<RefCell<Vec<Progress>>>, server::OnProgress) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    (log, Rc::new(move |p: Progress| sink.borrow_mut().push(p)))
}

fn assert_chunks(restored: &chatterbox_recovery_client::store::Restored) {
    let got: Vec<(f64, u8, u32)> = restored
        .chunks
        .iter()
        .map(|c| (c.index, first_byte(&c.bytes), byte_len(&c.bytes)))
        .collect();
    assert_eq!(got, vec![(0.0, 1, 3000), (1.0, 2, 1000), (2.0, 3, 2500)]);
}

#[wasm_bindgen_test]
async fn backup_then_recover_on_another_browser_brings_the_audio_back_in_order() {
    // GIVEN a session with audio, backed up
    let a = open_with_server(&unique_db("srv-a"), "tab-a").await;
    session_with_audio(&a, "s1").await;
    let (uploads, on_upload) = progress_log();
    let backup = server::backup(&a, "s1", &BackupOptions::default(), on_upload)
        .await
        .expect("backup succeeds");
    // THEN a 43-character token is returned and kept with the session; the
    // audio and the session document went up
    assert_eq!(backup.token.len(), 43);
    assert!(backup.bytes > 6500.0, "{}", backup.bytes);
    assert_eq!(
        a.get_record("s1").await.unwrap().unwrap().server_token,
        Some(backup.token.clone())
    );
    assert!(
        uploads
            .borrow()
            .iter()
            .any(|p| p.phase == "upload" && p.loaded == backup.bytes)
    );
    // WHEN another browser (own database, own client secret) recovers by token
    let b = open_with_server(&unique_db("srv-b"), "tab-b").await;
    let (downloads, on_download) = progress_log();
    let out = server::recover(&b, Some("s1"), Some(&backup.token), on_download)
        .await
        .expect("recover succeeds");
    // THEN the audio comes back chunk for chunk, with progress reported
    assert_eq!(out.audio, AudioState::Restored);
    let restored = out.session.expect("session stored");
    assert_chunks(&restored);
    assert_eq!(restored.record.voice_id.as_deref(), Some("voice-a"));
    let log = downloads.borrow();
    let last_download = log
        .iter()
        .rfind(|p| p.phase == "download")
        .expect("download progress");
    assert_eq!(last_download.loaded, backup.bytes);
    assert!(
        log.iter()
            .any(|p| p.phase == "store" && p.loaded == 3.0 && p.total == 3.0)
    );
}

#[wasm_bindgen_test]
async fn recover_uses_the_token_kept_with_the_session() {
    let a = open_with_server(&unique_db("srv-kept"), "tab-a").await;
    session_with_audio(&a, "s1").await;
    server::backup(&a, "s1", &BackupOptions::default(), no_progress())
        .await
        .unwrap();
    let out = server::recover(&a, Some("s1"), None, no_progress())
        .await
        .unwrap();
    assert_eq!(out.audio, AudioState::Restored);
    let restored = out.session.unwrap();
    assert_chunks(&restored);
    assert_eq!(restored.record.text, "text to keep");
}

#[wasm_bindgen_test]
async fn an_expired_token_reports_audio_expired_and_still_restores_text_and_params() {
    // GIVEN a backup whose token lives one second
    let a = open_with_server(&unique_db("srv-expired"), "tab-a").await;
    session_with_audio(&a, "s1").await;
    let options = BackupOptions {
        ttl_seconds: Some(1),
        filename: Some("take-1.wav".into()),
    };
    server::backup(&a, "s1", &options, no_progress())
        .await
        .unwrap();
    // WHEN it is redeemed just after expiry (polled: a DynamoDB TTL sweep
    // may delete the record soon after, and a deleted record is a 404)
    let deadline = js_sys::Date::now() + 5_000.0;
    let out = loop {
        let out = server::recover(&a, Some("s1"), None, no_progress())
            .await
            .expect("expiry is an outcome, not an error");
        if out.audio != AudioState::Restored || js_sys::Date::now() > deadline {
            break out;
        }
        sleep(20).await;
    };
    // THEN no audio comes back, and text and params do. The gateway answers
    // 410 while the expired record remains; DynamoDB's TTL sweep (prompt in
    // DynamoDB Local) then deletes it and it is a 404. The 410 mapping
    // itself is pinned down in tests/browser/server_stubbed.rs (stubbed fetch).
    assert!(
        matches!(out.audio, AudioState::Expired | AudioState::NotFound),
        "{:?}",
        out.audio
    );
    let session = out.session.expect("local session");
    assert_eq!(session.record.text, "text to keep");
    assert!(
        !js_sys::Reflect::get(&session.record.params, &"speed".into())
            .unwrap()
            .is_undefined()
    );
}

#[wasm_bindgen_test]
async fn an_unknown_token_is_reported_not_found() {
    let b = open_with_server(&unique_db("srv-unknown"), "tab-b").await;
    let token = "A".repeat(43);
    let out = server::recover(&b, Some("s1"), Some(&token), no_progress())
        .await
        .unwrap();
    assert_eq!(out.audio, AudioState::NotFound);
    assert!(out.session.is_none());
}

#[wasm_bindgen_test]
async fn dismissing_a_backed_up_session_revokes_its_token() {
    // GIVEN a backed-up session
    let a = open_with_server(&unique_db("srv-dismiss"), "tab-a").await;
    session_with_audio(&a, "s1").await;
    let backup = server::backup(&a, "s1", &BackupOptions::default(), no_progress())
        .await
        .unwrap();
    // WHEN the user dismisses it
    server::dismiss(&a, "s1").await.expect("dismissed");
    assert!(a.restore("s1").await.unwrap().is_none());
    // THEN the token no longer brings anything back
    let b = open_with_server(&unique_db("srv-dismiss-b"), "tab-b").await;
    let out = server::recover(&b, Some("s1"), Some(&backup.token), no_progress())
        .await
        .unwrap();
    assert_ne!(out.audio, AudioState::Restored);
    // AND revoking again is fine (idempotent)
    server::revoke(&a, &backup.token).await.expect("idempotent");
}

/// Calls a method of a JS object and awaits the promise it returns.
async fn call(
    obj: &wasm_bindgen::JsValue,
    method: &str,
    args: &[wasm_bindgen::JsValue],
) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let f: js_sys::Function = js_sys::Reflect::get(obj, &method.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let args: js_sys::Array = args.iter().collect();
    let promise: js_sys::Promise = f.apply(obj, &args)?.dyn_into().unwrap();
    wasm_bindgen_futures::JsFuture::from(promise).await
}

#[wasm_bindgen_test]
async fn the_js_class_backs_up_and_recovers_with_progress_callbacks() {
    use js_sys::{Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};

    let set = |o: &Object, k: &str, v: &JsValue| {
        Reflect::set(o, &k.into(), v).unwrap();
    };
    let options = Object::new();
    set(&options, "dbName", &unique_db("srv-js").into());
    set(&options, "apiBaseUrl", &api_url().into());
    set(&options, "listenPageEvents", &JsValue::FALSE);
    let store = wasm_bindgen_futures::JsFuture::from(
        chatterbox_recovery_client::RecoveryStore::open(Some(options.unchecked_into())),
    )
    .await
    .unwrap();
    let session = Object::new();
    set(&session, "id", &"s1".into());
    set(&session, "text", &"from js".into());
    call(&store, "save", &[session.into()]).await.unwrap();
    for index in 0..2u8 {
        call(
            &store,
            "appendChunk",
            &[
                "s1".into(),
                index.into(),
                bytes(index + 1, 500),
                "audio/mpeg".into(),
            ],
        )
        .await
        .unwrap();
    }

    let phases = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = phases.clone();
    let on_progress = Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        let phase = Reflect::get(&p, &"phase".into())
            .unwrap()
            .as_string()
            .unwrap();
        sink.borrow_mut().push(phase);
    });
    let backup_options = Object::new();
    set(&backup_options, "ttlSeconds", &JsValue::from(600));
    set(&backup_options, "onProgress", on_progress.as_ref());
    let backup = call(&store, "backup", &["s1".into(), backup_options.into()])
        .await
        .expect("backup resolves");
    let token = Reflect::get(&backup, &"token".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(token.len(), 43);

    let recover_options = Object::new();
    set(&recover_options, "onProgress", on_progress.as_ref());
    let result = call(&store, "recover", &["s1".into(), recover_options.into()])
        .await
        .expect("recover resolves");
    assert_eq!(
        Reflect::get(&result, &"audio".into()).unwrap(),
        JsValue::from_str("restored")
    );
    let restored = Reflect::get(&result, &"session".into()).unwrap();
    let chunks: js_sys::Array = Reflect::get(&restored, &"chunks".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(chunks.length(), 2);
    let seen = phases.borrow();
    for phase in ["upload", "download", "store"] {
        assert!(
            seen.iter().any(|p| p == phase),
            "no {phase} progress in {seen:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn a_long_session_of_240_parts_round_trips_part_for_part() {
    // GIVEN 240 chunks (a long synthesis), equal-sized but the last
    let a = open_with_server(&unique_db("srv-many"), "tab-a").await;
    a.save(input("long", "a long text")).await.unwrap();
    for index in 0..240u32 {
        let len = if index == 239 { 700 } else { 4096 };
        a.append_chunk("long", index, bytes((index % 251) as u8, len), "audio/mpeg")
            .await
            .unwrap();
    }
    let backup = server::backup(&a, "long", &BackupOptions::default(), no_progress())
        .await
        .expect("backup with many chunks");
    // WHEN another browser recovers it
    let b = open_with_server(&unique_db("srv-many-b"), "tab-b").await;
    let out = server::recover(&b, Some("long"), Some(&backup.token), no_progress())
        .await
        .unwrap();
    // THEN every chunk comes back with its own boundaries
    let restored = out.session.unwrap();
    assert_eq!(restored.chunks.len(), 240);
    assert_eq!(byte_len(&restored.chunks[238].bytes), 4096);
    assert_eq!(byte_len(&restored.chunks[239].bytes), 700);
    assert_eq!(first_byte(&restored.chunks[100].bytes), 100);
}

/// JSON text of a value, for comparing parameters field for field.
fn json_text(value: &wasm_bindgen::JsValue) -> String {
    js_sys::JSON::stringify(value).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn a_whole_session_comes_back_on_a_fresh_browser_under_its_own_id() {
    // GIVEN a take with text, voice, every parameter and three parts, backed up
    let a = open_with_server(&unique_db("srv-whole-a"), "tab-a").await;
    let params = js_sys::JSON::parse(
        r#"{"exaggeration":1.35,"cfgWeight":0.3,"temperature":1.2,"seed":12345,"parts":3}"#,
    )
    .unwrap();
    a.save(chatterbox_recovery_client::model::SessionInput {
        id: "take-1".into(),
        text: "Every word the writer typed.".into(),
        voice_id: Some("olivia".into()),
        params: params.clone(),
    })
    .await
    .unwrap();
    for (index, len) in [(0u32, 3000usize), (1, 1000), (2, 2500)] {
        a.append_chunk(
            "take-1",
            index,
            bytes(u8::try_from(index).unwrap() + 1, len),
            "audio/wav",
        )
        .await
        .unwrap();
    }
    let (uploads, on_upload) = progress_log();
    let backup = server::backup(&a, "take-1", &BackupOptions::default(), on_upload)
        .await
        .expect("backup succeeds");
    // Upload progress only moves forward, and ends at every byte.
    let loaded: Vec<f64> = uploads.borrow().iter().map(|p| p.loaded).collect();
    assert!(loaded.windows(2).all(|w| w[0] <= w[1]), "{loaded:?}");
    assert_eq!(loaded.last(), Some(&backup.bytes));
    // WHEN a fresh browser recovers by the token alone
    let b = open_with_server(&unique_db("srv-whole-b"), "tab-b").await;
    let out = server::recover(&b, None, Some(&backup.token), no_progress())
        .await
        .expect("recover succeeds");
    // THEN the whole session is back under its id: text, voice, parameters,
    // every part byte for byte
    assert_eq!(out.audio, AudioState::Restored);
    let restored = out.session.expect("session stored");
    assert_eq!(restored.record.id, "take-1");
    assert_eq!(restored.record.text, "Every word the writer typed.");
    assert_eq!(restored.record.voice_id.as_deref(), Some("olivia"));
    assert_eq!(json_text(&restored.record.params), json_text(&params));
    assert_chunks(&restored);
    assert_eq!(b.restore("take-1").await.unwrap().unwrap().chunks.len(), 3);
}

#[wasm_bindgen_test]
async fn a_conflict_copy_is_backed_up_and_recovered_like_any_session() {
    let a = open_with_server(&unique_db("srv-copy-a"), "tab-a").await;
    session_with_audio(&a, "s1~3").await;
    let backup = server::backup(&a, "s1~3", &BackupOptions::default(), no_progress())
        .await
        .expect("a conflict copy backs up");
    let b = open_with_server(&unique_db("srv-copy-b"), "tab-b").await;
    let out = server::recover(&b, None, Some(&backup.token), no_progress())
        .await
        .unwrap();
    let restored = out.session.unwrap();
    assert_eq!(restored.record.id, "s1~3");
    assert_eq!(restored.record.text, "text to keep");
    assert_chunks(&restored);
}

// ---- the server copy against the real routes -------------------------------------------------

async fn open_with_copy(db: &str, tab: &str) -> Store {
    Store::open(OpenOptions {
        api_base_url: Some(api_url()),
        server_copy: true,
        ..options(db, tab)
    })
    .await
    .expect("store opens")
}

/// Waits up to `seconds` for `check` (the copy goes every 5 s at most while typing).
async fn within(seconds: f64, what: &str, check: impl Fn() -> bool) {
    let deadline = js_sys::Date::now() + seconds * 1000.0;
    while !check() {
        assert!(
            js_sys::Date::now() < deadline,
            "{what}: not within {seconds} s"
        );
        sleep(50).await;
    }
}

/// Waits until the server lists the session's copy with `parts` parts and the record of its
/// last revision is acknowledged; returns the record.
async fn copied(
    store: &Store,
    id: &str,
    parts: u32,
) -> chatterbox_recovery_client::model::SessionRecord {
    let deadline = js_sys::Date::now() + 20_000.0;
    loop {
        let record = store.get_record(id).await.unwrap().unwrap();
        let listed = server::copies(store)
            .await
            .unwrap()
            .iter()
            .find(|c| js_sys::Reflect::get(c, &"session_id".into()).unwrap() == id)
            .and_then(|c| js_sys::Reflect::get(&c, &"parts".into()).unwrap().as_f64());
        if record.copied_revision >= record.revision && listed == Some(f64::from(parts)) {
            return record;
        }
        assert!(
            js_sys::Date::now() < deadline,
            "not copied within 20 s: revision {} copied {}, the server lists {listed:?} parts",
            record.revision,
            record.copied_revision
        );
        sleep(200).await;
    }
}

#[wasm_bindgen_test]
async fn typed_text_is_backed_up_then_listed_for_its_owner_and_for_no_one_else() {
    // GIVEN the server copy on
    let a = open_with_copy(&unique_db("copy-list"), "tab-a").await;
    let events = Events::attach(&a);
    // WHEN the user types
    a.autosave(input("c1", "first words"));
    a.flush().await.unwrap();
    // THEN the copy is acknowledged (backed-up, with a token kept) and listed
    within(15.0, "backed-up", || events.count(Status::BackedUp) > 0).await;
    let record = copied(&a, "c1", 0).await;
    assert_eq!(record.server_token.as_ref().map(String::len), Some(43));
    let list = server::copies(&a).await.unwrap();
    let ids: Vec<String> = list
        .iter()
        .filter_map(|c| {
            js_sys::Reflect::get(&c, &"session_id".into())
                .ok()?
                .as_string()
        })
        .collect();
    assert!(ids.contains(&"c1".to_owned()), "{ids:?}");
    // and another owner does not see it
    let b = open_with_copy(&unique_db("copy-list-other"), "tab-b").await;
    assert_eq!(server::copies(&b).await.unwrap().length(), 0);
}

#[wasm_bindgen_test]
async fn after_the_database_is_deleted_the_copy_comes_back_whole_for_the_same_owner() {
    // GIVEN a session with three parts, copied
    let db = unique_db("copy-wiped");
    let a = open_with_copy(&db, "tab-a").await;
    session_with_audio(&a, "c2").await;
    a.autosave(input("c2", "text to keep"));
    a.flush().await.unwrap();
    copied(&a, "c2", 3).await;
    a.close().await.unwrap();
    // WHEN the browser deletes the database (as Chromium does after a damaged kill)
    chatterbox_recovery_client::store::testing::delete_database(&db)
        .await
        .unwrap();
    let b = open_with_server(&db, "tab-b").await;
    assert!(b.restore("c2").await.unwrap().is_none());
    // THEN the same owner (its secret kept in localStorage) finds the copy and restores it
    let list = server::copies(&b).await.unwrap();
    assert!(
        list.iter()
            .any(|c| js_sys::Reflect::get(&c, &"session_id".into())
                .unwrap()
                .as_string()
                .as_deref()
                == Some("c2")),
        "the copy is listed"
    );
    let out = server::restore_copy(&b, "c2", no_progress()).await.unwrap();
    assert_eq!(out.audio, AudioState::Restored);
    let restored = out.session.unwrap();
    assert_eq!(restored.record.id, "c2");
    assert_eq!(restored.record.text, "text to keep");
    assert_chunks(&restored);
}

#[wasm_bindgen_test]
async fn the_copy_token_restores_the_session_on_another_browser_beside_a_different_one() {
    // GIVEN a copied session with audio
    let a = open_with_copy(&unique_db("copy-token-a"), "tab-a").await;
    session_with_audio(&a, "c3").await;
    let token = copied(&a, "c3", 3).await.server_token.unwrap();
    // and another browser holding a different session under the same id
    let b = open_with_server(&unique_db("copy-token-b"), "tab-b").await;
    b.save(input("c3", "someone else's work")).await.unwrap();
    // WHEN the recovery link's token is redeemed there
    let out = server::recover(&b, None, Some(&token), no_progress())
        .await
        .unwrap();
    // THEN the copy comes back whole under a new id, and the local session is untouched
    assert_eq!(out.audio, AudioState::Restored);
    let restored = out.session.unwrap();
    assert!(
        restored.record.id.starts_with("c3~"),
        "{}",
        restored.record.id
    );
    assert_eq!(restored.record.text, "text to keep");
    assert_chunks(&restored);
    let local = b.restore("c3").await.unwrap().unwrap();
    assert_eq!(local.record.text, "someone else's work");
    assert!(local.chunks.is_empty());
}

#[wasm_bindgen_test]
async fn a_dismissed_copy_is_purged_and_its_token_no_longer_recovers() {
    let a = open_with_copy(&unique_db("copy-dismiss"), "tab-a").await;
    a.save(input("c4", "to be dismissed")).await.unwrap();
    let token = copied(&a, "c4", 0).await.server_token.unwrap();
    server::dismiss(&a, "c4").await.unwrap();
    let b = open_with_server(&unique_db("copy-dismiss-b"), "tab-b").await;
    let out = server::recover(&b, None, Some(&token), no_progress())
        .await
        .unwrap();
    assert_ne!(out.audio, AudioState::Restored);
    assert_eq!(server::copies(&a).await.unwrap().length(), 0);
}

#[wasm_bindgen_test]
async fn parts_stored_before_the_copy_was_turned_on_are_copied_when_it_is() {
    // GIVEN a session with three parts stored while the server copy was off
    let db = unique_db("copy-later");
    let a = open_with_server(&db, "tab-a").await;
    session_with_audio(&a, "c5").await;
    a.close().await.unwrap();
    // WHEN the page opens the store again with the copy on (the switch reloads the page)
    let b = open_with_copy(&db, "tab-b").await;
    // THEN the document and all three parts reach the server, and come back whole elsewhere
    let token = copied(&b, "c5", 3).await.server_token.unwrap();
    let c = open_with_server(&unique_db("copy-later-c"), "tab-c").await;
    let restored = server::recover(&c, None, Some(&token), no_progress())
        .await
        .unwrap()
        .session
        .unwrap();
    assert_eq!(restored.record.id, "c5");
    assert_chunks(&restored);
}
