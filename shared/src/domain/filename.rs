//! The name offered for a download.

use super::DomainError;

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
}
