//! The DynamoDB adapter of [`TokenStore`].
//!
//! One table holds, by partition key: token records (`sha256(token)`, 64 hex digits), one index
//! item per object, audio or session document (`audio#{key}`, see [`object_index_key`]: the
//! hashes of its tokens, and whether it was purged), one quota item per owner and UTC day
//! (`quota#{owner_hash}#{day}`), one copy list per owner (`copies#{owner_hash}`, see `copies.rs`)
//! and the counter shards (`#counters#NN`). Every item but the counters expires through the table's TTL attribute.

mod copies;
mod counters;
mod item;
mod quota;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::config::MAX_TOKEN_TTL_SECONDS;
use crate::domain::{CopyEntry, Counter, Counters, OwnerHash, TokenHash, TokenRecord};
use crate::ports::{DeleteOutcome, ExtendOutcome, StoreError, StoreResult, TokenStore};
use crate::quota::QuotaCharge;

use counters::CountBuffer;
pub use counters::{COUNTER_SHARDS, COUNTERS_KEY};
use item::{delete_item, from_item, get_item, n, s, to_item, transact_update, update_item};
use quota::{exceeded, quota_update};

#[derive(Debug, Clone)]
pub struct DynamoTokenStore {
    client: Client,
    table: String,
    counts: Arc<CountBuffer>,
}

impl DynamoTokenStore {
    /// A store whose counter writes may take up to [`DEFAULT_COUNTER_TIMEOUT`]; see
    /// [`DynamoTokenStore::with_counter_timeout`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            counts: Arc::new(CountBuffer::new(DEFAULT_COUNTER_TIMEOUT)),
        }
    }

    /// Bounds the wait for each counter write (see `counters.rs`): a count is written before its
    /// request answers, or kept for the instance's next write if it takes longer than `timeout`.
    #[must_use]
    pub fn with_counter_timeout(mut self, timeout: Duration) -> Self {
        self.counts = Arc::new(CountBuffer::new(timeout));
        self
    }
}

/// A DynamoDB write in the same region takes a few milliseconds; a tenth of a second past that is
/// an outage, and the request goes on without its count.
pub const DEFAULT_COUNTER_TIMEOUT: Duration = Duration::from_millis(250);

/// The item key of the token index of the object under `key` (audio or session document; the
/// prefix is from when only audio was indexed, and stays so that indexes already written count).
pub fn object_index_key(key: &str) -> String {
    format!("audio#{key}")
}

/// How many token updates a purge keeps in flight: 1,000 tokens in a few dozen round trips, well
/// inside the route's deadline, without a burst that a table's partition would throttle.
const PURGE_CONCURRENCY: usize = 32;

fn is_validation<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| code == "ValidationException")
}

/// Whether the `i`th write of a cancelled transaction is the one whose condition failed (the
/// reasons come in the order of the transaction's items).
fn condition_failed(cancelled: &TransactionCanceledException, i: usize) -> bool {
    cancelled
        .cancellation_reasons()
        .get(i)
        .and_then(|r| r.code())
        .is_some_and(|c| c == "ConditionalCheckFailed")
}

/// A transaction's write that the SDK could not build (a required field missing): an outage, as
/// no request was sent.
fn build_failed(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::unavailable("building a DynamoDB transaction failed", e)
}

/// A failed call: the caller's fault when DynamoDB says the request is invalid, else an outage.
fn failure<E, R>(context: &'static str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_validation(&e) {
        StoreError::Rejected {
            context,
            source: e.into(),
        }
    } else {
        StoreError::unavailable(context, e)
    }
}

impl DynamoTokenStore {
    /// Marks one object's index purged and returns the tokens it lists.
    async fn mark_one_purged(&self, key: &str, now: i64) -> StoreResult<Vec<TokenHash>> {
        // From here on no new token can name the object; its tokens come back in the same call.
        let out = update_item(&self.client, &self.table, object_index_key(key))
            .update_expression("SET purged_at = if_not_exists(purged_at, :now), #exp = :exp")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":now", n(&now))
            .expression_attribute_values(
                ":exp",
                n(&(now + i64::from(MAX_TOKEN_TTL_SECONDS) + 3_600)),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| failure("DynamoDB UpdateItem (purge index) failed", e))?;
        Ok(out
            .attributes
            .as_ref()
            .and_then(|a| a.get("tokens"))
            .and_then(|v| v.as_ss().ok())
            .into_iter()
            .flatten()
            .map(|h| TokenHash::from_stored(h.clone()))
            .collect())
    }
}

