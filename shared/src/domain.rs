//! Domain newtypes. Each one parses at the edge, so a value of the type is valid by construction.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

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

    fn parse(s: &str) -> Option<Self> {
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

/// The browser's id for one TTS session. `~` is allowed beside base64url: a conflict copy of a
/// session is `{id}~{revision}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~');
        if s.is_empty() || s.len() > 128 || !s.bytes().all(allowed) {
            return Err(DomainError::MalformedSessionId);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The random last segment of an audio key: 128 bits, base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(String);

impl ObjectId {
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?)))
    }

    fn parse(s: &str) -> Option<Self> {
        (s.len() == 22 && is_base64url(s)).then(|| Self(s.to_owned()))
    }
}

/// `{prefix}{owner_hash}/{session_id}/{object_id}`: where one piece of audio lives in the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AudioKey {
    key: String,
    owner: OwnerHash,
    session: SessionId,
}

impl AudioKey {
    pub fn new(prefix: &str, owner: OwnerHash, session: SessionId, object: &ObjectId) -> Self {
        let key = format!("{prefix}{}/{}/{}", owner.0, session.0, object.0);
        Self {
            key,
            owner,
            session,
        }
    }

    /// Parses a key a caller sent back. Only the exact shape this service creates is accepted,
    /// which rules out traversal (`..`), extra segments and other prefixes.
    pub fn parse(prefix: &str, s: &str) -> Result<Self, DomainError> {
        let malformed = || DomainError::MalformedKey(prefix.to_owned());
        let rest = s.strip_prefix(prefix).ok_or_else(malformed)?;
        let mut parts = rest.split('/');
        let (Some(owner), Some(session), Some(object), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let owner = OwnerHash::parse(owner).ok_or_else(malformed)?;
        let session = SessionId::parse(session).map_err(|_| malformed())?;
        let object = ObjectId::parse(object).ok_or_else(malformed)?;
        Ok(Self::new(prefix, owner, session, &object))
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    pub fn owner(&self) -> &OwnerHash {
        &self.owner
    }

    pub fn session(&self) -> &SessionId {
        &self.session
    }
}

impl fmt::Display for AudioKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// An audio media type, e.g. `audio/wav` or `audio/ogg; codecs=opus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioContentType(String);

impl AudioContentType {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        fn is_token(t: &str) -> bool {
            !t.is_empty()
                && t.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(
                            b,
                            b'!' | b'#' | b'$' | b'&' | b'-' | b'^' | b'_' | b'.' | b'+'
                        )
                })
        }
        if s.len() > 128 {
            return Err(DomainError::NotAudio);
        }
        let mut parts = s.split(';');
        let essence = parts.next().unwrap_or_default().trim();
        let subtype = essence
            .get(..6)
            .filter(|t| t.eq_ignore_ascii_case("audio/"))
            .and_then(|_| essence.get(6..))
            .ok_or(DomainError::NotAudio)?;
        if !is_token(subtype) {
            return Err(DomainError::NotAudio);
        }
        for param in parts {
            let (name, value) = param.trim().split_once('=').ok_or(DomainError::NotAudio)?;
            if !is_token(name) || !is_token(value.trim_matches('"')) {
                return Err(DomainError::NotAudio);
            }
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The media type of a session document: the client's JSON description of a whole session (text,
/// voice, parameters, the parts of its audio). Opaque to the server, stored beside the audio.
pub const SESSION_DOCUMENT_TYPE: &str = "application/vnd.chatterbox.session+json";

/// What an upload holds: audio, or a session document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadContentType {
    Audio(AudioContentType),
    SessionDocument,
}

impl UploadContentType {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.trim().eq_ignore_ascii_case(SESSION_DOCUMENT_TYPE) {
            return Ok(Self::SessionDocument);
        }
        AudioContentType::parse(s).map(Self::Audio)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio(t) => t.as_str(),
            Self::SessionDocument => SESSION_DOCUMENT_TYPE,
        }
    }
}

/// Whether a stored object's content type is that of a session document.
pub fn is_session_document(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(SESSION_DOCUMENT_TYPE))
}

/// A name to offer when the audio is downloaded. Never used as a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filename(String);

