//! The session document of a whole-session backup
//! (`application/vnd.chatterbox.session+json`), written by the client and
//! opaque to the server:
//! `{version: 1, id, text, voiceId, params, createdAt, updatedAt,
//!   parts: [{index, mime, size}]}`; the audio object is the parts
//! concatenated in `parts` order.
//!
//! Everything read back is bounded before use: the document's size, the
//! number of parts, each size (summed with overflow checks) and their sum
//! against the audio actually downloaded. The checks are plain Rust over
//! numbers, unit-tested natively.

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::{
    js,
    model::SessionRecord,
    prelude::*,
    store::{Chunk, NewChunk},
};

pub const SESSION_TYPE: &str = "application/vnd.chatterbox.session+json";
/// Largest session document read back (the server's default cap).
pub const MAX_DOCUMENT_BYTES: f64 = 1024.0 * 1024.0;
/// Most audio parts a backup may list.
pub const MAX_PARTS: usize = 10_000;
/// Largest audio object downloaded (512 MiB).
pub const MAX_AUDIO_BYTES: f64 = 512.0 * 1024.0 * 1024.0;
/// Longest MIME type kept.
const MAX_MIME: usize = 255;
/// Longest object key kept.
const MAX_KEY: usize = 1024;

/// The server copy's document (version 2) of `record`, as JSON text: its
/// parts are those already uploaded (`copy_parts`), with their keys.
pub fn build_copy(record: &SessionRecord) -> Result<JsValue, JsValue> {
    document(record, 2.0, &copy_parts(record))
}

/// A session document of `version` for `record` with `parts`, as JSON text.
fn document(record: &SessionRecord, version: f64, parts: &Array) -> Result<JsValue, JsValue> {
    let doc = Object::new();
    js::set_f64(&doc, "version", version);
    js::set_str(&doc, "id", &record.id);
    js::set_str(&doc, "text", &record.text);
    js::set_opt_str(&doc, "voiceId", record.voice_id.as_deref());
    js::set(&doc, "params", &record.params);
    js::set_f64(&doc, "createdAt", record.created_at);
    js::set_f64(&doc, "updatedAt", record.updated_at);
    js::set(&doc, "parts", parts);
    js_sys::JSON::stringify(&doc).map(JsValue::from)
}

/// The parts of a record's server copy: an array, empty when none.
pub fn copy_parts(record: &SessionRecord) -> Array {
    if Array::is_array(&record.copy_parts) {
        record.copy_parts.clone().unchecked_into()
    } else {
        Array::new()
    }
}

/// A part of a session document, checked.
#[derive(Debug)]
pub struct Part {
    pub index: u32,
    pub mime: String,
    pub size: u64,
    /// Version 2: the part's object key. Parts uploaded together share
    /// one: consecutive in the list, the object their bytes in that order.
    pub key: Option<String>,
}

/// The session document for `record` and its `chunks` (as `ArrayBuffer`s),
/// as JSON text.
pub fn build(record: &SessionRecord, chunks: &[Chunk], mime: &str) -> Result<JsValue, JsValue> {
    let parts: Array = chunks
        .iter()
        .map(|c| {
            let part = Object::new();
            js::set_f64(&part, "index", c.index);
            js::set_str(
                &part,
                "mime",
                if c.mime.is_empty() { mime } else { &c.mime },
            );
            js::set_f64(&part, "size", byte_length(&c.bytes));
            JsValue::from(part)
        })
        .collect();
    document(record, 1.0, &parts)
}

pub fn byte_length(buffer: &JsValue) -> f64 {
    js::get_f64(buffer, "byteLength").unwrap_or(0.0)
}

/// A session document read back, checked.
#[derive(Debug)]
pub struct SessionDocument {
    pub id: String,
    pub text: String,
    pub voice_id: Option<String>,
    pub params: JsValue,
    pub created_at: f64,
    pub updated_at: f64,
    /// In audio order.
    pub parts: Vec<Part>,
}

