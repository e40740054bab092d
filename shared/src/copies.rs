//! What several functions do with a session's server copy (docs/architecture.md, "Server copy"):
//! presign the objects under a session's prefix (the `sessions` and `redeem-token` functions)
//! and purge a whole session (`revoke-token`).

use std::time::Duration;

use serde::Serialize;

use crate::domain::{Filename, ObjectKey, OwnerHash, SessionId, session_prefix};
use crate::ports::{
    DownloadSpec, ListedObject, MAX_LISTED_OBJECTS, ObjectStore, StoreResult, TokenStore,
};
use crate::{ApiError, App};

/// A presigned GET of one object under the session's prefix, other than its document.
#[derive(Debug, Clone, Serialize)]
pub struct PartLink {
    pub key: String,
    pub url: String,
    pub size: u64,
}

/// The objects under the session's prefix: the document's listing (if stored), and a presigned
/// GET of each other object (its parts, and any earlier backups), living `lifetime`.
pub async fn presigned_parts<T, O: ObjectStore>(
    app: &App<T, O>,
    document_key: &str,
    prefix: &str,
    lifetime: Duration,
) -> StoreResult<(Option<ListedObject>, Vec<PartLink>)> {
    let listed = app.objects.list_objects(prefix).await?;
    let mut document = None;
    let mut parts = Vec::with_capacity(listed.len());
    for object in listed {
        if object.key == document_key {
            document = Some(object);
            continue;
        }
        let name = object.key.rsplit('/').next().unwrap_or_default();
        let disposition = Filename::parse(name)
            .map_or_else(|_| "attachment".to_owned(), |f| f.content_disposition());
        let url = app
            .objects
            .presign_download(DownloadSpec {
                key: &object.key,
                content_disposition: &disposition,
                // Each part answers with the type it was uploaded with.
                content_type: "",
                expires_in: lifetime,
            })
            .await?
            .url;
        parts.push(PartLink {
            key: object.key,
            url,
            size: object.size_bytes,
        });
    }
    Ok((document, parts))
}

/// How many listings a purge goes through at most: each deletes what it lists, so the next
/// lists what is left; ten cover 10,000 objects, more than a session's quota allows in a day.
const PURGE_ROUNDS: usize = 10;

/// Purges a session of `owner`: every object under its prefix (the copy's document, its parts,
/// earlier backups) is marked purged (no new token names it), deleted, and every token listed
/// under any of them answers 410; the copy leaves the owner's list. Safe to repeat.
pub async fn purge_session<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    owner: &OwnerHash,
    session: &SessionId,
) -> Result<usize, ApiError> {
    let now = app.clock.now();
    let prefix = session_prefix(&app.config.audio_prefix, owner, session);
    let document =
        ObjectKey::session_copy(&app.config.audio_prefix, owner.clone(), session.clone());
    let mut purged_tokens = 0;
    // The document's index is marked even when nothing is stored, so a late copy of a deleted
    // session answers 410 instead of bringing it back.
    let mut keys = vec![document.as_str().to_owned()];
    for _ in 0..PURGE_ROUNDS {
        let listed = app.objects.list_objects(&prefix).await?;
        // A short page is the last one.
        let listed_all = listed.len() < MAX_LISTED_OBJECTS;
        keys.extend(
            listed
                .into_iter()
                .map(|o| o.key)
                .filter(|k| k != document.as_str()),
        );
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        // No new token can name them from here on; then the objects go, before the slow part.
        let tokens = app.tokens.mark_purged(&refs, now).await?;
        app.objects.delete_objects(&keys).await?;
        app.tokens.purge_tokens(&tokens, now).await?;
        purged_tokens += tokens.len();
        keys.clear();
        if listed_all {
            break;
        }
    }
    app.tokens.remove_copy(owner, session.as_str()).await?;
    Ok(purged_tokens)
}
