//! The server copy (`server_copy`) against a fake API and object storage (`fetch` and
//! `XMLHttpRequest` replaced for `http://stub.invalid`): the 5 s throttle on the timer seam,
//! offline then online, a stalled API, restore under a new id, recovery by a copy token, the
//! client secret's mirror and the part type rule.

use std::cell::{Cell, RefCell};

use chatterbox_recovery_client::server::{self, AudioState};

use super::*;

const API: &str = "http://stub.invalid";

/// Installs the fake API: `PUT /api/recovery/sessions/{id}` answers 201 with a token the first
/// time and 200 after (or hangs, with `globalThis.h2Stall`), recording each request in
/// `globalThis.h2Puts` as `{url, headers, body, at: globalThis.h2Now}`; `GET` routes answer from
/// `globalThis.h2Routes[path]`. With `globalThis.h2Down` every request fails as a network error.
/// Returns the function that puts the real `fetch` back.
fn fake_api() -> js_sys::Function {
    let install = js_sys::Function::new_no_args(
        "const real = globalThis.fetch;
         globalThis.h2Puts = []; globalThis.h2Routes = {}; globalThis.h2Down = false;
         globalThis.h2Stall = false;
         globalThis.fetch = async (url, init = {}) => {
           url = String(url);
           if (!url.startsWith('http://stub.invalid/')) return real(url, init);
           if (globalThis.h2Down) throw new TypeError('Failed to fetch');
           const path = new URL(url).pathname;
           if (globalThis.h2Stall) return new Promise((_, reject) => init.signal.addEventListener(
             'abort', () => reject(new DOMException('aborted', 'AbortError'))));
           if (init.method === 'PUT' && path.startsWith('/api/recovery/sessions/')) {
             const first = globalThis.h2Puts.length === 0;
             globalThis.h2Puts.push({ url, headers: init.headers, body: init.body,
               keepalive: Boolean(init.keepalive), at: globalThis.h2Now });
             const q = new URL(url).searchParams;
             return new Response(JSON.stringify({ session_id: 's', size: 1,
               parts: Number(q.get('parts')), updated_at: '2026-12-02T00:00:00Z',
               expires_at: '2026-12-03T00:00:00Z', ...(first ? { token: 'T'.repeat(43) } : {}) }),
               { status: first ? 201 : 200, headers: { 'content-type': 'application/json' } });
           }
           const answer = globalThis.h2Routes[path];
           return answer === undefined
             ? new Response('{}', { status: 404 })
             : new Response(JSON.stringify(answer), { status: 200 });
         };
         return () => { globalThis.fetch = real; };",
    );
    install.call0(&JsValue::NULL).unwrap().dyn_into().unwrap()
}

/// Replaces `XMLHttpRequest` with object storage answering GETs from
/// `globalThis.h2Objects[url]` (a string, parsed for `responseType` `json` as the real one
/// does, or an `ArrayBuffer`; 404 when absent), and PUTs to a URL it holds with 200, each
/// recorded in `globalThis.h2Sent` as `{url, body}`.
fn fake_objects() -> js_sys::Function {
    let install = js_sys::Function::new_no_args(
        "const Real = globalThis.XMLHttpRequest;
         globalThis.h2Objects = {}; globalThis.h2Sent = [];
         globalThis.XMLHttpRequest = class extends EventTarget {
           open(method, url) { this.method = method; this.url = url; }
           setRequestHeader() {} abort() {}
           get upload() { return new EventTarget(); }
           send(sent) {
             if (this.method === 'PUT') globalThis.h2Sent.push({ url: this.url, body: sent });
             setTimeout(() => { const body = globalThis.h2Objects[this.url];
             this.status = body === undefined ? 404 : 200;
             this.response = this.responseType === 'json' && typeof body === 'string'
               ? JSON.parse(body) : body ?? null;
             this.dispatchEvent(new ProgressEvent('loadend')); }); }
         };
         return () => { globalThis.XMLHttpRequest = Real; };",
    );
    install.call0(&JsValue::NULL).unwrap().dyn_into().unwrap()
}

/// A store that knows the fake API, its server copy off.
async fn open_with_api(db: &str, tab: &str) -> Store {
    Store::open(OpenOptions {
        api_base_url: Some(API.into()),
        ..options(db, tab)
    })
    .await
    .unwrap()
}

