//! Daily quota charges as conditional DynamoDB updates.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::n;
use crate::ports::{StoreError, StoreResult};
use crate::quota::{QuotaCharge, QuotaKind};

/// `ADD` of each amount with a condition that every total stays within its limit.
pub(super) struct QuotaUpdate {
    pub(super) key: String,
    pub(super) update: String,
    pub(super) condition: String,
    pub(super) names: HashMap<String, String>,
    pub(super) values: HashMap<String, AttributeValue>,
}

pub(super) fn quota_update(charge: &QuotaCharge) -> StoreResult<QuotaUpdate> {
    let mut adds = Vec::new();
    let mut conditions = Vec::new();
    let mut names = HashMap::from([("#exp".to_owned(), "expires_at".to_owned())]);
    let mut values = HashMap::from([(":exp".to_owned(), n(&charge.expires_at()))]);
    for (i, &(kind, amount, limit)) in charge.amounts.iter().enumerate() {
        // A charge bigger than the whole limit can never fit.
        let Some(room) = limit.checked_sub(amount) else {
            return Err(StoreError::QuotaExceeded(kind));
        };
        names.insert(format!("#q{i}"), kind.attribute().to_owned());
        values.insert(format!(":a{i}"), n(&amount));
        values.insert(format!(":m{i}"), n(&room));
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
pub(super) fn exceeded(
    charge: &QuotaCharge,
    old: Option<&HashMap<String, AttributeValue>>,
) -> QuotaKind {
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
