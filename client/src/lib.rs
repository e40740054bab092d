//! Browser-side crash and session recovery for Chatterbox TTS front ends.
//!
//! A typed Rust core — [`store::Store`] over IndexedDB, crash detection with
//! per-tab Web Locks, the recovery-token server path in [`server`] — behind a
//! thin `#[wasm_bindgen]` layer, [`api::RecoveryStore`], that the JS package
//! exposes. See `client/README.md` for usage from JavaScript.

#![no_std]

extern crate alloc;
// Tests and native builds run on std (which brings the panic handler and the
// allocator); the package build replaces it with `runtime`.
#[cfg(not(feature = "tiny-runtime"))]
extern crate std;

pub mod api;
mod convert;
pub mod error;
mod idb;
mod js;
mod locks;
pub mod model;
mod prelude;
#[cfg(all(feature = "tiny-runtime", target_arch = "wasm32"))]
mod runtime;
mod schema;
pub mod server;
pub mod store;
mod text;
mod timer;
mod timing;
mod ts_types;

pub use api::RecoveryStore;
pub use error::ClientError;
/// Public because public methods return it.
pub use prelude::Boxed;
pub use store::{OpenOptions, Status, StatusEvent, Store};

/// Current IndexedDB schema version (see `schema.rs` for the upgrade path).
pub const SCHEMA_VERSION: u32 = schema::VERSION;
