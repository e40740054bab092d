//! Helpers shared by the browser test files: every test opens its own,
//! uniquely named database, so tests never see each other's data or locks.

#![allow(dead_code)]

use std::{cell::RefCell, rc::Rc};

use chatterbox_recovery_client::{OpenOptions, Status, StatusEvent, Store, model::SessionInput};
use wasm_bindgen::JsValue;

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a random whole number below 10^12"
)]
pub fn unique_db(test: &str) -> String {
    let n = (js_sys::Math::random() * 1e12) as u64;
    format!("test-{test}-{n}")
}

pub fn options(db: &str, tab: &str) -> OpenOptions {
    OpenOptions {
        db_name: db.to_owned(),
        tab_id: Some(tab.to_owned()),
        listen_page_events: false,
        ..OpenOptions::default()
    }
}

pub async fn open(db: &str, tab: &str) -> Store {
    Store::open(options(db, tab)).await.expect("store opens")
}

pub fn input(id: &str, text: &str) -> SessionInput {
    let params = js_sys::Object::new();
    js_sys::Reflect::set(&params, &"speed".into(), &JsValue::from_f64(1.25)).expect("set");
    SessionInput {
        id: id.to_owned(),
        text: text.to_owned(),
        voice_id: Some("voice-a".to_owned()),
        params: params.into(),
    }
}

pub fn bytes(fill: u8, len: usize) -> JsValue {
    let len = u32::try_from(len).expect("a test buffer under 4 GiB");
    let array = js_sys::Uint8Array::new_with_length(len);
    array.fill(fill, 0, len);
    array.buffer().into()
}

pub fn first_byte(buffer: &JsValue) -> u8 {
    js_sys::Uint8Array::new(buffer).get_index(0)
}

pub fn byte_len(buffer: &JsValue) -> u32 {
    js_sys::Uint8Array::new(buffer).length()
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Waits until `check` holds, polling for up to 5 s: timing-dependent
/// assertions stay robust on a loaded machine.
pub async fn eventually(check: impl Fn() -> bool) {
    let deadline = js_sys::Date::now() + 5_000.0;
    while !check() {
        assert!(
            js_sys::Date::now() < deadline,
            "condition not met within 5 s"
        );
        sleep(20).await;
    }
}

/// Records status events with the time they arrived.
#[derive(Clone, Default)]
pub struct Events(pub Rc<RefCell<Vec<(f64, StatusEvent)>>>);

impl Events {
    pub fn attach(store: &Store) -> Self {
        let events = Events::default();
        let sink = events.0.clone();
        store.on_status(Rc::new(move |e: &StatusEvent| {
            sink.borrow_mut().push((js_sys::Date::now(), e.clone()));
        }));
        events
    }

    pub fn count(&self, status: Status) -> usize {
        self.0
            .borrow()
            .iter()
            .filter(|(_, e)| e.status == status)
            .count()
    }

    pub fn times(&self, status: Status) -> Vec<f64> {
        self.0
            .borrow()
            .iter()
            .filter(|(_, e)| e.status == status)
            .map(|(t, _)| *t)
            .collect()
    }

    pub fn of(&self, status: Status) -> Vec<StatusEvent> {
        self.0
            .borrow()
            .iter()
            .filter(|(_, e)| e.status == status)
            .map(|(_, e)| e.clone())
            .collect()
    }
}
