//! The synthetic voice: a speech-like waveform computed from the request and its seed, for
//! machines without espeak-ng.

use super::request::Speech;
use super::wav::WavFormat;

/// Sample rate of the generated waveform (espeak-ng's own rate, so both engines sound alike).
pub const GENERATED_RATE: u32 = 22_050;

/// xorshift64*: a few lines of deterministic noise.
#[derive(Debug)]
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Uniform in [-1, 1).
    #[allow(
        clippy::cast_precision_loss,
        reason = "53-bit values and 2^53: f64 holds both exactly"
    )]
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (v as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Samples per letter at this request's speed.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "positive and a few thousand at most (speed is at least 0.25); the fraction is dropped"
)]
fn letter_samples(speech: &Speech) -> usize {
    (0.075 / speech.speed * f64::from(GENERATED_RATE)) as usize
}

/// How many samples `c` takes, and its pitch (0 for silence). The gap between words grows as
/// `cfg_weight` falls below 0.5 (Chatterbox's lower CFG weight gives slower, more deliberate
/// pacing): half a letter at 0.5 and above, a whole letter at 0.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "a gap of at most one letter's samples (a few thousand), from a weight clamped to \
              0..=0.5: exact in f64, and the cast back only drops the fraction"
)]
fn sound(c: char, speech: &Speech, letter: usize) -> (usize, f64) {
    if c.is_alphanumeric() {
        let step = f64::from(u32::from(c.to_ascii_lowercase()) % 12) / 12.0;
        (
            letter,
            speech.voice.base_hz * (1.0 + step * 0.6 * speech.exaggeration),
        )
    } else if c.is_whitespace() {
        (
            letter / 2 + ((0.5 - speech.cfg_weight).max(0.0) * letter as f64) as usize,
            0.0,
        )
    } else {
        (letter * 3, 0.0)
    }
}

/// How many samples [`generate`] makes for `speech`, known before making them.
pub fn sample_count(speech: &Speech) -> usize {
    let letter = letter_samples(speech);
    speech
        .input
        .chars()
        .map(|c| sound(c, speech, letter).0)
        .fold(0usize, usize::saturating_add)
}

/// A speech-like waveform: per letter a short voiced tone whose pitch follows the letter and the
/// exaggeration, silence for spaces and longer silence for punctuation, a little noise scaled by
/// the temperature. The same request and seed always give the same samples.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "sample positions within one letter (far below 2^52) as f64, and samples clamped to \
              ±20,000 as i16"
)]
pub fn generate(speech: &Speech) -> (WavFormat, Vec<u8>) {
    let format = WavFormat {
        sample_rate: GENERATED_RATE,
        channels: 1,
        bits_per_sample: 16,
    };
    let rate = f64::from(GENERATED_RATE);
    let letter = letter_samples(speech);
    let mut noise = Noise::new(
        speech
            .input
            .bytes()
            .fold(speech.seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
            }),
    );
    let mut pcm = Vec::with_capacity(sample_count(speech) * 2);
    let mut phase = 0.0f64;
    for c in speech.input.chars() {
        let (len, hz) = sound(c, speech, letter);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::speech::engine::{Engine, synthesize};
    use crate::speech::request::tests::speech;
    use crate::speech::wav::parse_wav;
    use crate::speech::wav::tests::MONO16;

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
    fn a_lower_cfg_weight_lengthens_the_gaps_between_words() {
        let mut s = speech("One two three four.");
        let at = |s: &mut Speech, w: f64| {
            s.cfg_weight = w;
            sample_count(s)
        };
        let (paced, even, flat) = (at(&mut s, 0.0), at(&mut s, 0.25), at(&mut s, 0.5));
        assert!(paced > even && even > flat, "{paced} {even} {flat}");
        assert_eq!(flat, at(&mut s, 1.0), "no shorter than half a letter");
    }

    #[test]
    fn the_sample_count_is_known_before_the_samples_are_made() {
        for input in ["One two three.", "Hi", "a, b; c!  d"] {
            let mut s = speech(input);
            s.speed = 0.5;
            s.cfg_weight = 0.1;
            assert_eq!(generate(&s).1.len(), 2 * sample_count(&s), "{input}");
        }
    }
}
