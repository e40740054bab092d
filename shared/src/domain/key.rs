//! Where an object (a piece of audio or a session document) lives:
//! `{prefix}{owner_hash}/{session_id}/{object_id}`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::{DomainError, OwnerHash, is_base64url, random_bytes};

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

/// The random last segment of an object key: 128 bits, base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(String);

impl ObjectId {
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?)))
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        (s.len() == 22 && is_base64url(s)).then(|| Self(s.to_owned()))
    }
}

/// `{prefix}{owner_hash}/{session_id}/{object_id}`: where one object (audio or session document)
/// lives in the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    key: String,
    owner: OwnerHash,
    session: SessionId,
}

/// The last segment of a session's server copy (its document): a reserved name, which no random
/// [`ObjectId`] (22 base64url characters) can take.
pub const SESSION_COPY_SEGMENT: &str = "session-copy";

impl ObjectKey {
    pub fn new(prefix: &str, owner: OwnerHash, session: SessionId, object: &ObjectId) -> Self {
        Self::with_last_segment(prefix, owner, session, &object.0)
    }

    /// Where the server copy of `session` lives: `{prefix}{owner}/{session}/session-copy`.
    pub fn session_copy(prefix: &str, owner: OwnerHash, session: SessionId) -> Self {
        Self::with_last_segment(prefix, owner, session, SESSION_COPY_SEGMENT)
    }

    fn with_last_segment(prefix: &str, owner: OwnerHash, session: SessionId, last: &str) -> Self {
        let key = format!("{}{last}", session_prefix(prefix, &owner, &session));
        Self {
            key,
            owner,
            session,
        }
    }

    /// Whether this is the key of a session's server copy.
    pub fn is_session_copy(&self) -> bool {
        is_session_copy_key(&self.key)
    }

    /// Parses a key a caller sent back. Only the exact shape this service creates is accepted,
    /// which rules out traversal (`..`), extra segments and other prefixes. A server copy's key
    /// is refused: only the server makes it ([`ObjectKey::session_copy`]), and a caller has no
    /// business naming it in a backup.
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

/// `{prefix}{owner}/{session}/`: every object of one session of one owner (its audio, its
/// backups' documents, its server copy) lives under it.
pub fn session_prefix(prefix: &str, owner: &OwnerHash, session: &SessionId) -> String {
    format!("{prefix}{}/{}/", owner.as_str(), session.as_str())
}

/// Whether a stored key (as a token record holds it) is a session's server copy.
pub fn is_session_copy_key(key: &str) -> bool {
    key.rsplit('/').next() == Some(SESSION_COPY_SEGMENT)
}

/// The prefix of the session a stored key belongs to: everything up to its last `/`.
pub fn prefix_of_key(key: &str) -> Option<&str> {
    key.rfind('/').map(|i| &key[..=i])
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::Owner;

    #[test]
    fn an_audio_key_round_trips_through_parse() {
        let owner = Owner::from_client_secret(&"A".repeat(22)).unwrap().hash();
        let session = SessionId::parse("session-1").unwrap();
        let key = ObjectKey::new(
            "recovery/",
            owner.clone(),
            session.clone(),
            &ObjectId::generate().unwrap(),
        );
        let parsed = ObjectKey::parse("recovery/", key.as_str()).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(parsed.owner(), &owner);
        assert_eq!(parsed.session(), &session);
    }

    #[test]
    fn audio_key_parse_rejects_traversal_extra_segments_and_foreign_prefixes() {
        let owner = "a".repeat(64);
        let object = "b".repeat(22);
        let good = format!("recovery/{owner}/s1/{object}");
        assert!(ObjectKey::parse("recovery/", &good).is_ok());
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
            assert!(ObjectKey::parse("recovery/", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_session_copy_key_has_its_reserved_last_segment_and_no_caller_can_name_it() {
        let owner = Owner::from_client_secret(&"A".repeat(22)).unwrap().hash();
        let session = SessionId::parse("s-1").unwrap();
        let key = ObjectKey::session_copy("recovery/", owner.clone(), session.clone());
        assert_eq!(
            key.as_str(),
            format!("recovery/{}/s-1/session-copy", owner.as_str())
        );
        assert!(key.is_session_copy());
        assert!(ObjectKey::parse("recovery/", key.as_str()).is_err());
        assert_eq!(
            prefix_of_key(key.as_str()),
            Some(session_prefix("recovery/", &owner, &session).as_str())
        );
        let audio = ObjectKey::new("recovery/", owner, session, &ObjectId::generate().unwrap());
        assert!(!audio.is_session_copy());
        // Not a random object id either way: 12 characters.
        assert_ne!(SESSION_COPY_SEGMENT.len(), 22);
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
        let key = ObjectKey::parse("recovery/", &format!("recovery/{owner}/s~1/{object}")).unwrap();
        assert_eq!(key.session().as_str(), "s~1");
    }
}
