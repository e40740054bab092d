//! In-memory fakes of the ports, for fast unit tests. They keep the semantics that matter to the
//! handlers (conditional writes, owner-checked deletes, missing objects) and can be told to fail.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::domain::{CopyEntry, Counter, Counters, ObjectKey, OwnerHash, TokenHash, TokenRecord};
use crate::ports::{
    DeleteOutcome, DownloadSpec, ExtendOutcome, ListedObject, MAX_LISTED_OBJECTS, ObjectInfo,
    ObjectStore, PresignedRequest, PutSpec, StoreError, StoreResult, TokenStore, UploadSpec,
};
use crate::quota::QuotaCharge;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock has already failed; keep the data usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The port methods a fake was called with, in order: lets a test see which storage operations
/// (and so which IAM actions) a handler needs.
#[derive(Debug, Default)]
pub struct CallLog(Mutex<Vec<&'static str>>);

impl CallLog {
    fn push(&self, method: &'static str) {
        lock(&self.0).push(method);
    }

    /// The calls so far, emptying the log.
    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *lock(&self.0))
    }
}

fn check(down: &AtomicBool, context: &'static str) -> StoreResult<()> {
    if down.load(Ordering::SeqCst) {
        Err(StoreError::unavailable(
            context,
            anyhow::anyhow!("injected outage"),
        ))
    } else {
        Ok(())
    }
}

/// What the table holds besides counters, under one lock so that a write is atomic as a
/// DynamoDB transaction is.
#[derive(Debug, Default)]
struct Tables {
    records: HashMap<TokenHash, TokenRecord>,
    /// Audio key → the hashes of its tokens, and whether it was purged.
    audio: HashMap<String, (Vec<TokenHash>, bool)>,
    /// Quota item key → attribute → count.
    quotas: HashMap<String, HashMap<&'static str, u64>>,
    /// Owner hash → session id → copy entry.
    copies: HashMap<String, BTreeMap<String, CopyEntry>>,
}

impl Tables {
    /// Whether `charge` fits, without applying it.
    fn check_quota(&self, charge: &QuotaCharge) -> StoreResult<()> {
        let used = self.quotas.get(&charge.item_key());
        for &(kind, amount, limit) in &charge.amounts {
            let now = used
                .and_then(|u| u.get(kind.attribute()))
                .copied()
                .unwrap_or(0);
            if now.saturating_add(amount) > limit {
                return Err(StoreError::QuotaExceeded(kind));
            }
        }
        Ok(())
    }

    fn apply_quota(&mut self, charge: &QuotaCharge) {
        let used = self.quotas.entry(charge.item_key()).or_default();
        for &(kind, amount, _) in &charge.amounts {
            *used.entry(kind.attribute()).or_default() += amount;
        }
    }
}

#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tables: Mutex<Tables>,
    counters: Mutex<Counters>,
    down: AtomicBool,
    pub calls: CallLog,
}

impl MemoryTokenStore {
    /// Makes every later call fail as if the table were unreachable.
    pub fn set_unavailable(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn records(&self) -> Vec<TokenRecord> {
        lock(&self.tables).records.values().cloned().collect()
    }

    /// What the owner's daily quota item counts for `attribute` on `day`.
    pub fn quota_used(&self, item_key: &str, attribute: &str) -> u64 {
        lock(&self.tables)
            .quotas
            .get(item_key)
            .and_then(|q| q.get(attribute))
            .copied()
            .unwrap_or(0)
    }
}

impl TokenStore for MemoryTokenStore {
    async fn put_token(
        &self,
        record: &TokenRecord,
        quota: Option<&QuotaCharge>,
    ) -> StoreResult<()> {
        self.calls.push("put_token");
        check(&self.down, "put token")?;
        let mut tables = lock(&self.tables);
        if tables.records.contains_key(&record.token_hash) {
            return Err(StoreError::AlreadyExists);
        }
        let keys = record.object_keys();
        if keys
            .iter()
            .any(|key| tables.audio.get(*key).is_some_and(|(_, purged)| *purged))
        {
            return Err(StoreError::Purged);
        }
        if let Some(charge) = quota {
            tables.check_quota(charge)?;
            tables.apply_quota(charge);
        }
        for key in keys {
            tables
                .audio
                .entry(key.to_owned())
                .or_default()
                .0
                .push(record.token_hash.clone());
        }
        tables
            .records
            .insert(record.token_hash.clone(), record.clone());
        Ok(())
    }

    async fn get_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenRecord>> {
        self.calls.push("get_token");
        check(&self.down, "get token")?;
        Ok(lock(&self.tables).records.get(hash).cloned())
    }