/// A store with the server copy on, against the fake API.
async fn open_copy(db: &str) -> Store {
    Store::open(OpenOptions {
        api_base_url: Some(API.into()),
        server_copy: true,
        ..options(db, "tab-a")
    })
    .await
    .unwrap()
}

fn global(name: &str) -> JsValue {
    Reflect::get(&js_sys::global(), &name.into()).unwrap()
}

fn set_global(name: &str, value: &JsValue) {
    Reflect::set(&js_sys::global(), &name.into(), value).unwrap();
}

fn puts() -> Array {
    global("h2Puts").dyn_into().unwrap()
}

/// The document of a recorded PUT, gunzipped and parsed.
async fn put_document(put: &JsValue) -> JsValue {
    let gunzip = js_sys::Function::new_with_args(
        "body",
        "return new Response(new Blob([body]).stream()
           .pipeThrough(new DecompressionStream('gzip'))).json();",
    );
    let promise: js_sys::Promise = gunzip
        .call1(&JsValue::NULL, &Reflect::get(put, &"body".into()).unwrap())
        .unwrap()
        .dyn_into()
        .unwrap();
    JsFuture::from(promise).await.unwrap()
}

/// Fake time for the store: its clock, and the timer seam's waits, run when the test says.
#[derive(Clone, Default)]
struct FakeTime {
    now: Rc<Cell<f64>>,
    timers: Rc<RefCell<Vec<(f64, js_sys::Function)>>>,
}

impl FakeTime {
    fn options(&self, db: &str) -> OpenOptions {
        let (now, timers) = (self.now.clone(), self.timers.clone());
        let clock = self.now.clone();
        OpenOptions {
            api_base_url: Some(API.into()),
            server_copy: true,
            clock: Rc::new(move || clock.get()),
            schedule: Some(Rc::new(move |ms: u32, resolve: js_sys::Function| {
                timers
                    .borrow_mut()
                    .push((now.get() + f64::from(ms), resolve));
            })),
            ..options(db, "tab-a")
        }
    }

    /// Moves fake time on by `ms`, runs the waits that are due, and lets the tasks run.
    async fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
        set_global("h2Now", &JsValue::from_f64(self.now.get()));
        let now = self.now.get();
        let due: Vec<js_sys::Function> = {
            let mut timers = self.timers.borrow_mut();
            let (due, later) = timers.drain(..).partition(|(at, _)| *at <= now);
            *timers = later;
            due.into_iter().map(|(_, f)| f).collect()
        };
        for f in due {
            f.call0(&JsValue::NULL).unwrap();
        }
        sleep(15).await;
    }
}

#[wasm_bindgen_test]
async fn steady_typing_sends_at_most_one_document_every_five_seconds_then_the_last_edit() {
    // GIVEN a store with the server copy on, fake time starting at 1,000,000 ms
    let restore = fake_api();
    let time = FakeTime::default();
    time.now.set(1_000_000.0);
    set_global("h2Now", &JsValue::from_f64(1_000_000.0));
    let db = unique_db("copy-throttle");
    let store = Store::open(time.options(&db)).await.unwrap();
    let events = Events::attach(&store);
    // WHEN the user types steadily for 20 s of fake time, a keystroke every 100 ms
    for n in 0..200 {
        store.autosave(input("s1", &format!("text {n}")));
        store.flush().await.unwrap();
        time.advance(100.0).await;
    }
    // and stops: fake time moves on past the interval
    for _ in 0..10 {
        time.advance(1_000.0).await;
    }
    eventually(|| events.count(Status::BackedUp) > 0).await;
    restore.call0(&JsValue::NULL).unwrap();
    // THEN at most one document went per 5 s (20 s of typing: 5 at most, the last after it)
    let puts = puts();
    let times: Vec<f64> = puts
        .iter()
        .map(|p| {
            Reflect::get(&p, &"at".into())
                .unwrap()
                .as_f64()
                .unwrap_or(0.0)
        })
        .collect();
    assert!(
        (3..=6).contains(&times.len()),
        "{} documents for 20 s of typing: {times:?}",
        times.len()
    );
    // (`at` is fake time when `fetch` was called: a step or two after the upload started,
    // behind its IndexedDB read and compression; without the throttle the gaps are 100 ms.)
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= 4_700.0, "{times:?}");
    }
    // the first asked for a token and the token was kept; the others did not ask again
    let urls: Vec<String> = puts
        .iter()
        .map(|p| {
            Reflect::get(&p, &"url".into())
                .unwrap()
                .as_string()
                .unwrap()
        })
        .collect();
    assert!(urls[0].contains("new_token=true"), "{}", urls[0]);
    assert!(
        urls[1..].iter().all(|u| !u.contains("new_token")),
        "{urls:?}"
    );
    let record = store.get_record("s1").await.unwrap().unwrap();
    assert_eq!(
        record.server_token.as_deref(),
        Some("T".repeat(43).as_str())
    );
    // and the last document, gzip-compressed, holds the last edit
    let last = puts.get(puts.length() - 1);
    let headers = Reflect::get(&last, &"headers".into()).unwrap();
    assert_eq!(
        Reflect::get(&headers, &"Content-Encoding".into()).unwrap(),
        "gzip"
    );
    let doc = put_document(&last).await;
    assert_eq!(Reflect::get(&doc, &"version".into()).unwrap(), 2.0);
    assert_eq!(Reflect::get(&doc, &"text".into()).unwrap(), "text 199");
    assert_eq!(record.copied_revision, record.revision);
}

