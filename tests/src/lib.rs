//! The harness of the end-to-end tests: each test gets its own freshly provisioned table and
//! bucket on the emulators and its own local gateway on a free port, running the real handlers
//! against LocalStack S3 and DynamoDB Local. `make test` starts the emulators and points the
//! standard `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB` variables at them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

pub mod openapi;

use base64::Engine as _;
use recovery_infra::gateway::{GatewayOptions, router};
use recovery_infra::provision::{Target, provision};
use recovery_infra::template::{Template, repo_template_path};
use recovery_shared::domain::{Metadata, Owner, Token, TokenHash, TokenRecord};
use recovery_shared::dynamodb::DynamoTokenStore;
use recovery_shared::ports::{StoreError, TokenStore};
use recovery_shared::{App, AwsApp, Clock, Config};
use serde_json::{Value, json};

/// The web origin the tests present, as a browser page served by the gateway would.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// One isolated copy of the whole system.
#[derive(Debug)]
pub struct Stack {
    pub base_url: String,
    pub config: Config,
    pub sdk: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub http: reqwest::Client,
}

fn require_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests with `make test`, which starts the emulators")
    })
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

/// A fresh random client secret (128 bits, base64url), as the browser client makes one.
pub fn client_secret() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Stack {
    /// Provisions a new table and bucket and serves them through a new gateway.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// As [`Stack::start`], with extra configuration variables.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        Self::start_with_clock(extra, Clock::System).await
    }

    /// As [`Stack::start_with`], with the handlers reading time from `clock`. A clock set ahead
    /// of the wall clock lets a test see a token expire before DynamoDB Local's TTL sweep (which
    /// runs on the wall clock, within about a second) deletes its record.
    pub async fn start_with_clock(extra: &[(&str, &str)], clock: Clock) -> Self {
        require_env("AWS_ENDPOINT_URL_S3");
        require_env("AWS_ENDPOINT_URL_DYNAMODB");
        let suffix = random_suffix();
        let mut vars = HashMap::from([
            ("TABLE_NAME".to_owned(), format!("tokens-{suffix}")),
            ("BUCKET_NAME".to_owned(), format!("audio-{suffix}")),
            ("ALLOWED_ORIGINS".to_owned(), ORIGIN.to_owned()),
            ("S3_FORCE_PATH_STYLE".to_owned(), "true".to_owned()),
            ("MAX_AUDIO_BYTES".to_owned(), "1048576".to_owned()),
            // Counts written at once, so a test can read them back; the buffered path has a
            // test of its own (stores.rs).
            ("COUNTER_FLUSH_MS".to_owned(), "0".to_owned()),
        ]);
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_vars(&vars).expect("test configuration");
        let template = Template::load(&repo_template_path()).unwrap();
        let sdk = recovery_shared::aws::load_sdk_config().await;
        provision(&sdk, &template, &Target::from_config(&config))
            .await
            .expect("provisioning the emulators");
        let mut app = AwsApp::with_config(config.clone()).await;
        app.clock = clock;
        Self::serve(app, config, sdk).await
    }

    /// Serves `app` through a gateway on a free port.
    pub async fn serve<T, O>(app: App<T, O>, config: Config, sdk: aws_config::SdkConfig) -> Self
    where
        T: recovery_shared::ports::TokenStore + 'static,
        O: recovery_shared::ports::ObjectStore + 'static,
    {
        let template = Template::load(&repo_template_path()).unwrap();
        let options = GatewayOptions {
            demo_dir: None,
            client_dir: None,
            allowed_origins: config.allowed_origins.clone(),
            dev_speech: false,
            ..GatewayOptions::default()
        };
        let router = router(&Arc::new(app), &template, &options).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base_url,
            s3: recovery_shared::aws::s3_client(&sdk, true),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sdk,
            config,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request to the API's `path` as the client `secret`.
    fn as_client(
        &self,
        method: reqwest::Method,
        path: &str,
        secret: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("x-recovery-client", secret)
    }

    /// `method` `path` as the client `secret`, with `body` as JSON when there is one.
    async fn call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        secret: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.as_client(method, path, secret);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// A plain GET of `url` (a presigned URL, or one of the API's routes that needs no identity).
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// `POST /uploads` as `secret`.
    pub async fn create_upload(&self, secret: &str, body: &Value) -> reqwest::Response {
        self.call_as(
            reqwest::Method::POST,
            "/api/recovery/uploads",
            secret,
            Some(body),
        )
        .await
    }

    /// `POST /uploads` as `secret` for a WAV of `length` bytes in session `s`.
    pub async fn create_wav_upload(&self, secret: &str, length: u64) -> reqwest::Response {
        let body = serde_json::json!({"session_id": "s", "content_type": "audio/wav", "content_length": length});
        self.create_upload(secret, &body).await
    }

    /// `GET /health`.
    pub async fn health(&self) -> reqwest::Response {
        self.get(&self.url("/api/recovery/health")).await
    }

    /// `POST /token` as `secret`.
    pub async fn issue_token(&self, secret: &str, body: &Value) -> reqwest::Response {
        self.call_as(
            reqwest::Method::POST,
            "/api/recovery/token",
            secret,
            Some(body),
        )
        .await
    }

    /// `POST /token` as `secret`, which must answer 201: the token.
    pub async fn issue(&self, secret: &str, body: &Value) -> String {
        let response = self.issue_token(secret, body).await;
        assert_eq!(response.status(), 201);
        let issued: Value = response.json().await.unwrap();
        issued["token"].as_str().unwrap().to_owned()
    }

    /// `GET /audio/{token}`, optionally asking for JSON.
    pub async fn redeem(&self, token: &str, json: bool) -> reqwest::Response {
        let mut request = self
            .http
            .get(self.url(&format!("/api/recovery/audio/{token}")));
        if json {
            request = request.header("accept", "application/json");
        }
        request.send().await.unwrap()
    }

    /// `GET /audio` with the token in `X-Recovery-Token` (`None`: no header), as the browser
    /// client redeems.
    pub async fn redeem_in_header(&self, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url("/api/recovery/audio"));
        if let Some(token) = token {
            request = request.header("x-recovery-token", token);
        }
        request.send().await.unwrap()
    }

    /// `DELETE /token/{token}` as `secret`.
    pub async fn revoke(&self, secret: &str, token: &str, purge: bool) -> reqwest::Response {
        let query = if purge { "?purge=true" } else { "" };
        let path = format!("/api/recovery/token/{token}{query}");
        self.call_as(reqwest::Method::DELETE, &path, secret, None)
            .await
    }

    /// Uploads `bytes` the way the browser does: ask for a presigned PUT, then PUT to S3 with the
    /// signed headers. Returns the key.
    pub async fn upload(
        &self,
        secret: &str,
        session: &str,
        bytes: &[u8],
        filename: Option<&str>,
    ) -> String {
        let mut body = json!({
            "session_id": session,
            "content_type": "audio/wav",
            "content_length": bytes.len(),
        });
        if let Some(name) = filename {
            body["filename"] = json!(name);
        }
        self.upload_body(secret, &body, bytes).await
    }

    /// Uploads `bytes` as `content_type` (audio or a session document) in `session`; returns the
    /// key.
    pub async fn upload_as(
        &self,
        secret: &str,
        session: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> String {
        let body = json!({
            "session_id": session,
            "content_type": content_type,
            "content_length": bytes.len(),
        });
        self.upload_body(secret, &body, bytes).await
    }

    /// Creates the upload `body` asks for, PUTs `bytes` to its presigned URL; returns the key.
    async fn upload_body(&self, secret: &str, body: &Value, bytes: &[u8]) -> String {
        let response = self.create_upload(secret, body).await;
        assert_eq!(response.status(), 201);
        let upload: Value = response.json().await.unwrap();
        let put = self.put_presigned(&upload, bytes.to_vec()).await;
        assert_eq!(
            put.status(),
            200,
            "{}",
            put.text().await.unwrap_or_default()
        );
        upload["key"].as_str().unwrap().to_owned()
    }

    /// PUTs `bytes` to the presigned URL of an upload response with its signed headers.
    pub async fn put_presigned(&self, upload: &Value, bytes: Vec<u8>) -> reqwest::Response {
        let mut request = self.http.put(upload["upload_url"].as_str().unwrap());
        for (name, value) in upload["headers"].as_object().unwrap() {
            if name != "content-length" {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        request.body(bytes).send().await.unwrap()
    }

    /// Upload plus token: returns (key, token).
    pub async fn upload_and_issue(
        &self,
        secret: &str,
        bytes: &[u8],
        extra: Value,
    ) -> (String, String) {
        let key = self
            .upload(secret, "session-1", bytes, Some("take.wav"))
            .await;
        let mut body = json!({ "key": key });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let token = self.issue(secret, &body).await;
        (key, token)
    }

    /// Every token record in the table, as JSON-ish text, for assertions about what is stored.
    /// The table's other items (quota days, audio indexes, counter shards) are left out.
    pub async fn table_items(&self) -> Vec<String> {
        self.all_table_items()
            .await
            .into_iter()
            .filter(|item| item.contains("\"owner_hash\""))
            .collect()
    }

    /// Every item in the table, as JSON-ish text.
    pub async fn all_table_items(&self) -> Vec<String> {
        let out = self
            .dynamodb
            .scan()
            .table_name(&self.config.table_name)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        // Sorted by attribute name, so that the same item always reads the same.
        out.items()
            .iter()
            .map(|item| {
                format!(
                    "{:?}",
                    item.iter().collect::<std::collections::BTreeMap<_, _>>()
                )
            })
            .collect()
    }

    /// `PUT /sessions/{session}?{query}` as `secret`: a server copy of `document`, gzip-encoded
    /// when `gzip` (as the browser client sends it).
    pub async fn copy_session(
        &self,
        secret: &str,
        session: &str,
        query: &str,
        document: &[u8],
        gzip: bool,
    ) -> reqwest::Response {
        let path = format!("/api/recovery/sessions/{session}?{query}");
        let mut request = self
            .as_client(reqwest::Method::PUT, &path, secret)
            .header("content-type", SESSION_TYPE);
        let body = if gzip {
            request = request.header("content-encoding", "gzip");
            gzip_stored(document)
        } else {
            document.to_vec()
        };
        request.body(body).send().await.unwrap()
    }

    /// `GET /sessions` as `secret`.
    pub async fn list_sessions(&self, secret: &str) -> reqwest::Response {
        self.call_as(reqwest::Method::GET, "/api/recovery/sessions", secret, None)
            .await
    }

    /// `GET /sessions/{session}` as `secret`.
    pub async fn get_session(&self, secret: &str, session: &str) -> reqwest::Response {
        let path = format!("/api/recovery/sessions/{session}");
        self.call_as(reqwest::Method::GET, &path, secret, None)
            .await
    }

    /// `DELETE /sessions/{session}` as `secret`.
    pub async fn delete_session(&self, secret: &str, session: &str) -> reqwest::Response {
        let path = format!("/api/recovery/sessions/{session}");
        self.call_as(reqwest::Method::DELETE, &path, secret, None)
            .await
    }

    /// The body at `url` (a presigned GET), whatever the status: the caller compares it with
    /// what it expects.
    pub async fn download(&self, url: &str) -> Vec<u8> {
        self.get(url).await.bytes().await.unwrap().to_vec()
    }

    /// The stack's table through the DynamoDB adapter, as the handlers see it.
    pub fn token_store(&self) -> DynamoTokenStore {
        DynamoTokenStore::new(self.dynamodb.clone(), &self.config.table_name)
    }

    /// Stores `records` straight through the adapter, 16 at a time: the many tokens of a test
    /// of purges, in seconds rather than a request each.
    pub async fn put_tokens(&self, records: &[TokenRecord]) {
        use futures_util::TryStreamExt as _;
        let store = self.token_store();
        futures_util::stream::iter(records.iter().map(Ok::<_, StoreError>))
            .try_for_each_concurrent(16, |r| store.put_token(r, None))
            .await
            .unwrap();
    }

    /// How many of the tokens of `hashes` are not marked purged (a purged one answers 410).
    pub async fn unpurged(&self, hashes: &[TokenHash]) -> usize {
        use futures_util::StreamExt as _;
        let store = self.token_store();
        futures_util::stream::iter(hashes)
            .map(|h| store.get_token(h))
            .buffer_unordered(16)
            .filter(|r| std::future::ready(!matches!(r, Ok(Some(t)) if t.purged_at.is_some())))
            .count()
            .await
    }

    /// The object under `key`: its bytes and its stored `Content-Encoding`.
    pub async fn object(&self, key: &str) -> Option<(Vec<u8>, Option<String>)> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.config.bucket_name)
            .key(key)
            .send()
            .await
            .ok()?;
        let encoding = out.content_encoding().map(str::to_owned);
        let bytes = out.body.collect().await.ok()?.into_bytes().to_vec();
        Some((bytes, encoding))
    }

    pub async fn object_exists(&self, key: &str) -> bool {
        self.s3
            .head_object()
            .bucket(&self.config.bucket_name)
            .key(key)
            .send()
            .await
            .is_ok()
    }
}