impl SessionDocument {
    /// Reads a parsed document: version 1 when `audio_size` is the size of
    /// the audio object its parts must add up to, version 2 (a server copy,
    /// each part an object of its own) when it is `None`.
    #[allow(clippy::cast_possible_truncation, reason = "indexes below MAX_PARTS")]
    pub fn from_js(doc: &JsValue, audio_size: Option<u64>) -> Result<Self, &'static str> {
        let version = if audio_size.is_some() { 1.0 } else { 2.0 };
        if js::get_f64(doc, "version") != Some(version) {
            return Err("document: unknown version");
        }
        let id = js::get_str(doc, "id")
            .filter(|id| valid_session_id(id))
            .ok_or("document: bad id")?;
        let list = js::get(doc, "parts");
        if !Array::is_array(&list) {
            return Err("document: no parts");
        }
        let list: Array = list.unchecked_into();
        let count = list.length() as usize;
        if count > MAX_PARTS {
            return Err("document: too many parts");
        }
        let mut parts = Vec::with_capacity(count);
        let mut sizes = Vec::with_capacity(count);
        let mut indexes = Vec::with_capacity(count);
        for n in 0..count {
            let part = list.get(n as u32);
            let (Some(index), Some(size)) =
                (js::get_f64(&part, "index"), js::get_f64(&part, "size"))
            else {
                return Err("document: part without index or size");
            };
            indexes.push(index);
            sizes.push(size);
            let mime = js::get_str(&part, "mime")
                .filter(|m| m.len() <= MAX_MIME)
                .unwrap_or_default();
            let key = js::get_str(&part, "key").filter(|k| k.len() <= MAX_KEY);
            // A copy's parts are audio and each names its object.
            if audio_size.is_none() && (key.is_none() || !mime.starts_with("audio/")) {
                return Err("document: a part without key or of a type other than audio/*");
            }
            parts.push(Part {
                index: 0,
                mime,
                size: 0,
                key,
            });
        }
        let checked = check_parts(&indexes, &sizes, audio_size)?;
        for (part, (index, size)) in parts.iter_mut().zip(checked) {
            part.index = index;
            part.size = size;
        }
        Ok(Self {
            id,
            text: js::get_str(doc, "text").unwrap_or_default(),
            voice_id: js::get_str(doc, "voiceId"),
            params: match js::get(doc, "params") {
                p if p.is_undefined() => JsValue::NULL,
                p => p,
            },
            created_at: js::get_f64(doc, "createdAt").unwrap_or(0.0),
            updated_at: js::get_f64(doc, "updatedAt").unwrap_or(0.0),
            parts,
        })
    }

    /// Cuts the downloaded audio (`bytes`, `audio_size` long) into the parts.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "the sizes add up to the downloaded length, a u32"
    )]
    pub fn split(&self, bytes: &js_sys::Uint8Array, default_mime: &str) -> Vec<NewChunk> {
        let mut start = 0u32;
        self.parts
            .iter()
            .map(|part| {
                // Sizes were checked to add up to the length: they fit u32
                // ranges of the downloaded array.
                let end = start + part.size as u32;
                let piece = bytes.slice(start, end);
                start = end;
                NewChunk {
                    index: part.index,
                    mime: if part.mime.is_empty() {
                        default_mime.to_owned()
                    } else {
                        part.mime.clone()
                    },
                    bytes: piece.buffer().into(),
                }
            })
            .collect()
    }
}

/// A session id the server accepts: 1–128 of `A-Z a-z 0-9 - _ ~`.
pub fn valid_session_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~'))
}

/// A byte size or count read from JSON: a whole number from 0 to 2^53.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::float_cmp,
    reason = "the exact round trip through `as` is the whole-number test"
)]
pub fn whole(value: f64) -> Option<u64> {
    // `as` saturates and drops fractions; in range, a whole number survives
    // the round trip unchanged. (No `f64::fract` without std.)
    ((0.0..=9_007_199_254_740_992.0).contains(&value) && (value as u64) as f64 == value)
        .then_some(value as u64)
}