impl TokenStore for DynamoTokenStore {
    async fn put_token(
        &self,
        record: &TokenRecord,
        quota: Option<&QuotaCharge>,
    ) -> StoreResult<()> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(token_hash)")
            .build()
            .map_err(build_failed)?;
        // Each object's index (the audio's, the session document's) lists the token, unless the
        // object was purged meanwhile.
        let keys = record.object_keys();
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for key in &keys {
            let index = transact_update(&self.table, object_index_key(key))
                .update_expression("ADD #tokens :token SET #exp = :exp")
                .condition_expression("attribute_not_exists(purged_at)")
                .expression_attribute_names("#tokens", "tokens")
                .expression_attribute_names("#exp", "expires_at")
                .expression_attribute_values(
                    ":token",
                    AttributeValue::Ss(vec![record.token_hash.as_str().to_owned()]),
                )
                .expression_attribute_values(
                    ":exp",
                    n(&(record.created_at + i64::from(MAX_TOKEN_TTL_SECONDS) + 3_600)),
                )
                .build()
                .map_err(build_failed)?;
            items.push(TransactWriteItem::builder().update(index).build());
        }
        let quota_item = items.len();
        if let Some(charge) = quota {
            let q = quota_update(charge)?;
            let update = transact_update(&self.table, q.key)
                .update_expression(q.update)
                .condition_expression(q.condition)
                .set_expression_attribute_names(Some(q.names))
                .set_expression_attribute_values(Some(q.values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(build_failed)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                    e.as_service_error()
                {
                    let failed = |i: usize| condition_failed(cancelled, i);
                    if failed(0) {
                        return Err(StoreError::AlreadyExists);
                    }
                    if (1..quota_item).any(failed) {
                        return Err(StoreError::Purged);
                    }
                    if let Some(charge) = quota
                        && failed(quota_item)
                    {
                        let old = cancelled
                            .cancellation_reasons()
                            .get(quota_item)
                            .and_then(|r| r.item());
                        return Err(StoreError::QuotaExceeded(exceeded(charge, old)));
                    }
                    if cancelled
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ValidationError"))
                    {
                        return Err(StoreError::Rejected {
                            context: "DynamoDB TransactWriteItems refused the token as invalid",
                            source: e.into(),
                        });
                    }
                }
                Err(failure("DynamoDB TransactWriteItems (token) failed", e))
            }
        }
    }

    async fn get_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenRecord>> {
        let out = get_item(&self.client, &self.table, hash.as_str())
            // A token handed out a moment ago must redeem at once.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failure("DynamoDB GetItem failed", e))?;
        out.item
            .as_ref()
            .map(from_item)
            .transpose()
            .map_err(|e| StoreError::unavailable("DynamoDB returned a malformed token item", e))
    }

    async fn delete_token(
        &self,
        hash: &TokenHash,
        owner_hash: &OwnerHash,
    ) -> StoreResult<DeleteOutcome> {
        let result = delete_item(&self.client, &self.table, hash.as_str())
            // Deleting what is not there succeeds (revocation is idempotent); deleting someone
            // else's token fails the condition and changes nothing.
            .condition_expression("attribute_not_exists(token_hash) OR owner_hash = :owner")
            .expression_attribute_values(":owner", s(owner_hash.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) if out.attributes.as_ref().is_some_and(|a| !a.is_empty()) => {
                Ok(DeleteOutcome::Deleted)
            }
            Ok(_) => Ok(DeleteOutcome::Missing),
            Err(e)
                if e.as_service_error()
                    .is_some_and(DeleteItemError::is_conditional_check_failed_exception) =>
            {
                Ok(DeleteOutcome::NotOwner)
            }
            Err(e) => Err(failure("DynamoDB DeleteItem failed", e)),
        }
    }

