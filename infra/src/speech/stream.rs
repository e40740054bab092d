//! Streaming: the WAV file sent in pieces of whole frames, slowly, and cut part-way on request.

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderValue, header};
use tokio::sync::OwnedSemaphorePermit;

use super::engine::Engine;
use super::request::Delivery;
use super::wav::{parse_wav, split_frames};

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

/// The answer: `wav` in `delivery.chunks` pieces, `delivery.delay` apart. `permit` (a place in
/// the endpoint's concurrency limit) is held until the stream ends or the client goes away.
pub(super) fn stream_response(
    wav: &Bytes,
    delivery: Delivery,
    engine: Engine,
    request_id: &str,
    permit: OwnedSemaphorePermit,
) -> Response {
    let pieces = pieces(wav, delivery.chunks);
    let count = pieces.len();
    let Delivery {
        delay, cut_after, ..
    } = delivery;
    // State: the pieces left and how many went out; `None` once the stream was cut.
    let start = Some((pieces.into_iter(), 0usize));
    let stream = futures_util::stream::unfold(start, move |state| {
        let _held = &permit;
        async move {
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
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::speech::engine::synthesize;
    use crate::speech::request::tests::speech;

    #[test]
    fn the_pieces_of_a_file_put_back_together_are_the_file() {
        let wav = Bytes::from(synthesize(Engine::Generated, &speech("Hello there.")).unwrap());
        let pieces = pieces(&wav, 5);
        assert_eq!(pieces.len(), 5);
        assert!(pieces[0].starts_with(b"RIFF"));
        assert_eq!(pieces.concat(), wav.to_vec());
    }
}
