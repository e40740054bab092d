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

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::post;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use recovery_shared::apigw::new_request_id;
use recovery_shared::problem::Problem;
use serde::Deserialize;

/// The path of the endpoint, as Chatterbox servers and OpenAI serve it.
pub const ROUTE: &str = "/v1/audio/speech";
/// OpenAI's limit on `input`.
const MAX_INPUT_CHARS: usize = 4096;
const MAX_CHUNKS: usize = 64;
const MAX_CHUNK_DELAY_MS: u64 = 10_000;
const DEFAULT_CHUNKS: usize = 4;
const DEFAULT_CHUNK_DELAY_MS: u64 = 250;
/// Sample rate of the generated waveform (espeak-ng's own rate, so both engines sound alike).
const GENERATED_RATE: u32 = 22_050;

/// The voices the endpoint knows, each with the espeak-ng voice that speaks it and the base
/// pitch of the generated waveform.
pub const VOICES: [Voice; 5] = [
    Voice::new("default", "en-us", 130.0),
    Voice::new("emily", "en-us+Annie", 210.0),
    Voice::new("olivia", "en-gb+Andrea", 195.0),
    Voice::new("james", "en-gb+david", 110.0),
    Voice::new("adam", "en-us+adam", 100.0),
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Voice {
    pub name: &'static str,
    espeak: &'static str,
    base_hz: f64,
}

impl Voice {
    const fn new(name: &'static str, espeak: &'static str, base_hz: f64) -> Self {
        Self {
            name,
            espeak,
            base_hz,
        }
    }

    fn find(name: &str) -> Option<Voice> {
        VOICES
            .into_iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }
}

/// What makes the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The `espeak-ng` program, run once per request.
    Espeak,
    /// A waveform computed from the request: no program needed.
    Generated,
}

impl Engine {
    /// espeak-ng when it runs here, else the generated waveform.
    pub fn detect() -> Self {
        let runs = Command::new("espeak-ng")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if runs {
            Engine::Espeak
        } else {
            Engine::Generated
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Espeak => "espeak-ng",
            Engine::Generated => "generated",
        }
    }
}

/// The body of `POST /v1/audio/speech`: OpenAI's fields plus Chatterbox's own.
#[derive(Debug, Clone, Deserialize)]
pub struct SpeechRequest {
    /// Accepted and ignored, as Chatterbox servers do.
    #[serde(default)]
    pub model: Option<String>,
    pub input: String,
    #[serde(default)]
    pub voice: Option<String>,
    #[serde(default)]
    pub response_format: Option<String>,
    #[serde(default)]
    pub speed: Option<f64>,
    #[serde(default)]
    pub exaggeration: Option<f64>,
    #[serde(default)]
    pub cfg_weight: Option<f64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A request checked at the edge: every value in range.
#[derive(Debug, Clone, PartialEq)]
pub struct Speech {
    pub input: String,
    pub voice: Voice,
    pub speed: f64,
    pub exaggeration: f64,
    pub cfg_weight: f64,
    pub temperature: f64,
    pub seed: u64,
}

impl Speech {
    pub fn parse(request: SpeechRequest) -> Result<Self, String> {
        let input = request.input.trim().to_owned();
        if input.is_empty() {
            return Err("input is empty".into());
        }
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err(format!("input is longer than {MAX_INPUT_CHARS} characters"));
        }
        if let Some(format) = request.response_format.as_deref()
            && !format.eq_ignore_ascii_case("wav")
        {
            return Err(format!(
                "response_format \"{format}\" is not offered here: only \"wav\""
            ));
        }
        let voice_name = request.voice.as_deref().unwrap_or("default");
        let voice = Voice::find(voice_name).ok_or_else(|| {
            let known: Vec<&str> = VOICES.iter().map(|v| v.name).collect();
            format!(
                "unknown voice \"{voice_name}\"; known voices: {}",
                known.join(", ")
            )
        })?;
        let ranged = |name: &str, value: Option<f64>, default: f64, min: f64, max: f64| {
            let v = value.unwrap_or(default);
            if v.is_finite() && (min..=max).contains(&v) {
                Ok(v)
            } else {
                Err(format!("{name} must be between {min} and {max}"))
            }
        };
        Ok(Self {
            voice,
            speed: ranged("speed", request.speed, 1.0, 0.25, 4.0)?,
            exaggeration: ranged("exaggeration", request.exaggeration, 0.5, 0.0, 2.0)?,
            cfg_weight: ranged("cfg_weight", request.cfg_weight, 0.5, 0.0, 1.0)?,
            temperature: ranged("temperature", request.temperature, 0.8, 0.0, 5.0)?,
            seed: request.seed.unwrap_or(0),
            input,
        })
    }
}

