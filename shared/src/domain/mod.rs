//! Domain newtypes. Each one parses at the edge, so a value of the type is valid by construction.
//! One module per concern: tokens, owners, keys, media types, file names, what the table holds.

mod copy;
mod filename;
mod key;
mod media;
mod owner;
mod record;
mod token;

use sha2::{Digest, Sha256};

pub use copy::{CopyEntry, copies_key};
pub use filename::Filename;
pub use key::{
    ObjectId, ObjectKey, SESSION_COPY_SEGMENT, SessionId, is_session_copy_key, prefix_of_key,
    session_prefix,
};
pub use media::{AudioContentType, SESSION_DOCUMENT_TYPE, UploadContentType, is_session_document};
pub use owner::{Owner, OwnerHash};
pub use record::{Counter, Counters, Metadata, SessionDocument, TokenRecord, TtlSeconds};
pub use token::{Token, TokenHash};

/// Why a piece of caller input was refused. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("token must be 43 base64url characters (256 bits, no padding)")]
    MalformedToken,
    #[error("X-Recovery-Client must be a base64url secret of 128 to 512 bits")]
    MalformedClientSecret,
    #[error("the authorizer's `sub` claim is empty or too long")]
    MalformedSubject,
    #[error("session_id must be 1 to 128 characters of A-Z, a-z, 0-9, '-', '_' or '~'")]
    MalformedSessionId,
    #[error("key is not a recovery audio key (expected {0}<owner>/<session_id>/<object_id>)")]
    MalformedKey(String),
    #[error(
        "content_type must be an audio media type such as audio/wav or audio/ogg; codecs=opus, or {SESSION_DOCUMENT_TYPE}"
    )]
    NotAudio,
    #[error("content_length must be between 1 and {max} bytes")]
    BadLength { max: u64 },
    #[error("filename must be 1 to 255 characters with no path separators or control characters")]
    MalformedFilename,
    #[error("ttl_seconds must be between 1 and {max}")]
    BadTtl { max: u32 },
}

/// Generates `N` bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

pub(crate) fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}
