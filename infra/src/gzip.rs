//! A gzip writer for the smoke test and the e2e tests' session documents.

/// `data` as one gzip member of stored deflate blocks: gzip any decoder reads, made without a
/// compression library (the smoke test and the e2e tests only need the format, not the savings).
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let chunks: Vec<&[u8]> = data.chunks(0xffff).collect();
    if chunks.is_empty() {
        out.extend([1, 0, 0, 0xff, 0xff]);
    }
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        // A chunk is at most 0xffff bytes.
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(*chunk);
    }
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend((!crc).to_le_bytes());
    // ISIZE is the length modulo 2^32.
    #[allow(clippy::cast_possible_truncation, reason = "modulo 2^32 by definition")]
    out.extend((data.len() as u32).to_le_bytes());
    out
}
