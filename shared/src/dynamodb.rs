//! The DynamoDB adapter of [`TokenStore`].
//!
//! One table holds, by partition key: token records (`sha256(token)`, 64 hex digits), one index
//! item per audio object (`audio#{key}`: the hashes of its tokens, and whether it was purged), one
//! quota item per owner and UTC day (`quota#{owner_hash}#{day}`) and the counter shards
//! (`#counters#NN`). Every item but the counters expires through the table's TTL attribute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use crate::config::MAX_TOKEN_TTL_SECONDS;
use crate::domain::{Counter, Counters, OwnerHash, SessionDocument, TokenHash, TokenRecord};
use crate::ports::{DeleteOutcome, StoreError, StoreResult, TokenStore};
use crate::quota::{QuotaCharge, QuotaKind};

/// The partition key of the counters item of earlier versions, still summed by the health route.
/// Token hashes are 64 hex digits, so no key here can ever be one.
pub const COUNTERS_KEY: &str = "#counters";
/// Counter writes are spread over this many items (`#counters#00` …), so no item takes more than
/// its share of them (see the README's capacity arithmetic).
pub const COUNTER_SHARDS: u8 = 16;
/// How long a background counter flush may take before its counts go back to the buffer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct DynamoTokenStore {
    client: Client,
    table: String,
    counts: Arc<CountBuffer>,
}

/// Counts waiting to be written, and when they were last written.
#[derive(Debug, Default)]
struct CountBuffer {
    /// Zero: every count is written at once, awaited (tests). Otherwise counts are added up in
    /// memory and written by a background task at most once per interval.
    flush_every: Duration,
    pending: Mutex<(Counters, Option<Instant>)>,
}

impl CountBuffer {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Counters, Option<Instant>)> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl DynamoTokenStore {
    /// A store that writes each count at once; see [`DynamoTokenStore::with_counter_flush`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            counts: Arc::default(),
        }
    }

    /// Buffers counts and writes them in the background at most once per `every`, so counting
    /// never delays nor fails a request. Counts not yet written when the process ends are lost.
    #[must_use]
    pub fn with_counter_flush(mut self, every: Duration) -> Self {
        self.counts = Arc::new(CountBuffer {
            flush_every: every,
            pending: Mutex::default(),
        });
        self
    }
}

/// The item key of the audio index of `audio_key`.
fn audio_index_key(audio_key: &str) -> String {
    format!("audio#{audio_key}")
}

fn is_validation<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| code == "ValidationException")
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