impl Filename {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = !s.is_empty()
            && s.chars().count() <= 255
            && s != "."
            && s != ".."
            && !s.chars().any(|c| c.is_control() || c == '/' || c == '\\');
        ok.then(|| Self(s.to_owned()))
            .ok_or(DomainError::MalformedFilename)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A `Content-Disposition: attachment` value (RFC 6266) with an ASCII fallback and the exact
    /// name in `filename*`.
    pub fn content_disposition(&self) -> String {
        use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
        // RFC 5987 attr-char: everything else is percent-encoded.
        const ATTR: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'!')
            .remove(b'#')
            .remove(b'$')
            .remove(b'&')
            .remove(b'+')
            .remove(b'-')
            .remove(b'.')
            .remove(b'^')
            .remove(b'_')
            .remove(b'`')
            .remove(b'|')
            .remove(b'~');
        let fallback: String = self
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '%' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
            utf8_percent_encode(&self.0, ATTR)
        )
    }
}

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

    #[test]
    fn an_audio_key_round_trips_through_parse() {
        let owner = Owner::from_client_secret(&"A".repeat(22)).unwrap().hash();
        let session = SessionId::parse("session-1").unwrap();
        let key = AudioKey::new(
            "recovery/",
            owner.clone(),
            session.clone(),
            &ObjectId::generate().unwrap(),
        );
        let parsed = AudioKey::parse("recovery/", key.as_str()).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(parsed.owner(), &owner);
        assert_eq!(parsed.session(), &session);
    }

    #[test]
    fn audio_key_parse_rejects_traversal_extra_segments_and_foreign_prefixes() {
        let owner = "a".repeat(64);
        let object = "b".repeat(22);
        let good = format!("recovery/{owner}/s1/{object}");
        assert!(AudioKey::parse("recovery/", &good).is_ok());
        for bad in [
            format!("other/{owner}/s1/{object}"),
            format!("recovery/{owner}/../{object}"),
            format!("recovery/{owner}/s1/{object}/x"),
            format!("recovery/{owner}/s1"),
            format!("recovery/{}/s1/{object}", "A".repeat(64)),
            format!("recovery//{owner}/s1/{object}"),
            format!("recovery/{owner}/s1/{}", "b".repeat(21)),
            String::new(),
        ] {
            assert!(AudioKey::parse("recovery/", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_ids_allow_tilde_for_conflict_copies() {
        assert!(SessionId::parse("abc~2").is_ok());
        assert!(SessionId::parse(&"~".repeat(128)).is_ok());
        for bad in ["", "a/b", "a.b", "a b", &"a".repeat(129)] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
        let owner = "a".repeat(64);
        let object = "b".repeat(22);
        let key = AudioKey::parse("recovery/", &format!("recovery/{owner}/s~1/{object}")).unwrap();
        assert_eq!(key.session().as_str(), "s~1");
    }

    #[test]
    fn the_session_document_type_is_an_upload_type_of_its_own() {
        assert_eq!(
            UploadContentType::parse("application/vnd.chatterbox.session+json").unwrap(),
            UploadContentType::SessionDocument
        );
        assert!(matches!(
            UploadContentType::parse("audio/wav").unwrap(),
            UploadContentType::Audio(_)
        ));
        for bad in [
            "application/json",
            "application/vnd.chatterbox.session+json; x",
            "text/plain",
        ] {
            assert!(UploadContentType::parse(bad).is_err(), "{bad}");
        }
        assert!(is_session_document(
            "application/vnd.chatterbox.session+json"
        ));
        assert!(!is_session_document("audio/wav"));
    }

    #[test]
    fn content_types_must_be_audio() {
        for good in [
            "audio/wav",
            "audio/mpeg",
            "audio/ogg; codecs=opus",
            "Audio/WAV",
        ] {
            assert!(AudioContentType::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "video/mp4",
            "audio/",
            "audio",
            "text/html",
            "audio/wav; x",
            "audio/wav\r\nx: y",
            "audio/wa v",
        ] {
            assert!(AudioContentType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filenames_refuse_paths_and_control_characters() {
        assert!(Filename::parse("take 1.wav").is_ok());
        assert!(Filename::parse("élan.wav").is_ok());
        for bad in [
            "",
            ".",
            "..",
            "a/b.wav",
            "a\\b.wav",
            "a\nb.wav",
            &"x".repeat(256),
        ] {
            assert!(Filename::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_disposition_carries_an_ascii_fallback_and_the_exact_name() {
        let name = Filename::parse("naïve \"take\".wav").unwrap();
        assert_eq!(
            name.content_disposition(),
            "attachment; filename=\"na_ve _take_.wav\"; filename*=UTF-8''na%C3%AFve%20%22take%22.wav"
        );
    }

    #[test]
    fn ttl_is_bounded_by_the_configured_maximum() {
        assert_eq!(TtlSeconds::parse(1, 86_400).unwrap().get(), 1);
        assert_eq!(TtlSeconds::parse(86_400, 86_400).unwrap().get(), 86_400);
        assert!(TtlSeconds::parse(0, 86_400).is_err());
        assert!(TtlSeconds::parse(86_401, 86_400).is_err());
        assert!(TtlSeconds::parse(u64::MAX, 86_400).is_err());
    }
}
