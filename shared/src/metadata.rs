//! Token metadata: a small flat object the front end attaches to a token (voice, parameters, a
//! text excerpt). Checked before storage so that the table never refuses it: every value is one
//! DynamoDB can hold, and every refusal names the member to fix.

use crate::domain::Metadata;

/// Metadata is a hint for the recovery UI, not a document store.
pub const MAX_METADATA_BYTES: usize = 2048;
/// Longest member name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// DynamoDB numbers: magnitudes from 1e-130 to just under 1e126, or zero.
const MIN_MAGNITUDE: f64 = 1e-130;
const MAX_MAGNITUDE_EXCLUSIVE: f64 = 1e126;

/// Why metadata was refused. `TooLarge` is a 413; the rest are 400s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata member names must be 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    #[error("metadata must be flat: `metadata.{0}` holds an object or array")]
    Nested(String),
    #[error(
        "`metadata.{0}` must be a number between -9.9e125 and 9.9e125 whose magnitude is 0 or at least 1e-130"
    )]
    BadNumber(String),
    #[error("metadata is {0} bytes as JSON; the limit is {MAX_METADATA_BYTES}")]
    TooLarge(usize),
}

fn storable(number: &serde_json::Number) -> bool {
    if number.is_i64() || number.is_u64() {
        return true;
    }
    number.as_f64().is_some_and(|x| {
        x == 0.0 || (x.is_finite() && (MIN_MAGNITUDE..MAX_MAGNITUDE_EXCLUSIVE).contains(&x.abs()))
    })
}

/// Checks that `metadata` is small, flat and storable as it is.
pub fn check(metadata: &Metadata) -> Result<(), MetadataError> {
    for (name, value) in metadata {
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(MetadataError::BadName);
        }
        match value {
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                return Err(MetadataError::Nested(name.clone()));
            }
            serde_json::Value::Number(n) if !storable(n) => {
                return Err(MetadataError::BadNumber(name.clone()));
            }
            _ => {}
        }
    }
    let size = serde_json::to_string(metadata).map_or(usize::MAX, |s| s.len());
    if size > MAX_METADATA_BYTES {
        return Err(MetadataError::TooLarge(size));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn metadata(v: serde_json::Value) -> Metadata {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn flat_storable_metadata_passes() {
        let ok = metadata(json!({
            "voice": "emma", "seed": 42, "big": u64::MAX, "t": 0.7, "zero": 0.0,
            "neg": -1e125, "tiny": 1e-130, "flag": true, "none": null, "": "x"
        }));
        // ...except the empty name, which DynamoDB refuses.
        assert_eq!(check(&ok), Err(MetadataError::BadName));
        let mut ok = ok;
        ok.remove("");
        assert_eq!(check(&ok), Ok(()));
    }

    #[test]
    fn the_bounds_of_dynamodbs_numbers_parse_exactly_from_the_request_text() {
        // What the request body holds, parsed as the handlers parse it (schemathesis sent these):
        // serde_json's default float parsing is best-effort and read -1e-130 a unit in the last
        // place short of 1e-130, refusing a number the contract allows.
        for text in [
            r#"{"T": -1e-130}"#,
            r#"{"T": 1e-130}"#,
            r#"{"T": 9.9e125}"#,
            r#"{"T": -9.99999999999999e125}"#,
        ] {
            let parsed: Metadata = serde_json::from_str(text).unwrap();
            assert_eq!(check(&parsed), Ok(()), "{text}");
        }
    }

    #[test]
    fn numbers_dynamodb_cannot_hold_are_refused_naming_the_member() {
        for (value, name) in [(json!(1e200), "huge"), (json!(-1e-200), "tiny")] {
            let err = check(&metadata(json!({ name: value }))).unwrap_err();
            assert_eq!(err, MetadataError::BadNumber(name.to_owned()));
            assert!(err.to_string().contains(&format!("metadata.{name}")));
        }
    }

    #[test]
    fn nested_long_named_and_oversized_metadata_is_refused() {
        assert_eq!(
            check(&metadata(json!({"a": {"b": 1}}))),
            Err(MetadataError::Nested("a".into()))
        );
        assert_eq!(
            check(&metadata(json!({ "n".repeat(65): 1 }))),
            Err(MetadataError::BadName)
        );
        assert!(matches!(
            check(&metadata(json!({"text": "x".repeat(MAX_METADATA_BYTES)}))),
            Err(MetadataError::TooLarge(_))
        ));
    }
}
