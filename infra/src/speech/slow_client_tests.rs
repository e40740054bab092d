//! The endpoint served on a real socket, against clients that stop or trickle mid-body: they must
//! hold no synthesis slot, and get a 408 problem once the body timeout has passed.
//!
//! Nothing here asserts on how long anything took: the times below are the endpoint's body
//! timeout and generous upper bounds that fail a test which would otherwise hang.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::*;

/// A well-formed speech request's body.
const BODY: &str = r#"{"input":"Slow clients must not hold the endpoint.","seed":7}"#;
/// Far beyond anything a test here needs: reaching it fails the test instead of hanging it.
const TEST_BOUND: Duration = Duration::from_secs(30);

/// The endpoint on 127.0.0.1, on a port of its own, until the test's runtime ends.
async fn serve(body_timeout: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        concurrency: MAX_CONCURRENT,
        body_timeout,
    };
    let router = router_with_limits(Engine::Generated, limits);
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// The head of a speech request for `BODY`, with `extra` header lines.
fn head(addr: SocketAddr, extra: &str) -> String {
    format!(
        "POST {ROUTE}?chunks=2&chunk_delay_ms=0 HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n",
        BODY.len()
    )
}

/// Bytes up to and including the first blank line: a response's (or interim response's) head.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("the head of a response");
        head.push(byte);
    }
    String::from_utf8(head).unwrap()
}

/// A client that sends its headers and half its body, then nothing. With `synced`, it asks for
/// `100 Continue` first, which hyper sends when the handler starts reading the body: so the
/// request has reached the handler (and taken whatever it takes first) when this returns.
async fn stalled(addr: SocketAddr, synced: bool) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let expect = if synced {
        "Expect: 100-continue\r\n"
    } else {
        ""
    };
    stream
        .write_all(head(addr, expect).as_bytes())
        .await
        .unwrap();
    if synced {
        let interim = read_head(&mut stream).await;
        assert!(
            interim.starts_with("HTTP/1.1 100 "),
            "the endpoint answered before reading the body: {interim}"
        );
    }
    stream
        .write_all(&BODY.as_bytes()[..BODY.len() / 2])
        .await
        .unwrap();
    stream
}

#[derive(Debug)]
struct Answer {
    status: u16,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything the server sends until it closes the connection (or resets it, once the answer is
/// in: a server that closes with part of a body unread may do so).
async fn read_all(reader: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = reader.read(&mut buf).await {
        raw.extend_from_slice(&buf[..n]);
    }
    raw
}

/// The one response a connection carried, to its end.
async fn answer(stream: &mut TcpStream) -> Answer {
    parse(&read_all(stream).await)
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Answer {
        status: status.parse().unwrap(),
        headers,
        body,
    }
}

/// A whole chunked body, put back together; panics if it was cut short.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = std::str::from_utf8(&raw[..line_end]).unwrap();
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        assert_eq!(&raw[size..size + 2], b"\r\n");
        raw = &raw[size + 2..];
    }
}

/// The 408 a late body gets: a problem saying so, and the connection closed.
fn assert_timed_out(answer: &Answer, body_timeout: Duration) {
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.header("connection"), Some("close"));
    let problem: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(problem["status"], 408);
    assert_eq!(problem["type"], "urn:chatterbox-recovery:problem:speech");
    let detail = problem["detail"].as_str().unwrap();
    let limit = format!("{} ms", body_timeout.as_millis());
    assert!(detail.contains(&limit), "{detail}");
}

#[tokio::test]
async fn stalled_senders_hold_no_slot_and_get_408_once_their_time_is_up() {
    tokio::time::timeout(TEST_BOUND, async {
        let body_timeout = Duration::from_secs(1);
        let addr = serve(body_timeout).await;
        // As many stalled senders as there are slots, each known to be in the handler, and two
        // more, not waited for.
        let mut stalled_clients = Vec::new();
        for _ in 0..MAX_CONCURRENT {
            stalled_clients.push(stalled(addr, true).await);
        }
        for _ in 0..2 {
            stalled_clients.push(stalled(addr, false).await);
        }

        // A whole request from another connection is spoken all the same.
        let mut client = TcpStream::connect(addr).await.unwrap();
        let request = format!("{}{BODY}", head(addr, "Connection: close\r\n"));
        client.write_all(request.as_bytes()).await.unwrap();
        let spoken = answer(&mut client).await;
        assert_eq!(
            spoken.status,
            200,
            "stalled senders held the endpoint: {}",
            String::from_utf8_lossy(&spoken.body)
        );
        assert_eq!(spoken.header("content-type"), Some("audio/wav"));
        let (_, pcm) = parse_wav(&spoken.body).unwrap();
        assert_eq!(pcm.len() + 44, spoken.body.len(), "the whole file");

        // Each stalled sender is told its body came too late, and its connection is closed.
        for stream in &mut stalled_clients {
            assert_timed_out(&answer(stream).await, body_timeout);
        }
    })
    .await
    .expect("the stalled senders were never answered");
}

#[tokio::test]
async fn a_body_trickling_in_is_cut_off_at_the_timeout_not_kept_alive_by_each_byte() {
    tokio::time::timeout(TEST_BOUND, async {
        let body_timeout = Duration::from_millis(300);
        let addr = serve(body_timeout).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head(addr, "").as_bytes()).await.unwrap();
        let (mut reader, mut writer) = stream.split();
        // One byte every 50 ms, all but the last: far longer in all than the timeout, though no
        // gap between two bytes comes near it.
        let trickle = async {
            for byte in &BODY.as_bytes()[..BODY.len() - 1] {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
            std::future::pending::<()>().await;
        };
        let raw = tokio::select! {
            raw = read_all(&mut reader) => raw,
            () = trickle => unreachable!("the trickle never ends"),
        };
        assert_timed_out(&parse(&raw), body_timeout);
    })
    .await
    .expect("the trickling sender was never answered");
}
