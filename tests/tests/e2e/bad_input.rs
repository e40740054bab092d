//! A bad-input list covering every field of every route: each case is a 4xx problem document
//! whose detail names the field to fix, never a 5xx, and nothing is written.

use recovery_e2e::{Stack, client_secret};
use serde_json::{Value, json};

/// One bad request: method, path, client secret (if any), body (JSON value or raw text with its
/// content type), the expected status and a word the detail must contain.
struct Case {
    method: &'static str,
    path: String,
    secret: Option<String>,
    body: Option<(String, &'static str)>,
    status: u16,
    needle: &'static str,
}

fn json_case(path: &str, secret: &str, body: &Value, status: u16, needle: &'static str) -> Case {
    Case {
        method: "POST",
        path: path.to_owned(),
        secret: Some(secret.to_owned()),
        body: Some((body.to_string(), "application/json")),
        status,
        needle,
    }
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "a table of bad inputs, one block per route and field; split, it would hide which \
              field lacks a case"
)]
async fn every_field_of_every_route_refuses_bad_input_with_a_problem_naming_it() {
    let stack = Stack::start().await;
    let secret = client_secret();
    let uploads = "/api/recovery/uploads";
    let token = "/api/recovery/token";
    let good_upload = json!({"session_id": "s", "content_type": "audio/wav", "content_length": 10});
    let with = |base: &Value, field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let without = |base: &Value, field: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let key = format!("recovery/{}/s/{}", "a".repeat(64), "b".repeat(22));
    let good_token = json!({"key": key});
    let valid = "A".repeat(43);

    let mut cases = vec![
        // POST /uploads: identity, media type, size, syntax, then each field.
        Case {
            method: "POST",
            path: uploads.into(),
            secret: None,
            body: Some((good_upload.to_string(), "application/json")),
            status: 401,
            needle: "X-Recovery-Client",
        },
        Case {
            method: "POST",
            path: uploads.into(),
            secret: Some("short".into()),
            body: Some((good_upload.to_string(), "application/json")),
            status: 401,
            needle: "X-Recovery-Client",
        },
        Case {
            method: "POST",
            path: uploads.into(),
            secret: Some(secret.clone()),
            body: Some((good_upload.to_string(), "text/plain")),
            status: 415,
            needle: "Content-Type",
        },
        Case {
            method: "POST",
            path: uploads.into(),
            secret: Some(secret.clone()),
            body: Some((" ".repeat(20_000), "application/json")),
            status: 413,
            needle: "body",
        },
        Case {
            method: "POST",
            path: uploads.into(),
            secret: Some(secret.clone()),
            body: Some(("{".into(), "application/json")),
            status: 400,
            needle: "body",
        },
        Case {
            method: "POST",
            path: uploads.into(),
            secret: Some(secret.clone()),
            body: Some((String::new(), "application/json")),
            status: 400,
            needle: "body",
        },
        json_case(uploads, &secret, &json!([1]), 400, "body"),
        json_case(
            uploads,
            &secret,
            &without(&good_upload, "session_id"),
            400,
            "session_id",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "session_id", json!("a/b")),
            400,
            "session_id",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "session_id", json!("")),
            400,
            "session_id",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "session_id", json!("x".repeat(129))),
            400,
            "session_id",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "session_id", json!(5)),
            400,
            "session_id",
        ),
        json_case(
            uploads,
            &secret,
            &without(&good_upload, "content_type"),
            400,
            "content_type",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_type", json!("AUDIO/")),
            400,
            "content_type",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_type", json!("video/mp4")),
            400,
            "content_type",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_type", json!("audio/wav\r\nx: y")),
            400,
            "content_type",
        ),
        json_case(
            uploads,
            &secret,
            &without(&good_upload, "content_length"),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_length", json!(0)),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_length", json!(-1)),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_length", json!(1.5)),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_length", json!(1e30)),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_length", json!(1_048_577)),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "content_length", json!("10")),
            400,
            "content_length",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "filename", json!("a/b.wav")),
            400,
            "filename",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "filename", json!("")),
            400,
            "filename",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "filename", json!("..")),
            400,
            "filename",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "filename", json!("a\u{7}b")),
            400,
            "filename",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "filename", json!("x".repeat(256))),
            400,
            "filename",
        ),
        json_case(
            uploads,
            &secret,
            &with(&good_upload, "owner", json!("me")),
            400,
            "owner",
        ),
        // POST /token
        Case {
            method: "POST",
            path: token.into(),
            secret: None,
            body: Some((good_token.to_string(), "application/json")),
            status: 401,
            needle: "X-Recovery-Client",
        },
        Case {
            method: "POST",
            path: token.into(),
            secret: Some(secret.clone()),
            body: Some((good_token.to_string(), "text/plain")),
            status: 415,
            needle: "Content-Type",
        },
        json_case(token, &secret, &json!({}), 400, "key"),
        json_case(
            token,
            &secret,
            &json!({"key": "recovery/../../etc/passwd"}),
            400,
            "key",
        ),
        json_case(token, &secret, &json!({"key": 7}), 400, "key"),
        json_case(
            token,
            &secret,
            &with(&good_token, "ttl_seconds", json!(0)),
            400,
            "ttl_seconds",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "ttl_seconds", json!(86_401)),
            400,
            "ttl_seconds",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "ttl_seconds", json!(-5)),
            400,
            "ttl_seconds",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "ttl_seconds", json!("60")),
            400,
            "ttl_seconds",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "filename", json!("..")),
            400,
            "filename",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "filename", json!(1)),
            400,
            "filename",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!([1])),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"a": {"b": 1}})),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"a": [1]})),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"x": 1e200})),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"x": -1e-200})),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"": "a"})),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"n".repeat(65): 1})),
            400,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "metadata", json!({"t": "x".repeat(3000)})),
            413,
            "metadata",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "session_key", json!("recovery/x")),
            400,
            "session_key",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "session_key", json!(false)),
            400,
            "session_key",
        ),
        json_case(
            token,
            &secret,
            &with(&good_token, "token", json!("mine")),
            400,
            "token",
        ),
    ];
    // GET /audio/{token}, DELETE /token/{token}
    for bad in [
        "short",
        &"*".repeat(43),
        &"A".repeat(44),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
    ] {
        cases.push(Case {
            method: "GET",
            path: format!("/api/recovery/audio/{bad}"),
            secret: None,
            body: None,
            status: 400,
            needle: "token",
        });
        cases.push(Case {
            method: "DELETE",
            path: format!("/api/recovery/token/{bad}"),
            secret: Some(secret.clone()),
            body: None,
            status: 400,
            needle: "token",
        });
    }
    cases.push(Case {
        method: "DELETE",
        path: format!("/api/recovery/token/{valid}?purge=yes"),
        secret: Some(secret.clone()),
        body: None,
        status: 400,
        needle: "purge",
    });
    cases.push(Case {
        method: "DELETE",
        path: format!("/api/recovery/token/{valid}"),
        secret: None,
        body: None,
        status: 401,
        needle: "X-Recovery-Client",
    });

    let mut failures = Vec::new();
    for case in &cases {
        let mut request = stack
            .http
            .request(case.method.parse().unwrap(), stack.url(&case.path));
        if let Some(secret) = &case.secret {
            request = request.header("x-recovery-client", secret);
        }
        if let Some((body, content_type)) = &case.body {
            request = request
                .header("content-type", *content_type)
                .body(body.clone());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let detail = body["detail"].as_str().unwrap_or_default();
        if status != case.status
            || content_type != "application/problem+json"
            || body["status"] != status
            || !detail.contains(case.needle)
        {
            failures.push(format!(
                "{} {} {:?}: expected {} naming `{}`, got {status} {body}",
                case.method,
                case.path,
                case.body.as_ref().map(|b| &b.0[..b.0.len().min(80)]),
                case.status,
                case.needle
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(stack.table_items().await.is_empty());
}
