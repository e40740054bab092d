//! The recovery counters: written within the request that counts them, to one of
//! [`COUNTER_SHARDS`] items, summed on read.
//!
//! Lambda freezes an instance as soon as its response is sent and may never thaw it, so a count
//! that waits for a background task or a later request can wait forever or die with the instance.
//! Each count is therefore written before its request answers, bounded by a short timeout so that
//! bookkeeping never holds a request up for long nor fails it. A write that fails (or is cut off by
//! the timeout or the route's deadline) puts its counts back, and the instance's next write carries
//! them: counts are at least once under faults, never silently dropped while the instance lives.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::failure;
use super::item::{KEY, n, s, update_item};
use crate::domain::{Counter, Counters};
use crate::ports::{StoreError, StoreResult};

/// The partition key of the counters item of earlier versions, still summed by the health route.
/// Token hashes are 64 hex digits, so no key here can ever be one.
pub const COUNTERS_KEY: &str = "#counters";
/// Counter writes are spread over this many items (`#counters#00` …), so no item takes more than
/// its share of them (see the README's capacity arithmetic).
pub const COUNTER_SHARDS: u8 = 16;

/// Counts not yet written (after a failed write), and how long one write may take.
#[derive(Debug)]
pub(super) struct CountBuffer {
    pub(super) timeout: Duration,
    pending: Mutex<Counters>,
}

impl CountBuffer {
    pub(super) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            pending: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes everything pending plus `counter`, to be written by one update.
    fn take_with(&self, counter: Counter) -> Batch<'_> {
        let mut pending = self.lock();
        *pending.get_mut(counter) = pending.get(counter).saturating_add(1);
        Batch {
            buffer: self,
            counts: Some(std::mem::take(&mut *pending)),
        }
    }
}

/// Counts taken out of the buffer for one write. Unless the write is confirmed, they go back
/// when the batch is dropped: after a failure, a timeout, or the request's future being dropped
/// at its deadline.
struct Batch<'a> {
    buffer: &'a CountBuffer,
    counts: Option<Counters>,
}

impl Batch<'_> {
    fn written(mut self) {
        self.counts = None;
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if let Some(counts) = self.counts.take() {
            add_into(&mut self.buffer.lock(), counts);
        }
    }
}

/// Adds `counts` to one counter shard.
async fn add_counts(client: &Client, table: &str, counts: Counters) -> StoreResult<()> {
    let mut shard = [0u8; 1];
    // An all-zero fallback only concentrates writes on shard 0; it never loses a count.
    let _ = getrandom::fill(&mut shard);
    let mut update = update_item(
        client,
        table,
        format!("{COUNTERS_KEY}#{:02}", shard[0] % COUNTER_SHARDS),
    );
    let mut adds = Vec::new();
    for counter in Counter::ALL {
        let value = counts.get(counter);
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
    for counter in Counter::ALL {
        let slot = total.get_mut(counter);
        *slot = slot.saturating_add(more.get(counter));
    }
}

/// Counts one event, with whatever earlier writes left pending, in one bounded write before the
/// request answers. A failed or late write is reported and its counts kept for the next one.
pub(super) async fn record(
    client: &Client,
    table: &str,
    buffer: &CountBuffer,
    counter: Counter,
) -> StoreResult<()> {
    let batch = buffer.take_with(counter);
    let Some(counts) = batch.counts else {
        return Ok(());
    };
    match tokio::time::timeout(buffer.timeout, add_counts(client, table, counts)).await {
        Ok(Ok(())) => {
            batch.written();
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(StoreError::unavailable(
            "DynamoDB UpdateItem (counter) timed out",
            anyhow::anyhow!("no answer within {:?}; the counts are kept", buffer.timeout),
        )),
    }
}

/// The sum of every shard (and of the single item of earlier versions).
pub(super) async fn read(client: &Client, table: &str) -> StoreResult<Counters> {
    let mut keys: Vec<HashMap<String, AttributeValue>> = (0..COUNTER_SHARDS)
        .map(|i| format!("{COUNTERS_KEY}#{i:02}"))
        .chain([COUNTERS_KEY.to_owned()])
        .map(|k| HashMap::from([(KEY.to_owned(), s(k))]))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_a_write_that_did_not_finish_go_back_for_the_next_one() {
        let buffer = CountBuffer::new(Duration::from_millis(1));
        // GIVEN a write that took one count and was dropped unconfirmed (failed or cut off)
        drop(buffer.take_with(Counter::Issued));
        // WHEN the next count is taken
        let next = buffer.take_with(Counter::Redeemed);
        // THEN it carries the earlier count too, and a confirmed write leaves nothing behind
        let counts = next.counts.unwrap_or_default();
        assert_eq!((counts.issued, counts.redeemed), (1, 1));
        next.written();
        assert_eq!(*buffer.lock(), Counters::default());
    }
}
