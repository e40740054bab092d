//! The server path (DESIGN.md, "HTTP API"): back a session's audio up through
//! a presigned upload and a recovery token, and fetch it back by token.

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, ReadableStreamDefaultReader, RequestInit, Response};

use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    model::{self, SessionInput},
    prelude::*,
    store::{Restored, Store},
    text::{concat, i64_str},
};

const API_PATH: &str = "/api/recovery";
const CLIENT_HEADER: &str = "X-Recovery-Client";
/// Longest chunk list (sizes or indexes) put in token metadata.
const METADATA_LIST_LIMIT: usize = 800;

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, present on Window and WorkerGlobalScope alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> js_sys::Promise;
}

/// A step of a backup or recovery, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// `upload`, `download` or `store`.
    pub phase: &'static str,
    pub loaded: f64,
    /// 0 when unknown.
    pub total: f64,
}

#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    pub ttl_seconds: Option<u32>,
    pub filename: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BackupOutcome {
    pub token: String,
    pub expires_at: String,
    pub audio_url: Option<String>,
    pub bytes: f64,
}

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

fn endpoint(store: &Store, path: &str) -> Result<String> {
    let base = store.api_base_url().ok_or(ClientError::NoServer)?;
    Ok(concat(&[base.trim_end_matches('/'), API_PATH, path]))
}

fn encode(segment: &str) -> String {
    String::from(js_sys::encode_uri_component(segment))
}

fn send<'a>(
    url: &'a str,
    method: &'a str,
    headers: &'a Object,
    body: Option<&'a JsValue>,
) -> Boxed<'a, Result<Response>> {
    Box::pin(send_body(url, method, headers, body))
}

async fn send_body(
    url: &str,
    method: &str,
    headers: &Object,
    body: Option<&JsValue>,
) -> Result<Response> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(headers);
    if let Some(body) = body {
        init.set_body(body);
    }
    let response = JsFuture::from(global_fetch(url, &init))
        .await
        .map_err(|e| ClientError::network(&e))?;
    Ok(response.unchecked_into())
}

fn api_headers<'a>(store: &'a Store) -> Boxed<'a, Result<Object>> {
    Box::pin(api_headers_body(store))
}

async fn api_headers_body(store: &Store) -> Result<Object> {
    let headers = Object::new();
    js::set_str(&headers, CLIENT_HEADER, &store.client_secret().await?);
    js::set_str(&headers, "Accept", "application/json");
    Ok(headers)
}

async fn json_body(response: &Response) -> Result<JsValue> {
    let promise = response.json().map_err(|e| ClientError::network(&e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| ClientError::network(&e))
}

/// Turns a non-2xx answer into an error, using the RFC 9457 problem's
/// `detail` (or `title`) when the server sent one.
async fn problem(response: &Response) -> ClientError {
    let status = response.status();
    let body = json_body(response).await.unwrap_or(JsValue::UNDEFINED);
    let title = js::get_str(&body, "detail")
        .or_else(|| js::get_str(&body, "title"))
        .unwrap_or_else(|| response.status_text());
    ClientError::Http { status, title }
}

fn post_json<'a>(store: &'a Store, path: &'a str, body: &'a Object) -> Boxed<'a, Result<JsValue>> {
    Box::pin(post_json_body(store, path, body))
}

async fn post_json_body(store: &Store, path: &str, body: &Object) -> Result<JsValue> {
    let headers = api_headers(store).await?;
    js::set_str(&headers, "Content-Type", "application/json");
    let text = js_sys::JSON::stringify(body).map_err(|e| ClientError::Invalid(js::describe(&e)))?;
    let response = send(
        &endpoint(store, path)?,
        "POST",
        &headers,
        Some(&text.into()),
    )
    .await?;
    if !response.ok() {
        return Err(problem(&response).await);
    }
    json_body(&response).await
}

/// Uploads the session's audio as one object (`uploads` → PUT to the
/// presigned URL → `token`) and keeps the token with the session. The chunk
/// boundaries travel in the token's metadata so recovery can split it again.
pub fn backup<'a>(
    store: &'a Store,
    session_id: &'a str,
    options: &'a BackupOptions,
    progress: &'a dyn Fn(Progress),
) -> Boxed<'a, Result<BackupOutcome>> {
    Box::pin(backup_body(store, session_id, options, progress))
}

