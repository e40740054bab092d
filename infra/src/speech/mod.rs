//! A development speech endpoint for the demo page: `POST /v1/audio/speech` with the
//! OpenAI-compatible request that Chatterbox servers accept (devnen/Chatterbox-TTS-Server,
//! travisvn/chatterbox-tts-api), answering with real WAV audio.
//!
//! The audio comes from espeak-ng when it is installed, otherwise from a waveform generated
//! deterministically from the text, voice, parameters and seed. It is sent slowly, in several
//! pieces of chunked transfer, so that a browser can be killed in the middle of a generation;
//! and on request the connection is dropped part-way, the way a failing TTS server cuts a
//! stream. Knobs, as query parameters (or `x-speech-…` headers):
//!
//! | query | header | default | meaning |
//! | --- | --- | --- | --- |
//! | `chunks` | `x-speech-chunks` | 4 | pieces the audio is sent in (1–64) |
//! | `chunk_delay_ms` | `x-speech-chunk-delay-ms` | 250 | pause before each piece after the first (0–10000) |
//! | `cut_after` | `x-speech-cut-after` | none | pieces sent before the connection is dropped |
//!
//! Being a local stand-in that any page in the browser can reach, it is bounded: JSON bodies only
//! (`Content-Type: application/json`, else 415 — so a page of another origin cannot post to it
//! without a CORS preflight, which the gateway refuses), bodies up to [`MAX_BODY_BYTES`] (413),
//! input up to 4096 characters and speech up to [`engine::MAX_AUDIO_SECONDS`] seconds (400), and
//! [`MAX_CONCURRENT`] syntheses with their streams at once (more: 503 with `Retry-After`), so at
//! most a few tens of MB are ever held. The body is read first, within [`BODY_TIMEOUT`] (else
//! 408, and the connection is closed), and only a whole, valid request takes one of those places:
//! clients that stall or trickle their bodies cannot keep the endpoint busy.
//!
//! One concern per module: [`request`] (the body and the delivery knobs), [`wav`] (the codec),
//! [`engine`] (espeak-ng, or [`synthetic`], the generated voice) and [`stream`] (the pieces).

pub mod engine;
pub mod request;
pub mod stream;
pub mod synthetic;
pub mod wav;

#[cfg(test)]
mod slow_client_tests;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::response::Response;
use axum::routing::post;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use recovery_shared::apigw::new_request_id;
use recovery_shared::problem::Problem;
use tokio::sync::Semaphore;

pub use engine::{Engine, SynthesisError, synthesize};
pub use request::{Delivery, DeliveryQuery, Speech, SpeechRequest, VOICES, Voice};
pub use stream::pieces;
pub use wav::{WavError, WavFormat, parse_wav, split_frames, wav_header};

/// The path of the endpoint, as Chatterbox servers and OpenAI serve it.
pub const ROUTE: &str = "/v1/audio/speech";
/// The largest body: 4096 characters of input, JSON-escaped, and the parameters.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Syntheses, with the streams that send them, at once. Each holds at most one file of
/// [`engine::MAX_AUDIO_SECONDS`] (≈ 5.3 MB at 22,050 Hz, 16 bits).
pub const MAX_CONCURRENT: usize = 8;
/// What a busy endpoint asks the client to wait, in seconds.
const RETRY_AFTER_SECONDS: u32 = 1;
/// How long a request's whole body may take to arrive, once its headers have. A speech request
/// is at most [`MAX_BODY_BYTES`], sent at once by a page or a script on this machine: it arrives
/// in milliseconds, and 10 s leaves a loaded machine (or a paused debugger) a wide margin. It is
/// a deadline for the whole body, not a pause between bytes, so a body trickled in a byte at a
/// time is cut off too. The server itself has no read timeout: without this, a client that stops
/// mid-body would hold its connection for as long as it liked.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoint's bounds that tests turn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Syntheses, with the streams that send them, at once.
    pub concurrency: usize,
    /// How long a request's whole body may take to arrive.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrency: MAX_CONCURRENT,
            body_timeout: BODY_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone)]
