//! A Lambda Runtime API on loopback, to measure a function binary the way Lambda runs it:
//! `runtime-harness <bootstrap> <event.json> [cold-starts] [requests]`.
//!
//! For each cold start it spawns the binary with `AWS_LAMBDA_RUNTIME_API` pointing here and
//! records the time from spawn until the binary asks for its first event (its init phase).
//! After the last cold start it serves `requests` events and reads the process's peak RSS
//! (`VmHWM`). Prints one JSON line of results. The binary's other settings come from the
//! environment (`TABLE_NAME`, endpoints, ...).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::{Mutex, mpsc};

#[derive(Debug)]
struct Harness {
    event: String,
    /// Signals each `next` call (the first one ends the init phase).
    next_called: mpsc::UnboundedSender<Instant>,
    /// Completed invocations (response or error posted).
    done: mpsc::UnboundedSender<u16>,
    /// Events still to hand out; `next` waits while it is zero.
    budget: Mutex<u64>,
    budget_changed: tokio::sync::Notify,
    counter: Mutex<u64>,
}

async fn next(State(h): State<Arc<Harness>>) -> impl IntoResponse {
    let _ = h.next_called.send(Instant::now());
    loop {
        let notified = h.budget_changed.notified();
        {
            let mut budget = h.budget.lock().await;
            if *budget > 0 {
                *budget -= 1;
                break;
            }
        }
        notified.await;
    }
    let mut counter = h.counter.lock().await;
    *counter += 1;
    let mut headers = HeaderMap::new();
    let id = format!("req-{counter}");
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 10_000)
        .unwrap_or_default();
    let pairs = [
        ("lambda-runtime-aws-request-id", id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:bench".to_owned(),
        ),
        ("lambda-runtime-trace-id", "Root=1-0-0".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    (headers, h.event.clone())
}

async fn response(
    State(h): State<Arc<Harness>>,
    Path(_id): Path<String>,
    body: String,
) -> StatusCode {
    let status = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["statusCode"].as_u64())
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    let _ = h.done.send(status);
    StatusCode::ACCEPTED
}

async fn error(State(h): State<Arc<Harness>>, Path(_id): Path<String>) -> StatusCode {
    let _ = h.done.send(0);
    StatusCode::ACCEPTED
}

async fn init_error() -> StatusCode {
    StatusCode::ACCEPTED
}

fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc status")
}

type Started = (
    Arc<Harness>,
    String,
    mpsc::UnboundedReceiver<Instant>,
    mpsc::UnboundedReceiver<u16>,
);

/// Starts a Runtime API server on a free loopback port.
async fn runtime_api(event: &str) -> anyhow::Result<Started> {
    let (next_tx, next_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let harness = Arc::new(Harness {
        event: event.to_owned(),
        next_called: next_tx,
        done: done_tx,
        budget: Mutex::new(0),
        budget_changed: tokio::sync::Notify::new(),
        counter: Mutex::new(0),
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(Arc::clone(&harness));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?.to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((harness, api, next_rx, done_rx))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, bootstrap, event_path, rest @ ..] = args.as_slice() else {
        bail!("usage: runtime-harness <bootstrap> <event.json> [cold-starts] [requests]");
    };
    let cold_starts: usize = rest.first().map_or(Ok(20), |v| v.parse())?;
    let requests: u64 = rest.get(1).map_or(Ok(1000), |v| v.parse())?;
    let bootstrap = PathBuf::from(bootstrap);
    let event =
        std::fs::read_to_string(event_path).with_context(|| format!("reading {event_path}"))?;

    // Each cold start gets its own Runtime API server, so a killed process's pending `next`
    // call can never take an event meant for a later one.
    let mut inits = Vec::new();
    let mut last = None;
    for i in 0..cold_starts {
        let (harness, api, mut next_rx, done_rx) = runtime_api(&event).await?;
        let started = Instant::now();
        let child = tokio::process::Command::new(&bootstrap)
            .env("AWS_LAMBDA_RUNTIME_API", &api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bootstrap.display()))?;
        let ready = tokio::time::timeout(Duration::from_secs(10), next_rx.recv())
            .await
            .context("the function never asked for an event")?
            .context("harness closed")?;
        inits.push(ready.duration_since(started).as_secs_f64() * 1e3);
        if i + 1 == cold_starts {
            last = Some((child, harness, next_rx, done_rx));
        } else {
            drop(child);
        }
    }
    let (mut child, harness, mut next_rx, mut done_rx) = last.context("no cold start")?;
    let pid = child.id().context("the function exited")?;

    // Warm requests: hand out the budget and wait for every response.
    let started = Instant::now();
    *harness.budget.lock().await = requests;
    harness.budget_changed.notify_waiters();
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for _ in 0..requests {
        let status = tokio::time::timeout(Duration::from_secs(30), done_rx.recv())
            .await
            .context("a request got no response")?
            .context("harness closed")?;
        *statuses.entry(status).or_default() += 1;
        // Keep the channel of `next` calls drained.
        while next_rx.try_recv().is_ok() {}
    }
    let elapsed = started.elapsed();
    let rss = peak_rss_kib(pid)?;
    child.kill().await.ok();

    inits.sort_by(f64::total_cmp);
    let median = inits[inits.len() / 2];
    let max = inits[inits.len() - 1];
    let size = std::fs::metadata(&bootstrap)?.len();
    #[allow(
        clippy::cast_precision_loss,
        reason = "a request count, far below 2^52, as f64 for the mean"
    )]
    let result = serde_json::json!({
        "binary": bootstrap.display().to_string(),
        "size_bytes": size,
        "cold_starts": cold_starts,
        "init_ms_median": (median * 100.0).round() / 100.0,
        "init_ms_max": (max * 100.0).round() / 100.0,
        "requests": requests,
        "statuses": statuses,
        "mean_request_ms": (elapsed.as_secs_f64() * 1e3 / requests as f64 * 1000.0).round() / 1000.0,
        "peak_rss_kib": rss,
    });
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, format!("{result}\n").as_bytes())?;
    Ok(())
}
