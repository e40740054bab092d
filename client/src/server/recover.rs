//! Recovery by token: look the token up, download the session document and
//! the audio with progress, check them against each other, and store the
//! session — text, voice, parameters and every part — as restore on the
//! browser that made it would return it.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsValue;

use super::{
    OnProgress, Progress, Request, bad_answer,
    document::{
        self, MAX_AUDIO_BYTES, MAX_DOCUMENT_BYTES, MAX_PARTS, SESSION_TYPE, SessionDocument,
    },
    encode, send,
    transfer::{Transfer, transfer_ok},
};
use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    model::{self, SessionInput, SessionRecord},
    prelude::*,
    store::{NewChunk, Restored, Store},
    text::concat,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioState {
    Restored,
    /// The token's lifetime is over (HTTP 410): the audio is gone for good.
    Expired,
    /// Unknown or revoked token (HTTP 404).
    NotFound,
    /// Downloaded, but local storage stayed full even after eviction.
    StorageFull,
}

impl AudioState {
    pub fn as_str(self) -> &'static str {
        match self {
            AudioState::Restored => "restored",
            AudioState::Expired => "expired",
            AudioState::NotFound => "not-found",
            AudioState::StorageFull => "storage-full",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecoverOutcome {
    pub audio: AudioState,
    /// What is stored locally after the attempt: text and parameters are
    /// here even when the audio expired.
    pub session: Option<Restored>,
    pub evicted: Vec<String>,
}

/// Brings the session behind `token` (or the token kept with `session_id`)
/// into IndexedDB. With `session_id` `None` the session comes back under the
/// id in its backed-up document, or under a new id when a different local
/// session has that id. An expired token is an outcome, not an error: the
/// caller still gets the local text and parameters.
pub fn recover<'a>(
    store: &'a Store,
    session_id: Option<&'a str>,
    token: Option<&'a str>,
    progress: OnProgress,
) -> Boxed<'a, Result<RecoverOutcome>> {
    Box::pin(recover_body(store, session_id, token, None, progress))
}

/// Restores the caller's server copy of `session_id` (`GET /sessions/{id}`:
/// after the browser lost its storage, or on another device of a signed-in
/// user), as `recover` does a token's.
pub fn restore_copy<'a>(
    store: &'a Store,
    session_id: &'a str,
    progress: OnProgress,
) -> Boxed<'a, Result<RecoverOutcome>> {
    Box::pin(recover_body(store, None, None, Some(session_id), progress))
}

#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "part counts (far below 2^52) as JS numbers, and a size checked whole"
)]
async fn recover_body(
    store: &Store,
    session_id: Option<&str>,
    token: Option<&str>,
    copy: Option<&str>,
    progress: OnProgress,
) -> Result<RecoverOutcome> {
    // The token given, else the one kept with the session (not for a copy).
    let token = match (copy, token, session_id) {
        (None, Some(t), _) => Some(t.to_owned()),
        (None, None, Some(id)) => store.get_record(id).await?.and_then(|r| r.server_token),
        _ => None,
    };
    if copy.is_none() && token.is_none() {
        return Err(ClientError::NoToken(session_id.unwrap_or("").to_owned()));
    }
    // A presigned URL lives a few minutes at most, and never past the
    // token: if object storage refuses it (403), look the token up once more
    // for a fresh URL, or for the news that the token has expired meanwhile.
    let mut attempts = 0;
    let (info, backup) = loop {
        attempts += 1;
        let info = match look_up(store, token.as_deref(), copy).await? {
            Ok(info) => info,
            Err(audio) => {
                let session = match session_id {
                    Some(id) => store.restore(id).await?,
                    None => None,
                };
                return Ok(RecoverOutcome {
                    audio,
                    session,
                    evicted: Vec::new(),
                });
            }
        };
        // A server copy: a document and one object per part.
        let downloaded = if copy.is_some()
            || js::get_str(&info, "content_type").as_deref() == Some(SESSION_TYPE)
        {
            download_copy(&info, &progress).await
        } else {
            download(&info, &progress).await
        };
        match downloaded {
            // Refused: round the loop again for a fresh URL.
            Err(ClientError::Http { status: 403, .. }) if attempts < 2 => {}
            other => break (info, other?),
        }
    };
    let Backup { document, chunks } = backup;
    let metadata = js::get(&info, "metadata");
    let mut id = match (session_id, &document) {
        (Some(id), _) => id.to_owned(),
        (None, Some(doc)) => doc.id.clone(),
        (None, None) => js::get_str(&metadata, "session_id")
            .filter(|id| document::valid_session_id(id))
            .ok_or_else(|| bad_answer("audio", "session id"))?,
    };
    let token = token.as_deref();
    let mut local = store.get_record(&id).await?;
    if let (None, Some(l), Some(doc)) = (session_id, &local, &document)
        && !same_session(l, doc, token)
    {
        // Never over a different session that happens to have the same id.
        id = fresh_id(&id)?;
        local = None;
    }
    if local.is_none() {
        adopt(store, &id, token, document.as_ref(), &metadata).await?;
    }
    let count = chunks.len() as f64;
    let on_stored = |n: usize| {
        progress(Progress {
            phase: "store",
            loaded: n as f64,
            total: count,
        });
    };
    let written = store.replace_audio(&id, &chunks, &on_stored).await?;
    Ok(RecoverOutcome {
        audio: if written.stored {
            AudioState::Restored
        } else {
            AudioState::StorageFull
        },
        session: store.restore(&id).await?,
        evicted: written.evicted,
    })
}

