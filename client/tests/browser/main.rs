//! The client in a real browser: `client/scripts/test.sh` runs this test
//! target (`--test browser`, this directory) with wasm-bindgen-test-runner in
//! headless Chromium and in headless Firefox ESR. One module per concern;
//! each test works on its own database.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::float_cmp,
    reason = "revisions, counts and sizes here are whole JS numbers: exact equality is the assertion"
)]

#[path = "../common/mod.rs"]
mod common;

mod autosave;
mod backup_stubbed;
mod copy_stubbed;
mod crash;
mod js_api;
mod quota;
mod round_trips;
mod server_stubbed;
mod upgrade;

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