struct Endpoint {
    engine: Engine,
    permits: Arc<Semaphore>,
    limits: Limits,
}

/// The endpoint, using espeak-ng when it runs here.
pub fn router() -> Router {
    router_with(Engine::detect())
}

pub fn router_with(engine: Engine) -> Router {
    router_limited(engine, MAX_CONCURRENT)
}

/// The endpoint with `concurrency` syntheses (and their streams) at once.
pub fn router_limited(engine: Engine, concurrency: usize) -> Router {
    router_with_limits(
        engine,
        Limits {
            concurrency,
            ..Limits::default()
        },
    )
}

/// The endpoint with the given bounds (the others: [`MAX_BODY_BYTES`], the input and the
/// speech's length, are fixed).
pub fn router_with_limits(engine: Engine, limits: Limits) -> Router {
    let endpoint = Endpoint {
        engine,
        permits: Arc::new(Semaphore::new(limits.concurrency)),
        limits,
    };
    Router::new().route(ROUTE, post(speak)).with_state(endpoint)
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

async fn speak(
    State(endpoint): State<Endpoint>,
    Query(query): Query<DeliveryQuery>,
    request: Request,
) -> Response {
    let request_id = new_request_id();
    let engine = endpoint.engine;
    let (parts, body) = request.into_parts();
    if !is_json(&parts.headers) {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be a JSON speech request sent as Content-Type: application/json".into(),
            &request_id,
        );
    }
    // The whole body first, within its deadline, and no slot taken while it comes: a client that
    // stalls or trickles holds only its own connection, and only until the deadline.
    let body_timeout = endpoint.limits.body_timeout;
    let body = match tokio::time::timeout(body_timeout, axum::body::to_bytes(body, MAX_BODY_BYTES))
        .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                &request_id,
            );
        }
        Err(_elapsed) => {
            tracing::info!(route = ROUTE, request_id, "speech request body timed out");
            let mut response = problem(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {} ms; send the whole request at once",
                    body_timeout.as_millis()
                ),
                &request_id,
            );
            // The rest of the body may still come: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    let delivery = match Delivery::from_request(&query, &parts.headers) {
        Ok(d) => d,
        Err(detail) => return problem(StatusCode::BAD_REQUEST, detail, &request_id),
    };
    let speech = match serde_json::from_slice::<SpeechRequest>(&body)
        .map_err(|e| format!("the body is not a speech request: {e}"))
        .and_then(|request| Speech::parse(&request))
    {
        Ok(s) => s,
        Err(detail) => return problem(StatusCode::BAD_REQUEST, detail, &request_id),
    };
    // A whole, valid request takes a slot, held until the last piece is sent or the client goes
    // away.
    let Ok(permit) = Arc::clone(&endpoint.permits).try_acquire_owned() else {
        let mut response = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the speech endpoint is busy ({} requests at most at once); retry shortly",
                endpoint.limits.concurrency
            ),
            &request_id,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        return response;
    };
    let wav = match tokio::task::spawn_blocking(move || synthesize(engine, &speech)).await {
        Ok(Ok(wav)) => wav,
        Ok(Err(too_long @ SynthesisError::TooLong)) => {
            return problem(StatusCode::BAD_REQUEST, too_long.to_string(), &request_id);
        }
        Ok(Err(SynthesisError::Failed(e))) => {
            tracing::error!(error = %format!("{e:#}"), request_id, "speech synthesis failed");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "speech synthesis failed".into(),
                &request_id,
            );
        }
        Err(_) => {
            tracing::error!(request_id, "speech synthesis panicked");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "speech synthesis failed".into(),
                &request_id,
            );
        }
    };
    tracing::info!(
        route = ROUTE,
        engine = engine.name(),
        bytes = wav.len(),
        chunks = delivery.chunks,
        cut_after = delivery.cut_after,
        request_id,
        "speech"
    );
    stream::stream_response(&Bytes::from(wav), delivery, engine, &request_id, permit)
}

