//! What every module imports (`use crate::prelude::*`): the names the
//! standard prelude would bring, for a `no_std` crate, and [`Boxed`].

pub(crate) use alloc::{borrow::ToOwned, boxed::Box, string::String, vec, vec::Vec};

/// A boxed future. The core's async functions return these at their
/// boundaries: an `async fn` called from several places is otherwise inlined
/// into each caller's state machine, which multiplied the wasm size.
pub type Boxed<'a, T> = core::pin::Pin<Box<dyn core::future::Future<Output = T> + 'a>>;
