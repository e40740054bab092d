//! The request body, checked whole before anything is looked up: the keys, the lifetime, the
//! filename and metadata, and that both keys are the caller's and of one session.

use recovery_shared::domain::{Filename, Metadata, ObjectKey, OwnerHash, TtlSeconds};
use recovery_shared::metadata::{self, MetadataError};
use recovery_shared::{ApiError, Config, http};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    key: String,
    #[serde(default, deserialize_with = "http::whole::optional")]
    ttl_seconds: Option<u64>,
    filename: Option<String>,
    metadata: Option<Metadata>,
    /// A session document of the same session, backed up with the audio.
    session_key: Option<String>,
}

/// A valid request of this caller's.
#[derive(Debug)]
pub(crate) struct Issue {
    pub key: ObjectKey,
    pub ttl: TtlSeconds,
    pub filename: Option<Filename>,
    pub metadata: Metadata,
    pub session_key: Option<ObjectKey>,
}

impl Issue {
    pub(crate) fn parse(
        req: &lambda_http::Request,
        config: &Config,
        owner: &OwnerHash,
    ) -> Result<Self, ApiError> {
        let body: IssueRequest = http::json_body(req)?;
        let key = ObjectKey::parse(&config.audio_prefix, &body.key)?;
        let max_ttl = config.token_ttl_seconds;
        let ttl = TtlSeconds::parse(body.ttl_seconds.unwrap_or(max_ttl.into()), max_ttl)?;
        let filename = body.filename.as_deref().map(Filename::parse).transpose()?;
        let metadata = body.metadata.unwrap_or_default();
        check_metadata(&metadata)?;
        let session_key = body
            .session_key
            .as_deref()
            .map(|k| {
                ObjectKey::parse(&config.audio_prefix, k).map_err(|_| {
                    ApiError::BadRequest(format!(
                        "session_key is not a recovery key (expected {}<owner>/<session_id>/<object_id>)",
                        config.audio_prefix
                    ))
                })
            })
            .transpose()?;
        if key.owner() != owner {
            return Err(ApiError::Forbidden(
                "this key belongs to another client".to_owned(),
            ));
        }
        if session_key.as_ref().is_some_and(|k| k.owner() != owner) {
            return Err(ApiError::Forbidden(
                "this session_key belongs to another client".to_owned(),
            ));
        }
        if let Some(session_key) = &session_key
            && session_key.session() != key.session()
        {
            return Err(ApiError::BadRequest(
                "session_key must be in the same session as key".to_owned(),
            ));
        }
        Ok(Self {
            key,
            ttl,
            filename,
            metadata,
            session_key,
        })
    }
}

/// Metadata must be small, flat and storable: numbers DynamoDB can hold, non-empty names.
fn check_metadata(metadata: &Metadata) -> Result<(), ApiError> {
    metadata::check(metadata).map_err(|e| match e {
        MetadataError::TooLarge(_) => ApiError::PayloadTooLarge(e.to_string()),
        other => ApiError::BadRequest(other.to_string()),
    })
}
