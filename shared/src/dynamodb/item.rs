//! Token records as DynamoDB items, and back; and the calls that name one item of the table.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;

use crate::domain::{OwnerHash, SessionDocument, TokenHash, TokenRecord};

/// The partition key of every item: a token record's is its hash, the other items' are keys no
/// token hash can take (see `mod.rs`).
pub(super) const KEY: &str = "token_hash";

/// `GetItem` of the item `key` of `table`.
pub(super) fn get_item(
    client: &Client,
    table: &str,
    key: impl Into<String>,
) -> GetItemFluentBuilder {
    client.get_item().table_name(table).key(KEY, s(key))
}

/// `UpdateItem` of the item `key` of `table`.
pub(super) fn update_item(
    client: &Client,
    table: &str,
    key: impl Into<String>,
) -> UpdateItemFluentBuilder {
    client.update_item().table_name(table).key(KEY, s(key))
}

/// `DeleteItem` of the item `key` of `table`.
pub(super) fn delete_item(
    client: &Client,
    table: &str,
    key: impl Into<String>,
) -> DeleteItemFluentBuilder {
    client.delete_item().table_name(table).key(KEY, s(key))
}

/// The update of the item `key` of `table`, as one write of a transaction.
pub(super) fn transact_update(table: &str, key: impl Into<String>) -> UpdateBuilder {
    aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .key(KEY, s(key))
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: &impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn to_item(r: &TokenRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("token_hash".to_owned(), s(r.token_hash.as_str())),
        ("audio_key".to_owned(), s(&r.audio_key)),
        ("owner_hash".to_owned(), s(r.owner_hash.as_str())),
        ("session_id".to_owned(), s(&r.session_id)),
        ("created_at".to_owned(), n(&r.created_at)),
        ("expires_at".to_owned(), n(&r.expires_at)),
        ("content_type".to_owned(), s(&r.content_type)),
        ("size_bytes".to_owned(), n(&r.size_bytes)),
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
        item.insert("purged_at".to_owned(), n(&at));
    }
    if let Some(session) = &r.session {
        item.insert("session_key".to_owned(), s(&session.key));
        item.insert("session_size".to_owned(), n(&session.size_bytes));
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
        AttributeValue::N(x) => serde_json::from_str::<serde_json::Number>(x).map_or_else(
            |_| serde_json::Value::String(x.clone()),
            serde_json::Value::Number,
        ),
        AttributeValue::Bool(b) => serde_json::Value::Bool(*b),
        _ => serde_json::Value::Null,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("token item is malformed: attribute {0} missing or of the wrong type")]
pub(super) struct MalformedItem(&'static str);

pub(super) fn from_item(
    item: &HashMap<String, AttributeValue>,
) -> Result<TokenRecord, MalformedItem> {
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