/// Whether the local record is the session the document describes: it
/// was made at the same instant (a restored session keeps its `createdAt`),
/// or it keeps the very token being redeemed.
#[allow(clippy::float_cmp, reason = "whole milliseconds, compared exactly")]
fn same_session(local: &SessionRecord, doc: &SessionDocument, token: Option<&str>) -> bool {
    local.created_at == doc.created_at
        || token.is_some_and(|t| local.server_token.as_deref() == Some(t))
}

/// A new id for a recovered session whose id is taken here: the id (cut to
/// fit the server's 128), `~`, 8 random base64url characters.
fn fresh_id(id: &str) -> Result<String> {
    let stem = id.get(..100).unwrap_or(id);
    Ok(concat(&[
        stem,
        "~",
        &model::base64url(&crate::store::random_bytes::<6>()?),
    ]))
}

/// Where the redeem route takes the token: a header keeps it out of the URL,
/// so no access log of a CDN or proxy in front of the API holds it.
const TOKEN_HEADER: &str = "X-Recovery-Token";

/// The download description (JSON) of a token (`GET /audio` with the token
/// in `X-Recovery-Token`) or of the caller's copy (`GET /sessions/{id}`), or
/// why there is none (410 expired, 404 unknown or revoked).
fn look_up<'a>(
    store: &'a Store,
    token: Option<&'a str>,
    copy: Option<&'a str>,
) -> Boxed<'a, Result<core::result::Result<JsValue, AudioState>>> {
    Box::pin(async move {
        let token = [(TOKEN_HEADER, token.unwrap_or_default())];
        let (path, headers): (String, &[(&str, &str)]) = match copy {
            Some(id) => (concat(&["/sessions/", &encode(id)]), &[]),
            None => ("/audio".to_owned(), &token),
        };
        let answer = send(
            store,
            &Request {
                method: "GET",
                path: &path,
                headers,
                body: None,
                keepalive: false,
                retry: true,
            },
        )
        .await?;
        match answer.status {
            410 => Ok(Err(AudioState::Expired)),
            404 => Ok(Err(AudioState::NotFound)),
            _ if !answer.ok() => Err(answer.problem()),
            _ => Ok(Ok(answer.body)),
        }
    })
}

