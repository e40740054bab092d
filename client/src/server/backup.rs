//! Backing a whole session up: the audio object (every part, concatenated
//! in order) and the session document (text, voice, parameters, the parts'
//! boundaries), each through a presigned upload with progress, then one
//! recovery token naming both.

use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag};

use super::{
    OnProgress, Progress, bad_answer,
    document::{self, SESSION_TYPE},
    post_json,
    transfer::{Transfer, transfer_ok},
};
use crate::{
    error::{ClientError, Result},
    js,
    prelude::*,
    store::Store,
    text::{concat, i64_str},
};

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
    /// Bytes uploaded: the audio and the session document.
    pub bytes: f64,
}

/// Backs the whole session up and keeps the token with it. Upload progress
/// moves with the bytes of both objects.
pub fn backup<'a>(
    store: &'a Store,
    session_id: &'a str,
    options: &'a BackupOptions,
    progress: OnProgress,
) -> Boxed<'a, Result<BackupOutcome>> {
    Box::pin(backup_body(store, session_id, options, progress))
}

pub(super) fn blob(parts: &Array, mime: &str) -> Result<Blob> {
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    Blob::new_with_buffer_source_sequence_and_options(parts, &bag)
        .map_err(|e| ClientError::Invalid(js::describe(&e)))
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "a JS number: `as` saturates and turns NaN into 0"
)]
async fn backup_body(
    store: &Store,
    session_id: &str,
    options: &BackupOptions,
    progress: OnProgress,
) -> Result<BackupOutcome> {
    // What was typed last goes up too; a failed flush is already reported
    // as a status event, and the committed state is backed up regardless.
    if store.has_pending() {
        let _ = store.flush().await;
    }
    let restored = store
        .read_session(session_id)
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
    let audio = blob(&parts, &mime)?;
    let text = document::build(&restored.record, &restored.chunks, &mime)
        .map_err(|e| ClientError::Invalid(js::describe(&e)))?;
    let doc = blob(&Array::of1(&text), SESSION_TYPE)?;
    let (size, doc_size) = (audio.size(), doc.size());

    let total = size + doc_size;
    progress(Progress {
        phase: "upload",
        loaded: 0.0,
        total,
    });
    let audio = Upload {
        content_type: &mime,
        body: audio.into(),
        length: size,
        filename: options.filename.as_deref(),
    };
    let key = upload(store, session_id, &audio, 0.0, total, &progress).await?;
    let doc = Upload {
        content_type: SESSION_TYPE,
        body: doc.into(),
        length: doc_size,
        filename: None,
    };
    let session_key = upload(store, session_id, &doc, size, total, &progress).await?;

    let request = js_sys::Object::new();
    js::set_str(&request, "key", &key);
    js::set_str(&request, "session_key", &session_key);
    if let Some(ttl) = options.ttl_seconds {
        js::set_f64(&request, "ttl_seconds", f64::from(ttl));
    }
    if let Some(f) = &options.filename {
        js::set_str(&request, "filename", f);
    }
    let issued = post_json(store, "/token", &request).await?;
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
        bytes: total,
    })
}

/// One object to upload.
pub(super) struct Upload<'a> {
    pub content_type: &'a str,
    pub body: JsValue,
    pub length: f64,
    pub filename: Option<&'a str>,
}

/// Uploads one object: a presigned URL from `/uploads`, then the bytes to
/// it with progress counted from `offset` of `total`. Resolves with the key.
pub(super) fn upload<'a>(
    store: &'a Store,
    session_id: &'a str,
    object: &'a Upload<'a>,
    offset: f64,
    total: f64,
    progress: &'a OnProgress,
) -> Boxed<'a, Result<String>> {
    Box::pin(async move {
        let request = js_sys::Object::new();
        js::set_str(&request, "session_id", session_id);
        js::set_str(&request, "content_type", object.content_type);
        js::set_f64(&request, "content_length", object.length);
        if let Some(f) = object.filename {
            js::set_str(&request, "filename", f);
        }
        let ticket = post_json(store, "/uploads", &request).await?;
        let key = js::get_str(&ticket, "key").ok_or_else(|| bad_answer("uploads", "key"))?;
        let url = js::get_str(&ticket, "upload_url")
            .ok_or_else(|| bad_answer("uploads", "upload_url"))?;
        let method = js::get_str(&ticket, "method").unwrap_or_else(|| "PUT".into());
        transfer_ok(&Transfer {
            method: &method,
            url: &url,
            // The headers the URL was signed with: sent exactly, nothing of ours.
            headers: &js::get(&ticket, "headers"),
            body: &object.body,
            response_type: "text",
            limit: f64::INFINITY,
            progress,
            offset,
            total,
            upload: true,
        })
        .await?;
        Ok(key)
    })
}
