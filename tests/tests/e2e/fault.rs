//! Load and faults: concurrent clients doing full round trips (upload, PUT to S3, token, redeem,
//! download) while DynamoDB Local and LocalStack are frozen with SIGSTOP and thawed with SIGCONT.
//! Every answer comes before the functions' timeout, answers while frozen are 503 problems, the
//! service is back once they thaw, and no acknowledged token is lost.
//!
//! It freezes the emulators every other test uses, so it is ignored in the normal run and run on
//! its own: `cargo test -p recovery-e2e --test e2e -- --ignored` (scripts/test-suite.sh).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use recovery_e2e::{Stack, client_secret};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The functions' timeout in template.yaml: an answer after it would be Lambda's, not ours.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
const CLIENTS: usize = 8;

/// The port of an endpoint URL such as `http://127.0.0.1:4566`.
fn port_of(var: &str) -> u16 {
    let url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

/// The socket inodes listening on `port` (from /proc/net/tcp and tcp6).
fn listening_inodes(port: u16) -> BTreeSet<String> {
    let mut inodes = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let local_port = local
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) && *state == "0A" {
                inodes.insert((*inode).to_owned());
            }
        }
    }
    inodes
}

fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
}

/// The process listening on `port`, and its descendants.
fn processes_serving(port: u16) -> Vec<u32> {
    let inodes = listening_inodes(port);
    assert!(!inodes.is_empty(), "nothing listens on port {port}");
    let owner = pids()
        .find(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .any(|link| {
                    let link = link.to_string_lossy().into_owned();
                    inodes
                        .iter()
                        .any(|inode| link == format!("socket:[{inode}]"))
                })
        })
        .unwrap_or_else(|| panic!("no process owns the listener on port {port}"));
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid ...: comm may hold spaces, so split after its `)`.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let mut family = vec![owner];
    let mut grew = true;
    while grew {
        grew = false;
        for pid in pids() {
            if !family.contains(&pid) && parent_of(pid).is_some_and(|p| family.contains(&p)) {
                family.push(pid);
                grew = true;
            }
        }
    }
    family
}

fn signal(pids: &[u32], sig: &str) {
    for pid in pids {
        let _ = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status();
    }
}

/// Thaws what it froze, even when the test fails.
struct Frozen(Vec<u32>);

impl Frozen {
    fn freeze(pids: Vec<u32>) -> Self {
        signal(&pids, "STOP");
        Self(pids)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(&self.0, "CONT");
    }
}

#[derive(Debug, Default)]
struct Log {
    /// Tokens the API acknowledged (201), with the bytes they must bring back.
    acknowledged: Vec<(String, Vec<u8>)>,
    /// Every API answer: route, status, whether it came while frozen, how long it took.
    answers: Vec<(&'static str, u16, bool, Duration, bool)>,
}

/// Sends one API request, timing it and recording what came back.
async fn call(
    log: &Mutex<Log>,
    frozen: &AtomicBool,
    route: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<(u16, Value)> {
    let during = frozen.load(Ordering::SeqCst);
    let started = Instant::now();
    let response = request.timeout(Duration::from_secs(30)).send().await.ok()?;
    let status = response.status().as_u16();
    let is_problem = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let elapsed = started.elapsed();
    let during = during || frozen.load(Ordering::SeqCst);
    log.lock()
        .await
        .answers
        .push((route, status, during, elapsed, is_problem));
    Some((status, body))
}

async fn client(
    stack: Arc<Stack>,
    log: Arc<Mutex<Log>>,
    frozen: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    n: usize,
) {
    let secret = client_secret();
    let mut round = 0u32;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a byte pattern: wrapping into u8 is the point"
        )]
        let bytes: Vec<u8> = (0..2_000u32)
            .map(|i| (i * 7 + round + n as u32) as u8)
            .collect();
        let ask = json!({"session_id": format!("c{n}"), "content_type": "audio/wav", "content_length": bytes.len()});
        let request = stack
            .http
            .post(stack.url("/api/recovery/uploads"))
            .header("x-recovery-client", &secret)
            .json(&ask);
        let Some((201, upload)) = call(&log, &frozen, "uploads", request).await else {
            continue;
        };
        // The PUT goes to S3 itself, not the API: a frozen S3 just makes it fail.
        let mut put = stack.http.put(upload["upload_url"].as_str().unwrap());
        for (name, value) in upload["headers"].as_object().unwrap() {
            if name != "content-length" {
                put = put.header(name, value.as_str().unwrap());
            }
        }
        let put = put
            .body(bytes.clone())
            .timeout(Duration::from_secs(15))
            .send()
            .await;
        if !put.is_ok_and(|r| r.status() == 200) {
            continue;
        }
        let request = stack
            .http
            .post(stack.url("/api/recovery/token"))
            .header("x-recovery-client", &secret)
            .json(&json!({"key": upload["key"]}));
        let Some((201, issued)) = call(&log, &frozen, "token", request).await else {
            continue;
        };
        let token = issued["token"].as_str().unwrap().to_owned();
        log.lock().await.acknowledged.push((token.clone(), bytes));
        let request = stack
            .http
            .get(stack.url(&format!("/api/recovery/audio/{token}")))
            .header("accept", "application/json");
        call(&log, &frozen, "audio", request).await;
    }
}

