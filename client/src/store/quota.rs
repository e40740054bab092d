//! A full disk: evict the audio of the oldest completed sessions (their text
//! and parameters stay) and retry, one session at a time.

use web_sys::IdbTransactionMode;

use super::{Store, key};
use crate::{
    error::{ClientError, Result},
    idb, model,
    model::SessionRecord,
    prelude::*,
    schema::{CHUNKS, SESSIONS},
};

impl Store {
    /// Retries `op` after evicting the oldest completed sessions' audio, one
    /// session at a time, for as long as it fails on the quota. Not generic,
    /// and boxed: one copy of the loop for its four callers.
    pub(super) fn with_quota_retry<'a>(
        &'a self,
        protect: &'a str,
        op: &'a dyn Fn() -> Boxed<'a, Result<()>>,
    ) -> Boxed<'a, (Result<()>, Vec<String>)> {
        Box::pin(self.with_quota_retry_body(protect, op))
    }

    async fn with_quota_retry_body<'a>(
        &'a self,
        protect: &'a str,
        op: &'a dyn Fn() -> Boxed<'a, Result<()>>,
    ) -> (Result<()>, Vec<String>) {
        // Sessions whose audio was removed, and every session tried (one
        // whose mark could not be written has nothing left to remove).
        let mut evicted = Vec::new();
        let mut tried = Vec::new();
        loop {
            match op().await {
                Err(ClientError::Quota) => match self.evict_oldest_audio(protect, &tried).await {
                    Ok(Some((id, removed))) => {
                        if removed {
                            evicted.push(id.clone());
                        }
                        tried.push(id);
                    }
                    Ok(None) => return (Err(ClientError::Quota), evicted),
                    Err(e) => return (Err(e), evicted),
                },
                other => return (other, evicted),
            }
        }
    }

    /// Drops the audio of the oldest completed session other than `protect`,
    /// keeping its text and parameters: its id, and whether it had any audio
    /// left to remove. `None` when nothing is left to evict.
    fn evict_oldest_audio<'a>(
        &'a self,
        protect: &'a str,
        done: &'a [String],
    ) -> Boxed<'a, Result<Option<(String, bool)>>> {
        Box::pin(self.evict_oldest_audio_body(protect, done))
    }

    async fn evict_oldest_audio_body(
        &self,
        protect: &str,
        done: &[String],
    ) -> Result<Option<(String, bool)>> {
        let all = self.all_sessions().await?;
        let Some(victim) = model::oldest_evictable(&all, protect, done) else {
            return Ok(None);
        };
        // The delete commits on its own: with the quota used up, Chromium
        // refuses a transaction that also writes (the mark below) as a whole,
        // and the delete is what makes room.
        let tx = idb::transaction(&self.inner.db, &[CHUNKS], IdbTransactionMode::Readwrite)?;
        let chunks = idb::store(&tx, CHUNKS)?;
        let range = idb::session_chunk_range(&victim)?;
        let count = idb::req(chunks.count_with_key(&range))?;
        idb::req(chunks.delete(&range))?;
        let removed = idb::request(count).await?.as_f64().unwrap_or(0.0) > 0.0;
        idb::committed(&tx).await?;
        // The mark only keeps later evictions from picking the session again;
        // if even it does not fit, `done` does that for this caller.
        let _ = self.mark_audio_evicted(&victim).await;
        Ok(Some((victim, removed)))
    }

    async fn mark_audio_evicted(&self, id: &str) -> Result<()> {
        let tx = idb::transaction(&self.inner.db, &[SESSIONS], IdbTransactionMode::Readwrite)?;
        let sessions = idb::store(&tx, SESSIONS)?;
        let row = idb::request(idb::req(sessions.get(&key(id)))?).await?;
        if let Some(mut record) = SessionRecord::from_js(&row) {
            record.audio_evicted = true;
            idb::req(sessions.put(&record.to_js()))?;
        }
        idb::committed(&tx).await
    }
}
