//! What the table holds: token records, their lifetimes, and the recovery counters.

use serde::Serialize;

use super::{DomainError, OwnerHash, TokenHash};

/// How long a token lives, bounded by the configured maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlSeconds(u32);

impl TtlSeconds {
    pub fn parse(value: u64, max: u32) -> Result<Self, DomainError> {
        match u32::try_from(value) {
            Ok(v) if (1..=max).contains(&v) => Ok(Self(v)),
            _ => Err(DomainError::BadTtl { max }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// What the table holds for one token. The raw token is not part of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub token_hash: TokenHash,
    pub audio_key: String,
    pub owner_hash: OwnerHash,
    pub session_id: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds; also the table's TTL attribute.
    pub expires_at: i64,
    pub content_type: String,
    pub size_bytes: u64,
    pub filename: Option<String>,
    pub metadata: Metadata,
    /// The session document backed up with the audio, if any.
    pub session: Option<SessionDocument>,
    /// When the owner purged the audio or the session document (epoch seconds): the token then
    /// answers 410.
    pub purged_at: Option<i64>,
}

impl TokenRecord {
    /// Every object the token names: its audio, and its session document if it has one. A token
    /// is listed under each, and a purge of either reaches it.
    pub fn object_keys(&self) -> Vec<&str> {
        let mut keys = vec![self.audio_key.as_str()];
        keys.extend(self.session.as_ref().map(|d| d.key.as_str()));
        keys
    }
}

/// A session document a token refers to: its key and size when the token was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDocument {
    pub key: String,
    pub size_bytes: u64,
}

/// Small flat metadata the front end attaches to a token (voice, parameters, text excerpt...).
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// The recovery counters kept beside the tokens and reported by the health route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Issued,
    Redeemed,
    Expired,
    NotFound,
}

impl Counter {
    pub const ALL: [Counter; 4] = [
        Counter::Issued,
        Counter::Redeemed,
        Counter::Expired,
        Counter::NotFound,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Counter::Issued => "issued",
            Counter::Redeemed => "redeemed",
            Counter::Expired => "expired",
            Counter::NotFound => "not_found",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub issued: u64,
    pub redeemed: u64,
    pub expired: u64,
    pub not_found: u64,
}

impl Counters {
    pub fn get(&self, counter: Counter) -> u64 {
        match counter {
            Counter::Issued => self.issued,
            Counter::Redeemed => self.redeemed,
            Counter::Expired => self.expired,
            Counter::NotFound => self.not_found,
        }
    }

    pub fn get_mut(&mut self, counter: Counter) -> &mut u64 {
        match counter {
            Counter::Issued => &mut self.issued,
            Counter::Redeemed => &mut self.redeemed,
            Counter::Expired => &mut self.expired,
            Counter::NotFound => &mut self.not_found,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ttl_is_bounded_by_the_configured_maximum() {
        assert_eq!(TtlSeconds::parse(1, 86_400).unwrap().get(), 1);
        assert_eq!(TtlSeconds::parse(86_400, 86_400).unwrap().get(), 86_400);
        assert!(TtlSeconds::parse(0, 86_400).is_err());
        assert!(TtlSeconds::parse(86_401, 86_400).is_err());
        assert!(TtlSeconds::parse(u64::MAX, 86_400).is_err());
    }
}
