//! Ports: what the handlers need from storage, as traits, so the handlers can be tested on the
//! in-memory fakes and run on DynamoDB and S3.

use std::future::Future;
use std::time::Duration;

use crate::domain::{CopyEntry, Counter, Counters, ObjectKey, OwnerHash, TokenHash, TokenRecord};
use crate::quota::{QuotaCharge, QuotaKind};

/// A storage dependency failed. The text goes to the log, never to the caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found the item already there.
    #[error("item already exists")]
    AlreadyExists,
    /// An object a token would name (its audio or its session document) has been purged by its
    /// owner.
    #[error("the audio has been purged")]
    Purged,
    /// A daily quota has no room for the charge.
    #[error("daily quota of {} used up", .0.describe())]
    QuotaExceeded(QuotaKind),
    /// The dependency refused the request as invalid (DynamoDB's ValidationException): the input
    /// slipped past the checks, so it is the caller's to fix, not an outage.
    #[error("{context}")]
    Rejected {
        context: &'static str,
        #[source]
        source: anyhow::Error,
    },
    /// The dependency could not be reached or answered with an error.
    #[error("{context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: anyhow::Error,
    },
}

impl StoreError {
    pub fn unavailable(context: &'static str, source: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable {
            context,
            source: source.into(),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What an owner-checked delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    Missing,
    NotOwner,
}

/// What extending a token's lifetime found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendOutcome {
    /// The token lives until the new expiry.
    Extended,
    /// No such token, or it was purged: nothing was changed; a new one is due.
    Missing,
    /// The object the token names was purged by its owner: nothing was changed.
    Purged,
}

/// The IAM action each port method's AWS adapter (`dynamodb/`, `s3.rs`) needs. Presigning
/// needs the action of the request it signs, since the URL carries the function's credentials.
/// The least-privilege test drives every handler on the recording fakes and checks each
/// function's policy in template.yaml against this table.
pub const IAM_ACTIONS: &[(&str, &[&str])] = &[
    // One TransactWriteItems: the token (Put), the token index of each object it names (audio,
    // session document) and the owner's quota (Updates); a transaction is authorised by the actions of its parts.
    ("put_token", &["dynamodb:PutItem", "dynamodb:UpdateItem"]),
    ("get_token", &["dynamodb:GetItem"]),
    ("delete_token", &["dynamodb:DeleteItem"]),
    ("charge_quota", &["dynamodb:UpdateItem"]),
    ("mark_purged", &["dynamodb:UpdateItem"]),
    ("purge_tokens", &["dynamodb:UpdateItem"]),
    ("increment", &["dynamodb:UpdateItem"]),
    // The counter shards, in one BatchGetItem.
    ("counters", &["dynamodb:BatchGetItem"]),
    // One TransactWriteItems of two Updates: the token record and its object's index.
    ("extend_token", &["dynamodb:UpdateItem"]),
    // The owner's copy list (`copies#{owner_hash}`).
    ("copies", &["dynamodb:GetItem"]),
    ("put_copy", &["dynamodb:UpdateItem"]),
    ("remove_copy", &["dynamodb:UpdateItem"]),
    ("presign_upload", &["s3:PutObject"]),
    ("presign_download", &["s3:GetObject"]),
    // HeadObject is authorised by s3:GetObject; without s3:ListBucket on the bucket, S3 answers
    // a missing key with 403 instead of 404.
    ("head_object", &["s3:GetObject", "s3:ListBucket"]),
    ("delete_object", &["s3:DeleteObject"]),
    ("store_object", &["s3:PutObject"]),
    // ListObjectsV2 is authorised by s3:ListBucket (on the bucket, with the s3:prefix key).
    ("list_objects", &["s3:ListBucket"]),
    // DeleteObjects is authorised by s3:DeleteObject on each key.
    ("delete_objects", &["s3:DeleteObject"]),
    // HeadBucket is authorised by s3:ListBucket.
    ("check_bucket", &["s3:ListBucket"]),
    // Reads the function's own credentials; no AWS call.
    ("signing_credentials_expiry", &[]),
];

