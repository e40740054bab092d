//! The voice engines: espeak-ng when it runs here, else the synthetic voice, behind one
//! [`synthesize`] that answers a whole WAV file within the output cap.

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};

use anyhow::Context as _;

use super::request::Speech;
use super::synthetic;
use super::wav::{WavFormat, parse_wav, wav_header};

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

/// The longest speech the endpoint makes, in seconds: about 5.3 MB of 22,050 Hz 16-bit mono.
pub const MAX_AUDIO_SECONDS: u32 = 120;

#[derive(Debug, thiserror::Error)]
pub enum SynthesisError {
    /// The speech would pass [`MAX_AUDIO_SECONDS`]: a fault of the request.
    #[error(
        "the speech would last longer than {MAX_AUDIO_SECONDS} s: send shorter input or a higher speed"
    )]
    TooLong,
    /// The engine failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A whole WAV file for `speech`, no longer than [`MAX_AUDIO_SECONDS`].
pub fn synthesize(engine: Engine, speech: &Speech) -> Result<Vec<u8>, SynthesisError> {
    let (format, pcm) = match engine {
        Engine::Espeak => espeak(speech)?,
        Engine::Generated => {
            // Counted before a sample is made: nothing too long is ever allocated.
            let limit = MAX_AUDIO_SECONDS as usize * synthetic::GENERATED_RATE as usize;
            if synthetic::sample_count(speech) > limit {
                return Err(SynthesisError::TooLong);
            }
            synthetic::generate(speech)
        }
    };
    let frames = pcm.len() / format.block_align().max(1);
    if frames > MAX_AUDIO_SECONDS as usize * format.sample_rate as usize {
        return Err(SynthesisError::TooLong);
    }
    let len = u32::try_from(pcm.len())
        .map_err(|_| anyhow::anyhow!("the audio is too long for one WAV file"))?;
    let mut wav = Vec::with_capacity(44 + pcm.len());
    wav.extend_from_slice(&wav_header(format, len));
    wav.extend_from_slice(&pcm);
    Ok(wav)
}

/// The most espeak-ng may write: [`MAX_AUDIO_SECONDS`] of its 22,050 Hz 16-bit mono, and its
/// header.
const ESPEAK_MAX_BYTES: u64 = MAX_AUDIO_SECONDS as u64 * 22_050 * 2 + 1024;

/// espeak-ng, with the text on stdin (never as an argument that could read as an option).
/// Speed sets the rate, exaggeration the pitch, a low CFG weight slower pacing (longer gaps
/// between words); espeak-ng has no randomness, so temperature and seed change nothing. Its
/// output is read up to [`ESPEAK_MAX_BYTES`]; past that it is stopped and the speech is too long.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "each setting is rounded and clamped to a small non-negative range before the cast"
)]
fn espeak(speech: &Speech) -> Result<(WavFormat, Vec<u8>), SynthesisError> {
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
    let stdout = child.stdout.take().context("espeak-ng's stdout")?;
    let text = speech.input.clone();
    // Written from another thread so that a full stdout pipe cannot stall both sides.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let mut output = Vec::new();
    let read = stdout
        .take(ESPEAK_MAX_BYTES + 1)
        .read_to_end(&mut output)
        .context("reading espeak-ng's output");
    if read.is_err() || output.len() as u64 > ESPEAK_MAX_BYTES {
        // Stopped: it writes no more, and its stdin closes.
        let _ = child.kill();
    }
    let status = child.wait().context("running espeak-ng")?;
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to espeak-ng panicked"))?;
    read?;
    if output.len() as u64 > ESPEAK_MAX_BYTES {
        return Err(SynthesisError::TooLong);
    }
    written.context("writing the text to espeak-ng")?;
    if !status.success() {
        return Err(anyhow::anyhow!("espeak-ng failed with {status}").into());
    }
    let (format, pcm) = parse_wav(&output).context("reading espeak-ng's WAV output")?;
    Ok((format, pcm.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::speech::request::tests::speech;

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

    #[test]
    fn speech_longer_than_the_cap_is_refused_by_either_engine() {
        // ~2,400 words at espeak-ng's slowest rate: many minutes.
        let mut long = speech(&"slowly spoken words, ".repeat(190));
        long.speed = 0.25;
        assert!(matches!(
            synthesize(Engine::Generated, &long),
            Err(SynthesisError::TooLong)
        ));
        if Engine::detect() == Engine::Espeak {
            assert!(matches!(
                synthesize(Engine::Espeak, &long),
                Err(SynthesisError::TooLong)
            ));
        }
    }
}