fn problem(status: StatusCode, detail: String, request_id: &str) -> Response {
    let problem = Problem::new(status, "speech", detail, request_id);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::speech::wav::tests::MONO16;

    type Answer = (StatusCode, HeaderMap, Result<Bytes, String>);

    async fn read(response: Response) -> Answer {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| e.to_string());
        (parts.status, parts.headers, bytes)
    }

    async fn send(router: &Router, uri: &str, content_type: Option<&str>, body: &str) -> Response {
        let mut request = http::Request::post(uri);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Body::from(body.to_owned())).unwrap();
        tower::ServiceExt::oneshot(router.clone(), request)
            .await
            .unwrap()
    }

    async fn post_speech(uri: &str, body: &str) -> Answer {
        let router = router_with(Engine::Generated);
        read(send(&router, uri, Some("application/json"), body).await).await
    }

    fn detail(body: Result<Bytes, String>) -> String {
        let problem: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        problem["detail"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_endpoint_answers_a_whole_wav_file_in_the_pieces_asked_for() {
        let (status, headers, body) = post_speech(
            "/v1/audio/speech?chunks=3&chunk_delay_ms=0",
            r#"{"model":"chatterbox","input":"Testing one two.","voice":"james","seed":3}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "audio/wav");
        assert_eq!(headers["x-speech-chunks"], "3");
        let body = body.unwrap();
        let (format, pcm) = parse_wav(&body).unwrap();
        assert_eq!(format, MONO16);
        assert_eq!(pcm.len() + 44, body.len());
    }

    #[tokio::test]
    async fn a_cut_stream_ends_in_an_error_after_the_pieces_it_was_allowed() {
        let (status, _, body) = post_speech(
            "/v1/audio/speech?chunks=4&chunk_delay_ms=0&cut_after=2",
            r#"{"input":"Cut me off, please."}"#,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the cut comes mid-stream, after the status"
        );
        assert!(body.unwrap_err().contains("cut"));
    }

    #[tokio::test]
    async fn a_bad_request_gets_a_problem_saying_what_to_fix() {
        let (status, headers, body) = post_speech("/v1/audio/speech", r#"{"voice":"emily"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(headers["content-type"], "application/problem+json");
        let problem: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("input"),
            "{problem}"
        );
    }

    #[tokio::test]
    async fn only_json_bodies_are_spoken() {
        let router = router_with(Engine::Generated);
        let body = r#"{"input":"Hello."}"#;
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let (status, headers, body) =
                read(send(&router, ROUTE, content_type, body).await).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type:?}"
            );
            assert_eq!(headers["content-type"], "application/problem+json");
            assert!(detail(body).contains("application/json"));
        }
        let with_charset = Some("Application/JSON; charset=utf-8");
        let (status, _, _) = read(send(&router, ROUTE, with_charset, body).await).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_body_too_large_or_speech_too_long_is_refused_before_it_is_made() {
        let big = format!(r#"{{"input":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        let (status, _, body) = post_speech(ROUTE, &big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(detail(body).contains("larger"));
        // 4,000 characters at a quarter speed: many minutes of audio.
        let long = format!(r#"{{"input":"{}","speed":0.25}}"#, "word. ".repeat(660));
        let (status, _, body) = post_speech(ROUTE, &long).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(detail(body).contains("longer than"));
    }

    #[tokio::test]
    async fn requests_beyond_the_concurrency_limit_are_told_to_retry() {
        let router = router_limited(Engine::Generated, 1);
        let slow = "/v1/audio/speech?chunks=4&chunk_delay_ms=10000";
        let body = r#"{"input":"Hold the line."}"#;
        let json = Some("application/json");
        // The first answer's stream holds the only permit while it is being sent.
        let first = send(&router, slow, json, body).await;
        assert_eq!(first.status(), StatusCode::OK);
        let (status, headers, busy) = read(send(&router, ROUTE, json, body).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers["retry-after"], "1");
        assert!(detail(busy).contains("busy"));
        // The client went away: its permit is back.
        drop(first);
        let (status, _, _) =
            read(send(&router, "/v1/audio/speech?chunk_delay_ms=0", json, body).await).await;
        assert_eq!(status, StatusCode::OK);
    }
}