/// `ADD` of each amount with a condition that every total stays within its limit.
struct QuotaUpdate {
    key: String,
    update: String,
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn quota_update(charge: &QuotaCharge) -> StoreResult<QuotaUpdate> {
    let mut adds = Vec::new();
    let mut conditions = Vec::new();
    let mut names = HashMap::from([("#exp".to_owned(), "expires_at".to_owned())]);
    let mut values = HashMap::from([(":exp".to_owned(), n(charge.expires_at()))]);
    for (i, &(kind, amount, limit)) in charge.amounts.iter().enumerate() {
        // A charge bigger than the whole limit can never fit.
        let Some(room) = limit.checked_sub(amount) else {
            return Err(StoreError::QuotaExceeded(kind));
        };
        names.insert(format!("#q{i}"), kind.attribute().to_owned());
        values.insert(format!(":a{i}"), n(amount));
        values.insert(format!(":m{i}"), n(room));
        adds.push(format!("#q{i} :a{i}"));
        conditions.push(format!("(attribute_not_exists(#q{i}) OR #q{i} <= :m{i})"));
    }
    Ok(QuotaUpdate {
        key: charge.item_key(),
        update: format!("ADD {} SET #exp = :exp", adds.join(", ")),
        condition: conditions.join(" AND "),
        names,
        values,
    })
}

/// Which quota of `charge` the item as it was (`old`) has no room for.
fn exceeded(charge: &QuotaCharge, old: Option<&HashMap<String, AttributeValue>>) -> QuotaKind {
    charge
        .amounts
        .iter()
        .find(|&&(kind, amount, limit)| {
            let used = old
                .and_then(|item| item.get(kind.attribute()))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            used.saturating_add(amount) > limit
        })
        .or(charge.amounts.first())
        .map_or(QuotaKind::Tokens, |&(kind, _, _)| kind)
}

/// Adds `counts` to one counter shard.
async fn add_counts(client: &Client, table: &str, counts: Counters) -> StoreResult<()> {
    let mut shard = [0u8; 1];
    // An all-zero fallback only concentrates writes on shard 0; it never loses a count.
    let _ = getrandom::fill(&mut shard);
    let mut update = client.update_item().table_name(table).key(
        "token_hash",
        s(format!("{COUNTERS_KEY}#{:02}", shard[0] % COUNTER_SHARDS)),
    );
    let mut adds = Vec::new();
    for counter in Counter::ALL {
        let mut counts = counts;
        let value = *counts.get_mut(counter);
        if value > 0 {
            adds.push(format!("#{0} :{0}", counter.name()));
            update = update
                .expression_attribute_names(format!("#{}", counter.name()), counter.name())
                .expression_attribute_values(format!(":{}", counter.name()), n(value));
        }
    }
    if adds.is_empty() {
        return Ok(());
    }
    update
        .update_expression(format!("ADD {}", adds.join(", ")))
        .send()
        .await
        .map_err(|e| failure("DynamoDB UpdateItem (counter) failed", e))?;
    Ok(())
}

fn add_into(total: &mut Counters, more: Counters) {
    let mut more = more;
    for counter in Counter::ALL {
        let add = *more.get_mut(counter);
        let slot = total.get_mut(counter);
        *slot = slot.saturating_add(add);
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn to_item(r: &TokenRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("token_hash".to_owned(), s(r.token_hash.as_str())),
        ("audio_key".to_owned(), s(&r.audio_key)),
        ("owner_hash".to_owned(), s(r.owner_hash.as_str())),
        ("session_id".to_owned(), s(&r.session_id)),
        ("created_at".to_owned(), n(r.created_at)),
        ("expires_at".to_owned(), n(r.expires_at)),
        ("content_type".to_owned(), s(&r.content_type)),
        ("size_bytes".to_owned(), n(r.size_bytes)),
        (
            "metadata".to_owned(),
            AttributeValue::M(
                r.metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), json_to_attribute(v)))
                    .collect(),
            ),
        ),
    ]);
    if let Some(name) = &r.filename {
        item.insert("filename".to_owned(), s(name));
    }
    if let Some(at) = r.purged_at {
        item.insert("purged_at".to_owned(), n(at));
    }
    if let Some(session) = &r.session {
        item.insert("session_key".to_owned(), s(&session.key));
        item.insert("session_size".to_owned(), n(session.size_bytes));
    }
    item
}

/// Metadata values are flat (the handler refuses nested ones); anything else is stored as JSON text.
fn json_to_attribute(v: &serde_json::Value) -> AttributeValue {
    match v {
        serde_json::Value::String(t) => s(t),
        serde_json::Value::Number(x) => n(x),
        serde_json::Value::Bool(b) => AttributeValue::Bool(*b),
        serde_json::Value::Null => AttributeValue::Null(true),
        other => s(other.to_string()),
    }
}

fn attribute_to_json(v: &AttributeValue) -> serde_json::Value {
    match v {
        AttributeValue::S(t) => serde_json::Value::String(t.clone()),
        AttributeValue::N(x) => serde_json::from_str::<serde_json::Number>(x)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|_| serde_json::Value::String(x.clone())),
        AttributeValue::Bool(b) => serde_json::Value::Bool(*b),
        _ => serde_json::Value::Null,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("token item is malformed: attribute {0} missing or of the wrong type")]