#[wasm_bindgen_test]
async fn when_the_page_is_hidden_the_copy_goes_at_once_with_keepalive() {
    // GIVEN a copied session and fake time that does not move: the throttle holds the next
    // document back
    let restore = fake_api();
    let time = FakeTime::default();
    time.now.set(2_000_000.0);
    let db = unique_db("copy-hidden");
    let store = Store::open(OpenOptions {
        listen_page_events: true,
        ..time.options(&db)
    })
    .await
    .unwrap();
    let events = Events::attach(&store);
    store.save(input("s1", "first")).await.unwrap();
    eventually(|| events.count(Status::BackedUp) == 1).await;
    store.autosave(input("s1", "typed just before leaving"));
    store.flush().await.unwrap();
    sleep(100).await;
    assert_eq!(puts().length(), 1, "held back by the 5 s throttle");
    // WHEN the page becomes hidden
    let document = web_sys::window().unwrap().document().unwrap();
    let hidden = Object::new();
    Reflect::set(&hidden, &"value".into(), &"hidden".into()).unwrap();
    Reflect::set(&hidden, &"configurable".into(), &JsValue::TRUE).unwrap();
    Object::define_property(&document, &"visibilityState".into(), &hidden);
    document
        .dispatch_event(&web_sys::Event::new("visibilitychange").unwrap())
        .unwrap();
    Reflect::delete_property(&document, &"visibilityState".into()).unwrap();
    // THEN the document goes at once, in a request that outlives the page
    eventually(|| events.count(Status::BackedUp) == 2).await;
    restore.call0(&JsValue::NULL).unwrap();
    let last = puts().get(1);
    assert_eq!(Reflect::get(&last, &"keepalive".into()).unwrap(), true);
    let doc = put_document(&last).await;
    assert_eq!(
        Reflect::get(&doc, &"text".into()).unwrap(),
        "typed just before leaving"
    );
    store.close().await.unwrap();
}

/// Makes `navigator.onLine` read `globalThis.h2Online` (true unless set false).
fn fake_online_flag() {
    js_sys::Function::new_no_args(
        "Object.defineProperty(navigator, 'onLine', { configurable: true,
           get: () => globalThis.h2Online !== false });",
    )
    .call0(&JsValue::NULL)
    .unwrap();
}