    async fn charge_quota(&self, charge: &QuotaCharge) -> StoreResult<()> {
        self.calls.push("charge_quota");
        check(&self.down, "charge quota")?;
        let mut tables = lock(&self.tables);
        tables.check_quota(charge)?;
        tables.apply_quota(charge);
        Ok(())
    }

    async fn mark_purged(&self, object_keys: &[&str], _now: i64) -> StoreResult<Vec<TokenHash>> {
        self.calls.push("mark_purged");
        check(&self.down, "mark objects purged")?;
        let mut tables = lock(&self.tables);
        let mut hashes = Vec::new();
        for key in object_keys {
            let entry = tables.audio.entry((*key).to_owned()).or_default();
            entry.1 = true;
            hashes.extend(entry.0.iter().cloned());
        }
        hashes.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        hashes.dedup();
        Ok(hashes)
    }

    async fn purge_tokens(&self, hashes: &[TokenHash], now: i64) -> StoreResult<()> {
        self.calls.push("purge_tokens");
        check(&self.down, "purge tokens")?;
        let mut tables = lock(&self.tables);
        for hash in hashes {
            if let Some(record) = tables.records.get_mut(hash) {
                record.purged_at.get_or_insert(now);
            }
        }
        Ok(())
    }

    async fn delete_token(
        &self,
        hash: &TokenHash,
        owner_hash: &OwnerHash,
    ) -> StoreResult<DeleteOutcome> {
        self.calls.push("delete_token");
        check(&self.down, "delete token")?;
        let records = &mut lock(&self.tables).records;
        Ok(match records.get(hash) {
            Some(r) if &r.owner_hash == owner_hash => {
                records.remove(hash);
                DeleteOutcome::Deleted
            }
            Some(_) => DeleteOutcome::NotOwner,
            None => DeleteOutcome::Missing,
        })
    }

    async fn extend_token(
        &self,
        hash: &TokenHash,
        object_key: &str,
        expires_at: i64,
    ) -> StoreResult<ExtendOutcome> {
        self.calls.push("extend_token");
        check(&self.down, "extend token")?;
        let mut tables = lock(&self.tables);
        if tables
            .audio
            .get(object_key)
            .is_some_and(|(_, purged)| *purged)
        {
            return Ok(ExtendOutcome::Purged);
        }
        match tables.records.get_mut(hash) {
            Some(record) if record.purged_at.is_none() => {
                record.expires_at = expires_at;
                Ok(ExtendOutcome::Extended)
            }
            _ => Ok(ExtendOutcome::Missing),
        }
    }