struct MalformedItem(&'static str);

fn from_item(item: &HashMap<String, AttributeValue>) -> Result<TokenRecord, MalformedItem> {
    let text = |name: &'static str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or(MalformedItem(name))
    };
    let number = |name: &'static str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or(MalformedItem(name))
    };
    Ok(TokenRecord {
        token_hash: TokenHash::from_stored(text("token_hash")?),
        audio_key: text("audio_key")?,
        owner_hash: OwnerHash::from_stored(text("owner_hash")?),
        session_id: text("session_id")?,
        created_at: number("created_at")?,
        expires_at: number("expires_at")?,
        content_type: text("content_type")?,
        size_bytes: u64::try_from(number("size_bytes")?)
            .map_err(|_| MalformedItem("size_bytes"))?,
        filename: text("filename").ok(),
        purged_at: number("purged_at").ok(),
        session: match text("session_key") {
            Ok(key) => Some(SessionDocument {
                key,
                size_bytes: u64::try_from(number("session_size")?)
                    .map_err(|_| MalformedItem("session_size"))?,
            }),
            Err(_) => None,
        },
        metadata: item
            .get("metadata")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), attribute_to_json(v)))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

impl TokenStore for DynamoTokenStore {
    async fn put_token(
        &self,
        record: &TokenRecord,
        quota: Option<&QuotaCharge>,
    ) -> StoreResult<()> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| {
            StoreError::unavailable("building a DynamoDB transaction failed", e)
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(token_hash)")
            .build()
            .map_err(build)?;
        // The audio's index lists the token, unless the audio was purged meanwhile.
        let index = Update::builder()
            .table_name(&self.table)
            .key("token_hash", s(audio_index_key(&record.audio_key)))
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
                n(record.created_at + i64::from(MAX_TOKEN_TTL_SECONDS) + 3_600),
            )
            .build()
            .map_err(build)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(index).build(),
        ];
        if let Some(charge) = quota {
            let q = quota_update(charge)?;
            let update = Update::builder()
                .table_name(&self.table)
                .key("token_hash", s(q.key))
                .update_expression(q.update)
                .condition_expression(q.condition)
                .set_expression_attribute_names(Some(q.names))
                .set_expression_attribute_values(Some(q.values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(build)?;
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
                    let failed = |i: usize| {
                        cancelled
                            .cancellation_reasons()
                            .get(i)
                            .and_then(|r| r.code())
                            .is_some_and(|c| c == "ConditionalCheckFailed")
                    };
                    if failed(0) {
                        return Err(StoreError::AlreadyExists);
                    }
                    if failed(1) {
                        return Err(StoreError::Purged);
                    }
                    if let Some(charge) = quota
                        && failed(2)
                    {
                        let old = cancelled
                            .cancellation_reasons()
                            .get(2)
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
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("token_hash", s(hash.as_str()))
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
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("token_hash", s(hash.as_str()))
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
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(DeleteOutcome::NotOwner)
            }
            Err(e) => Err(failure("DynamoDB DeleteItem failed", e)),
        }
    }

    async fn charge_quota(&self, charge: &QuotaCharge) -> StoreResult<()> {
        let q = quota_update(charge)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("token_hash", s(q.key))
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

    async fn purge_audio(&self, audio_key: &str, now: i64) -> StoreResult<()> {
        // First the index: from here on no new token can name the audio. Its tokens come back
        // in the same call.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("token_hash", s(audio_index_key(audio_key)))
            .update_expression("SET purged_at = if_not_exists(purged_at, :now), #exp = :exp")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + i64::from(MAX_TOKEN_TTL_SECONDS) + 3_600))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| failure("DynamoDB UpdateItem (purge index) failed", e))?;
        let hashes = out
            .attributes
            .as_ref()
            .and_then(|a| a.get("tokens"))
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default();
        for hash in hashes {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("token_hash", s(hash))
                .update_expression("SET purged_at = if_not_exists(purged_at, :now)")
                // A token already revoked (or expired and swept) stays gone.
                .condition_expression("attribute_exists(token_hash)")
                .expression_attribute_values(":now", n(now))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(failure("DynamoDB UpdateItem (purge token) failed", e)),
            }
        }
        Ok(())
    }

    async fn increment(&self, counter: Counter) -> StoreResult<()> {
        let mut one = Counters::default();
        *one.get_mut(counter) = 1;
        let buffer = &self.counts;
        if buffer.flush_every.is_zero() {
            return add_counts(&self.client, &self.table, one).await;
        }
        let batch = {
            let mut pending = buffer.lock();
            add_into(&mut pending.0, one);
            let due = pending
                .1
                .is_none_or(|at| at.elapsed() >= buffer.flush_every);
            due.then(|| {
                pending.1 = Some(Instant::now());
                std::mem::take(&mut pending.0)
            })
        };
        if let Some(batch) = batch {
            let (client, table, buffer) = (self.client.clone(), self.table.clone(), buffer.clone());
            // Off the response path: the request does not wait for, nor fail with, this write.
            tokio::spawn(async move {
                let written =
                    tokio::time::timeout(FLUSH_TIMEOUT, add_counts(&client, &table, batch))
                        .await
                        .map_err(|_| "timed out".to_owned())
                        .and_then(|r| r.map_err(|e| e.to_string()));
                if let Err(error) = written {
                    tracing::warn!(%error, "writing counters failed; kept for the next flush");
                    add_into(&mut buffer.lock().0, batch);
                }
            });
        }
        Ok(())
    }

    async fn counters(&self) -> StoreResult<Counters> {
        let mut keys: Vec<HashMap<String, AttributeValue>> = (0..COUNTER_SHARDS)
            .map(|i| format!("{COUNTERS_KEY}#{i:02}"))
            .chain([COUNTERS_KEY.to_owned()])
            .map(|k| HashMap::from([("token_hash".to_owned(), s(k))]))
            .collect();
        let mut counters = Counters::default();
        // BatchGetItem may leave keys unprocessed under load; they are asked for again.
        for _ in 0..3 {
            if keys.is_empty() {
                break;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .build()
                .map_err(|e| StoreError::unavailable("building a BatchGetItem failed", e))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| failure("DynamoDB BatchGetItem (counters) failed", e))?;
            for item in out.responses.iter().flat_map(|r| r.values()).flatten() {
                for counter in Counter::ALL {
                    let value = item
                        .get(counter.name())
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0);
                    let slot = counters.get_mut(counter);
                    *slot = slot.saturating_add(value);
                }
            }
            keys = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if !keys.is_empty() {
            return Err(StoreError::unavailable(
                "DynamoDB BatchGetItem (counters) left keys unprocessed",
                anyhow::anyhow!("{} keys unprocessed", keys.len()),
            ));
        }
        Ok(counters)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_record_survives_the_round_trip_through_attribute_values() {
        let mut metadata = crate::domain::Metadata::new();
        metadata.insert("voice".into(), "alloy".into());
        metadata.insert("temperature".into(), serde_json::json!(0.8));
        metadata.insert("seed".into(), serde_json::json!(42));
        metadata.insert("final".into(), serde_json::json!(true));
        let record = TokenRecord {
            token_hash: TokenHash::from_stored("ab".repeat(32)),
            audio_key: "recovery/x/y/z".into(),
            owner_hash: OwnerHash::from_stored("cd".repeat(32)),
            session_id: "y".into(),
            created_at: 1_700_000_000,
            expires_at: 1_700_086_400,
            content_type: "audio/wav".into(),
            size_bytes: 1234,
            filename: Some("take.wav".into()),
            metadata,
            session: Some(SessionDocument {
                key: "recovery/x/y/doc".into(),
                size_bytes: 77,
            }),
            purged_at: Some(1_700_000_100),
        };
        assert_eq!(from_item(&to_item(&record)).unwrap(), record);
    }

    #[test]
    fn an_item_without_a_required_attribute_is_reported_not_panicked_on() {
        let item = HashMap::from([("token_hash".to_owned(), s("ab"))]);
        assert!(from_item(&item).is_err());
    }
}
