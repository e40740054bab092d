//! The server copy of a session: what the owner's copy list holds for each copied session.

use super::{OwnerHash, TokenHash};

/// One copied session in its owner's list (`copies#{owner_hash}`, one item per owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyEntry {
    pub session_id: String,
    /// The document's own `updatedAt`, epoch milliseconds, as the client sent it.
    pub updated_at_ms: i64,
    /// The document's size as stored (compressed), bytes.
    pub size: u64,
    /// How many parts the document lists.
    pub parts: u32,
    /// When the copy's token expires (epoch seconds): the last copy's time plus the token TTL.
    pub expires_at: i64,
    /// The hash of the copy's token (its record's partition key).
    pub token_hash: TokenHash,
}

/// The partition key of an owner's copy list. No token hash (64 hex digits) can take it.
pub fn copies_key(owner: &OwnerHash) -> String {
    format!("copies#{}", owner.as_str())
}