/// How the audio is sent: in `chunks` pieces, `delay` apart, dropping the connection after
/// `cut_after` pieces when set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub chunks: usize,
    pub delay: Duration,
    pub cut_after: Option<usize>,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            chunks: DEFAULT_CHUNKS,
            delay: Duration::from_millis(DEFAULT_CHUNK_DELAY_MS),
            cut_after: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DeliveryQuery {
    chunks: Option<String>,
    chunk_delay_ms: Option<String>,
    cut_after: Option<String>,
}

impl Delivery {
    /// From the query string, falling back to the `x-speech-…` headers, then the defaults.
    pub fn from_request(query: &DeliveryQuery, headers: &HeaderMap) -> Result<Self, String> {
        let value = |q: &Option<String>, h: &str| -> Option<String> {
            q.clone().or_else(|| {
                headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
        };
        let number = |name: &str, raw: Option<String>, max: u64| -> Result<Option<u64>, String> {
            raw.map(|s| {
                s.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| format!("{name} must be a whole number from 0 to {max}"))
            })
            .transpose()
        };
        let chunks = number(
            "chunks",
            value(&query.chunks, "x-speech-chunks"),
            MAX_CHUNKS as u64,
        )?
        .map_or(DEFAULT_CHUNKS, |n| n as usize);
        if chunks == 0 {
            return Err(format!("chunks must be from 1 to {MAX_CHUNKS}"));
        }
        let delay = number(
            "chunk_delay_ms",
            value(&query.chunk_delay_ms, "x-speech-chunk-delay-ms"),
            MAX_CHUNK_DELAY_MS,
        )?
        .unwrap_or(DEFAULT_CHUNK_DELAY_MS);
        let cut_after = number(
            "cut_after",
            value(&query.cut_after, "x-speech-cut-after"),
            MAX_CHUNKS as u64,
        )?
        .map(|n| n as usize);
        Ok(Self {
            chunks,
            delay: Duration::from_millis(delay),
            cut_after,
        })
    }
}

// ---- WAV framing ---------------------------------------------------------------------------

/// The PCM layout of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFormat {
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: u16,
}

impl WavFormat {
    /// Bytes per sample frame (all channels).
    pub fn block_align(self) -> usize {
        usize::from(self.channels) * usize::from(self.bits_per_sample).div_ceil(8)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("no fmt chunk before the data")]
    NoFormat,
    #[error("unsupported WAV encoding (format tag {0}); only PCM")]
    NotPcm(u16),
    #[error("no data chunk")]
    NoData,
}

