//! Retention: sessions (and their audio) older than the retention period go,
//! and rows of tabs not seen for as long, at every open.

use js_sys::{Array, Object};
use wasm_bindgen::JsCast;
use web_sys::IdbTransactionMode;

use super::{Store, hints, key};
use crate::{
    error::Result,
    idb, js,
    model::{self, SessionRecord, TabRecord},
    prelude::*,
    schema::{CHUNKS, SESSIONS, TABS},
};

impl Store {
    /// Removes sessions (and their audio) older than the retention period,
    /// and rows of tabs not seen for as long; rebuilds the localStorage hint.
    pub fn purge_expired(&self) -> Boxed<'_, Result<Vec<String>>> {
        Box::pin(self.purge_expired_body())
    }

    async fn purge_expired_body(&self) -> Result<Vec<String>> {
        let now = self.now();
        let retention = self.inner.opts.retention_ms;
        let tx = idb::transaction(
            &self.inner.db,
            &[SESSIONS, CHUNKS, TABS],
            IdbTransactionMode::Readwrite,
        )?;
        let sessions = idb::store(&tx, SESSIONS)?;
        let chunks = idb::store(&tx, CHUNKS)?;
        let tabs = idb::store(&tx, TABS)?;
        let rows_req = idb::req(sessions.get_all())?;
        let tabs_req = idb::req(tabs.get_all())?;
        let rows: Array = idb::request(rows_req).await?.unchecked_into();
        let tab_rows: Array = idb::request(tabs_req).await?.unchecked_into();
        let mut removed = Vec::new();
        let kept = Object::new();
        for record in rows.iter().filter_map(|r| SessionRecord::from_js(&r)) {
            if model::is_expired(record.updated_at, now, retention) {
                idb::req(sessions.delete(&key(&record.id)))?;
                idb::req(chunks.delete(&idb::session_chunk_range(&record.id)?))?;
                removed.push(record.id);
            } else {
                js::set_f64(&kept, &record.id, record.updated_at);
            }
        }
        for tab in tab_rows.iter().filter_map(|t| TabRecord::from_js(&t)) {
            if tab.tab_id != self.inner.tab_id
                && model::is_expired(tab.heartbeat_at, now, retention)
            {
                idb::req(tabs.delete(&key(&tab.tab_id)))?;
            }
        }
        idb::committed(&tx).await?;
        // At every open: the index starts again from what IndexedDB holds.
        hints::replace(&self.inner.db_name, &kept);
        Ok(removed)
    }
}
