//! The S3 adapter of [`ObjectStore`].

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::{PresignedRequest as SdkPresigned, PresigningConfig};
use percent_encoding::percent_decode_str;

use crate::domain::ObjectKey;
use crate::ports::{
    DownloadSpec, ListedObject, MAX_LISTED_OBJECTS, ObjectInfo, ObjectStore, PresignedRequest,
    PutSpec, StoreError, StoreResult, UploadSpec,
};
use crate::presign::{GetPresigner, ResponseOverrides};

/// Object metadata key for the name given at upload (sent as `x-amz-meta-filename`).
const FILENAME_META: &str = "filename";
/// S3 caps user-defined metadata at 2 KB, counted as the UTF-8 bytes of every key and value
/// (Amazon S3 User Guide, "Working with object metadata": user-defined metadata). LocalStack does
/// not enforce it, so the bound is kept here by construction.
pub const USER_METADATA_LIMIT: usize = 2_048;
/// Marks a base64url value. Earlier versions percent-encoded the name, which a `%` always shows
/// and this prefix never starts with; such objects are read as before.
const BASE64_MARK: &str = "b64:";

/// The metadata value of an upload's name: base64url of its UTF-8 bytes, four characters for
/// every three bytes. Percent-encoding took up to twelve for one character, so 255 emoji made a
/// 3,061-byte header that S3 refuses; a [`Filename`](crate::domain::Filename) (at most 255
/// characters, 1,020 bytes) now takes at most 1,364. `None` (the name is then not stored) if
/// a name ever would not fit the limit.
pub(crate) fn filename_metadata(name: &str) -> Option<String> {
    use base64::Engine as _;
    let value = format!(
        "{BASE64_MARK}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
    );
    (FILENAME_META.len() + value.len() <= USER_METADATA_LIMIT).then_some(value)
}

/// The name a metadata value carries, in either encoding; `None` if it is not a valid one.
fn filename_from_metadata(value: &str) -> Option<String> {
    use base64::Engine as _;
    match value.strip_prefix(BASE64_MARK) {
        Some(encoded) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
        None => percent_decode_str(value)
            .decode_utf8()
            .ok()
            .map(std::borrow::Cow::into_owned),
    }
}

#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
    credentials: Option<SharedCredentialsProvider>,
    /// Signs the redeem route's GETs without the SDK's per-call pipeline (see `presign.rs`). Built
    /// on the first GET, as resolving the endpoint runs (and stops) an SDK operation; shared by
    /// clones.
    get_presigner: Arc<OnceLock<GetPresigner>>,
}

impl S3ObjectStore {
    /// `credentials` is the provider that signs URLs: presigned GETs are signed with what it
    /// provides, and it is asked for its expiry so that a URL is never reported to live longer
    /// than its signature does. Without one, presigned GETs fail.
    pub fn new(
        client: Client,
        bucket: impl Into<String>,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            credentials,
            get_presigner: Arc::default(),
        }
    }

    /// A `PutObject` of `key` in this bucket as `content_type`: what a presigned upload signs
    /// and what a stored copy sends.
    fn put_object(
        &self,
        key: &ObjectKey,
        content_type: &str,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
    }

    async fn get_presigner(&self) -> StoreResult<&GetPresigner> {
        if let Some(presigner) = self.get_presigner.get() {
            return Ok(presigner);
        }
        // Two first calls at once both resolve; the results are the same and one is kept.
        let presigner = GetPresigner::for_client(&self.client, &self.bucket).await?;
        Ok(self.get_presigner.get_or_init(|| presigner))
    }

    async fn signing_credentials(&self) -> StoreResult<Option<Credentials>> {
        let Some(provider) = &self.credentials else {
            return Ok(None);
        };
        provider
            .provide_credentials()
            .await
            .map(Some)
            .map_err(|e| StoreError::unavailable("loading signing credentials failed", e))
    }
}

fn presigning(expires_in: std::time::Duration) -> StoreResult<PresigningConfig> {
    PresigningConfig::expires_in(expires_in)
        .map_err(|e| StoreError::unavailable("invalid presigning lifetime", e))
}

