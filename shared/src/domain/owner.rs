//! Who is calling, and the hash of it that namespaces their audio.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::{DomainError, is_base64url, sha256_hex};

/// Who is calling: the JWT `sub` when the stack has an authorizer, otherwise the browser's random
/// client secret. Never logged and never part of a key: only [`OwnerHash`] is.
#[derive(Clone, PartialEq, Eq)]
pub enum Owner {
    Subject(String),
    ClientSecret(String),
}

impl Owner {
    pub fn from_subject(sub: &str) -> Result<Self, DomainError> {
        if sub.is_empty() || sub.len() > 512 {
            return Err(DomainError::MalformedSubject);
        }
        Ok(Self::Subject(sub.to_owned()))
    }

    pub fn from_client_secret(secret: &str) -> Result<Self, DomainError> {
        // 22 characters carry 128 bits; 86 carry 512, more than any client needs.
        if !(22..=86).contains(&secret.len()) || !is_base64url(secret) {
            return Err(DomainError::MalformedClientSecret);
        }
        match URL_SAFE_NO_PAD.decode(secret) {
            Ok(bytes) if bytes.len() >= 16 => Ok(Self::ClientSecret(secret.to_owned())),
            _ => Err(DomainError::MalformedClientSecret),
        }
    }

    pub fn hash(&self) -> OwnerHash {
        // The kind is part of the hash so that a JWT subject can never collide with a client
        // secret spelled the same way.
        let (kind, value) = match self {
            Self::Subject(s) => ("sub", s),
            Self::ClientSecret(s) => ("client", s),
        };
        OwnerHash(sha256_hex(&[
            b"chatterbox-recovery/owner/v1\0",
            kind.as_bytes(),
            b"\0",
            value.as_bytes(),
        ]))
    }
}

impl fmt::Debug for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subject(_) => f.write_str("Owner::Subject(<redacted>)"),
            Self::ClientSecret(_) => f.write_str("Owner::ClientSecret(<redacted>)"),
        }
    }
}

/// Hex SHA-256 of an [`Owner`]: the namespace of that owner's audio keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OwnerHash(String);

impl OwnerHash {
    const LEN: usize = 64;

    pub(crate) fn parse(s: &str) -> Option<Self> {
        (s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(s.to_owned()))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn client_secrets_need_at_least_128_bits_of_base64url() {
        assert!(Owner::from_client_secret(&"A".repeat(22)).is_ok());
        assert!(Owner::from_client_secret(&"A".repeat(21)).is_err());
        assert!(Owner::from_client_secret(&"a/".repeat(11)).is_err());
        assert!(Owner::from_client_secret(&"A".repeat(87)).is_err());
        // 22 characters carry 132 bits; the last 4 must be zero, or one secret has two spellings.
        assert!(Owner::from_client_secret(&format!("{}B", "A".repeat(21))).is_err());
    }

    #[test]
    fn owner_hashes_separate_subjects_from_client_secrets() {
        let secret = "abcdefghijklmnopqrstuQ";
        let a = Owner::from_client_secret(secret).unwrap().hash();
        let b = Owner::from_subject(secret).unwrap().hash();
        assert_ne!(a, b);
        assert!(!a.as_str().contains(secret));
        assert_eq!(a, Owner::from_client_secret(secret).unwrap().hash());
    }
}