async fn backup_body(
    store: &Store,
    session_id: &str,
    options: &BackupOptions,
    progress: &dyn Fn(Progress),
) -> Result<BackupOutcome> {
    let restored = store
        .restore(session_id)
        .await?
        .ok_or_else(|| ClientError::NotFound(session_id.to_owned()))?;
    let Some(first) = restored.chunks.first() else {
        return Err(ClientError::Invalid(concat(&[
            "session \"",
            session_id,
            "\" has no audio to back up",
        ])));
    };
    let mime = if first.mime.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        first.mime.clone()
    };
    let parts: Array = restored.chunks.iter().map(|c| c.bytes.clone()).collect();
    let sizes: Vec<u64> = restored
        .chunks
        .iter()
        .map(|c| js::get_f64(&c.bytes, "byteLength").unwrap_or(0.0) as u64)
        .collect();
    let indexes: Vec<u64> = restored.chunks.iter().map(|c| c.index as u64).collect();
    let bag = BlobPropertyBag::new();
    bag.set_type(&mime);
    let blob = Blob::new_with_buffer_source_sequence_and_options(&parts, &bag)
        .map_err(|e| ClientError::Invalid(js::describe(&e)))?;
    let size = blob.size();

    let request = Object::new();
    js::set_str(&request, "session_id", session_id);
    js::set_str(&request, "content_type", &mime);
    js::set_f64(&request, "content_length", size);
    if let Some(f) = &options.filename {
        js::set_str(&request, "filename", f);
    }
    let ticket = post_json(store, "/uploads", &request).await?;
    let key = js::get_str(&ticket, "key").ok_or_else(|| bad_answer("uploads", "key"))?;
    let upload_url =
        js::get_str(&ticket, "upload_url").ok_or_else(|| bad_answer("uploads", "upload_url"))?;
    let method = js::get_str(&ticket, "method").unwrap_or_else(|| "PUT".into());
    // The presigned URL signs these headers (content type and length): send
    // exactly them, and nothing of ours.
    let signed = js::get(&ticket, "headers");
    let put_headers: Object = if signed.is_object() {
        signed.unchecked_into()
    } else {
        Object::new()
    };

    progress(Progress {
        phase: "upload",
        loaded: 0.0,
        total: size,
    });
    let put = send(&upload_url, &method, &put_headers, Some(&blob.into())).await?;
    if !put.ok() {
        return Err(ClientError::Http {
            status: put.status(),
            title: concat(&["audio upload refused: ", &put.status_text()]),
        });
    }
    progress(Progress {
        phase: "upload",
        loaded: size,
        total: size,
    });

    let metadata = Object::new();
    js::set_str(&metadata, "session_id", session_id);
    js::set_str(&metadata, "mime", &mime);
    if let Some(voice) = &restored.record.voice_id {
        js::set_str(&metadata, "voice_id", voice);
    }
    let sizes = model::encode_list(&sizes);
    // Past this the metadata would near the server's 2 KB cap; recovery then
    // gets the audio back as one chunk, which still plays.
    if sizes.len() <= METADATA_LIST_LIMIT {
        js::set_str(&metadata, "chunk_sizes", &sizes);
        let contiguous = indexes.iter().enumerate().all(|(n, &i)| i == n as u64);
        let indexes = model::encode_list(&indexes);
        if !contiguous && indexes.len() <= METADATA_LIST_LIMIT {
            js::set_str(&metadata, "chunk_indexes", &indexes);
        }
    }
    let token_request = Object::new();
    js::set_str(&token_request, "key", &key);
    if let Some(ttl) = options.ttl_seconds {
        js::set_f64(&token_request, "ttl_seconds", f64::from(ttl));
    }
    if let Some(f) = &options.filename {
        js::set_str(&token_request, "filename", f);
    }
    js::set(&token_request, "metadata", &metadata);
    let issued = post_json(store, "/token", &token_request).await?;
    let token = js::get_str(&issued, "token").ok_or_else(|| bad_answer("token", "token"))?;
    let expires_at = js::get(&issued, "expires_at");
    let expires_at = expires_at
        .as_string()
        .or_else(|| expires_at.as_f64().map(|n| i64_str(n as i64)))
        .unwrap_or_default();
    let audio_url = js::get_str(&issued, "audio_url");

    let (t, e) = (token.clone(), expires_at.clone());
    store
        .update_record(
            session_id,
            Box::new(move |r| {
                r.server_token = Some(t);
                r.server_token_expires_at = Some(e);
            }),
        )
        .await?;
    Ok(BackupOutcome {
        token,
        expires_at,
        audio_url,
        bytes: size,
    })
}