/// The SDK's presigned request as the port's (header names lower-cased).
pub(crate) fn to_port(p: &SdkPresigned) -> PresignedRequest {
    PresignedRequest {
        method: p.method().to_owned(),
        url: p.uri().to_owned(),
        headers: p
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect(),
    }
}

impl ObjectStore for S3ObjectStore {
    async fn presign_upload(&self, spec: UploadSpec<'_>) -> StoreResult<PresignedRequest> {
        let mut request = self
            .put_object(spec.key, spec.content_type)
            // Signed, so the browser cannot upload more (or other) than it asked for.
            .content_length(i64::try_from(spec.content_length).unwrap_or(i64::MAX));
        if let Some(value) = spec.filename.and_then(filename_metadata) {
            // Header values must be ASCII; the name is encoded and decoded on HEAD.
            request = request.metadata(FILENAME_META, value);
        }
        let presigned = request
            .presigned(presigning(spec.expires_in)?)
            .await
            .map_err(|e| StoreError::unavailable("presigning PutObject failed", e))?;
        Ok(to_port(&presigned))
    }

    async fn presign_download(&self, spec: DownloadSpec<'_>) -> StoreResult<PresignedRequest> {
        let presigner = self.get_presigner().await?;
        let credentials = self.signing_credentials().await?.ok_or_else(|| {
            StoreError::unavailable(
                "presigning GetObject failed",
                anyhow::anyhow!("the S3 store has no signing credentials provider"),
            )
        })?;
        presigner.presign_get(
            spec.key,
            &ResponseOverrides {
                cache_control: Some("no-store"),
                content_disposition: Some(spec.content_disposition),
                // Empty: the stored type stands (see `DownloadSpec::content_type`).
                content_type: Some(spec.content_type).filter(|t| !t.is_empty()),
            },
            spec.expires_in,
            SystemTime::now(),
            &credentials,
        )
    }

    async fn head_object(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>> {
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
                    .and_then(|v| filename_from_metadata(v)),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(HeadObjectError::is_not_found) =>
            {
                Ok(None)
            }
            Err(e) => Err(StoreError::unavailable("S3 HeadObject failed", e)),
        }
    }

    async fn delete_object(&self, key: &str) -> StoreResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StoreError::unavailable("S3 DeleteObject failed", e))?;
        Ok(())
    }

    async fn store_object(&self, spec: PutSpec<'_>) -> StoreResult<()> {
        let mut request = self
            .put_object(spec.key, spec.content_type)
            .body(aws_sdk_s3::primitives::ByteStream::from(spec.body));
        if let Some(encoding) = spec.content_encoding {
            // Stored with the object, so a GET answers with it and a browser's fetch decodes.
            request = request.content_encoding(encoding);
        }
        request
            .send()
            .await
            .map_err(|e| StoreError::unavailable("S3 PutObject failed", e))?;
        Ok(())
    }

    async fn list_objects(&self, prefix: &str) -> StoreResult<Vec<ListedObject>> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(i32::try_from(MAX_LISTED_OBJECTS).unwrap_or(1_000))
            .send()
            .await
            .map_err(|e| StoreError::unavailable("S3 ListObjectsV2 failed", e))?;
        Ok(out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ListedObject {
                    key: o.key()?.to_owned(),
                    size_bytes: o.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                })
            })
            .collect())
    }

    async fn delete_objects(&self, keys: &[String]) -> StoreResult<()> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        // DeleteObjects takes at most 1,000 keys per request.
        for chunk in keys.chunks(1_000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    StoreError::unavailable("building a DeleteObjects request failed", e)
                })?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| {
                    StoreError::unavailable("building a DeleteObjects request failed", e)
                })?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| StoreError::unavailable("S3 DeleteObjects failed", e))?;
            // A per-key failure comes back in a 200 answer: the request is not done.
            if let Some(failed) = out.errors().first() {
                return Err(StoreError::unavailable(
                    "S3 DeleteObjects left objects",
                    anyhow::anyhow!(
                        "{} of {} keys failed, e.g. {}",
                        out.errors().len(),
                        chunk.len(),
                        failed.code().unwrap_or("an unknown error")
                    ),
                ));
            }
        }
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
        let Some(credentials) = self.signing_credentials().await? else {
            return Ok(None);
        };
        Ok(credentials.expiry().map(|at| {
            at.duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        }))
    }
}