    async fn charge_quota(&self, charge: &QuotaCharge) -> StoreResult<()> {
        let q = quota_update(charge)?;
        let result = update_item(&self.client, &self.table, q.key)
            .update_expression(q.update)
            .condition_expression(q.condition)
            .set_expression_attribute_names(Some(q.names))
            .set_expression_attribute_values(Some(q.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(service) if service.is_conditional_check_failed_exception() => {
                    let old = match service {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    };
                    Err(StoreError::QuotaExceeded(exceeded(charge, old)))
                }
                _ => Err(failure("DynamoDB UpdateItem (quota) failed", e)),
            },
        }
    }

    async fn mark_purged(&self, object_keys: &[&str], now: i64) -> StoreResult<Vec<TokenHash>> {
        use futures_util::{StreamExt as _, TryStreamExt as _};
        // One update per object, several in flight: a session's copy with its parts and backups
        // is up to a thousand objects, each a round trip.
        let owned: Vec<String> = object_keys.iter().map(|k| (*k).to_owned()).collect();
        let listed: Vec<Vec<TokenHash>> = futures_util::stream::iter(owned)
            .map(|key| async move { self.mark_one_purged(&key, now).await })
            .buffer_unordered(PURGE_CONCURRENCY)
            .try_collect()
            .await?;
        let mut hashes: Vec<TokenHash> = listed.into_iter().flatten().collect();
        hashes.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        hashes.dedup();
        Ok(hashes)
    }

    async fn purge_tokens(&self, hashes: &[TokenHash], now: i64) -> StoreResult<()> {
        use futures_util::TryStreamExt as _;
        futures_util::stream::iter(hashes.iter().map(Ok))
            .try_for_each_concurrent(PURGE_CONCURRENCY, |hash| async move {
                let result = update_item(&self.client, &self.table, hash.as_str())
                    .update_expression("SET purged_at = if_not_exists(purged_at, :now)")
                    // A token already revoked (or expired and swept) stays gone.
                    .condition_expression("attribute_exists(token_hash)")
                    .expression_attribute_values(":now", n(&now))
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e)
                        if e.as_service_error().is_some_and(
                            UpdateItemError::is_conditional_check_failed_exception,
                        ) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(failure("DynamoDB UpdateItem (purge token) failed", e)),
                }
            })
            .await
    }

    async fn extend_token(
        &self,
        hash: &TokenHash,
        object_key: &str,
        expires_at: i64,
    ) -> StoreResult<ExtendOutcome> {
        let token = transact_update(&self.table, hash.as_str())
            .update_expression("SET #exp = :exp")
            .condition_expression(
                "attribute_exists(token_hash) AND attribute_not_exists(purged_at)",
            )
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":exp", n(&expires_at))
            .build()
            .map_err(build_failed)?;
        // The index must outlive the token, or a purge would no longer find it.
        let index = transact_update(&self.table, object_index_key(object_key))
            .update_expression("SET #exp = :exp")
            .condition_expression("attribute_not_exists(purged_at)")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":exp", n(&(expires_at + 3_600)))
            .build()
            .map_err(build_failed)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(token).build())
            .transact_items(TransactWriteItem::builder().update(index).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(ExtendOutcome::Extended),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                    e.as_service_error()
                {
                    let failed = |i: usize| condition_failed(cancelled, i);
                    if failed(1) {
                        return Ok(ExtendOutcome::Purged);
                    }
                    if failed(0) {
                        return Ok(ExtendOutcome::Missing);
                    }
                }
                Err(failure(
                    "DynamoDB TransactWriteItems (extend token) failed",
                    e,
                ))
            }
        }
    }

    async fn copies(&self, owner: &OwnerHash) -> StoreResult<Vec<CopyEntry>> {
        copies::read(&self.client, &self.table, owner).await
    }

    async fn put_copy(
        &self,
        owner: &OwnerHash,
        entry: &CopyEntry,
        expired: &[&str],
    ) -> StoreResult<()> {
        copies::put(&self.client, &self.table, owner, entry, expired).await
    }

    async fn remove_copy(&self, owner: &OwnerHash, session_id: &str) -> StoreResult<()> {
        copies::remove(&self.client, &self.table, owner, session_id).await
    }

    async fn increment(&self, counter: Counter) -> StoreResult<()> {
        counters::record(&self.client, &self.table, &self.counts, counter).await
    }

    async fn counters(&self) -> StoreResult<Counters> {
        counters::read(&self.client, &self.table).await
    }
}