fn bad_answer(route: &str, field: &str) -> ClientError {
    ClientError::Http {
        status: 502,
        title: concat(&["unexpected answer from ", route, ": no ", field]),
    }
}

/// Fetches the audio behind the session's token (or `token`) back into
/// IndexedDB. An expired token is an outcome, not an error: the caller still
/// gets the session's text and parameters.
pub fn recover<'a>(
    store: &'a Store,
    session_id: &'a str,
    token: Option<&'a str>,
    progress: &'a dyn Fn(Progress),
) -> Boxed<'a, Result<RecoverOutcome>> {
    Box::pin(recover_body(store, session_id, token, progress))
}

async fn recover_body(
    store: &Store,
    session_id: &str,
    token: Option<&str>,
    progress: &dyn Fn(Progress),
) -> Result<RecoverOutcome> {
    let local = store.get_record(session_id).await?;
    let token = match (token, local.as_ref().and_then(|r| r.server_token.clone())) {
        (Some(t), _) => t.to_owned(),
        (None, Some(t)) => t,
        (None, None) => return Err(ClientError::NoToken(session_id.to_owned())),
    };
    // A presigned URL lives a few minutes at most, and never past the
    // token: if object storage refuses it (403), look the token up once more
    // for a fresh URL, or for the news that the token has expired meanwhile.
    let mut attempts = 0;
    let (info, bytes) = loop {
        attempts += 1;
        let info = match look_up_token(store, &token).await? {
            Ok(info) => info,
            Err(audio) => {
                return Ok(RecoverOutcome {
                    audio,
                    session: store.restore(session_id).await?,
                    evicted: Vec::new(),
                });
            }
        };
        match download_audio(&info, progress).await {
            Err(ClientError::Http { status: 403, .. }) if attempts < 2 => continue,
            other => break (info, other?),
        }
    };
    let metadata = js::get(&info, "metadata");
    let chunks = split_audio(&bytes, &metadata);
    if local.is_none() {
        adopt_session(store, session_id, &token, &metadata).await?;
    }
    let mime = js::get_str(&metadata, "mime")
        .or_else(|| js::get_str(&info, "content_type"))
        .unwrap_or_else(|| "application/octet-stream".into());
    let count = chunks.len() as f64;
    let on_stored = |n: usize| {
        progress(Progress {
            phase: "store",
            loaded: n as f64,
            total: count,
        })
    };
    let written = store
        .replace_audio(session_id, &chunks, &mime, &on_stored)
        .await?;
    Ok(RecoverOutcome {
        audio: if written.stored {
            AudioState::Restored
        } else {
            AudioState::StorageFull
        },
        session: store.restore(session_id).await?,
        evicted: written.evicted,
    })
}

/// `GET /audio/{token}` with `Accept: application/json`: the download
/// description, or why there is none (410 expired, 404 unknown or revoked).
fn look_up_token<'a>(
    store: &'a Store,
    token: &'a str,
) -> Boxed<'a, Result<core::result::Result<JsValue, AudioState>>> {
    Box::pin(async move {
        let headers = api_headers(store).await?;
        let url = endpoint(store, &concat(&["/audio/", &encode(token)]))?;
        let response = send(&url, "GET", &headers, None).await?;
        match response.status() {
            410 => Ok(Err(AudioState::Expired)),
            404 => Ok(Err(AudioState::NotFound)),
            _ if !response.ok() => Err(problem(&response).await),
            _ => Ok(Ok(json_body(&response).await?)),
        }
    })
}

/// Fetches the audio from the presigned URL in `info`, reporting progress.
fn download_audio<'a>(
    info: &'a JsValue,
    progress: &'a dyn Fn(Progress),
) -> Boxed<'a, Result<Uint8Array>> {
    Box::pin(async move {
        let url = js::get_str(info, "url").ok_or_else(|| bad_answer("audio", "url"))?;
        let size_hint = js::get_f64(info, "size").unwrap_or(0.0);
        // The presigned URL goes straight to object storage: no API headers,
        // so the request stays CORS-simple.
        let audio = send(&url, "GET", &Object::new(), None).await?;
        if !audio.ok() {
            return Err(ClientError::Http {
                status: audio.status(),
                title: concat(&["audio download refused: ", &audio.status_text()]),
            });
        }
        read_with_progress(&audio, size_hint, progress).await
    })
}