/// Downloads a server copy: the document (version 2) from `url`, then each
/// object its parts name from the presigned GETs in `parts`
/// (`[{key, url, size}]`), checked against the sizes the document gives,
/// and cut into the parts uploaded together in it. An object the listing
/// lacks is left out: the text and the other parts still come back.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "sizes checked whole below 2^53: exact in f64; an object is at most MAX_AUDIO_BYTES, \
              so its offsets fit u32"
)]
fn download_copy<'a>(info: &'a JsValue, progress: &'a OnProgress) -> Boxed<'a, Result<Backup>> {
    Box::pin(async move {
        let url = js::get_str(info, "url").ok_or_else(|| bad_answer("copy", "url"))?;
        let listed = js::get(info, "parts");
        if !Array::is_array(&listed) || Array::from(&listed).length() as usize > MAX_PARTS {
            return Err(bad_answer("copy", "parts"));
        }
        let listed = Array::from(&listed);
        let doc = get_document(&url, MAX_DOCUMENT_BYTES, None, 0.0, progress).await?;
        let total: f64 = doc.parts.iter().map(|p| p.size as f64).sum();
        let mut loaded = 0.0;
        let mut chunks = Vec::with_capacity(doc.parts.len());
        // Consecutive parts with one key were uploaded together: that
        // object is their bytes in order, downloaded at the first of them.
        let mut object: Option<(&Option<String>, Option<js_sys::Uint8Array>)> = None;
        let mut at = 0u32;
        for (n, part) in doc.parts.iter().enumerate() {
            if object.as_ref().map(|o| o.0) != Some(&part.key) {
                let url = listed
                    .iter()
                    .find(|p| js::get_str(p, "key") == part.key)
                    .and_then(|p| js::get_str(&p, "url"));
                let bytes = match url {
                    Some(url) => {
                        // Checked whole: as long as its parts together.
                        let size: f64 = doc
                            .parts
                            .iter()
                            .skip(n)
                            .take_while(|p| p.key == part.key)
                            .map(|p| p.size as f64)
                            .sum();
                        let bytes = get_exact(&url, size, loaded, total, progress).await?;
                        loaded += size;
                        Some(js_sys::Uint8Array::new(&bytes))
                    }
                    None => None,
                };
                object = Some((&part.key, bytes));
                at = 0;
            }
            let end = at.saturating_add(part.size as u32);
            // An object the listing lacks: its parts are left out.
            if let Some((_, Some(bytes))) = &object {
                chunks.push(NewChunk {
                    index: part.index,
                    mime: part.mime.clone(),
                    bytes: bytes.slice(at, end).buffer().into(),
                });
            }
            at = end;
        }
        Ok(Backup {
            document: Some(doc),
            chunks,
        })
    })
}

/// What a backup holds, downloaded and checked.
struct Backup {
    document: Option<SessionDocument>,
    chunks: Vec<NewChunk>,
}

/// A size the lookup claims: a whole number of bytes up to `max`.
#[allow(
    clippy::cast_precision_loss,
    reason = "whole() keeps sizes at or below 2^53: exact in f64"
)]
fn claimed(info: &JsValue, field: &str, max: f64) -> Result<f64> {
    js::get_f64(info, field)
        .and_then(document::whole)
        .map(|n| n as f64)
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            ClientError::BadAnswer(concat(&[
                "audio: ",
                field,
                " missing or over the client's limit",
            ]))
        })
}

/// Downloads the session document (when the token has one) and the audio
/// from the presigned URLs in `info`, bounded by the sizes the lookup
/// claims, and cuts the audio into its parts.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::float_cmp,
    reason = "sizes checked whole by `claimed`: exact as u64, compared exactly"
)]
fn download<'a>(info: &'a JsValue, progress: &'a OnProgress) -> Boxed<'a, Result<Backup>> {
    Box::pin(async move {
        let url = js::get_str(info, "url").ok_or_else(|| bad_answer("audio", "url"))?;
        let audio_size = claimed(info, "size", MAX_AUDIO_BYTES)?;
        let doc_url = js::get_str(info, "session_url");
        let doc_size = match doc_url {
            Some(_) => claimed(info, "session_size", MAX_DOCUMENT_BYTES)?,
            None => 0.0,
        };
        let total = audio_size + doc_size;
        progress(Progress {
            phase: "download",
            loaded: 0.0,
            total,
        });
        let document = match &doc_url {
            Some(doc_url) => Some(
                get_document(doc_url, doc_size, Some(audio_size as u64), total, progress).await?,
            ),
            None => None,
        };
        let buffer = get_exact(&url, audio_size, doc_size, total, progress).await?;
        let bytes = Uint8Array::new(&buffer);
        let mime =
            js::get_str(info, "content_type").unwrap_or_else(|| "application/octet-stream".into());
        let chunks = match &document {
            Some(doc) => doc.split(&bytes, &mime),
            None => one_part(&bytes, &mime),
        };
        Ok(Backup { document, chunks })
    })
}

