//! Recovery tokens and their hashes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{DomainError, is_base64url, random_bytes, sha256_hex};

/// A recovery token: 256 random bits, base64url without padding. Shown to the caller once and
/// never stored; only its [`TokenHash`] is.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub const LEN: usize = 43;

    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        // The length and alphabet check keeps the decoder from ever seeing arbitrary input; the
        // decode then rejects non-canonical trailing bits so one token has one spelling.
        if s.len() != Self::LEN || !is_base64url(s) {
            return Err(DomainError::MalformedToken);
        }
        match URL_SAFE_NO_PAD.decode(s) {
            Ok(bytes) if bytes.len() == 32 => Ok(Self(s.to_owned())),
            _ => Err(DomainError::MalformedToken),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(sha256_hex(&[self.0.as_bytes()]))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// `sha256(token)` in lowercase hex: the table's partition key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a hash read back from the table.
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
    fn a_generated_token_is_43_base64url_characters_and_parses_back() {
        let token = Token::generate().unwrap();
        assert_eq!(token.as_str().len(), 43);
        assert_eq!(Token::parse(token.as_str()).unwrap(), token);
    }

    #[test]
    fn generated_tokens_differ() {
        assert_ne!(Token::generate().unwrap(), Token::generate().unwrap());
    }

    #[test]
    fn token_parse_rejects_wrong_length_alphabet_and_non_canonical_spellings() {
        let good = Token::generate().unwrap();
        assert!(Token::parse(&good.as_str()[..42]).is_err());
        assert!(Token::parse(&format!("{}=", good.as_str())).is_err());
        assert!(Token::parse(&"+".repeat(43)).is_err());
        assert!(Token::parse("../../../../../../../../../../etc/passwd.xx").is_err());
        // The last character carries 4 unused bits; a set one is a second spelling of a token.
        let mut chars: Vec<char> = "A".repeat(43).chars().collect();
        chars[42] = 'B';
        assert!(Token::parse(&chars.iter().collect::<String>()).is_err());
    }

    #[test]
    fn the_token_hash_is_sha256_hex_and_does_not_contain_the_token() {
        let token = Token::parse(&"A".repeat(43)).unwrap();
        let hash = token.hash();
        assert_eq!(hash.as_str().len(), 64);
        // sha256("A" * 43), computed independently.
        assert_eq!(
            hash.as_str(),
            "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
        );
        assert!(!hash.as_str().contains(token.as_str()));
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }
}