/// Cuts the downloaded object back into the chunks recorded at backup.
fn split_audio(bytes: &Uint8Array, metadata: &JsValue) -> Vec<(u32, JsValue)> {
    let list = |key: &str| {
        js::get_str(metadata, key)
            .map(|s| model::parse_list(&s))
            .unwrap_or_default()
    };
    let ranges = model::chunk_ranges(&list("chunk_sizes"), u64::from(bytes.length()));
    let indexes = list("chunk_indexes");
    let recorded = indexes.len() == ranges.len();
    ranges
        .iter()
        .enumerate()
        .map(|(n, (start, end))| {
            let index = if recorded { indexes[n] } else { n as u64 };
            // slice() copies into a fresh ArrayBuffer, one per stored chunk.
            let piece = bytes.slice(*start as u32, *end as u32);
            (index as u32, piece.buffer().into())
        })
        .collect()
}

/// Recovering on a browser that never had the session: start it from the
/// token's metadata; the text stayed on the other browser.
fn adopt_session<'a>(
    store: &'a Store,
    session_id: &'a str,
    token: &'a str,
    metadata: &'a JsValue,
) -> Boxed<'a, Result<()>> {
    Box::pin(async move {
        store
            .save(SessionInput {
                id: session_id.to_owned(),
                text: String::new(),
                voice_id: js::get_str(metadata, "voice_id"),
                params: JsValue::NULL,
            })
            .await?;
        let token = token.to_owned();
        store
            .update_record(session_id, Box::new(move |r| r.server_token = Some(token)))
            .await
    })
}

async fn read_with_progress(
    response: &Response,
    size_hint: f64,
    progress: &dyn Fn(Progress),
) -> Result<Uint8Array> {
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok())
        .map(|v| v as f64)
        .unwrap_or(size_hint);
    let Some(body) = response.body() else {
        let buf = JsFuture::from(
            response
                .array_buffer()
                .map_err(|e| ClientError::network(&e))?,
        )
        .await
        .map_err(|e| ClientError::network(&e))?;
        let bytes = Uint8Array::new(&buf);
        progress(Progress {
            phase: "download",
            loaded: f64::from(bytes.length()),
            total,
        });
        return Ok(bytes);
    };
    let reader = ReadableStreamDefaultReader::new(&body).map_err(|e| ClientError::network(&e))?;
    let mut pieces: Vec<Uint8Array> = Vec::new();
    let mut loaded = 0u32;
    progress(Progress {
        phase: "download",
        loaded: 0.0,
        total,
    });
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|e| ClientError::network(&e))?;
        if js::get_bool(&step, "done") {
            break;
        }
        let piece: Uint8Array = js::get(&step, "value").unchecked_into();
        loaded += piece.length();
        pieces.push(piece);
        progress(Progress {
            phase: "download",
            loaded: f64::from(loaded),
            total,
        });
    }
    // Assembled in JS memory: the audio never has to pass through wasm.
    let all = Uint8Array::new_with_length(loaded);
    let mut offset = 0;
    for piece in &pieces {
        all.set(piece, offset);
        offset += piece.length();
    }
    Ok(all)
}

/// Revokes a token (the user dismissed recovery), deleting the audio too.
pub fn revoke<'a>(store: &'a Store, token: &'a str) -> Boxed<'a, Result<()>> {
    Box::pin(revoke_body(store, token))
}

async fn revoke_body(store: &Store, token: &str) -> Result<()> {
    let headers = api_headers(store).await?;
    let url = endpoint(store, &concat(&["/token/", &encode(token), "?purge=true"]))?;
    let response = send(&url, "DELETE", &headers, None).await?;
    if response.ok() || response.status() == 404 {
        Ok(())
    } else {
        Err(problem(&response).await)
    }
}

/// The user declined recovery: revokes (and purges) the server copy when
/// there is one, then deletes the session locally. A failed revoke is logged,
/// not raised: the server copy expires on its own, and the user asked for
/// the session to go.
pub async fn dismiss(store: &Store, session_id: &str) -> Result<()> {
    let token = store
        .get_record(session_id)
        .await?
        .and_then(|r| r.server_token);
    if let (Some(token), Some(_)) = (token, store.api_base_url())
        && let Err(e) = revoke(store, &token).await
    {
        web_sys::console::warn_1(&JsValue::from_str(&concat(&[
            "recovery: revoking the backup of ",
            session_id,
            " failed: ",
            &e.message(),
        ])));
    }
    store.delete(session_id).await
}
