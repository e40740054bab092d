//! Media types of uploads: audio, or the client's session document.

use super::DomainError;

/// An audio media type, e.g. `audio/wav` or `audio/ogg; codecs=opus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioContentType(String);

impl AudioContentType {
    /// `audio/{subtype}` (the type case-insensitive) with optional `; name=value` parameters,
    /// at most 128 characters: exactly the pattern openapi.yaml gives.
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
        // Spaces are allowed around `;` only.
        let segments: Vec<&str> = s.split(';').collect();
        let last = segments.len() - 1;
        let mut segments = segments.iter().enumerate().map(|(i, seg)| {
            let seg = if i > 0 {
                seg.trim_start_matches(' ')
            } else {
                seg
            };
            if i < last {
                seg.trim_end_matches(' ')
            } else {
                seg
            }
        });
        let essence = segments.next().unwrap_or_default();
        let subtype = essence
            .get(..6)
            .filter(|t| t.eq_ignore_ascii_case("audio/"))
            .and_then(|_| essence.get(6..))
            .ok_or(DomainError::NotAudio)?;
        if !is_token(subtype) {
            return Err(DomainError::NotAudio);
        }
        for param in segments {
            let (name, value) = param.split_once('=').ok_or(DomainError::NotAudio)?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if !is_token(name) || !is_token(value) {
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
        if s == SESSION_DOCUMENT_TYPE {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
            "audio/wav;rate=8000 ;  x=\"y\"",
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
            " audio/wav",
            "audio/wav ",
            "audio/wav; a=b ",
            "audio/wav;a=\"b",
            "audio/wav\n",
            "AUDIO/",
        ] {
            assert!(AudioContentType::parse(bad).is_err(), "{bad}");
        }
    }
}
