//! What can be recovered: detect (sessions of a tab gone without a clean
//! exit), list, restore, delete.

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode;

use super::{Store, hints, key};
use crate::{
    error::{ClientError, Result},
    idb, js, locks,
    model::{self, Liveness, LivenessView, SessionRecord, TabRecord},
    prelude::*,
    schema::{BY_UPDATED, CHUNKS, SESSIONS, TABS},
    timing,
};

#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub record: SessionRecord,
    pub state: Liveness,
    pub chunk_count: u32,
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub index: f64,
    pub mime: String,
    /// An `ArrayBuffer`.
    pub bytes: JsValue,
}

#[derive(Debug, Clone)]
pub struct Restored {
    pub record: SessionRecord,
    pub chunks: Vec<Chunk>,
}

impl Store {
    /// Sessions left by a tab that is gone without a clean exit and younger
    /// than the retention period, newest first.
    pub fn detect(&self) -> Boxed<'_, Result<Vec<SessionSummary>>> {
        Box::pin(self.detect_body())
    }

    async fn detect_body(&self) -> Result<Vec<SessionSummary>> {
        let start = timing::now();
        let now = self.now();
        let retention = self.inner.opts.retention_ms;
        let found: Vec<SessionSummary> = self
            .summaries()
            .await?
            .into_iter()
            .filter(|s| {
                s.state == Liveness::Crashed
                    && !model::is_expired(s.record.updated_at, now, retention)
            })
            .collect();
        timing::measure("recovery:detect", start);
        Ok(found)
    }

    /// Every stored session with where its tab stands, newest first.
    pub fn list(&self) -> Boxed<'_, Result<Vec<SessionSummary>>> {
        self.summaries()
    }

    fn summaries(&self) -> Boxed<'_, Result<Vec<SessionSummary>>> {
        Box::pin(self.summaries_body())
    }

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a JS number: `as` saturates and turns NaN into 0, the clamp wanted here"
    )]
    async fn summaries_body(&self) -> Result<Vec<SessionSummary>> {
        self.check_open()?;
        // Asked before the transaction: awaiting the lock manager inside it
        // would let it commit under us.
        let held = locks::held_tabs(&self.inner.db_name).await;
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, TABS, CHUNKS],
            IdbTransactionMode::Readonly,
        )?;
        // Through the updatedAt index: oldest first, walked backwards below,
        // so no sort (and no sort code in the wasm).
        let by_updated = idb::store(&tx, SESSIONS)?
            .index(BY_UPDATED)
            .map_err(|e| ClientError::from_idb(&e))?;
        let rows_req = idb::req(by_updated.get_all())?;
        let tabs_req = idb::req(idb::store(&tx, TABS)?.get_all())?;
        let rows: Array = idb::request(rows_req).await?.unchecked_into();
        let tabs: Array = idb::request(tabs_req).await?.unchecked_into();
        let mut records: Vec<SessionRecord> = rows
            .iter()
            .filter_map(|r| SessionRecord::from_js(&r))
            .collect();
        // Issue every count before awaiting any, so they run as one batch.
        let chunks = idb::store(&tx, CHUNKS)?;
        let counts = records
            .iter()
            .map(|r| idb::req(chunks.count_with_key(&idb::session_chunk_range(&r.id)?)))
            .collect::<Result<Vec<_>>>()?;
        let tabs: Vec<TabRecord> = tabs.iter().filter_map(|t| TabRecord::from_js(&t)).collect();
        let view = LivenessView {
            own_tab: &self.inner.tab_id,
            held: held.as_deref(),
            now: self.now(),
            heartbeat_timeout_ms: f64::from(self.inner.opts.heartbeat_ms) * 3.0,
        };
        // Awaited in the order issued: `request` listens from its first poll,
        // so a later request awaited first would let the earlier ones'
        // success events pass unheard.
        let mut chunk_counts = Vec::with_capacity(counts.len());
        for count in counts {
            chunk_counts.push(idb::request(count).await?.as_f64().unwrap_or(0.0) as u32);
        }
        // Newest first: taken from the back rather than reversed afterwards
        // (`reverse` and `zip(..).rev()` bring panics with locations).
        let mut out = Vec::with_capacity(records.len());
        while let (Some(record), Some(chunk_count)) = (records.pop(), chunk_counts.pop()) {
            let state = model::classify(
                &record.tab_id,
                tabs.iter().find(|t| t.tab_id == record.tab_id),
                &view,
            );
            out.push(SessionSummary {
                record,
                state,
                chunk_count,
            });
        }
        Ok(out)
    }

    /// Text, voice, parameters and the audio chunks in index order.
    pub fn restore<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<Option<Restored>>> {
        Box::pin(self.restore_body(session_id, true))
    }

    /// [`Store::restore`] without the `recovery:restore` measure (the
    /// client's own reads).
    pub(crate) fn read_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> Boxed<'a, Result<Option<Restored>>> {
        Box::pin(self.restore_body(session_id, false))
    }

    async fn restore_body(&self, session_id: &str, measured: bool) -> Result<Option<Restored>> {
        let start = timing::now();
        self.check_open()?;
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, CHUNKS],
            IdbTransactionMode::Readonly,
        )?;
        let row_req = idb::req(idb::store(&tx, SESSIONS)?.get(&key(session_id)))?;
        let chunks_req = idb::req(
            idb::store(&tx, CHUNKS)?.get_all_with_key(&idb::session_chunk_range(session_id)?),
        )?;
        let row = idb::request(row_req).await?;
        let chunk_rows: Array = idb::request(chunks_req).await?.unchecked_into();
        let Some(record) = SessionRecord::from_js(&row) else {
            return Ok(None);
        };
        // Keys are [sessionId, index], so IndexedDB already returns them in
        // numeric index order.
        let chunks = chunk_rows
            .iter()
            .map(|c| Chunk {
                index: js::get_f64(&c, "index").unwrap_or(0.0),
                mime: js::get_str(&c, "mime").unwrap_or_default(),
                bytes: js::get(&c, "bytes"),
            })
            .collect();
        self.inner
            .known
            .borrow_mut()
            .saw(&record.id, Some(record.revision));
        if measured {
            timing::measure("recovery:restore", start);
        }
        Ok(Some(Restored { record, chunks }))
    }

    /// Deletes a session and its audio.
    pub fn delete<'a>(&'a self, session_id: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(self.delete_body(session_id))
    }

    async fn delete_body(&self, session_id: &str) -> Result<()> {
        self.check_open()?;
        self.unqueue(session_id);
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, CHUNKS],
            IdbTransactionMode::Readwrite,
        )?;
        idb::req(idb::store(&tx, SESSIONS)?.delete(&key(session_id)))?;
        idb::req(idb::store(&tx, CHUNKS)?.delete(&idb::session_chunk_range(session_id)?))?;
        idb::committed(&tx).await?;
        self.inner.known.borrow_mut().forget(session_id);
        crate::server::copy::forget(self, session_id);
        hints::remove(&self.inner.db_name, session_id);
        Ok(())
    }

    pub(super) fn all_sessions(&self) -> Boxed<'_, Result<Vec<SessionRecord>>> {
        Box::pin(self.all_sessions_body())
    }

    async fn all_sessions_body(&self) -> Result<Vec<SessionRecord>> {
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readonly)?;
        let rows: Array = idb::request(idb::req(idb::store(&tx, SESSIONS)?.get_all())?)
            .await?
            .unchecked_into();
        Ok(rows
            .iter()
            .filter_map(|r| SessionRecord::from_js(&r))
            .collect())
    }
}