    async fn copies(&self, owner: &OwnerHash) -> StoreResult<Vec<CopyEntry>> {
        self.calls.push("copies");
        check(&self.down, "read copies")?;
        Ok(lock(&self.tables)
            .copies
            .get(owner.as_str())
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn put_copy(
        &self,
        owner: &OwnerHash,
        entry: &CopyEntry,
        expired: &[&str],
    ) -> StoreResult<()> {
        self.calls.push("put_copy");
        check(&self.down, "put copy")?;
        let mut tables = lock(&self.tables);
        let copies = tables.copies.entry(owner.as_str().to_owned()).or_default();
        for session in expired {
            copies.remove(*session);
        }
        copies.insert(entry.session_id.clone(), entry.clone());
        Ok(())
    }

    async fn remove_copy(&self, owner: &OwnerHash, session_id: &str) -> StoreResult<()> {
        self.calls.push("remove_copy");
        check(&self.down, "remove copy")?;
        if let Some(m) = lock(&self.tables).copies.get_mut(owner.as_str()) {
            m.remove(session_id);
        }
        Ok(())
    }

    async fn increment(&self, counter: Counter) -> StoreResult<()> {
        self.calls.push("increment");
        check(&self.down, "increment counter")?;
        *lock(&self.counters).get_mut(counter) += 1;
        Ok(())
    }

    async fn counters(&self) -> StoreResult<Counters> {
        self.calls.push("counters");
        check(&self.down, "read counters")?;
        Ok(*lock(&self.counters))
    }
}

#[derive(Debug, Clone)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub filename: Option<String>,
}

impl StoredObject {
    /// `bytes` of `content_type` with no filename, as most objects are stored.
    pub fn new(bytes: Vec<u8>, content_type: &str) -> Self {
        Self {
            bytes,
            content_type: content_type.to_owned(),
            filename: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct MemoryObjectStore {
    objects: Mutex<HashMap<String, StoredObject>>,
    /// The `Content-Encoding` of objects written by [`ObjectStore::store_object`].
    encodings: Mutex<HashMap<String, String>>,
    down: AtomicBool,
    credentials_expiry: Mutex<Option<i64>>,
    pub calls: CallLog,
}

impl MemoryObjectStore {
    pub fn set_unavailable(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Stands in for the browser's PUT to the presigned URL.
    pub fn put_object(&self, key: &str, object: StoredObject) {
        lock(&self.objects).insert(key.to_owned(), object);
    }

    pub fn contains(&self, key: &str) -> bool {
        lock(&self.objects).contains_key(key)
    }

    pub fn get(&self, key: &str) -> Option<StoredObject> {
        lock(&self.objects).get(key).cloned()
    }

    pub fn content_encoding(&self, key: &str) -> Option<String> {
        lock(&self.encodings).get(key).cloned()
    }

    pub fn keys(&self) -> Vec<String> {
        lock(&self.objects).keys().cloned().collect()
    }

    pub fn set_credentials_expiry(&self, at: Option<i64>) {
        *lock(&self.credentials_expiry) = at;
    }
}

impl ObjectStore for MemoryObjectStore {
    async fn presign_upload(&self, spec: UploadSpec<'_>) -> StoreResult<PresignedRequest> {
        self.calls.push("presign_upload");
        check(&self.down, "presign upload")?;
        let mut headers = vec![
            ("content-type".to_owned(), spec.content_type.to_owned()),
            ("content-length".to_owned(), spec.content_length.to_string()),
        ];
        if let Some(value) = spec.filename.and_then(crate::s3::filename_metadata) {
            headers.push(("x-amz-meta-filename".to_owned(), value));
        }
        Ok(PresignedRequest {
            method: "PUT".to_owned(),
            url: format!(
                "memory://bucket/{}?expires_in={}",
                spec.key,
                spec.expires_in.as_secs()
            ),
            headers,
        })
    }

    async fn presign_download(&self, spec: DownloadSpec<'_>) -> StoreResult<PresignedRequest> {
        self.calls.push("presign_download");
        check(&self.down, "presign download")?;
        Ok(PresignedRequest {
            method: "GET".to_owned(),
            url: format!(
                "memory://bucket/{}?expires_in={}&disposition={}",
                spec.key,
                spec.expires_in.as_secs(),
                spec.content_disposition
            ),
            headers: Vec::new(),
        })
    }

    async fn head_object(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>> {
        self.calls.push("head_object");
        check(&self.down, "head audio")?;
        Ok(lock(&self.objects).get(key.as_str()).map(|o| ObjectInfo {
            size_bytes: o.bytes.len() as u64,
            content_type: Some(o.content_type.clone()),
            filename: o.filename.clone(),
        }))
    }

    async fn delete_object(&self, key: &str) -> StoreResult<()> {
        self.calls.push("delete_object");
        check(&self.down, "delete audio")?;
        lock(&self.objects).remove(key);
        Ok(())
    }

    async fn store_object(&self, spec: PutSpec<'_>) -> StoreResult<()> {
        self.calls.push("store_object");
        check(&self.down, "put object")?;
        let key = spec.key.as_str().to_owned();
        match spec.content_encoding {
            Some(e) => lock(&self.encodings).insert(key.clone(), e.to_owned()),
            None => lock(&self.encodings).remove(&key),
        };
        lock(&self.objects).insert(key, StoredObject::new(spec.body, spec.content_type));
        Ok(())
    }

    async fn list_objects(&self, prefix: &str) -> StoreResult<Vec<ListedObject>> {
        self.calls.push("list_objects");
        check(&self.down, "list objects")?;
        let mut listed: Vec<ListedObject> = lock(&self.objects)
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, o)| ListedObject {
                key: k.clone(),
                size_bytes: o.bytes.len() as u64,
            })
            .collect();
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        listed.truncate(MAX_LISTED_OBJECTS);
        Ok(listed)
    }

    async fn delete_objects(&self, keys: &[String]) -> StoreResult<()> {
        self.calls.push("delete_objects");
        check(&self.down, "delete objects")?;
        let mut objects = lock(&self.objects);
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }

    async fn check_bucket(&self) -> StoreResult<()> {
        self.calls.push("check_bucket");
        check(&self.down, "head bucket")
    }

    async fn signing_credentials_expiry(&self) -> StoreResult<Option<i64>> {
        self.calls.push("signing_credentials_expiry");
        Ok(*lock(&self.credentials_expiry))
    }
}