/// Seconds since the epoch, for code that must agree with the signer's clock.
pub fn now_epoch_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use std::time::Duration;

    use aws_sdk_s3::config::{BehaviorVersion, Region};

    /// The earlier encoding's set: RFC 3986 unreserved characters kept.
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');

    fn store(credentials: Option<SharedCredentialsProvider>) -> S3ObjectStore {
        let client = Client::from_conf(
            aws_sdk_s3::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("eu-west-1"))
                .build(),
        );
        S3ObjectStore::new(client, "audio", credentials)
    }

    fn spec() -> DownloadSpec<'static> {
        DownloadSpec {
            key: "recovery/o/s/x.wav",
            content_disposition: "attachment; filename=\"take 1.wav\"",
            content_type: "audio/wav",
            expires_in: Duration::from_secs(120),
        }
    }

    #[tokio::test]
    async fn a_download_is_signed_with_the_providers_credentials_and_the_response_overrides() {
        let provider = SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            Some("token".to_owned()),
            None,
            "test",
        ));
        let presigned = store(Some(provider))
            .presign_download(spec())
            .await
            .unwrap();
        assert_eq!(presigned.method, "GET");
        assert!(presigned.headers.is_empty());
        let url = presigned.url;
        assert!(
            url.starts_with("https://audio.s3.eu-west-1.amazonaws.com/recovery/o/s/x.wav?x-id=GetObject&response-cache-control=no-store&response-content-disposition=attachment%3B%20filename%3D%22take%201.wav%22&response-content-type=audio%2Fwav&"),
            "{url}"
        );
        for param in [
            "X-Amz-Credential=AKIDEXAMPLE%2F",
            "X-Amz-Expires=120&",
            "X-Amz-Security-Token=token",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(param), "{param} in {url}");
        }
    }

    #[test]
    fn the_longest_name_in_the_widest_characters_fits_s3s_metadata_limit() {
        // 255 four-byte characters: the most a Filename can hold.
        let name = "\u{1F600}".repeat(255);
        crate::domain::Filename::parse(&name).unwrap();
        let value = filename_metadata(&name).unwrap();
        assert!(FILENAME_META.len() + value.len() <= USER_METADATA_LIMIT);
        assert_eq!(value.len(), 1_364);
        assert_eq!(
            filename_from_metadata(&value).as_deref(),
            Some(name.as_str())
        );
        // What the earlier percent-encoding made of it: over the limit.
        let old = percent_encoding::utf8_percent_encode(&name, UNRESERVED).to_string();
        assert!(FILENAME_META.len() + old.len() > USER_METADATA_LIMIT);
    }

    #[test]
    fn names_stored_by_earlier_versions_still_read() {
        assert_eq!(
            filename_from_metadata("take%201%20%E2%80%94%20%E5%A3%B0.wav").as_deref(),
            Some("take 1 — 声.wav")
        );
        assert_eq!(filename_from_metadata("b64:!!").as_deref(), None);
    }

    #[tokio::test]
    async fn a_presigned_upload_signs_the_encoded_name_into_the_metadata_header() {
        let key = crate::domain::ObjectKey::parse(
            "recovery/",
            &format!("recovery/{}/s1/{}", "a".repeat(64), "b".repeat(22)),
        )
        .unwrap();
        let presigned = store(None)
            .presign_upload(UploadSpec {
                key: &key,
                content_type: "audio/wav",
                content_length: 10,
                filename: Some("声.wav"),
                expires_in: Duration::from_secs(60),
            })
            .await
            .unwrap();
        let header = presigned
            .headers
            .iter()
            .find(|(k, _)| k == "x-amz-meta-filename")
            .map(|(_, v)| v.clone());
        assert_eq!(header.as_deref(), filename_metadata("声.wav").as_deref());
    }

    #[tokio::test]
    async fn without_a_credentials_provider_a_download_is_unavailable() {
        assert!(matches!(
            store(None).presign_download(spec()).await,
            Err(StoreError::Unavailable { .. })
        ));
        assert_eq!(
            store(None).signing_credentials_expiry().await.unwrap(),
            None
        );
    }
}