#[wasm_bindgen_test]
async fn offline_the_copy_waits_and_says_so_and_back_online_it_goes_at_once() {
    // GIVEN the server copy on and the browser offline (requests fail, `onLine` is false)
    let restore = fake_api();
    fake_online_flag();
    set_global("h2Online", &JsValue::FALSE);
    set_global("h2Down", &JsValue::TRUE);
    let db = unique_db("copy-offline");
    let store = open_copy(&db).await;
    let events = Events::attach(&store);
    // WHEN the user types
    store.autosave(input("s1", "typed offline"));
    store.flush().await.unwrap();
    // THEN it is saved here, and the indicator says offline, not an error, while the retries
    // back off (the third waits 2 to 4 s)
    let started = js_sys::Date::now();
    while events.count(Status::Offline) < 3 {
        assert!(
            js_sys::Date::now() - started < 10_000.0,
            "3 offline attempts"
        );
        sleep(50).await;
    }
    assert!(events.count(Status::Saved) > 0);
    assert_eq!(events.count(Status::CopyError), 0);
    assert_eq!(events.count(Status::BackedUp), 0);
    // WHEN the browser is back online
    set_global("h2Down", &JsValue::FALSE);
    set_global("h2Online", &JsValue::TRUE);
    let back = js_sys::Date::now();
    web_sys::window()
        .unwrap()
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    // THEN the copy goes at once, not at the end of the backoff, and it is backed up
    eventually(|| events.count(Status::BackedUp) > 0).await;
    restore.call0(&JsValue::NULL).unwrap();
    assert!(
        js_sys::Date::now() - back < 1_000.0,
        "went at the online event"
    );
    assert_eq!(puts().length(), 1);
    let doc = put_document(&puts().get(0)).await;
    assert_eq!(Reflect::get(&doc, &"text".into()).unwrap(), "typed offline");
}

#[wasm_bindgen_test]
async fn a_network_failure_while_online_is_a_copy_error_that_says_when_it_retries() {
    let restore = fake_api();
    set_global("h2Down", &JsValue::TRUE);
    let db = unique_db("copy-down");
    let store = open_copy(&db).await;
    let events = Events::attach(&store);
    store.autosave(input("s1", "typed"));
    store.flush().await.unwrap();
    eventually(|| events.count(Status::CopyError) > 0).await;
    let message = events.of(Status::CopyError)[0].message.clone().unwrap();
    assert!(
        message.contains("will retry in") && message.contains("saved on this device"),
        "{message}"
    );
    // back up: the retry (1 s later at most) goes through
    set_global("h2Down", &JsValue::FALSE);
    eventually(|| events.count(Status::BackedUp) > 0).await;
    restore.call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn a_stalled_api_is_given_up_after_its_timeout_and_reported_not_awaited_for_ever() {
    // GIVEN an API that accepts the connection and never answers
    let restore = fake_api();
    set_global("h2Stall", &JsValue::TRUE);
    let db = unique_db("copy-stall");
    let store = open_copy(&db).await;
    let events = Events::attach(&store);
    // WHEN the user types
    let started = js_sys::Date::now();
    store.save(input("s1", "typed")).await.unwrap();
    // THEN local saving did not wait for the copy
    assert!(events.count(Status::Saved) > 0);
    assert_eq!(events.count(Status::CopyError), 0);
    // and the copy fails within the API timeout, saying why and when it retries
    while events.count(Status::CopyError) == 0 {
        assert!(
            js_sys::Date::now() - started < 15_000.0,
            "no copy-error within 15 s"
        );
        sleep(100).await;
    }
    restore.call0(&JsValue::NULL).unwrap();
    let message = events.of(Status::CopyError)[0].message.clone().unwrap();
    assert!(message.contains("did not answer within 10 s"), "{message}");
    assert!(message.contains("will retry in"), "{message}");
    assert_eq!(events.count(Status::BackedUp), 0);
}

/// A version 2 document with one part, as the server keeps it.
fn copy_document(id: &str, text: &str, created_at: f64) -> String {
    format!(
        r#"{{"version":2,"id":"{id}","text":"{text}","voiceId":"v","params":{{"speed":2}},
            "createdAt":{created_at},"updatedAt":{created_at},
            "parts":[{{"index":0,"mime":"audio/wav","size":3,"key":"k/{id}/p0"}}]}}"#
    )
}

/// Serves a copy: the document at `http://stub.invalid/doc`, one 3-byte part.
fn serve_copy(id: &str, text: &str, created_at: f64) -> JsValue {
    let objects = global("h2Objects");
    Reflect::set(
        &objects,
        &"http://stub.invalid/doc".into(),
        &copy_document(id, text, created_at).into(),
    )
    .unwrap();
    Reflect::set(&objects, &"http://stub.invalid/p0".into(), &bytes(7, 3)).unwrap();
    js_sys::JSON::parse(&format!(
        r#"{{"url":"http://stub.invalid/doc","content_type":"application/vnd.chatterbox.session+json",
            "size":100,"parts":[{{"key":"k/{id}/p0","url":"http://stub.invalid/p0","size":3}}]}}"#
    ))
    .unwrap()
}

