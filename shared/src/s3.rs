//! The S3 adapter of [`AudioStore`].

use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::{PresignedRequest as SdkPresigned, PresigningConfig};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::domain::AudioKey;
use crate::ports::{
    AudioStore, DownloadSpec, ObjectInfo, PresignedRequest, StoreError, StoreResult, UploadSpec,
};

/// Object metadata key for the name given at upload (sent as `x-amz-meta-filename`).
const FILENAME_META: &str = "filename";
/// Metadata travels as an HTTP header, so the name is percent-encoded (RFC 3986 unreserved kept).
const HEADER_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, Clone)]
pub struct S3AudioStore {
    client: Client,
    bucket: String,
    credentials: Option<SharedCredentialsProvider>,
}

impl S3AudioStore {
    /// `credentials` is the provider that signs URLs; it is asked for its expiry so that a URL is
    /// never reported to live longer than its signature does.
    pub fn new(
        client: Client,
        bucket: impl Into<String>,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            credentials,
        }
    }
}

fn presigning(expires_in: std::time::Duration) -> StoreResult<PresigningConfig> {
    PresigningConfig::expires_in(expires_in)
        .map_err(|e| StoreError::unavailable("invalid presigning lifetime", e))
}

fn to_port(p: &SdkPresigned) -> PresignedRequest {
    PresignedRequest {
        method: p.method().to_owned(),
        url: p.uri().to_owned(),
        headers: p
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect(),
    }
}

impl AudioStore for S3AudioStore {
    async fn presign_upload(&self, spec: UploadSpec<'_>) -> StoreResult<PresignedRequest> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(spec.key.as_str())
            .content_type(spec.content_type)
            // Signed, so the browser cannot upload more (or other) than it asked for.
            .content_length(i64::try_from(spec.content_length).unwrap_or(i64::MAX));
        if let Some(name) = spec.filename {
            // Header values must be ASCII; the name is percent-encoded and decoded on HEAD.
            request = request.metadata(
                FILENAME_META,
                utf8_percent_encode(name, HEADER_SAFE).to_string(),
            );
        }
        let presigned = request
            .presigned(presigning(spec.expires_in)?)
            .await
            .map_err(|e| StoreError::unavailable("presigning PutObject failed", e))?;
        Ok(to_port(&presigned))
    }

    async fn presign_download(&self, spec: DownloadSpec<'_>) -> StoreResult<PresignedRequest> {
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(spec.key)
            .response_content_disposition(spec.content_disposition)
            .response_content_type(spec.content_type)
            .response_cache_control("no-store")
            .presigned(presigning(spec.expires_in)?)
            .await
            .map_err(|e| StoreError::unavailable("presigning GetObject failed", e))?;
        Ok(to_port(&presigned))
    }

    async fn head_audio(&self, key: &AudioKey) -> StoreResult<Option<ObjectInfo>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectInfo {
                size_bytes: out
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: out.content_type().map(str::to_owned),
                filename: out
                    .metadata()
                    .and_then(|m| m.get(FILENAME_META))
                    .and_then(|v| percent_decode_str(v).decode_utf8().ok())
                    .map(|v| v.into_owned()),
            })),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(StoreError::unavailable("S3 HeadObject failed", e)),
        }
    }

    async fn delete_audio(&self, key: &str) -> StoreResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StoreError::unavailable("S3 DeleteObject failed", e))?;
        Ok(())
    }

    async fn check_bucket(&self) -> StoreResult<()> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| StoreError::unavailable("S3 HeadBucket failed", e))?;
        Ok(())
    }

    async fn signing_credentials_expiry(&self) -> StoreResult<Option<i64>> {
        let Some(provider) = &self.credentials else {
            return Ok(None);
        };
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| StoreError::unavailable("loading signing credentials failed", e))?;
        Ok(credentials.expiry().map(|at| {
            at.duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0)
        }))
    }
}

/// Seconds since the epoch, for code that must agree with the signer's clock.
pub fn now_epoch_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
