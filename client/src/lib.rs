//! Browser-side crash and session recovery for Chatterbox TTS front ends.
//!
//! A typed Rust core — [`store::Store`] over IndexedDB, crash detection with
//! per-tab Web Locks, the recovery-token server path in [`server`] — behind a
//! thin `#[wasm_bindgen]` layer, [`api::RecoveryStore`], that the JS package
//! exposes. See `client/README.md` for usage from JavaScript.

pub mod api;
pub mod error;
mod idb;
mod js;
mod locks;
pub mod model;
mod schema;
pub mod server;
pub mod store;

pub use api::RecoveryStore;
pub use error::ClientError;
pub use store::{OpenOptions, Status, StatusEvent, Store};

/// A boxed future. The core's async functions return these at their
/// boundaries: an `async fn` called from several places is otherwise inlined
/// into each caller's state machine, which multiplied the wasm size.
pub type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// Current IndexedDB schema version (see `schema.rs` for the upgrade path).
pub const SCHEMA_VERSION: u32 = schema::VERSION;
