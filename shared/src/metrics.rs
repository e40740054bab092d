//! CloudWatch Embedded Metric Format: one JSON line on stdout per request, which CloudWatch Logs
//! turns into metrics without an API call or an extra permission. Besides the counters kept in
//! the table (which the health route reports), these give per-function rates and latencies.

use std::io::Write as _;
use std::sync::OnceLock;

use serde_json::json;

pub const NAMESPACE: &str = "ChatterboxRecovery";

/// What became of one attempt, from its status.
pub fn outcome(status: u16) -> &'static str {
    match status {
        200..=399 => "ok",
        404 => "not_found",
        410 => "expired",
        400..=499 => "rejected",
        _ => "error",
    }
}

/// The EMF record of one request.
pub fn record(
    function: &str,
    status: u16,
    latency_ms: f64,
    request_id: &str,
    now_ms: i64,
) -> serde_json::Value {
    json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", "Outcome"], ["Function"]],
                "Metrics": [
                    {"Name": "Attempts", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                ],
            }],
        },
        "Function": function,
        "Outcome": outcome(status),
        "Attempts": 1,
        "Latency": latency_ms,
        "status": status,
        "request_id": request_id,
    })
}

/// Whether records are written: inside Lambda, or when `RECOVERY_EMF=1` asks for them locally.
fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
            || std::env::var("RECOVERY_EMF").is_ok_and(|v| v == "1")
    })
}

/// Writes the record of one request to stdout, where Lambda's log agent picks it up.
pub fn emit(function: &str, status: u16, latency_ms: f64, request_id: &str) {
    if !enabled() {
        return;
    }
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let line = record(
        function,
        status,
        latency_ms,
        request_id,
        i64::try_from(now_ms).unwrap_or(0),
    );
    // A lost metric line must never fail the request.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_follows_the_embedded_metric_format() {
        let r = record("redeem-token", 410, 3.5, "req-1", 1_700_000_000_000);
        let directive = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        // Every dimension and metric named in the directive is a member of the record.
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            for name in set.as_array().into_iter().flatten() {
                assert!(r[name.as_str().unwrap_or_default()].is_string(), "{name}");
            }
        }
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            assert!(
                r[metric["Name"].as_str().unwrap_or_default()].is_number(),
                "{metric}"
            );
        }
        assert_eq!(r["Outcome"], "expired");
        assert_eq!(r["request_id"], "req-1");
        assert_eq!(r["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    }

    #[test]
    fn outcomes_name_what_the_counters_count() {
        assert_eq!(outcome(201), "ok");
        assert_eq!(outcome(302), "ok");
        assert_eq!(outcome(404), "not_found");
        assert_eq!(outcome(410), "expired");
        assert_eq!(outcome(403), "rejected");
        assert_eq!(outcome(503), "error");
    }
}
