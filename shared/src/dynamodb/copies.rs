//! The owner's copy list (`copies#{owner_hash}`, one item per owner): a map `sessions` of
//! session id → `{updated_at, size, parts, expires_at, token_hash}`, and the item's own
//! `expires_at` (the table's TTL attribute), the latest copy's expiry.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::failure;
use super::item::{get_item, n, s, update_item};
use crate::domain::{CopyEntry, OwnerHash, TokenHash, copies_key};
use crate::ports::{StoreError, StoreResult};

/// The most expired entries one copy removes from the list.
const MAX_PRUNED: usize = 25;

fn entry_value(entry: &CopyEntry) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("updated_at".to_owned(), n(&entry.updated_at_ms)),
        ("size".to_owned(), n(&entry.size)),
        ("parts".to_owned(), n(&entry.parts)),
        ("expires_at".to_owned(), n(&entry.expires_at)),
        ("token_hash".to_owned(), s(entry.token_hash.as_str())),
    ]))
}

fn entry_from(session_id: &str, v: &AttributeValue) -> Option<CopyEntry> {
    let m = v.as_m().ok()?;
    let number = |name: &str| m.get(name)?.as_n().ok()?.parse::<i64>().ok();
    Some(CopyEntry {
        session_id: session_id.to_owned(),
        updated_at_ms: number("updated_at")?,
        size: u64::try_from(number("size")?).ok()?,
        parts: u32::try_from(number("parts")?).ok()?,
        expires_at: number("expires_at")?,
        token_hash: TokenHash::from_stored(m.get("token_hash")?.as_s().ok()?.clone()),
    })
}

fn is_condition_failure<R>(e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

pub(super) async fn read(
    client: &Client,
    table: &str,
    owner: &OwnerHash,
) -> StoreResult<Vec<CopyEntry>> {
    let out = get_item(client, table, copies_key(owner))
        // A copy acknowledged a moment ago must be listed at once.
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| failure("DynamoDB GetItem (copies) failed", e))?;
    let Some(sessions) = out
        .item
        .as_ref()
        .and_then(|item| item.get("sessions"))
        .and_then(|v| v.as_m().ok())
    else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::with_capacity(sessions.len());
    for (id, value) in sessions {
        // An entry this code did not write is skipped, not allowed to break the whole list.
        if let Some(entry) = entry_from(id, value) {
            entries.push(entry);
        } else {
            tracing::warn!("skipping a malformed copy entry");
        }
    }
    Ok(entries)
}

pub(super) async fn put(
    client: &Client,
    table: &str,
    owner: &OwnerHash,
    entry: &CopyEntry,
    expired: &[&str],
) -> StoreResult<()> {
    let key = copies_key(owner);
    // At most this many expired entries go with one write, keeping the expression small; the
    // next copies take the rest.
    let expired: Vec<&str> = expired
        .iter()
        .copied()
        .filter(|s| *s != entry.session_id)
        .take(MAX_PRUNED)
        .collect();
    let mut update = "SET #sessions.#id = :entry, #exp = :exp".to_owned();
    if !expired.is_empty() {
        let removed: Vec<String> = (0..expired.len())
            .map(|i| format!("#sessions.#x{i}"))
            .collect();
        update.push_str(" REMOVE ");
        update.push_str(&removed.join(", "));
    }
    // A nested path can only be set inside a map that exists: the usual case first, then the
    // map created with its first entry; a race between two first copies retries the first form.
    for _ in 0..2 {
        let mut nested = update_item(client, table, &key)
            .update_expression(&update)
            .condition_expression("attribute_exists(#sessions)")
            .expression_attribute_names("#sessions", "sessions")
            .expression_attribute_names("#id", &entry.session_id)
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":entry", entry_value(entry))
            .expression_attribute_values(":exp", n(&entry.expires_at));
        for (i, session) in expired.iter().enumerate() {
            nested = nested.expression_attribute_names(format!("#x{i}"), *session);
        }
        let nested = nested.send().await;
        match nested {
            Ok(_) => return Ok(()),
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(failure("DynamoDB UpdateItem (copy) failed", e)),
        }
        let created = update_item(client, table, &key)
            .update_expression("SET #sessions = :map, #exp = :exp")
            .condition_expression("attribute_not_exists(#sessions)")
            .expression_attribute_names("#sessions", "sessions")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(
                ":map",
                AttributeValue::M(HashMap::from([(
                    entry.session_id.clone(),
                    entry_value(entry),
                )])),
            )
            .expression_attribute_values(":exp", n(&entry.expires_at))
            .send()
            .await;
        match created {
            Ok(_) => return Ok(()),
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(failure("DynamoDB UpdateItem (copies) failed", e)),
        }
    }
    Err(StoreError::unavailable(
        "DynamoDB UpdateItem (copy) kept racing",
        anyhow::anyhow!("the copy list changed under two attempts"),
    ))
}

pub(super) async fn remove(
    client: &Client,
    table: &str,
    owner: &OwnerHash,
    session_id: &str,
) -> StoreResult<()> {
    let result = update_item(client, table, copies_key(owner))
        .update_expression("REMOVE #sessions.#id")
        // Without the map there is nothing to remove (and no item is created).
        .condition_expression("attribute_exists(#sessions)")
        .expression_attribute_names("#sessions", "sessions")
        .expression_attribute_names("#id", session_id)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_condition_failure(&e) => Ok(()),
        Err(e) => Err(failure("DynamoDB UpdateItem (remove copy) failed", e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_copy_entry_survives_the_round_trip_through_attribute_values() {
        let entry = CopyEntry {
            session_id: "s~2".into(),
            updated_at_ms: 1_767_225_600_123,
            size: 345,
            parts: 7,
            expires_at: 1_767_312_000,
            token_hash: TokenHash::from_stored("ab".repeat(32)),
        };
        assert_eq!(entry_from("s~2", &entry_value(&entry)).unwrap(), entry);
        assert_eq!(entry_from("x", &s("not a map")), None);
    }
}
