//! The recovery counters: buffered per instance, written off the response path to one of
//! [`COUNTER_SHARDS`] items, summed on read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::failure;
use super::item::{n, s};
use crate::domain::{Counter, Counters};
use crate::ports::{StoreError, StoreResult};

/// The partition key of the counters item of earlier versions, still summed by the health route.
/// Token hashes are 64 hex digits, so no key here can ever be one.
pub const COUNTERS_KEY: &str = "#counters";
/// Counter writes are spread over this many items (`#counters#00` …), so no item takes more than
/// its share of them (see the README's capacity arithmetic).
pub const COUNTER_SHARDS: u8 = 16;
/// How long a background counter flush may take before its counts go back to the buffer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts waiting to be written, and when they were last written.
#[derive(Debug, Default)]
pub(super) struct CountBuffer {
    /// Zero: every count is written at once, awaited (tests). Otherwise counts are added up in
    /// memory and written by a background task at most once per interval.
    pub(super) flush_every: Duration,
    pub(super) pending: Mutex<(Counters, Option<Instant>)>,
}

impl CountBuffer {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Counters, Option<Instant>)> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
                .expression_attribute_values(format!(":{}", counter.name()), n(&value));
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

/// Counts one event: at once when the buffer flushes every time, else into the buffer, with a
/// background write when one is due.
pub(super) async fn record(
    client: &Client,
    table: &str,
    buffer: &Arc<CountBuffer>,
    counter: Counter,
) -> StoreResult<()> {
    let mut one = Counters::default();
    *one.get_mut(counter) = 1;
    if buffer.flush_every.is_zero() {
        return add_counts(client, table, one).await;
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
        let (client, table, buffer) = (client.clone(), table.to_owned(), buffer.clone());
        // Off the response path: the request does not wait for, nor fail with, this write.
        tokio::spawn(async move {
            let written = tokio::time::timeout(FLUSH_TIMEOUT, add_counts(&client, &table, batch))
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

/// The sum of every shard (and of the single item of earlier versions).
pub(super) async fn read(client: &Client, table: &str) -> StoreResult<Counters> {
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
        let out = client
            .batch_get_item()
            .request_items(table, request)
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
            .and_then(|mut u| u.remove(table))
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
