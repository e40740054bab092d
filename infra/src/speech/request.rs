//! The request: the body Chatterbox servers accept, checked into a [`Speech`], and how the audio
//! is to be delivered ([`Delivery`], from the query or the `x-speech-…` headers).

use std::time::Duration;

use http::HeaderMap;
use serde::Deserialize;

/// OpenAI's limit on `input`.
const MAX_INPUT_CHARS: usize = 4096;
const MAX_CHUNKS: usize = 64;
const MAX_CHUNK_DELAY_MS: u64 = 10_000;
const DEFAULT_CHUNKS: usize = 4;
const DEFAULT_CHUNK_DELAY_MS: u64 = 250;

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
    pub(super) espeak: &'static str,
    pub(super) base_hz: f64,
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
    pub fn parse(request: &SpeechRequest) -> Result<Self, String> {
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

/// `raw`, if given, as a whole number from 0 to `max`.
fn number<N>(name: &str, raw: Option<&str>, max: N) -> Result<Option<N>, String>
where
    N: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    raw.map(|s| {
        s.trim()
            .parse::<N>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("{name} must be a whole number from 0 to {max}"))
    })
    .transpose()
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
        let chunks = number(
            "chunks",
            value(&query.chunks, "x-speech-chunks").as_deref(),
            MAX_CHUNKS,
        )?
        .unwrap_or(DEFAULT_CHUNKS);
        if chunks == 0 {
            return Err(format!("chunks must be from 1 to {MAX_CHUNKS}"));
        }
        let delay = number(
            "chunk_delay_ms",
            value(&query.chunk_delay_ms, "x-speech-chunk-delay-ms").as_deref(),
            MAX_CHUNK_DELAY_MS,
        )?
        .unwrap_or(DEFAULT_CHUNK_DELAY_MS);
        let cut_after = number(
            "cut_after",
            value(&query.cut_after, "x-speech-cut-after").as_deref(),
            MAX_CHUNKS,
        )?;
        Ok(Self {
            chunks,
            delay: Duration::from_millis(delay),
            cut_after,
        })
    }
}

#[cfg(test)]
pub(in crate::speech) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use http::HeaderValue;

    /// A checked request, for the other modules' tests.
    pub(in crate::speech) fn speech(input: &str) -> Speech {
        Speech::parse(&SpeechRequest {
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
        assert_eq!(Speech::parse(&base()).unwrap().voice.name, "default");
        let err = |r: SpeechRequest| Speech::parse(&r).unwrap_err();
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
}
