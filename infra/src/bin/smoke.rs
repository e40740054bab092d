//! Smoke test of a running recovery API, local or deployed: `make smoke API=https://…`.
//!
//! Checks the contract's answers an operator wants to see after a deploy: health, CORS for an
//! allowed and a foreign origin, a malformed token (400), a key that was never uploaded (404), an
//! expired token (410), and a whole round trip (upload, PUT to S3, token, redeem, download the
//! same bytes, revoke with purge, then 410/404). Prints one line per check and exits non-zero
//! when any fails. It never prints a secret: no client secret, bearer token, recovery token or
//! presigned URL (a URL signed with temporary credentials carries their session token).
//!
//! Usage: `smoke --api URL [--origin ORIGIN] [--foreign-origin ORIGIN]`, or the same from the
//! environment (`API`, `ORIGIN`, `FOREIGN_ORIGIN`). `API` may be the stack's `ApiUrl` output
//! (ending in `/api/recovery`) or the bare host. The caller is a fresh random
//! `X-Recovery-Client` secret; for a stack with a JWT authorizer, put `Bearer …` in
//! `AUTHORIZATION` (read from the environment only, so it stays out of the process list).

#![allow(
    clippy::print_stdout,
    reason = "a command-line tool: its report is its output"
)]

use std::fmt::Display;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use recovery_infra::gzip::gzip_stored;
use recovery_infra::preflight::preflight;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The header a browser identifies itself with when the stack has no JWT authorizer.
const CLIENT_HEADER: &str = "x-recovery-client";
/// The header the browser client redeems with, keeping the token out of the path.
const TOKEN_HEADER: &str = "x-recovery-token";
/// Problem documents (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";
/// How long the expired-token check waits past a one-second lifetime.
const EXPIRY_WAIT: Duration = Duration::from_millis(2_500);

#[derive(Debug)]
struct Options {
    /// Scheme and host (and any base path), without `/api/recovery`.
    base: String,
    origin: Option<String>,
    foreign_origin: String,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let mut api = std::env::var("API").ok();
        let mut origin = std::env::var("ORIGIN").ok();
        let mut foreign_origin = std::env::var("FOREIGN_ORIGIN").ok();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--api" => &mut api,
                "--origin" => &mut origin,
                "--foreign-origin" => &mut foreign_origin,
                "-h" | "--help" => {
                    println!(
                        "usage: smoke --api URL [--origin ORIGIN] [--foreign-origin ORIGIN]\n\
                         (or API, ORIGIN, FOREIGN_ORIGIN in the environment; AUTHORIZATION='Bearer …' for a JWT stack)"
                    );
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try --help)"),
            };
            *slot = Some(
                args.next()
                    .with_context(|| format!("{arg} needs a value"))?,
            );
        }
        let api = api
            .filter(|a| !a.is_empty())
            .context("give the API's URL: --api https://… (or API=…)")?;
        let trimmed = api.trim_end_matches('/');
        let base = trimmed
            .strip_suffix("/api/recovery")
            .unwrap_or(trimmed)
            .to_owned();
        ensure!(
            base.starts_with("https://") || base.starts_with("http://"),
            "the API's URL must start with https:// (or http:// for a local gateway): {base}"
        );
        Ok(Self {
            base,
            origin: origin.filter(|o| !o.is_empty()),
            foreign_origin: foreign_origin
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| "https://smoke-test.invalid".to_owned()),
        })
    }
}

#[derive(Debug, Deserialize)]
#[allow(
    clippy::struct_field_names,
    reason = "the contract's field names (openapi.yaml, UploadResponse)"
)]
struct Upload {
    key: String,
    upload_url: String,
    headers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Issued {
    token: String,
    audio_url: String,
}

#[derive(Debug, Deserialize)]
struct Audio {
    url: String,
    content_type: String,
    size: u64,
}

#[derive(Debug, Deserialize)]
struct Problem {
    status: u16,
    title: String,
    detail: String,
}

#[derive(Debug)]
struct Smoke {
    http: reqwest::Client,
    options: Options,
    /// A fresh caller: its own namespace, so the run touches nobody else's audio.
    secret: String,
    /// `Bearer …` for a JWT stack; sent on every request, never printed.
    authorization: Option<HeaderValue>,
    passed: usize,
    failed: usize,
}

impl Smoke {
    fn url(&self, path: &str) -> String {
        format!("{}/api/recovery/{path}", self.options.base)
    }

