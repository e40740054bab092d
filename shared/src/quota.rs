//! Daily quotas per owner: uploads, uploaded bytes and tokens. Each owner has one counter item per
//! UTC day in the table, charged by atomic conditional updates (so two requests racing for the
//! last unit cannot both win) and deleted by the table's TTL a day after the day ends.

use crate::domain::OwnerHash;

const DAY: i64 = 86_400;

/// What a daily quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    Uploads,
    UploadBytes,
    Tokens,
}

impl QuotaKind {
    /// The attribute of the day's item that counts it.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Uploads => "uploads",
            Self::UploadBytes => "upload_bytes",
            Self::Tokens => "tokens",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Uploads => "uploads",
            Self::UploadBytes => "uploaded bytes",
            Self::Tokens => "recovery tokens",
        }
    }
}

/// The configured limits per owner and UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLimits {
    pub uploads: u64,
    pub upload_bytes: u64,
    pub tokens: u64,
}

impl QuotaLimits {
    pub fn of(&self, kind: QuotaKind) -> u64 {
        match kind {
            QuotaKind::Uploads => self.uploads,
            QuotaKind::UploadBytes => self.upload_bytes,
            QuotaKind::Tokens => self.tokens,
        }
    }
}

/// One charge against an owner's quota for the day of `now`: each `(kind, amount, limit)` must
/// fit under its limit, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaCharge {
    pub owner: OwnerHash,
    /// Days since the epoch (UTC).
    pub day: i64,
    pub amounts: Vec<(QuotaKind, u64, u64)>,
}

impl QuotaCharge {
    pub fn new(
        owner: OwnerHash,
        now: i64,
        limits: &QuotaLimits,
        amounts: &[(QuotaKind, u64)],
    ) -> Self {
        Self {
            owner,
            day: now.div_euclid(DAY),
            amounts: amounts
                .iter()
                .map(|&(kind, amount)| (kind, amount, limits.of(kind)))
                .collect(),
        }
    }

    /// The partition key of the owner's counter item for the day.
    pub fn item_key(&self) -> String {
        format!("quota#{}#{}", self.owner.as_str(), self.day)
    }

    /// When the day's item may go (a day after the day ends), epoch seconds.
    pub fn expires_at(&self) -> i64 {
        (self.day + 2) * DAY
    }
}

/// Seconds until the quota day of `now` ends (the `Retry-After` of a 429).
pub fn seconds_until_reset(now: i64) -> u64 {
    u64::try_from(DAY - now.rem_euclid(DAY)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_a_utc_day_and_its_item_outlives_it_by_a_day() {
        let owner = OwnerHash::from_stored("ab".repeat(32));
        let limits = QuotaLimits {
            uploads: 3,
            upload_bytes: 100,
            tokens: 2,
        };
        // 2026-01-01T23:59:59Z
        let now = 1_767_311_999;
        let charge = QuotaCharge::new(owner, now, &limits, &[(QuotaKind::Tokens, 1)]);
        assert_eq!(charge.day, 20_454);
        assert_eq!(charge.amounts, [(QuotaKind::Tokens, 1, 2)]);
        assert_eq!(charge.expires_at(), 1_767_312_000 + 86_400);
        assert!(charge.item_key().starts_with("quota#abab"));
        assert_eq!(seconds_until_reset(now), 1);
        assert_eq!(seconds_until_reset(now + 1), 86_400);
    }
}