#[wasm_bindgen_test]
async fn a_restored_copy_never_overwrites_a_different_local_session_with_its_id() {
    // GIVEN a local session "s1" with its own text and audio
    let (restore_fetch, restore_xhr) = (fake_api(), fake_objects());
    let db = unique_db("copy-new-id");
    let store = open_with_api(&db, "tab-a").await;
    store.save(input("s1", "local work")).await.unwrap();
    store
        .append_chunk("s1", 0, bytes(9, 5), "audio/wav")
        .await
        .unwrap();
    // and a server copy of another session that has the same id
    let info = serve_copy("s1", "from the server", 111.0);
    Reflect::set(
        &global("h2Routes"),
        &"/api/recovery/sessions/s1".into(),
        &info,
    )
    .unwrap();
    // WHEN the copy is restored
    let out = server::restore_copy(&store, "s1", no_progress()).await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    restore_xhr.call0(&JsValue::NULL).unwrap();
    // THEN it comes back under a new id, whole
    let out = out.unwrap();
    assert_eq!(out.audio, AudioState::Restored);
    let restored = out.session.unwrap();
    assert_ne!(restored.record.id, "s1");
    assert!(
        restored.record.id.starts_with("s1~"),
        "{}",
        restored.record.id
    );
    assert_eq!(restored.record.text, "from the server");
    assert_eq!(restored.chunks.len(), 1);
    assert_eq!(
        (
            first_byte(&restored.chunks[0].bytes),
            byte_len(&restored.chunks[0].bytes)
        ),
        (7, 3)
    );
    // and the local session is untouched
    let local = store.restore("s1").await.unwrap().unwrap();
    assert_eq!(local.record.text, "local work");
    assert_eq!(
        (
            first_byte(&local.chunks[0].bytes),
            byte_len(&local.chunks[0].bytes)
        ),
        (9, 5)
    );
}

#[wasm_bindgen_test]
async fn a_copy_token_brings_the_whole_session_back_on_a_fresh_browser() {
    // GIVEN a browser that never had the session, and a copy token's redeem answer
    let (restore_fetch, restore_xhr) = (fake_api(), fake_objects());
    let db = unique_db("copy-token");
    let store = open_with_api(&db, "tab-a").await;
    let info = serve_copy("s9", "typed elsewhere", 222.0);
    Reflect::set(&global("h2Routes"), &"/api/recovery/audio".into(), &info).unwrap();
    // WHEN the link's token is redeemed
    let token = "K".repeat(43);
    let out = server::recover(&store, None, Some(&token), no_progress()).await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    restore_xhr.call0(&JsValue::NULL).unwrap();
    // THEN the session is here under its own id, text, params, part and token
    let restored = out.unwrap().session.unwrap();
    assert_eq!(restored.record.id, "s9");
    assert_eq!(restored.record.text, "typed elsewhere");
    assert_eq!(restored.record.created_at, 222.0);
    assert_eq!(
        restored.record.server_token.as_deref(),
        Some(token.as_str())
    );
    assert_eq!(restored.chunks.len(), 1);
    assert_eq!(restored.chunks[0].mime, "audio/wav");
}

#[wasm_bindgen_test]
async fn the_client_secret_survives_the_deletion_of_the_database() {
    let db = unique_db("secret-mirror");
    let a = open(&db, "tab-a").await;
    let secret = a.client_secret().await.unwrap();
    a.close().await.unwrap();
    testing::delete_database(&db).await.unwrap();
    let b = open(&db, "tab-b").await;
    assert_eq!(b.client_secret().await.unwrap(), secret);
}

#[wasm_bindgen_test]
async fn with_the_server_copy_on_a_part_that_is_not_audio_is_refused() {
    let db = unique_db("copy-mime");
    let store = open_copy(&db).await;
    let js = RecoveryStore::from_core(store.clone());
    let promise = js.append_chunk("s1".into(), 0, bytes(1, 3), "text/html".into());
    let err = JsFuture::from(promise).await.expect_err("refused");
    let message = Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.contains("audio/*"), "{message}");
    assert!(store.restore("s1").await.unwrap().is_none());
}