    /// The caller's identity: the client secret, and the bearer token when there is one.
    fn identity(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header(CLIENT_HEADER, &self.secret);
        match &self.authorization {
            Some(bearer) => request.header(AUTHORIZATION, bearer.clone()),
            None => request,
        }
    }

    /// An anonymous request, with the bearer token only (a `RequireAuth` stack wants it even on
    /// the open routes).
    fn anonymous(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.authorization {
            Some(bearer) => request.header(AUTHORIZATION, bearer.clone()),
            None => request,
        }
    }

    fn report<T>(&mut self, name: &str, outcome: anyhow::Result<T>) -> Option<T>
    where
        T: Display,
    {
        match outcome {
            Ok(detail) => {
                self.passed += 1;
                println!("ok    {name}: {detail}");
                Some(detail)
            }
            Err(error) => {
                self.failed += 1;
                println!("FAIL  {name}: {error:#}");
                None
            }
        }
    }

    async fn health(&self) -> anyhow::Result<String> {
        let response = self
            .anonymous(Method::GET, &self.url("health"))
            .send()
            .await?;
        let body: Value = expect_json(response, StatusCode::OK).await?;
        ensure!(body["status"] == "ok", "status is {}", body["status"]);
        Ok(format!("200, version {}", body["version"]))
    }