/// A fresh token's record of `secret`'s 64 bytes of `audio/wav` under `audio_key` in `session`,
/// good for an hour: one of the many tokens a purge test stores with [`Stack::put_tokens`]. A test
/// changes the fields it is about with `TokenRecord { field, ..audio_record(..) }`.
pub fn audio_record(secret: &str, session: &str, audio_key: &str) -> TokenRecord {
    let now = recovery_shared::s3::now_epoch_seconds();
    TokenRecord {
        token_hash: Token::generate().unwrap().hash(),
        audio_key: audio_key.to_owned(),
        owner_hash: Owner::from_client_secret(secret).unwrap().hash(),
        session_id: session.to_owned(),
        created_at: now,
        expires_at: now + 3600,
        content_type: "audio/wav".to_owned(),
        size_bytes: 64,
        filename: None,
        metadata: Metadata::new(),
        session: None,
        purged_at: None,
    }
}

/// Held by the tests that put a thousand items in flight against DynamoDB Local (the purges of
/// a thousand tokens), so that they run one at a time: two at once, on a small machine, push
/// each other's purge past the route's 6 s deadline, which is a fact of the emulator's pace and
/// not what those tests are about.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The media type of a session document.
pub const SESSION_TYPE: &str = "application/vnd.chatterbox.session+json";

/// `data` as a gzip member of stored deflate blocks (the smoke test's writer).
pub use recovery_infra::gzip::gzip_stored;

/// Reads a problem document and checks its shape.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail", "instance"] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} in {body}"
        );
    }
    body
}