#[wasm_bindgen_test]
async fn server_copy_without_an_api_base_url_is_an_error_at_open() {
    let db = unique_db("copy-no-api");
    let err = Store::open(OpenOptions {
        server_copy: true,
        ..options(&db, "tab-a")
    })
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("apiBaseUrl"), "{err}");
}

#[wasm_bindgen_test]
async fn clearing_the_audio_keeps_text_and_token_resets_the_flags_and_the_copy_lists_no_parts() {
    // GIVEN a finished session whose copy holds its text, its token and one uploaded part
    let restore = fake_api();
    let restore_objects = fake_objects();
    let part_url = "http://stub.invalid/objects/part-0";
    take_uploads("owner/s1/part-0", part_url);
    let time = FakeTime::default();
    time.now.set(3_000_000.0);
    let db = unique_db("copy-clear");
    let store = Store::open(time.options(&db)).await.unwrap();
    store.save(input("s1", "kept text")).await.unwrap();
    store
        .append_chunk("s1", 0, bytes(1, 10), "audio/wav")
        .await
        .unwrap();
    store.complete("s1").await.unwrap();
    let listed = |put: JsValue| {
        let url = Reflect::get(&put, &"url".into())
            .unwrap()
            .as_string()
            .unwrap();
        url.contains("parts=1")
    };
    for _ in 0..20 {
        if puts().iter().any(listed) {
            break;
        }
        time.advance(1_000.0).await;
    }
    assert!(puts().iter().any(listed), "the part reached the copy");
    let before = store.get_record("s1").await.unwrap().unwrap();
    assert!(before.completed);
    assert!(before.server_token.is_some());
    let sent = puts().length();
    // WHEN its audio is cleared for a new take
    store.clear_chunks("s1").await.unwrap();
    // THEN the audio is gone and the text, the token and the creation time stay, the flags reset
    let restored = store.restore("s1").await.unwrap().unwrap();
    assert!(restored.chunks.is_empty());
    let after = restored.record;
    assert_eq!(after.text, "kept text");
    assert_eq!(after.server_token, before.server_token);
    assert_eq!(after.created_at, before.created_at);
    assert!(!after.completed && !after.audio_evicted);
    // and the copy goes anew, listing no parts, under the same token
    for _ in 0..20 {
        if puts().length() > sent {
            break;
        }
        time.advance(1_000.0).await;
    }
    restore.call0(&JsValue::NULL).unwrap();
    restore_objects.call0(&JsValue::NULL).unwrap();
    assert!(puts().length() > sent, "a document after the clear");
    let last = puts().get(puts().length() - 1);
    let url = Reflect::get(&last, &"url".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        url.contains("parts=0") && !url.contains("new_token"),
        "{url}"
    );
    let doc = put_document(&last).await;
    assert_eq!(
        Array::from(&Reflect::get(&doc, &"parts".into()).unwrap()).length(),
        0
    );
    assert_eq!(Reflect::get(&doc, &"text".into()).unwrap(), "kept text");
    store.close().await.unwrap();
}

/// Each part a document lists: its object's key and its size.
fn places(doc: &JsValue) -> Vec<(String, f64)> {
    Array::from(&Reflect::get(doc, &"parts".into()).unwrap())
        .iter()
        .map(|part| {
            let field = |name: &str| Reflect::get(&part, &name.into()).unwrap();
            (
                field("key").as_string().unwrap(),
                field("size").as_f64().unwrap(),
            )
        })
        .collect()
}

/// Makes the fake API answer every `POST /uploads` with the object `key` at `url`, and the fake
/// object storage take PUTs to `url`.
fn take_uploads(key: &str, url: &str) {
    let ticket = Object::new();
    Reflect::set(&ticket, &"key".into(), &key.into()).unwrap();
    Reflect::set(&ticket, &"upload_url".into(), &url.into()).unwrap();
    Reflect::set(
        &global("h2Routes"),
        &"/api/recovery/uploads".into(),
        &ticket,
    )
    .unwrap();
    Reflect::set(&global("h2Objects"), &url.into(), &"stored".into()).unwrap();
}

