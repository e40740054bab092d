//! The DynamoDB adapter of [`TokenStore`].

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::domain::{Counter, Counters, OwnerHash, SessionDocument, TokenHash, TokenRecord};
use crate::ports::{DeleteOutcome, StoreError, StoreResult, TokenStore};

/// The partition key of the one item that holds the counters. Token hashes are 64 hex digits, so
/// this can never be one.
pub const COUNTERS_KEY: &str = "#counters";

#[derive(Debug, Clone)]
pub struct DynamoTokenStore {
    client: Client,
    table: String,
}

impl DynamoTokenStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
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
    async fn put_token(&self, record: &TokenRecord) -> StoreResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(token_hash)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists)
            }
            Err(e) => Err(StoreError::unavailable("DynamoDB PutItem failed", e)),
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
            .map_err(|e| StoreError::unavailable("DynamoDB GetItem failed", e))?;
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
            Err(e) => Err(StoreError::unavailable("DynamoDB DeleteItem failed", e)),
        }
    }

    async fn increment(&self, counter: Counter) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("token_hash", s(COUNTERS_KEY))
            .update_expression("ADD #c :one")
            .expression_attribute_names("#c", counter.name())
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| StoreError::unavailable("DynamoDB UpdateItem (counter) failed", e))?;
        Ok(())
    }

    async fn counters(&self) -> StoreResult<Counters> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("token_hash", s(COUNTERS_KEY))
            .send()
            .await
            .map_err(|e| StoreError::unavailable("DynamoDB GetItem (counters) failed", e))?;
        let mut counters = Counters::default();
        if let Some(item) = out.item {
            for counter in Counter::ALL {
                *counters.get_mut(counter) = item
                    .get(counter.name())
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
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
        };
        assert_eq!(from_item(&to_item(&record)).unwrap(), record);
    }

    #[test]
    fn an_item_without_a_required_attribute_is_reported_not_panicked_on() {
        let item = HashMap::from([("token_hash".to_owned(), s("ab"))]);
        assert!(from_item(&item).is_err());
    }
}