/// Where token records live (DynamoDB in production).
pub trait TokenStore: Send + Sync {
    /// Stores a new record and lists it under its audio and its session document, charging
    /// `quota` in the same atomic write. Fails with [`StoreError::AlreadyExists`] if the hash is taken,
    /// [`StoreError::Purged`] if either has been purged and [`StoreError::QuotaExceeded`] if
    /// the charge does not fit; then nothing is written.
    fn put_token(
        &self,
        record: &TokenRecord,
        quota: Option<&QuotaCharge>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    fn get_token(
        &self,
        hash: &TokenHash,
    ) -> impl Future<Output = StoreResult<Option<TokenRecord>>> + Send;

    /// Deletes the record only if `owner_hash` owns it.
    fn delete_token(
        &self,
        hash: &TokenHash,
        owner_hash: &OwnerHash,
    ) -> impl Future<Output = StoreResult<DeleteOutcome>> + Send;

    /// Charges an owner's daily quota, all amounts or none ([`StoreError::QuotaExceeded`]).
    fn charge_quota(&self, charge: &QuotaCharge) -> impl Future<Output = StoreResult<()>> + Send;

    /// Marks the objects purged, so that no new token can name them, and returns the hashes of
    /// every token listed under any of them (each once).
    fn mark_purged(
        &self,
        object_keys: &[&str],
        now: i64,
    ) -> impl Future<Output = StoreResult<Vec<TokenHash>>> + Send;

    /// Marks these tokens purged, so they answer 410 from now on; a token already revoked stays
    /// gone. Safe to repeat.
    fn purge_tokens(
        &self,
        hashes: &[TokenHash],
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Moves a token's expiry to `expires_at`, unless it is gone or purged
    /// ([`ExtendOutcome::Missing`]) or `object_key`, the object it names, was purged
    /// ([`ExtendOutcome::Purged`]); keeps the object's index alive as long. One atomic write.
    fn extend_token(
        &self,
        hash: &TokenHash,
        object_key: &str,
        expires_at: i64,
    ) -> impl Future<Output = StoreResult<ExtendOutcome>> + Send;

    /// The owner's copied sessions, expired ones included (the caller filters by its clock).
    fn copies(&self, owner: &OwnerHash)
    -> impl Future<Output = StoreResult<Vec<CopyEntry>>> + Send;

    /// Adds or replaces one session's entry in the owner's copy list, and removes the entries of
    /// `expired` (other sessions whose copies have expired) in the same write, so that an owner
    /// who copies every day keeps a list of what is alive, well under DynamoDB's 400 KB item.
    fn put_copy(
        &self,
        owner: &OwnerHash,
        entry: &CopyEntry,
        expired: &[&str],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Removes one session's entry from the owner's copy list; nothing to remove is fine.
    fn remove_copy(
        &self,
        owner: &OwnerHash,
        session_id: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Counts one event. Never on the response path in production: the DynamoDB adapter buffers
    /// and flushes in the background (see `dynamodb/counters.rs`).
    fn increment(&self, counter: Counter) -> impl Future<Output = StoreResult<()>> + Send;

    /// Reads the counters; doubles as the table's health check.
    fn counters(&self) -> impl Future<Output = StoreResult<Counters>> + Send;
}

/// A request the browser makes directly against the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    /// Headers that were signed and must be sent exactly.
    pub headers: Vec<(String, String)>,
}

/// What a HEAD of an object (audio or session document) tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size_bytes: u64,
    pub content_type: Option<String>,
    /// The name given at upload time, if any.
    pub filename: Option<String>,
}

/// Parameters of a presigned upload.
#[derive(Debug, Clone)]
pub struct UploadSpec<'a> {
    pub key: &'a ObjectKey,
    pub content_type: &'a str,
    pub content_length: u64,
    pub filename: Option<&'a str>,
    pub expires_in: Duration,
}

/// Parameters of a presigned download.
#[derive(Debug, Clone)]
pub struct DownloadSpec<'a> {
    pub key: &'a str,
    pub content_disposition: &'a str,
    /// The `Content-Type` the download answers with; empty keeps the one stored with the object.
    pub content_type: &'a str,
    pub expires_in: Duration,
}

/// An object written by a function itself (the server copy's document), not by a presigned URL.
#[derive(Debug, Clone)]
pub struct PutSpec<'a> {
    pub key: &'a ObjectKey,
    pub body: Vec<u8>,
    pub content_type: &'a str,
    /// `gzip`, or `None` for identity.
    pub content_encoding: Option<&'a str>,
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size_bytes: u64,
}

/// At most this many objects come back from one listing (one `ListObjectsV2` page).
pub const MAX_LISTED_OBJECTS: usize = 1_000;

/// Where the objects live, audio and session documents (S3 in production).
pub trait ObjectStore: Send + Sync {
    fn presign_upload(
        &self,
        spec: UploadSpec<'_>,
    ) -> impl Future<Output = StoreResult<PresignedRequest>> + Send;

    fn presign_download(
        &self,
        spec: DownloadSpec<'_>,
    ) -> impl Future<Output = StoreResult<PresignedRequest>> + Send;

    fn head_object(
        &self,
        key: &ObjectKey,
    ) -> impl Future<Output = StoreResult<Option<ObjectInfo>>> + Send;

    fn delete_object(&self, key: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Writes an object with its content type and encoding.
    fn store_object(&self, spec: PutSpec<'_>) -> impl Future<Output = StoreResult<()>> + Send;

    /// The objects whose keys start with `prefix`, in key order, at most
    /// [`MAX_LISTED_OBJECTS`].
    fn list_objects(
        &self,
        prefix: &str,
    ) -> impl Future<Output = StoreResult<Vec<ListedObject>>> + Send;

    /// Deletes these objects (missing ones are fine).
    fn delete_objects(&self, keys: &[String]) -> impl Future<Output = StoreResult<()>> + Send;

    fn check_bucket(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// When the credentials that sign URLs expire (epoch seconds), if they do.
    fn signing_credentials_expiry(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
}