    async fn preflight(&self, origin: &str) -> anyhow::Result<Option<String>> {
        let response = preflight(
            &self.http,
            &self.url("token"),
            origin,
            "POST",
            "content-type,x-recovery-client",
        )
        .send()
        .await?;
        Ok(response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    async fn cors_allowed(&self, origin: &str) -> anyhow::Result<String> {
        match self.preflight(origin).await? {
            Some(allowed) if allowed == origin || allowed == "*" => {
                Ok(format!("preflight from {origin} allowed ({allowed})"))
            }
            Some(other) => bail!("preflight from {origin} answered allow-origin {other}"),
            None => bail!("preflight from {origin} got no Access-Control-Allow-Origin"),
        }
    }

    async fn cors_foreign(&self) -> anyhow::Result<String> {
        let origin = &self.options.foreign_origin;
        match self.preflight(origin).await? {
            None => Ok(format!("preflight from {origin} not allowed")),
            Some(allowed) => bail!("preflight from {origin} allowed ({allowed})"),
        }
    }

    async fn bad_token(&self) -> anyhow::Result<String> {
        let response = self
            .anonymous(Method::GET, &self.url("audio/not-a-token"))
            .send()
            .await?;
        expect_problem(response, StatusCode::BAD_REQUEST).await
    }

    async fn create_upload(&self, length: usize) -> anyhow::Result<Upload> {
        let response = self
            .identity(self.http.post(self.url("uploads")))
            .json(&json!({
                "session_id": "smoke-test",
                "content_type": "audio/wav",
                "content_length": length,
                "filename": "smoke-test.wav",
            }))
            .send()
            .await?;
        expect_json(response, StatusCode::CREATED).await
    }

    async fn put_bytes(&self, upload: &Upload, bytes: &[u8]) -> anyhow::Result<String> {
        let mut request = self.http.put(&upload.upload_url);
        for (name, value) in &upload.headers {
            // reqwest sets it from the body; a second one would be refused.
            if name != "content-length" {
                request = request.header(name, value);
            }
        }
        let response = request.body(bytes.to_vec()).send().await?;
        let status = response.status();
        ensure!(
            status.is_success(),
            "S3 answered {status} to the presigned PUT"
        );
        Ok(format!("{status}, {} bytes", bytes.len()))
    }

    async fn issue(&self, key: &str, ttl_seconds: u64) -> anyhow::Result<Response> {
        Ok(self
            .identity(self.http.post(self.url("token")))
            .json(&json!({"key": key, "ttl_seconds": ttl_seconds}))
            .send()
            .await?)
    }

    async fn unknown_key(&self, upload: &Upload) -> anyhow::Result<String> {
        // The same owner and session, another random object id: well-formed, in the caller's
        // namespace, never uploaded.
        let (dir, _) = upload
            .key
            .rsplit_once('/')
            .context("the upload's key has no '/'")?;
        let missing = format!("{dir}/{}", URL_SAFE_NO_PAD.encode(random::<16>()?));
        expect_problem(self.issue(&missing, 60).await?, StatusCode::NOT_FOUND).await
    }

    async fn redeem_in_path(&self, token: &str, json: bool) -> anyhow::Result<Response> {
        let request = self.anonymous(Method::GET, &self.url(&format!("audio/{token}")));
        let request = if json {
            request.header(ACCEPT, "application/json")
        } else {
            request
        };
        Ok(request.send().await?)
    }

    async fn expired(&self, key: &str) -> anyhow::Result<String> {
        let issued: Issued = expect_json(self.issue(key, 1).await?, StatusCode::CREATED).await?;
        tokio::time::sleep(EXPIRY_WAIT).await;
        let detail = expect_problem(
            self.redeem_in_path(&issued.token, true).await?,
            StatusCode::GONE,
        )
        .await?;
        Ok(format!(
            "{detail} ({} ms after a 1 s token)",
            EXPIRY_WAIT.as_millis()
        ))
    }

    async fn redeem_json(&self, token: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let audio: Audio =
            expect_json(self.redeem_in_path(token, true).await?, StatusCode::OK).await?;
        self.download(&audio, bytes).await
    }

    async fn redeem_header(&self, token: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let response = self
            .anonymous(Method::GET, &self.url("audio"))
            .header(TOKEN_HEADER, token)
            .send()
            .await?;
        let audio: Audio = expect_json(response, StatusCode::OK).await?;
        self.download(&audio, bytes).await
    }

    async fn download(&self, audio: &Audio, bytes: &[u8]) -> anyhow::Result<String> {
        ensure!(
            audio.size == bytes.len() as u64,
            "size {} for {} bytes uploaded",
            audio.size,
            bytes.len()
        );
        let response = self.http.get(&audio.url).send().await?;
        let status = response.status();
        ensure!(
            status == StatusCode::OK,
            "S3 answered {status} to the presigned GET"
        );
        let got = response.bytes().await?;
        ensure!(
            got.as_ref() == bytes,
            "downloaded {} bytes that differ from the {} uploaded",
            got.len(),
            bytes.len()
        );
        Ok(format!(
            "{} bytes ({}) downloaded, identical",
            got.len(),
            audio.content_type
        ))
    }

    async fn redirect(&self, issued: &Issued) -> anyhow::Result<String> {
        // `audio_url` is the link form: a redirect to the presigned download.
        let response = self
            .anonymous(Method::GET, &issued.audio_url)
            .send()
            .await?;
        let status = response.status();
        ensure!(
            status == StatusCode::FOUND,
            "audio_url answered {status}, not 302"
        );
        let location = response
            .headers()
            .get(LOCATION)
            .context("302 without Location")?;
        ensure!(
            location.to_str().is_ok_and(|l| l.starts_with("http")),
            "Location is not a URL"
        );
        Ok("audio_url answers 302 with a Location".to_owned())
    }

    async fn revoke_and_check(&self, token: &str) -> anyhow::Result<String> {
        let response = self
            .identity(
                self.http
                    .delete(self.url(&format!("token/{token}")))
                    .query(&[("purge", "true")]),
            )
            .send()
            .await?;
        let status = response.status();
        ensure!(
            status == StatusCode::NO_CONTENT,
            "revoke answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
        let after = self.redeem_in_path(token, true).await?;
        let status = after.status();
        ensure!(
            status == StatusCode::GONE || status == StatusCode::NOT_FOUND,
            "redeeming the revoked token answered {status}, not 410 or 404"
        );
        let detail = expect_problem(after, status).await?;
        Ok(format!(
            "revoked with purge (204); redeeming it now: {detail}"
        ))
    }

    /// The server copy: a gzip document stored, listed, restored byte for byte (which shows the
    /// binary body crossed API Gateway intact), deleted, and its token then refused.
    async fn server_copy(&self) -> anyhow::Result<String> {
        let session = format!("smoke-{}", URL_SAFE_NO_PAD.encode(random::<6>()?));
        let document = format!(r#"{{"version":2,"id":"{session}","text":"smoke","parts":[]}}"#);
        let body = gzip_stored(document.as_bytes());
        let response = self
            .identity(self.http.put(self.url(&format!("sessions/{session}"))))
            .query(&[("parts", "0"), ("updated_at", "1767225600000")])
            .header(CONTENT_TYPE, "application/vnd.chatterbox.session+json")
            .header("content-encoding", "gzip")
            .body(body.clone())
            .send()
            .await?;
        let created: Value = expect_json(response, StatusCode::CREATED).await?;
        let token = created["token"]
            .as_str()
            .context("201 without a token")?
            .to_owned();
        let listed: Value = expect_json(
            self.identity(self.http.get(self.url("sessions")))
                .send()
                .await?,
            StatusCode::OK,
        )
        .await?;
        ensure!(
            listed["sessions"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["session_id"] == session.as_str())),
            "the copy is not listed"
        );
        let restored: Value = expect_json(
            self.identity(self.http.get(self.url(&format!("sessions/{session}"))))
                .send()
                .await?,
            StatusCode::OK,
        )
        .await?;
        let url = restored["url"].as_str().context("no url")?;
        let download = self.http.get(url).send().await?;
        let encoding = download
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let stored = download.bytes().await?;
        ensure!(
            stored.as_ref() == body.as_slice(),
            "the stored copy is not the bytes sent ({} vs {} bytes)",
            stored.len(),
            body.len()
        );
        ensure!(
            encoding.as_deref() == Some("gzip"),
            "the copy is served with Content-Encoding {encoding:?}"
        );
        let deleted = self
            .identity(self.http.delete(self.url(&format!("sessions/{session}"))))
            .send()
            .await?;
        ensure!(
            deleted.status() == StatusCode::NO_CONTENT,
            "deleting the copy answered {}",
            deleted.status()
        );
        let after = self.redeem_in_path(&token, true).await?;
        let detail = expect_problem(after, StatusCode::GONE).await?;
        Ok(format!(
            "201, listed, restored byte for byte (gzip), deleted (204); its token now: {detail}"
        ))
    }

    async fn run(&mut self) {
        let health = self.health().await;
        self.report("health", health);
        match self.options.origin.clone() {
            Some(origin) => {
                let allowed = self.cors_allowed(&origin).await;
                self.report("CORS, allowed origin", allowed);
            }
            None => println!("skip  CORS, allowed origin: give ORIGIN=… (an AllowedOrigins entry)"),
        }
        let foreign = self.cors_foreign().await;
        self.report("CORS, foreign origin", foreign);
        let bad = self.bad_token().await;
        self.report("malformed token", bad);

        // A few bytes that start like a WAV file: the service does not look inside.
        let mut bytes = b"RIFF\0\0\0\0WAVEsmoke".to_vec();
        bytes.extend_from_slice(&random::<32>().unwrap_or_default());
        let upload = self.create_upload(bytes.len()).await;
        let Some(upload) = self.report(
            "create upload",
            upload.map(|u| Described(u, "201, presigned PUT")),
        ) else {
            return;
        };
        let upload = upload.0;
        let unknown = self.unknown_key(&upload).await;
        self.report("token for a key never uploaded", unknown);
        let put = self.put_bytes(&upload, &bytes).await;
        if self.report("PUT to the presigned URL", put).is_none() {
            return;
        }
        let expired = self.expired(&upload.key).await;
        self.report("expired token", expired);

        let issued = match self.issue(&upload.key, 300).await {
            Ok(response) => expect_json::<Issued>(response, StatusCode::CREATED).await,
            Err(e) => Err(e),
        };
        let Some(issued) = self.report("issue token", issued.map(|i| Described(i, "201"))) else {
            return;
        };
        let issued = issued.0;
        let json = self.redeem_json(&issued.token, &bytes).await;
        self.report("redeem (token in the path, JSON)", json);
        let header = self.redeem_header(&issued.token, &bytes).await;
        self.report("redeem (token in X-Recovery-Token)", header);
        let redirect = self.redirect(&issued).await;
        self.report("redeem link (302)", redirect);
        let revoked = self.revoke_and_check(&issued.token).await;
        self.report("revoke with purge", revoked);
        let copy = self.server_copy().await;
        self.report("server copy", copy);
    }
}

/// A value to pass on, reported by a fixed description (it may hold secrets).
#[derive(Debug)]
struct Described<T>(T, &'static str);

impl<T> Display for Described<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
    }
}

fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes)
}

/// The body of a `status` answer as `T`; otherwise says what came instead.
async fn expect_json<T: DeserializeOwned>(
    response: Response,
    status: StatusCode,
) -> anyhow::Result<T> {
    let got = response.status();
    let text = response.text().await?;
    if got != status {
        bail!("expected {status}, got {got}: {}", summary(&text));
    }
    serde_json::from_str(&text)
        .with_context(|| format!("a {got} answer that is not the contract's JSON"))
}

/// Checks that the answer is a problem document of `status`; returns `status title: detail`.
async fn expect_problem(response: Response, status: StatusCode) -> anyhow::Result<String> {
    let got = response.status();
    let content_type = content_type(response.headers());
    let text = response.text().await?;
    ensure!(
        got == status,
        "expected a {status} problem, got {got}: {}",
        summary(&text)
    );
    ensure!(
        content_type.starts_with(PROBLEM_JSON),
        "a {got} with Content-Type {content_type:?}, not {PROBLEM_JSON}"
    );
    let problem: Problem =
        serde_json::from_str(&text).context("a problem document without type/title/status")?;
    ensure!(
        problem.status == status.as_u16(),
        "problem says status {}",
        problem.status
    );
    Ok(format!(
        "{} problem ({}: {})",
        got.as_u16(),
        problem.title,
        problem.detail
    ))
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A problem's title and detail, or the start of another body. Problems carry no secrets;
/// another body is cut short, and a success body is never shown (it may hold a token or URL).
fn summary(text: &str) -> String {
    match serde_json::from_str::<Problem>(text) {
        Ok(p) => format!("{} ({})", p.title, p.detail),
        Err(_) => text.chars().take(200).collect(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(e) => {
            println!("smoke: {e:#}");
            return ExitCode::from(2);
        }
    };
    let authorization = std::env::var("AUTHORIZATION").unwrap_or_default();
    let authorization = if authorization.is_empty() {
        None
    } else if let Ok(mut value) = HeaderValue::from_str(&authorization) {
        value.set_sensitive(true);
        Some(value)
    } else {
        println!("smoke: AUTHORIZATION is not a valid header value");
        return ExitCode::from(2);
    };
    let secret = match random::<32>() {
        Ok(bytes) => URL_SAFE_NO_PAD.encode(bytes),
        Err(e) => {
            println!("smoke: {e:#}");
            return ExitCode::from(2);
        }
    };
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            println!("smoke: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "smoke test of {} ({}; a fresh client secret)",
        options.base,
        if authorization.is_some() {
            "bearer token from AUTHORIZATION"
        } else {
            "no bearer token"
        }
    );
    let mut smoke = Smoke {
        http,
        options,
        secret,
        authorization,
        passed: 0,
        failed: 0,
    };
    smoke.run().await;
    println!("{} passed, {} failed", smoke.passed, smoke.failed);
    if smoke.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
