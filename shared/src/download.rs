//! The name a browser saves recovered audio under: the name the user gave (or one made from the
//! session) with the characters that can disguise a name removed and the extension that the
//! content type implies, so `invoice\u{202e}gpj.exe` is offered as `invoicegpj.wav`.

use crate::domain::Filename;

/// Unicode format characters (general category Cf) and line/paragraph separators: invisible in
/// a file dialog, and the bidi controls among them reorder what the user sees.
const INVISIBLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

fn is_hidden(c: char) -> bool {
    let c32 = u32::from(c);
    c.is_control() || INVISIBLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c32))
}

/// The file extension for a content type.
pub fn extension(content_type: &str) -> &'static str {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    match essence.to_ascii_lowercase().as_str() {
        "audio/wav" | "audio/wave" | "audio/x-wav" | "audio/vnd.wave" => "wav",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/webm" => "webm",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/aac" => "aac",
        "audio/mp4" | "audio/x-m4a" => "m4a",
        "application/vnd.chatterbox.session+json" => "json",
        _ => "audio",
    }
}

/// The download name for `given` (or `fallback_stem` when nothing usable is given): hidden
/// characters removed, the extension replaced by the one of `content_type`.
pub fn download_name(given: Option<&str>, fallback_stem: &str, content_type: &str) -> Filename {
    let ext = extension(content_type);
    let stem = |name: &str| -> String {
        let visible: String = name.chars().filter(|&c| !is_hidden(c)).collect();
        let stem = match visible.rsplit_once('.') {
            Some((stem, _)) if !stem.trim_matches(['.', ' ']).is_empty() => stem.to_owned(),
            _ => visible,
        };
        stem.trim_end_matches(['.', ' ']).to_owned()
    };
    // 255 characters in all: the stem is cut to leave room for the extension.
    let fit = |stem: String| -> Option<Filename> {
        let stem: String = stem.chars().take(254 - ext.len()).collect();
        (!stem.trim().is_empty())
            .then(|| Filename::parse(&format!("{stem}.{ext}")).ok())
            .flatten()
    };
    given
        .and_then(|name| fit(stem(name)))
        .or_else(|| fit(stem(fallback_stem)))
        .or_else(|| fit("recovery".to_owned()))
        .unwrap_or_else(|| unreachable!("`recovery.{ext}` is a valid file name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(given: Option<&str>, content_type: &str) -> String {
        download_name(given, "recovery-s1", content_type)
            .as_str()
            .to_owned()
    }

    #[test]
    fn the_extension_comes_from_the_content_type() {
        assert_eq!(name(Some("take.wav"), "audio/wav"), "take.wav");
        assert_eq!(name(Some("chapter 1.wav"), "audio/wav"), "chapter 1.wav");
        assert_eq!(name(Some("song.exe"), "audio/mpeg"), "song.mp3");
        assert_eq!(name(Some("notes"), "audio/ogg; codecs=opus"), "notes.ogg");
        assert_eq!(name(Some("a.b.c"), "audio/flac"), "a.b.flac");
        assert_eq!(name(Some(".hidden"), "audio/wav"), ".hidden.wav");
        assert_eq!(name(None, "audio/x-unknown"), "recovery-s1.audio");
    }

    #[test]
    fn bidi_format_and_control_characters_are_removed() {
        assert_eq!(
            name(Some("invoice\u{202e}gpj.exe"), "audio/wav"),
            "invoicegpj.wav"
        );
        assert_eq!(
            name(Some("a\u{200b}b\u{2066}c\u{feff}.wav"), "audio/wav"),
            "abc.wav"
        );
        assert_eq!(
            name(Some("\u{202e}\u{200f}"), "audio/wav"),
            "recovery-s1.wav"
        );
        assert_eq!(name(Some("take. . ."), "audio/wav"), "take.wav");
    }

    #[test]
    #[allow(
        clippy::case_sensitive_file_extension_comparisons,
        reason = "the name this code built: its extension is exactly `.wav`"
    )]
    fn a_long_name_keeps_its_extension_within_255_characters() {
        let long = "é".repeat(300);
        let got = name(Some(&long), "audio/wav");
        assert_eq!(got.chars().count(), 255);
        assert!(got.ends_with(".wav"));
    }
}
