//! The WAV codec: a canonical PCM header, reading the format and samples of a file (as espeak-ng
//! writes it to a pipe, too), and cutting samples into runs of whole frames.

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
    // The header field is 16 bits; no format this server writes comes near it.
    let block_align = u16::try_from(format.block_align()).unwrap_or(u16::MAX);
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

#[cfg(test)]
pub(in crate::speech) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    pub(in crate::speech) const MONO16: WavFormat = WavFormat {
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
}