/// Downloads a session document and reads it: version 1 when `audio_size`
/// is the size of the audio its parts cut, version 2 (a copy) when `None`.
/// The browser parses it (`responseType` `json`: `null` when it is not
/// JSON), so the text never passes through the wasm's memory.
fn get_document<'a>(
    url: &'a str,
    limit: f64,
    audio_size: Option<u64>,
    total: f64,
    progress: &'a OnProgress,
) -> Boxed<'a, Result<SessionDocument>> {
    Box::pin(async move {
        let doc = get(url, "json", limit, 0.0, total, progress).await?;
        if !doc.is_object() {
            return Err(bad_answer("document", "JSON"));
        }
        SessionDocument::from_js(&doc, audio_size).map_err(|e| ClientError::BadAnswer(e.into()))
    })
}

/// Downloads `size` bytes of audio (an `ArrayBuffer`), exactly that many.
#[allow(clippy::float_cmp, reason = "whole byte counts, compared exactly")]
fn get_exact<'a>(
    url: &'a str,
    size: f64,
    offset: f64,
    total: f64,
    progress: &'a OnProgress,
) -> Boxed<'a, Result<JsValue>> {
    Box::pin(async move {
        let bytes = get(url, "arraybuffer", size, offset, total, progress).await?;
        if document::byte_length(&bytes) == size {
            Ok(bytes)
        } else {
            Err(ClientError::BadAnswer(
                "audio size differs from the claim".into(),
            ))
        }
    })
}

/// GETs a presigned URL with progress, `limit` bytes at most.
fn get<'a>(
    url: &'a str,
    response_type: &'a str,
    limit: f64,
    offset: f64,
    total: f64,
    progress: &'a OnProgress,
) -> Boxed<'a, Result<JsValue>> {
    Box::pin(async move {
        // Straight to object storage: no API headers, so the request stays
        // CORS-simple.
        transfer_ok(&Transfer {
            method: "GET",
            url,
            headers: &JsValue::UNDEFINED,
            body: &JsValue::UNDEFINED,
            response_type,
            limit,
            progress,
            offset,
            total,
            upload: false,
        })
        .await
    })
}

/// A backup made before session documents: its audio comes back as one
/// part (older backups' metadata boundaries are not expanded at all).
fn one_part(bytes: &Uint8Array, mime: &str) -> Vec<NewChunk> {
    vec![NewChunk {
        index: 0,
        mime: mime.to_owned(),
        bytes: bytes.buffer().into(),
    }]
}

/// Recovering on a browser that never had the session: it starts from the
/// backed-up document (from the token's metadata for older backups), as
/// this tab's, with the token kept.
fn adopt<'a>(
    store: &'a Store,
    id: &'a str,
    token: Option<&'a str>,
    document: Option<&'a SessionDocument>,
    metadata: &'a JsValue,
) -> Boxed<'a, Result<()>> {
    Box::pin(async move {
        let input = match document {
            Some(doc) => SessionInput {
                id: id.to_owned(),
                text: doc.text.clone(),
                voice_id: doc.voice_id.clone(),
                params: doc.params.clone(),
            },
            None => SessionInput {
                id: id.to_owned(),
                text: String::new(),
                voice_id: js::get_str(metadata, "voice_id"),
                params: JsValue::NULL,
            },
        };
        store.save(input).await?;
        let (token, created_at) = (
            token.map(ToOwned::to_owned),
            document.map_or(0.0, |d| d.created_at),
        );
        store
            .update_record(
                id,
                Box::new(move |r| {
                    if created_at > 0.0 {
                        r.created_at = created_at.min(r.updated_at);
                    }
                    r.completed = true;
                    if token.is_some() {
                        r.server_token = token;
                    }
                }),
            )
            .await
    })
}