/// One request of the test's own, well inside the freeze: whatever the clients were doing when it
/// began (a loaded machine can hold them all in S3 PUTs), one request meets it, and is a 503.
async fn probe_while_frozen(stack: &Stack, log: &Mutex<Log>, frozen: &AtomicBool) {
    let ask = json!({"session_id": "probe", "content_type": "audio/wav", "content_length": 10});
    let request = stack
        .http
        .post(stack.url("/api/recovery/uploads"))
        .header("x-recovery-client", client_secret())
        .json(&ask);
    let probe = call(log, frozen, "uploads", request).await;
    assert_eq!(
        probe.as_ref().map(|(status, _)| *status),
        Some(503),
        "a request while the emulators are frozen: {probe:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "freezes the shared emulators: run alone with --ignored"]
async fn round_trips_under_load_survive_frozen_emulators_without_losing_a_token() {
    let stack = Arc::new(Stack::start_with(&[("COUNTER_FLUSH_MS", "1000")]).await);
    let emulators: Vec<u32> = processes_serving(port_of("AWS_ENDPOINT_URL_S3"))
        .into_iter()
        .chain(processes_serving(port_of("AWS_ENDPOINT_URL_DYNAMODB")))
        .collect();
    let log = Arc::new(Mutex::new(Log::default()));
    let frozen = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                stack.clone(),
                log.clone(),
                frozen.clone(),
                stop.clone(),
                n,
            ))
        })
        .collect();

    // Warm, then frozen for longer than a request's whole budget, then thawed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let acknowledged_before = log.lock().await.acknowledged.len();
    frozen.store(true, Ordering::SeqCst);
    let guard = Frozen::freeze(emulators);
    let frozen_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    probe_while_frozen(&stack, &log, &frozen).await;
    tokio::time::sleep(Duration::from_secs(9).saturating_sub(frozen_at.elapsed())).await;
    drop(guard);
    let thawed = Instant::now();
    // Back in service: wait (bounded) until the health route answers 200 again.
    while stack.health().await.status() != 200 {
        assert!(
            thawed.elapsed() < Duration::from_secs(60),
            "the service did not come back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Until here answers count as "while frozen": in-flight calls still meet the thaw.
    frozen.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }

    let log = log.lock().await;
    let slowest = log.answers.iter().map(|a| a.3).max().unwrap_or_default();
    let frozen_answers: Vec<_> = log.answers.iter().filter(|a| a.2).collect();
    eprintln!(
        "{} answers ({} while frozen), {} tokens acknowledged ({acknowledged_before} before the freeze), slowest answer {slowest:?}",
        log.answers.len(),
        frozen_answers.len(),
        log.acknowledged.len()
    );
    for (route, status, during, elapsed, is_problem) in &log.answers {
        assert!(
            *elapsed < FUNCTION_TIMEOUT,
            "{route} answered {status} after {elapsed:?}"
        );
        assert!(
            *status < 500 || (*status == 503 && *is_problem),
            "{route} answered {status}"
        );
        if *during {
            // While frozen, only a request that had finished its storage calls just before can
            // succeed; everything else is a 503 problem, never a hang or another error.
            assert!(
                matches!(status, 200 | 201 | 302 | 503),
                "{route} answered {status} while frozen"
            );
        } else {
            assert_ne!(
                *status, 503,
                "{route} answered 503 while nothing was frozen"
            );
        }
    }
    assert!(
        frozen_answers.iter().any(|a| a.1 == 503),
        "no request met the frozen emulators"
    );
    assert!(acknowledged_before > 0 && log.acknowledged.len() > acknowledged_before);
    // Every acknowledged token redeems, and brings back its bytes.
    for (token, bytes) in &log.acknowledged {
        let response = stack.redeem(token, true).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("redeem answered {status} with no JSON ({e}): {text}"));
        let url = body["url"]
            .as_str()
            .unwrap_or_else(|| panic!("acknowledged token lost: {status} {body}"));
        let back = stack.download(url).await;
        assert_eq!(&back, bytes);
    }
}
