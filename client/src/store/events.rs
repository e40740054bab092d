//! Status events for the app's save indicator, and their listeners.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use super::Store;
use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// An edit handed to `autosave` is not committed yet (sent at once).
    Pending,
    Saving,
    /// Everything handed to `autosave` so far is committed.
    Saved,
    Error,
    /// Storage was full: audio was evicted (listed) or the write was dropped.
    Quota,
    /// Another tab wrote the same session; its version was kept as a copy.
    Conflict,
    /// Another tab saved a session this tab has open.
    RemoteUpdate,
    /// Server copy (`serverCopy`): a document or part is on its way up.
    CopyPending,
    /// The server acknowledged a copy covering the last local commit of
    /// the session and all its committed parts.
    BackedUp,
    /// Saved on this device; the copy waits for the browser to be online.
    Offline,
    /// The copy failed; the message says when it retries and what to do.
    CopyError,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Saving => "saving",
            Status::Saved => "saved",
            Status::Error => "error",
            Status::Quota => "quota",
            Status::Conflict => "conflict",
            Status::RemoteUpdate => "remote-update",
            Status::CopyPending => "copy-pending",
            Status::BackedUp => "backed-up",
            Status::Offline => "offline",
            Status::CopyError => "copy-error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StatusEvent {
    pub status: Status,
    pub session_ids: Vec<String>,
    pub message: Option<String>,
    /// Sessions whose audio was evicted to make room.
    pub evicted: Vec<String>,
}

pub type Listener = Rc<dyn Fn(&StatusEvent)>;

/// The subscribed listeners, by subscription id.
#[derive(Default)]
pub(super) struct Listeners {
    list: RefCell<Vec<(u32, Listener)>>,
    next: Cell<u32>,
}

pub(super) const EVICTED_MESSAGE: &str =
    "storage was full: older audio was removed, text and parameters kept";

impl Store {
    /// Subscribes `listener` to status events; the id unsubscribes it.
    pub fn on_status(&self, listener: Listener) -> u32 {
        let events = &self.inner.events;
        let id = events.next.get() + 1;
        events.next.set(id);
        events.list.borrow_mut().push((id, listener));
        id
    }

    pub fn off_status(&self, id: u32) {
        self.inner
            .events
            .list
            .borrow_mut()
            .retain(|(i, _)| *i != id);
    }

    pub(crate) fn emit(
        &self,
        status: Status,
        session_ids: Vec<String>,
        message: Option<String>,
        evicted: Vec<String>,
    ) {
        let event = StatusEvent {
            status,
            session_ids,
            message,
            evicted,
        };
        // Clone first: a listener may (un)subscribe while being called.
        let listeners: Vec<Listener> = self
            .inner
            .events
            .list
            .borrow()
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for l in listeners {
            l(&event);
        }
    }

    /// Tells the app that audio was evicted to make room, if any was.
    pub(super) fn emit_evicted(&self, ids: &[String], evicted: &[String]) {
        if !evicted.is_empty() {
            self.emit(
                Status::Quota,
                ids.to_vec(),
                Some(EVICTED_MESSAGE.into()),
                evicted.to_vec(),
            );
        }
    }
}
