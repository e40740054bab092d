//! `GET /api/recovery/health`: are the table and bucket reachable, what is configured, and how
//! recoveries have gone.

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use recovery_shared::domain::Counters;
use recovery_shared::ports::{ObjectStore, TokenStore};
use recovery_shared::problem::Problem;
use recovery_shared::{ApiError, App, VERSION, http, response};
use serde::Serialize;
use serde_json::json;

pub const ROUTE: &str = "GET /api/recovery/health";

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    checks: Checks,
    config: Lifetimes,
    counters: Counters,
}

#[derive(Debug, Serialize)]
struct Checks {
    table: &'static str,
    bucket: &'static str,
}

#[derive(Debug, Serialize)]
struct Lifetimes {
    token_ttl_seconds: u32,
    presign_ttl_seconds: u32,
    max_audio_bytes: u64,
}

pub async fn handle<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::serve(req, env!("CARGO_PKG_NAME"), ROUTE, |req| health(app, req)).await
}

fn status_of<T, E: std::fmt::Display>(result: &Result<T, E>, what: &str) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => {
            tracing::error!(error = %e, check = what, "health check failed");
            "unavailable"
        }
    }
}

async fn health<T: TokenStore, O: ObjectStore>(
    app: &App<T, O>,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    // Reading the counters is the table check: one call answers both.
    let (counters, bucket) = tokio::join!(app.tokens.counters(), app.objects.check_bucket());
    let checks = Checks {
        table: status_of(&counters, "table"),
        bucket: status_of(&bucket, "bucket"),
    };
    let Ok(counters) = counters else {
        return Ok(unhealthy(&req, &checks));
    };
    if bucket.is_err() {
        return Ok(unhealthy(&req, &checks));
    }
    Ok(response::json_response(
        StatusCode::OK,
        &Health {
            status: "ok",
            version: VERSION,
            checks,
            config: Lifetimes {
                token_ttl_seconds: app.config.token_ttl_seconds,
                presign_ttl_seconds: app.config.presign_ttl_seconds,
                max_audio_bytes: app.config.max_audio_bytes,
            },
            counters,
        },
    )?)
}

fn unhealthy(req: &Request, checks: &Checks) -> Response<Body> {
    let failed: Vec<&str> = [("table", checks.table), ("bucket", checks.bucket)]
        .into_iter()
        .filter(|(_, status)| *status != "ok")
        .map(|(name, _)| name)
        .collect();
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency-unavailable",
        format!("unavailable: {}", failed.join(", ")),
        &http::request_id(req),
    )
    .with_extension("checks", json!(checks))
    .with_extension("version", json!(VERSION))
    .into_response()
}

#[cfg(test)]
mod tests;
