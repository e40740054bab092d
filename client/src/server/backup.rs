//! Backing a whole session up: the audio object (every part, concatenated
//! in order) and the session document (text, voice, parameters, the parts'
//! boundaries), each through a presigned upload with progress, then one
//! recovery token naming both.

use alloc::rc::Rc;

use js_sys::{Array, Object};
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag};

use super::{
    OnProgress, Progress, bad_answer,
    document::{self, SESSION_TYPE},
    post_json,
    transfer::{Transfer, transfer},
};
use crate::{
    Boxed,
    error::{ClientError, Result},
    js,
    prelude::*,
    store::Store,
    text::{concat, i64_str, u64_str},
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

fn blob(parts: &Array, mime: &str) -> Result<Blob> {
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    Blob::new_with_buffer_source_sequence_and_options(parts, &bag)
        .map_err(|e| ClientError::Invalid(js::describe(&e)))
}

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

    let audio_ticket = ticket(store, session_id, &mime, size, options.filename.as_deref()).await?;
    let doc_ticket = ticket(store, session_id, SESSION_TYPE, doc_size, None).await?;
    let total = size + doc_size;
    progress(Progress {
        phase: "upload",
        loaded: 0.0,
        total,
    });
    put(&audio_ticket, &audio.into(), 0.0, total, &progress).await?;
    put(&doc_ticket, &doc.into(), size, total, &progress).await?;
    progress(Progress {
        phase: "upload",
        loaded: total,
        total,
    });

    let request = Object::new();
    js::set_str(&request, "key", &audio_ticket.key);
    js::set_str(&request, "session_key", &doc_ticket.key);
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

/// A presigned upload: the key it creates and how to send the bytes.
struct Ticket {
    key: String,
    url: String,
    method: String,
    /// The headers the URL was signed with: sent exactly, nothing of ours.
    headers: JsValue,
}

fn ticket<'a>(
    store: &'a Store,
    session_id: &'a str,
    content_type: &'a str,
    length: f64,
    filename: Option<&'a str>,
) -> Boxed<'a, Result<Ticket>> {
    Box::pin(async move {
        let request = Object::new();
        js::set_str(&request, "session_id", session_id);
        js::set_str(&request, "content_type", content_type);
        js::set_f64(&request, "content_length", length);
        if let Some(f) = filename {
            js::set_str(&request, "filename", f);
        }
        let answer = post_json(store, "/uploads", &request).await?;
        Ok(Ticket {
            key: js::get_str(&answer, "key").ok_or_else(|| bad_answer("uploads", "key"))?,
            url: js::get_str(&answer, "upload_url")
                .ok_or_else(|| bad_answer("uploads", "upload_url"))?,
            method: js::get_str(&answer, "method").unwrap_or_else(|| "PUT".into()),
            headers: js::get(&answer, "headers"),
        })
    })
}

/// Uploads `body` to the ticket's URL; progress counts from `offset` of
/// `total` bytes.
fn put<'a>(
    ticket: &'a Ticket,
    body: &'a JsValue,
    offset: f64,
    total: f64,
    progress: &'a OnProgress,
) -> Boxed<'a, Result<()>> {
    Box::pin(async move {
        let sink = progress.clone();
        let (status, _) = transfer(Transfer {
            method: &ticket.method,
            url: &ticket.url,
            headers: &ticket.headers,
            body,
            response_type: "text",
            limit: f64::INFINITY,
            on_progress: Rc::new(move |loaded, _| {
                sink(Progress {
                    phase: "upload",
                    loaded: offset + loaded,
                    total,
                })
            }),
            upload: true,
        })
        .await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ClientError::Http {
                status,
                title: concat(&[
                    "upload refused by object storage (",
                    &u64_str(status.into()),
                    ")",
                ]),
            })
        }
    })
}
