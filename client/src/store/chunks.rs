//! Audio chunks as they arrive, one per transaction, and the small record
//! updates around them (finished, evicted, server token).

use js_sys::Object;
use wasm_bindgen::JsValue;
use web_sys::IdbTransactionMode;

use super::{Status, Store, WriteOutcome, hints, key};
use crate::{
    error::{ClientError, Result},
    idb, js,
    model::{SessionInput, SessionRecord},
    prelude::*,
    schema::{CHUNKS, SESSIONS},
};

/// An audio part to store: its index, MIME type and an `ArrayBuffer`.
#[derive(Debug, Clone)]
pub struct NewChunk {
    pub index: u32,
    pub mime: String,
    pub bytes: JsValue,
}

impl Store {
    /// Stores one audio chunk in its own transaction. Never fails on a full
    /// disk: evicts older audio, and reports `stored: false` with a `quota`
    /// event if that was not enough.
    pub fn append_chunk<'a>(
        &'a self,
        session_id: &'a str,
        index: u32,
        bytes: JsValue,
        mime: &'a str,
    ) -> Boxed<'a, Result<WriteOutcome>> {
        Box::pin(self.append_chunk_body(session_id, index, bytes, mime))
    }

    async fn append_chunk_body(
        &self,
        session_id: &str,
        index: u32,
        bytes: JsValue,
        mime: &str,
    ) -> Result<WriteOutcome> {
        self.check_open()?;
        let (result, evicted) = self
            .with_quota_retry(session_id, &|| {
                self.write_chunk(session_id, index, &bytes, mime)
            })
            .await;
        match result {
            Ok(()) if evicted.is_empty() => Ok(WriteOutcome {
                stored: true,
                evicted,
            }),
            other => {
                let stored = other.is_ok();
                let outcome = self.report_write(session_id.to_owned(), other, evicted);
                // Back from `quota` once the part is in, if nothing else waits.
                if stored && self.is_clean() {
                    self.emit(Status::Saved, vec![session_id.to_owned()], None, Vec::new());
                }
                outcome
            }
        }
    }

    fn write_chunk<'a>(
        &'a self,
        session_id: &'a str,
        index: u32,
        bytes: &'a JsValue,
        mime: &'a str,
    ) -> Boxed<'a, Result<()>> {
        Box::pin(self.write_chunk_body(session_id, index, bytes, mime))
    }

    async fn write_chunk_body(
        &self,
        session_id: &str,
        index: u32,
        bytes: &JsValue,
        mime: &str,
    ) -> Result<()> {
        self.take_injected_failure()?;
        let known = self.inner.known.borrow().exists(session_id);
        let stores: &[&str] = if known {
            &[CHUNKS]
        } else {
            &[CHUNKS, SESSIONS]
        };
        let tx = idb::transaction(&self.inner.db, stores, IdbTransactionMode::Readwrite)?;
        let chunks = idb::store(&tx, CHUNKS)?;
        let row = Object::new();
        js::set_str(&row, "sessionId", session_id);
        js::set_f64(&row, "index", f64::from(index));
        js::set_str(&row, "mime", mime);
        js::set(&row, "bytes", bytes);
        idb::req(chunks.put(&row))?;
        let mut created = None;
        if !known {
            // Audio can arrive before the first text save: give it a session
            // row so detect() sees it.
            let sessions = idb::store(&tx, SESSIONS)?;
            let existing = idb::request(idb::req(sessions.get(&key(session_id)))?).await?;
            if existing.is_undefined() {
                let input = SessionInput {
                    id: session_id.to_owned(),
                    text: String::new(),
                    voice_id: None,
                    params: JsValue::NULL,
                };
                let record = SessionRecord::new(&input, &self.inner.tab_id, self.now());
                idb::req(sessions.put(&record.to_js()))?;
                created = Some(record.updated_at);
            }
        }
        idb::committed(&tx).await?;
        if let Some(at) = created {
            hints::put(&self.inner.db_name, session_id, at);
        }
        self.inner.known.borrow_mut().saw(session_id, None);
        // Uploaded beside generation, never awaited here.
        crate::server::copy::part(self, session_id, index, bytes.clone(), mime);
        Ok(())
    }

    /// Replaces a session's audio with `chunks`, each in its own transaction;
    /// `progress` hears how many are stored.
    pub(crate) fn replace_audio<'a>(
        &'a self,
        session_id: &'a str,
        chunks: &'a [NewChunk],
        progress: &'a dyn Fn(usize),
    ) -> Boxed<'a, Result<WriteOutcome>> {
        Box::pin(self.replace_audio_body(session_id, chunks, progress))
    }

    async fn replace_audio_body(
        &self,
        session_id: &str,
        chunks: &[NewChunk],
        progress: &dyn Fn(usize),
    ) -> Result<WriteOutcome> {
        let tx = idb::transaction(&self.inner.db, &[CHUNKS], IdbTransactionMode::Readwrite)?;
        idb::req(idb::store(&tx, CHUNKS)?.delete(&idb::session_chunk_range(session_id)?))?;
        idb::committed(&tx).await?;
        let mut evicted_all = Vec::new();
        for (n, chunk) in chunks.iter().enumerate() {
            let outcome = self
                .append_chunk(session_id, chunk.index, chunk.bytes.clone(), &chunk.mime)
                .await?;
            evicted_all.extend(outcome.evicted);
            if !outcome.stored {
                return Ok(WriteOutcome {
                    stored: false,
                    evicted: evicted_all,
                });
            }
            progress(n + 1);
        }
        self.update_record(session_id, Box::new(|r| r.audio_evicted = false))
            .await?;
        Ok(WriteOutcome {
            stored: true,
            evicted: evicted_all,
        })
    }

    /// Drops a session's audio so that a take starts anew, in one
    /// transaction: the chunk range goes, `completed` and `audioEvicted` are
    /// reset, and text, voice, params and the server token stay. There is no
    /// moment at which the session is missing (a kill keeps either the old
    /// parts or none). The server copy (if on) then copies the document
    /// anew, listing no parts. Like `complete`, an audio change: no new
    /// revision.
    pub fn clear_chunks<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(async move {
            self.check_open()?;
            let reset = |r: &mut SessionRecord| {
                r.completed = false;
                r.audio_evicted = false;
                // The copied parts were the old take's.
                r.copy_parts = JsValue::UNDEFINED;
            };
            self.update_record_body(session_id, true, Box::new(reset))
                .await?;
            crate::server::copy::cleared(self, session_id);
            Ok(())
        })
    }

    /// Marks the session finished: its audio becomes evictable when storage
    /// fills up.
    pub fn complete<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(self.complete_body(session_id))
    }

    async fn complete_body(&self, session_id: &str) -> Result<()> {
        self.check_open()?;
        if self.is_queued(session_id) {
            self.flush().await?;
        }
        self.update_record(session_id, Box::new(|r| r.completed = true))
            .await
    }

    pub(crate) fn update_record<'a>(
        &'a self,
        session_id: &'a str,
        change: Box<dyn FnOnce(&mut SessionRecord) + 'a>,
    ) -> Boxed<'a, Result<()>> {
        Box::pin(self.update_record_body(session_id, false, change))
    }

    /// With `clear_audio`, the session's chunks are deleted in the same
    /// transaction.
    async fn update_record_body(
        &self,
        session_id: &str,
        clear_audio: bool,
        change: Box<dyn FnOnce(&mut SessionRecord) + '_>,
    ) -> Result<()> {
        let stores: &[&str] = if clear_audio {
            &[SESSIONS, CHUNKS]
        } else {
            &[SESSIONS]
        };
        let tx = idb::transaction(&self.inner.db, stores, IdbTransactionMode::Readwrite)?;
        if clear_audio {
            idb::req(idb::store(&tx, CHUNKS)?.delete(&idb::session_chunk_range(session_id)?))?;
        }
        let sessions = idb::store(&tx, SESSIONS)?;
        let row = idb::request(idb::req(sessions.get(&key(session_id)))?).await?;
        let mut record = SessionRecord::from_js(&row)
            .ok_or_else(|| ClientError::NotFound(session_id.to_owned()))?;
        change(&mut record);
        idb::req(sessions.put(&record.to_js()))?;
        idb::committed(&tx).await
    }

    pub fn get_record<'a>(
        &'a self,
        session_id: &'a str,
    ) -> Boxed<'a, Result<Option<SessionRecord>>> {
        Box::pin(self.get_record_body(session_id))
    }

    async fn get_record_body(&self, session_id: &str) -> Result<Option<SessionRecord>> {
        self.check_open()?;
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readonly)?;
        let row = idb::request(idb::req(idb::store(&tx, SESSIONS)?.get(&key(session_id)))?).await?;
        Ok(SessionRecord::from_js(&row))
    }
}