/// The 44-byte header of a canonical PCM WAV file holding `data_len` bytes of samples.
pub fn wav_header(format: WavFormat, data_len: u32) -> [u8; 44] {
    let block_align = format.block_align() as u16;
    let byte_rate = format.sample_rate * u32::from(block_align);
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&format.channels.to_le_bytes());
    h[24..28].copy_from_slice(&format.sample_rate.to_le_bytes());
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&format.bits_per_sample.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The format and samples of a PCM WAV file. Sizes that run past the end are cut to what is
/// there: espeak-ng writing to a pipe cannot seek back, so its header says 0x7ffff000 bytes.
pub fn parse_wav(bytes: &[u8]) -> Result<(WavFormat, &[u8]), WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut at = 12;
    let mut format = None;
    while let (Some(id), Some(len)) = (bytes.get(at..at + 4), u32_at(bytes, at + 4)) {
        let body = at + 8;
        let end = body.saturating_add(len as usize).min(bytes.len());
        match id {
            b"fmt " => {
                let tag = u16_at(bytes, body).ok_or(WavError::NoFormat)?;
                if tag != 1 {
                    return Err(WavError::NotPcm(tag));
                }
                format = Some(WavFormat {
                    channels: u16_at(bytes, body + 2).ok_or(WavError::NoFormat)?,
                    sample_rate: u32_at(bytes, body + 4).ok_or(WavError::NoFormat)?,
                    bits_per_sample: u16_at(bytes, body + 14).ok_or(WavError::NoFormat)?,
                });
            }
            b"data" => {
                let format = format.ok_or(WavError::NoFormat)?;
                let data = &bytes[body.min(bytes.len())..end];
                // A partial last frame is not a sample.
                let whole = data.len() - data.len() % format.block_align().max(1);
                return Ok((format, &data[..whole]));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = end + (len as usize & 1);
    }
    Err(WavError::NoData)
}

/// Cuts `len` bytes of samples into `pieces` runs of whole frames, as equal as frames allow.
/// Fewer runs come back when there are fewer frames than pieces; never an empty run.
pub fn split_frames(len: usize, block_align: usize, pieces: usize) -> Vec<std::ops::Range<usize>> {
    let block_align = block_align.max(1);
    let frames = len / block_align;
    let pieces = pieces.clamp(1, frames.max(1));
    (0..pieces)
        .map(|n| (frames * n / pieces * block_align)..(frames * (n + 1) / pieces * block_align))
        .filter(|r| !r.is_empty() || frames == 0)
        .collect()
}

// ---- synthesis -----------------------------------------------------------------------------

/// A whole WAV file for `speech`.
pub fn synthesize(engine: Engine, speech: &Speech) -> anyhow::Result<Vec<u8>> {
    let (format, pcm) = match engine {
        Engine::Espeak => espeak(speech)?,
        Engine::Generated => generate(speech),
    };
    let len = u32::try_from(pcm.len())
        .map_err(|_| anyhow::anyhow!("the audio is too long for one WAV file"))?;
    let mut wav = Vec::with_capacity(44 + pcm.len());
    wav.extend_from_slice(&wav_header(format, len));
    wav.extend_from_slice(&pcm);
    Ok(wav)
}

/// espeak-ng, with the text on stdin (never as an argument that could read as an option).
/// Speed sets the rate, exaggeration the pitch, a low CFG weight slower pacing (longer gaps
/// between words); espeak-ng has no randomness, so temperature and seed change nothing.
fn espeak(speech: &Speech) -> anyhow::Result<(WavFormat, Vec<u8>)> {
    use anyhow::Context as _;
    let wpm = (175.0 * speech.speed).clamp(80.0, 450.0).round() as u32;
    let pitch = (30.0 + 40.0 * speech.exaggeration).clamp(0.0, 99.0).round() as u32;
    let gap = ((0.5 - speech.cfg_weight) * 10.0).max(0.0).round() as u32;
    let mut child = Command::new("espeak-ng")
        .args(["--stdout", "--stdin", "-b", "1", "-v", speech.voice.espeak])
        .args(["-s", &wpm.to_string(), "-p", &pitch.to_string()])
        .args(["-g", &gap.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting espeak-ng")?;
    let mut stdin = child.stdin.take().context("espeak-ng's stdin")?;
    let text = speech.input.clone();
    // Written from another thread so that a full stdout pipe cannot stall both sides.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let output = child.wait_with_output().context("running espeak-ng")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to espeak-ng panicked"))?
        .context("writing the text to espeak-ng")?;
    if !output.status.success() {
        anyhow::bail!("espeak-ng failed with {}", output.status);
    }
    let (format, pcm) = parse_wav(&output.stdout).context("reading espeak-ng's WAV output")?;
    Ok((format, pcm.to_vec()))
}

/// xorshift64*: a few lines of deterministic noise.
#[derive(Debug)]
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Uniform in [-1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (v as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// A speech-like waveform: per letter a short voiced tone whose pitch follows the letter and the
/// exaggeration, silence for spaces and longer silence for punctuation, a little noise scaled by
/// the temperature. The same request and seed always give the same samples.
fn generate(speech: &Speech) -> (WavFormat, Vec<u8>) {
    let format = WavFormat {
        sample_rate: GENERATED_RATE,
        channels: 1,
        bits_per_sample: 16,
    };
    let rate = f64::from(GENERATED_RATE);
    let letter = (0.075 / speech.speed * rate) as usize;
    let mut noise = Noise::new(
        speech
            .input
            .bytes()
            .fold(speech.seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
            }),
    );
    let mut pcm = Vec::with_capacity(speech.input.len() * letter * 2);
    let mut phase = 0.0f64;
    for c in speech.input.chars() {
        let (len, hz) = if c.is_alphanumeric() {
            let step = f64::from(u32::from(c.to_ascii_lowercase()) % 12) / 12.0;
            (
                letter,
                speech.voice.base_hz * (1.0 + step * 0.6 * speech.exaggeration),
            )
        } else if c.is_whitespace() {
            (
                letter / 2 + (0.5 - speech.cfg_weight).max(0.0) as usize * letter,
                0.0,
            )
        } else {
            (letter * 3, 0.0)
        };
        for n in 0..len {
            let t = n as f64 / len as f64;
            // Rise and fall within each letter, so joins do not click.
            let envelope = (std::f64::consts::PI * t).sin();
            let mut v = 0.0;
            if hz > 0.0 {
                phase += 2.0 * std::f64::consts::PI * hz / rate;
                v = 0.55 * phase.sin() + 0.25 * (2.0 * phase).sin() + 0.1 * (3.0 * phase).sin();
                v *= envelope;
            }
            v += noise.next() * 0.02 * speech.temperature;
            let sample = (v.clamp(-1.0, 1.0) * 20_000.0) as i16;
            pcm.extend_from_slice(&sample.to_le_bytes());
        }
    }
    (format, pcm)
}

// ---- HTTP ------------------------------------------------------------------------------------

/// The endpoint, using espeak-ng when it runs here.
pub fn router() -> Router {
    router_with(Engine::detect())
}

pub fn router_with(engine: Engine) -> Router {
    Router::new().route(ROUTE, post(speak)).with_state(engine)
}

async fn speak(
    State(engine): State<Engine>,
    Query(query): Query<DeliveryQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_request_id();
    let delivery = match Delivery::from_request(&query, &headers) {
        Ok(d) => d,
        Err(detail) => return problem(StatusCode::BAD_REQUEST, detail, &request_id),
    };
    let speech = match serde_json::from_slice::<SpeechRequest>(&body)
        .map_err(|e| format!("the body is not a speech request: {e}"))
        .and_then(Speech::parse)
    {
        Ok(s) => s,
        Err(detail) => return problem(StatusCode::BAD_REQUEST, detail, &request_id),
    };
    let wav = match tokio::task::spawn_blocking(move || synthesize(engine, &speech)).await {
        Ok(Ok(wav)) => wav,
        Ok(Err(e)) => {
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
    stream_response(Bytes::from(wav), delivery, engine, &request_id)
}

/// The pieces of a WAV file as sent: the header travels with the first run of samples.
pub fn pieces(wav: &Bytes, chunks: usize) -> Vec<Bytes> {
    let pcm_len = wav.len().saturating_sub(44);
    let align = parse_wav(wav).map_or(2, |(f, _)| f.block_align());
    split_frames(pcm_len, align, chunks)
        .into_iter()
        .enumerate()
        .map(|(n, r)| {
            let start = if n == 0 { 0 } else { 44 + r.start };
            wav.slice(start..44 + r.end)
        })
        .collect()
}

fn stream_response(wav: Bytes, delivery: Delivery, engine: Engine, request_id: &str) -> Response {
    let pieces = pieces(&wav, delivery.chunks);
    let count = pieces.len();
    let Delivery {
        delay, cut_after, ..
    } = delivery;
    // State: the pieces left and how many went out; `None` once the stream was cut.
    let start = Some((pieces.into_iter(), 0usize));
    let stream = futures_util::stream::unfold(start, move |state| async move {
        let (mut rest, sent) = state?;
        if sent > 0 {
            tokio::time::sleep(delay).await;
        }
        if cut_after.is_some_and(|cut| sent >= cut) {
            // An error ends the body without its last chunk: the client sees a broken stream.
            let cut = std::io::Error::other("the speech stream was cut (cut_after)");
            return Some((Err(cut), None));
        }
        let piece = rest.next()?;
        Some((Ok(piece), Some((rest, sent + 1))))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-speech-engine", HeaderValue::from_static(engine.name()));
    headers.insert("x-speech-chunks", HeaderValue::from(count));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", id);
    }
    response
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

    fn speech(input: &str) -> Speech {
        Speech::parse(SpeechRequest {
            model: None,
            input: input.into(),
            voice: Some("emily".into()),
            response_format: None,
            speed: None,
            exaggeration: Some(0.7),
            cfg_weight: None,
            temperature: None,
            seed: Some(42),
        })
        .unwrap()
    }

    const MONO16: WavFormat = WavFormat {
        sample_rate: 22_050,
        channels: 1,
        bits_per_sample: 16,
    };

    #[test]
    fn a_header_describes_its_format_and_length_canonically() {
        let h = wav_header(MONO16, 1000);
        assert_eq!(&h[0..4], b"RIFF");
        assert_eq!(u32_at(&h, 4), Some(1036));
        assert_eq!(&h[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(&h, 16), Some(16));
        assert_eq!(u16_at(&h, 20), Some(1));
        assert_eq!(u16_at(&h, 22), Some(1));
        assert_eq!(u32_at(&h, 24), Some(22_050));
        assert_eq!(u32_at(&h, 28), Some(44_100));
        assert_eq!(u16_at(&h, 32), Some(2));
        assert_eq!(u16_at(&h, 34), Some(16));
        assert_eq!(&h[36..40], b"data");
        assert_eq!(u32_at(&h, 40), Some(1000));
    }

    #[test]
    fn a_written_file_parses_back_to_its_format_and_samples() {
        let pcm: Vec<u8> = (0..200u8).collect();
        let mut wav = wav_header(MONO16, 200).to_vec();
        wav.extend_from_slice(&pcm);
        let (format, data) = parse_wav(&wav).unwrap();
        assert_eq!(format, MONO16);
        assert_eq!(data, &pcm[..]);
    }

    #[test]
    fn a_streamed_header_with_an_impossible_length_is_read_to_the_end_of_the_file() {
        // What espeak-ng writes to a pipe: sizes it cannot know, an odd trailing byte.
        let mut wav = wav_header(MONO16, 0x7fff_f000).to_vec();
        wav[4..8].copy_from_slice(&0x7fff_f024u32.to_le_bytes());
        wav.extend_from_slice(&[1, 2, 3, 4, 5]);
        let (_, data) = parse_wav(&wav).unwrap();
        assert_eq!(data, &[1, 2, 3, 4]);
    }

    #[test]
    fn chunks_before_the_format_and_odd_sized_chunks_are_skipped() {
        let mut wav = b"RIFF\0\0\0\0WAVE".to_vec();
        wav.extend_from_slice(b"LIST");
        wav.extend_from_slice(&3u32.to_le_bytes());
        wav.extend_from_slice(&[9, 9, 9, 0]); // 3 bytes and the pad byte
        wav.extend_from_slice(&wav_header(MONO16, 4)[12..]);
        wav.extend_from_slice(&[7, 7, 8, 8]);
        let (format, data) = parse_wav(&wav).unwrap();
        assert_eq!(format, MONO16);
        assert_eq!(data, &[7, 7, 8, 8]);
    }

    #[test]
    fn what_is_not_pcm_wave_is_refused() {
        assert_eq!(parse_wav(b"ID3\x04 not a wave"), Err(WavError::NotWave));
        let mut float = wav_header(MONO16, 0).to_vec();
        float[20..22].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(parse_wav(&float), Err(WavError::NotPcm(3)));
        assert_eq!(
            parse_wav(&wav_header(MONO16, 0)[..36]),
            Err(WavError::NoData)
        );
    }

    #[test]
    fn frames_are_split_into_whole_nearly_equal_runs_that_cover_everything() {
        let runs = split_frames(2 * 1001, 2, 4);
        assert_eq!(runs.len(), 4);
        assert_eq!(runs[0].start, 0);
        assert_eq!(runs[3].end, 2002);
        for pair in runs.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        for r in &runs {
            assert_eq!(r.start % 2, 0);
            assert!((250..=251).contains(&(r.len() / 2)), "{r:?}");
        }
        assert_eq!(split_frames(4, 2, 10).len(), 2, "no empty runs");
        assert_eq!(split_frames(0, 2, 3), vec![0..0]);
    }

    #[test]
    fn the_pieces_of_a_file_put_back_together_are_the_file() {
        let wav = Bytes::from(synthesize(Engine::Generated, &speech("Hello there.")).unwrap());
        let pieces = pieces(&wav, 5);
        assert_eq!(pieces.len(), 5);
        assert!(pieces[0].starts_with(b"RIFF"));
        assert_eq!(pieces.concat(), wav.to_vec());
    }

    #[test]
    fn the_generated_waveform_is_a_function_of_the_request_and_seed() {
        let a = synthesize(Engine::Generated, &speech("One two three.")).unwrap();
        let b = synthesize(Engine::Generated, &speech("One two three.")).unwrap();
        assert_eq!(a, b);
        let mut other_seed = speech("One two three.");
        other_seed.seed = 7;
        assert_ne!(a, synthesize(Engine::Generated, &other_seed).unwrap());
        let (format, pcm) = parse_wav(&a).unwrap();
        assert_eq!(format, MONO16);
        assert!(pcm.len() > 22_050, "about a second of audio: {}", pcm.len());
    }

    #[test]
    fn requests_out_of_range_are_refused_with_the_reason() {
        let base = || SpeechRequest {
            model: Some("chatterbox".into()),
            input: "Hi.".into(),
            voice: None,
            response_format: None,
            speed: None,
            exaggeration: None,
            cfg_weight: None,
            temperature: None,
            seed: None,
        };
        assert_eq!(Speech::parse(base()).unwrap().voice.name, "default");
        let err = |r: SpeechRequest| Speech::parse(r).unwrap_err();
        assert!(
            err(SpeechRequest {
                input: "  ".into(),
                ..base()
            })
            .contains("empty")
        );
        assert!(
            err(SpeechRequest {
                voice: Some("nobody".into()),
                ..base()
            })
            .contains("emily")
        );
        assert!(
            err(SpeechRequest {
                response_format: Some("mp3".into()),
                ..base()
            })
            .contains("wav")
        );
        assert!(
            err(SpeechRequest {
                exaggeration: Some(9.0),
                ..base()
            })
            .contains("exaggeration")
        );
        assert!(
            err(SpeechRequest {
                cfg_weight: Some(f64::NAN),
                ..base()
            })
            .contains("cfg_weight")
        );
        let long = "a".repeat(MAX_INPUT_CHARS + 1);
        assert!(
            err(SpeechRequest {
                input: long,
                ..base()
            })
            .contains("longer")
        );
    }

    #[test]
    fn delivery_comes_from_the_query_then_the_headers_then_the_defaults() {
        let mut headers = HeaderMap::new();
        headers.insert("x-speech-chunks", HeaderValue::from_static("6"));
        headers.insert("x-speech-cut-after", HeaderValue::from_static("2"));
        let query = DeliveryQuery {
            chunks: Some("3".into()),
            ..Default::default()
        };
        let d = Delivery::from_request(&query, &headers).unwrap();
        assert_eq!(d.chunks, 3);
        assert_eq!(d.cut_after, Some(2));
        assert_eq!(d.delay, Duration::from_millis(DEFAULT_CHUNK_DELAY_MS));
        assert_eq!(
            Delivery::from_request(&DeliveryQuery::default(), &HeaderMap::new()).unwrap(),
            Delivery::default()
        );
        let bad = DeliveryQuery {
            chunk_delay_ms: Some("-1".into()),
            ..Default::default()
        };
        assert!(Delivery::from_request(&bad, &HeaderMap::new()).is_err());
        let zero = DeliveryQuery {
            chunks: Some("0".into()),
            ..Default::default()
        };
        assert!(Delivery::from_request(&zero, &HeaderMap::new()).is_err());
    }

    async fn post_speech(uri: &str, body: &str) -> (StatusCode, HeaderMap, Result<Bytes, String>) {
        let request = http::Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let mut service = router_with(Engine::Generated);
        let response = tower::Service::call(&mut service, request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| e.to_string());
        (parts.status, parts.headers, bytes)
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

    #[test]
    fn espeak_when_installed_speaks_a_parseable_file() {
        if Engine::detect() != Engine::Espeak {
            // The generated waveform is covered above; this machine has no espeak-ng.
            return;
        }
        let wav = synthesize(Engine::Espeak, &speech("Hello there.")).unwrap();
        let (format, pcm) = parse_wav(&wav).unwrap();
        assert_eq!(format.bits_per_sample, 16);
        assert!(pcm.len() > 10_000);
    }
}