/// The bytes of `body` (an `ArrayBuffer`, a typed array or a `Blob`), as an `ArrayBuffer`.
async fn array_buffer(body: &JsValue) -> JsValue {
    let read = js_sys::Function::new_with_args("body", "return new Response(body).arrayBuffer();");
    let promise: js_sys::Promise = read
        .call1(&JsValue::NULL, body)
        .unwrap()
        .dyn_into()
        .unwrap();
    JsFuture::from(promise).await.unwrap()
}

#[wasm_bindgen_test]
async fn parts_committed_within_a_second_go_up_as_one_object_and_come_back_cut_apart() {
    // GIVEN a copy whose object storage takes one object per create-upload
    let (restore_fetch, restore_xhr) = (fake_api(), fake_objects());
    let object_url = "http://stub.invalid/objects/take";
    take_uploads("owner/s1/take", object_url);
    let time = FakeTime::default();
    time.now.set(5_000_000.0);
    let db = unique_db("copy-together");
    let store = Store::open(time.options(&db)).await.unwrap();
    store.save(input("s1", "a take")).await.unwrap();
    // WHEN three parts are committed 200 ms apart
    for (index, (fill, len)) in [(1u8, 10usize), (2, 20), (3, 5)].into_iter().enumerate() {
        store
            .append_chunk(
                "s1",
                u32::try_from(index).unwrap(),
                bytes(fill, len),
                "audio/wav",
            )
            .await
            .unwrap();
        time.advance(200.0).await;
    }
    let listed = |put: &JsValue| {
        Reflect::get(put, &"url".into())
            .unwrap()
            .as_string()
            .unwrap()
            .contains("parts=3")
    };
    for _ in 0..20 {
        if puts().iter().any(|p| listed(&p)) {
            break;
        }
        time.advance(1_000.0).await;
    }
    // THEN they went up as one object, their bytes in order
    let sent: Array = global("h2Sent").dyn_into().unwrap();
    assert_eq!(sent.length(), 1, "one upload for the three parts");
    let body = array_buffer(&Reflect::get(&sent.get(0), &"body".into()).unwrap()).await;
    let body = js_sys::Uint8Array::new(&body).to_vec();
    assert_eq!(body.len(), 35);
    assert_eq!(
        (body[0], body[9], body[10], body[29], body[30], body[34]),
        (1, 1, 2, 2, 3, 3)
    );
    // and the document lists the three parts in that object, in its order
    let put = puts()
        .iter()
        .find(|p| listed(p))
        .expect("a document listing the three parts");
    let doc = put_document(&put).await;
    let take = "owner/s1/take".to_owned();
    assert_eq!(
        places(&doc),
        vec![(take.clone(), 10.0), (take.clone(), 20.0), (take, 5.0)]
    );
    store.close().await.unwrap();
    // WHEN that copy is restored on a browser that never had it
    let objects = global("h2Objects");
    let text = js_sys::JSON::stringify(&doc).unwrap();
    Reflect::set(&objects, &"http://stub.invalid/doc".into(), &text.into()).unwrap();
    Reflect::set(
        &objects,
        &object_url.into(),
        &js_sys::Uint8Array::from(&body[..]).buffer(),
    )
    .unwrap();
    let info = js_sys::JSON::parse(
        r#"{"url":"http://stub.invalid/doc","content_type":"application/vnd.chatterbox.session+json",
            "size":100,"parts":[{"key":"owner/s1/take","url":"http://stub.invalid/objects/take","size":35}]}"#,
    )
    .unwrap();
    Reflect::set(
        &global("h2Routes"),
        &"/api/recovery/sessions/s1".into(),
        &info,
    )
    .unwrap();
    let fresh = open_with_api(&unique_db("copy-together-fresh"), "tab-b").await;
    let out = server::restore_copy(&fresh, "s1", no_progress()).await;
    restore_fetch.call0(&JsValue::NULL).unwrap();
    restore_xhr.call0(&JsValue::NULL).unwrap();
    // THEN each part comes back as it was committed
    let restored = out.unwrap().session.unwrap();
    let got: Vec<(u8, u32)> = restored
        .chunks
        .iter()
        .map(|c| (first_byte(&c.bytes), byte_len(&c.bytes)))
        .collect();
    assert_eq!(got, vec![(1, 10), (2, 20), (3, 5)]);
}