/// Checks the parts of a document: at most [`MAX_PARTS`], indexes whole,
/// below 2^32 and strictly increasing, sizes whole and adding up (without
/// overflow) to exactly `audio_size` when there is one (version 1), else to
/// at most [`MAX_AUDIO_BYTES`]. Returns `(index, size)` per part.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "MAX_AUDIO_BYTES is a whole number"
)]
pub fn check_parts(
    indexes: &[f64],
    sizes: &[f64],
    audio_size: Option<u64>,
) -> Result<Vec<(u32, u64)>, &'static str> {
    let limit = audio_size.unwrap_or(MAX_AUDIO_BYTES as u64);
    if indexes.len() > MAX_PARTS || indexes.len() != sizes.len() {
        return Err("document: too many parts");
    }
    let mut out = Vec::with_capacity(indexes.len());
    let mut total: u64 = 0;
    let mut previous: Option<u32> = None;
    for (&index, &size) in indexes.iter().zip(sizes) {
        let index = whole(index)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or("document: bad part index")?;
        if previous.is_some_and(|p| p >= index) {
            return Err("document: part indexes out of order");
        }
        previous = Some(index);
        let size = whole(size).ok_or("document: part size not a whole number")?;
        total = total
            .checked_add(size)
            .filter(|t| *t <= limit)
            .ok_or("document: sizes do not add up")?;
        out.push((index, size));
    }
    if audio_size.is_some_and(|a| a != total) {
        return Err("document: sizes do not add up");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_that_add_up_pass_with_their_indexes() {
        assert_eq!(
            check_parts(&[0.0, 1.0, 5.0], &[3.0, 2.0, 0.0], Some(5)),
            Ok(vec![(0, 3), (1, 2), (5, 0)])
        );
        assert_eq!(check_parts(&[], &[], Some(0)), Ok(vec![]));
    }

    #[test]
    fn sizes_that_do_not_add_up_or_overflow_are_refused() {
        assert!(check_parts(&[0.0, 1.0], &[3.0, 3.0], Some(5)).is_err());
        assert!(check_parts(&[0.0], &[3.0], Some(5)).is_err());
        // 2^53 twice would overflow nothing in u64 but exceeds any audio;
        // u64::MAX-sized claims are not whole numbers we accept.
        let big = 9_007_199_254_740_992.0;
        assert!(check_parts(&[0.0, 1.0], &[big, big], Some(u64::MAX)).is_err());
        assert!(check_parts(&[0.0], &[1e300], Some(u64::MAX)).is_err());
    }

    #[test]
    fn bad_numbers_and_orders_are_refused() {
        assert!(check_parts(&[0.0], &[-1.0], Some(0)).is_err());
        assert!(check_parts(&[0.0], &[1.5], Some(2)).is_err());
        assert!(check_parts(&[0.0], &[f64::NAN], Some(0)).is_err());
        assert!(check_parts(&[-1.0], &[1.0], Some(1)).is_err());
        assert!(check_parts(&[4_294_967_296.0], &[1.0], Some(1)).is_err());
        assert!(check_parts(&[1.0, 1.0], &[1.0, 1.0], Some(2)).is_err());
        assert!(check_parts(&[2.0, 1.0], &[1.0, 1.0], Some(2)).is_err());
    }

    #[test]
    fn a_copy_s_parts_need_not_add_up_to_an_audio_object_but_stay_under_the_cap() {
        assert_eq!(
            check_parts(&[0.0, 2.0], &[3.0, 4.0], None),
            Ok(vec![(0, 3), (2, 4)])
        );
        assert!(check_parts(&[0.0], &[MAX_AUDIO_BYTES + 1.0], None).is_err());
        assert!(check_parts(&[1.0, 0.0], &[1.0, 1.0], None).is_err());
    }

    #[test]
    fn a_huge_part_count_is_refused_before_anything_is_allocated() {
        let many = vec![0.0; MAX_PARTS + 1];
        assert!(check_parts(&many, &many, Some(0)).is_err());
    }

    #[test]
    fn session_ids_follow_the_server_rule_conflict_copies_included() {
        assert!(valid_session_id("a-b_c~3"));
        assert!(valid_session_id(&"x".repeat(128)));
        assert!(!valid_session_id(""));
        assert!(!valid_session_id(&"x".repeat(129)));
        assert!(!valid_session_id("a/b"));
        assert!(!valid_session_id("é"));
    }
}
