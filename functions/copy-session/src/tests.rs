//! The handler on the in-memory stores: every answer and what it leaves stored.
#![allow(clippy::unwrap_used)]
use super::*;
use recovery_shared::MemoryApp;
use recovery_shared::apigw::HttpApiEvent;
use recovery_shared::domain::Owner;
use recovery_shared::testing::{self, NOW, assert_problem, body_json};

const ROUTE_PATH: &str = "/api/recovery/sessions/{session_id}";
/// A gzip member of one empty stored block: the smallest valid gzip body.
const GZIP: [u8; 20] = [
    0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn request(secret: &str, session: &str, query: &str, body: &[u8]) -> Request {
    testing::event(
        "PUT",
        ROUTE_PATH,
        &format!("/api/recovery/sessions/{session}"),
        secret,
    )
    .path_parameter("session_id", session)
    .query(query)
    .header("content-type", SESSION_DOCUMENT_TYPE)
    .header("content-encoding", "gzip")
    .body(body.to_vec())
    .into_request()
    .unwrap()
}

/// A copy of `body` (gzip-encoded, as the client sends it).
async fn put_body(
    app: &MemoryApp,
    secret: &str,
    session: &str,
    query: &str,
    body: &[u8],
) -> Response<Body> {
    handle(app, request(secret, session, query, body))
        .await
        .unwrap()
}

/// A copy of the smallest gzip body.
async fn put(app: &MemoryApp, secret: &str, session: &str, query: &str) -> Response<Body> {
    put_body(app, secret, session, query, &GZIP).await
}

fn owner(secret: &str) -> OwnerHash {
    Owner::from_client_secret(secret).unwrap().hash()
}

fn quota_used(app: &MemoryApp, secret: &str, kind: QuotaKind) -> u64 {
    let key = QuotaCharge::new(owner(secret), app.clock.now(), &app.config.quota, &[]).item_key();
    app.tokens.quota_used(&key, kind.attribute())
}

#[tokio::test]
async fn the_first_copy_issues_the_token_and_later_ones_slide_its_expiry() {
    // GIVEN an owner's first copy of a session
    let app = testing::app();
    let secret = testing::client_secret();
    let first = put(&app, &secret, "s-1", "parts=3&updated_at=1767225600500").await;
    // THEN it is stored gzip-encoded at the session's document key, and the token issued
    assert_eq!(first.status(), 201);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let body = body_json(&first);
    assert_eq!(body["session_id"], "s-1");
    assert_eq!(body["updated_at"], "2026-01-01T00:00:00.5Z");
    assert_eq!(body["size"], GZIP.len());
    assert_eq!(body["parts"], 3);
    assert_eq!(body["expires_at"], "2026-01-02T00:00:00Z");
    let token = Token::parse(body["token"].as_str().unwrap()).unwrap();
    let key = ObjectKey::session_copy(
        "recovery/",
        owner(&secret),
        SessionId::parse("s-1").unwrap(),
    );
    let stored = app.objects.get(key.as_str()).unwrap();
    assert_eq!(stored.bytes, GZIP);
    assert_eq!(stored.content_type, SESSION_DOCUMENT_TYPE);
    assert_eq!(
        app.objects.content_encoding(key.as_str()).as_deref(),
        Some("gzip")
    );
    let record = app.tokens.get_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(record.audio_key, key.as_str());
    assert_eq!(record.content_type, SESSION_DOCUMENT_TYPE);
    assert_eq!(record.session, None);

    // WHEN it is copied again 23 hours later
    app.clock.advance(23 * 3600);
    let second = put(&app, &secret, "s-1", "parts=4&updated_at=1767308400000").await;
    // THEN no token is shown, and the same token now lives 24 hours from the later copy
    assert_eq!(second.status(), 200);
    let body = body_json(&second);
    assert!(body.get("token").is_none(), "{body}");
    assert_eq!(body["expires_at"], "2026-01-02T23:00:00Z");
    let record = app.tokens.get_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(record.expires_at, NOW + 23 * 3600 + 86_400);
    assert_eq!(app.tokens.records().len(), 1);
    let entries = app.tokens.copies(&owner(&secret)).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].parts, 4);
    assert_eq!(entries[0].updated_at_ms, 1_767_308_400_000);
    assert_eq!(entries[0].token_hash, token.hash());
}

#[tokio::test]
async fn a_thousand_copies_of_one_session_never_meet_a_429_and_count_only_bytes() {
    // GIVEN the default quotas (500 uploads, 500 tokens, 2 GiB a day)
    let app = testing::app();
    let secret = testing::client_secret();
    // WHEN one session is copied 1,000 times (eight hours of typing at one copy per 30 s)
    for n in 0..1_000 {
        let response = put(&app, &secret, "long", &format!("parts=0&updated_at={n}")).await;
        assert!(
            matches!(response.status().as_u16(), 200 | 201),
            "copy {n}: {}",
            response.status()
        );
    }
    // THEN the uploads count is untouched, one token was issued, and the bytes are counted
    assert_eq!(quota_used(&app, &secret, QuotaKind::Uploads), 0);
    assert_eq!(quota_used(&app, &secret, QuotaKind::Tokens), 1);
    assert_eq!(
        quota_used(&app, &secret, QuotaKind::UploadBytes),
        1_000 * GZIP.len() as u64
    );
}

#[tokio::test]
async fn the_bytes_quota_still_bounds_copies_with_a_429_and_retry_after() {
    let mut app = testing::app();
    app.config.quota.upload_bytes = 3 * GZIP.len() as u64;
    let secret = testing::client_secret();
    for n in 0..3 {
        let response = put(&app, &secret, "s", &format!("parts=0&updated_at={n}")).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    let refused = put(&app, &secret, "s", "parts=0&updated_at=9").await;
    let problem = assert_problem(&refused, 429);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("uploaded bytes")
    );
    assert_eq!(refused.headers()["retry-after"], "86400");
    // Nothing of the refused copy was stored: the list still names the third.
    let entries = app.tokens.copies(&owner(&secret)).await.unwrap();
    assert_eq!(entries[0].updated_at_ms, 2);
}

#[tokio::test]
async fn new_token_issues_a_fresh_token_and_the_old_one_is_purged() {
    let app = testing::app();
    let secret = testing::client_secret();
    let first = body_json(&put(&app, &secret, "s", "parts=0&updated_at=1").await);
    let old = Token::parse(first["token"].as_str().unwrap()).unwrap();
    let again = put(&app, &secret, "s", "parts=0&updated_at=2&new_token=true").await;
    assert_eq!(again.status(), 201);
    let new = Token::parse(body_json(&again)["token"].as_str().unwrap()).unwrap();
    assert_ne!(new, old);
    let old_record = app.tokens.get_token(&old.hash()).await.unwrap().unwrap();
    assert!(old_record.purged_at.is_some());
    let entries = app.tokens.copies(&owner(&secret)).await.unwrap();
    assert_eq!(entries[0].token_hash, new.hash());
    // Later copies slide the new one.
    assert_eq!(
        put(&app, &secret, "s", "parts=0&updated_at=3")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_copy_whose_token_is_gone_issues_a_new_one() {
    let app = testing::app();
    let secret = testing::client_secret();
    let first = body_json(&put(&app, &secret, "s", "parts=0&updated_at=1").await);
    let token = Token::parse(first["token"].as_str().unwrap()).unwrap();
    app.tokens
        .delete_token(&token.hash(), &owner(&secret))
        .await
        .unwrap();
    let again = put(&app, &secret, "s", "parts=0&updated_at=2").await;
    assert_eq!(again.status(), 201);
    assert!(body_json(&again)["token"].is_string());
}

#[tokio::test]
async fn a_copy_of_a_session_its_owner_deleted_answers_410_and_is_not_written_back() {
    let app = testing::app();
    let secret = testing::client_secret();
    put(&app, &secret, "s", "parts=0&updated_at=1").await;
    let key = ObjectKey::session_copy("recovery/", owner(&secret), SessionId::parse("s").unwrap());
    recovery_shared::copies::purge_session(&app, &owner(&secret), &SessionId::parse("s").unwrap())
        .await
        .unwrap();
    assert!(!app.objects.contains(key.as_str()));
    for query in [
        "parts=0&updated_at=2",
        "parts=0&updated_at=3&new_token=true",
    ] {
        assert_problem(&put(&app, &secret, "s", query).await, 410);
        assert!(!app.objects.contains(key.as_str()), "{query}");
    }
    assert!(app.tokens.copies(&owner(&secret)).await.unwrap().is_empty());
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one table of bad requests, each with the status and the word its problem names"
)]
async fn bad_input_is_a_4xx_problem_and_changes_nothing() {
    let app = testing::app_with(&[("MAX_SESSION_DOCUMENT_BYTES", "64")]);
    let secret = testing::client_secret();
    let ok = "parts=0&updated_at=1";
    let big = [&GZIP[..], &[0; 45]].concat();
    let with = |f: &dyn Fn(HttpApiEvent) -> HttpApiEvent| {
        f(
            testing::event("PUT", ROUTE_PATH, "/api/recovery/sessions/s", &secret)
                .path_parameter("session_id", "s")
                .query(ok),
        )
    };
    let base = |e: HttpApiEvent| {
        e.header("content-type", SESSION_DOCUMENT_TYPE)
            .header("content-encoding", "gzip")
    };
    // A good gzip body with `query` in place of a good one.
    let with_query = |query: &str| base(with(&|e| e.query(query))).body(GZIP.to_vec());
    let cases: Vec<(HttpApiEvent, u16, &str)> = vec![
        (
            base(with(&|e| e.path_parameter("session_id", "a/b"))).body(GZIP.to_vec()),
            400,
            "session_id",
        ),
        (with_query("parts=10001&updated_at=1"), 400, "parts"),
        (with_query("parts=-1&updated_at=1"), 400, "parts"),
        (with_query("updated_at=1"), 400, "parts"),
        (with_query("parts=1"), 400, "updated_at"),
        (with_query("parts=1&updated_at=1.5"), 400, "updated_at"),
        (
            with_query("parts=1&updated_at=253402300800000"),
            400,
            "updated_at",
        ),
        (
            with_query("parts=1&updated_at=1&new_token=yes"),
            400,
            "new_token",
        ),
        (base(with(&|e| e)), 400, "empty"),
        (base(with(&|e| e)).body(big), 413, "64"),
        (
            with(&|e| e.header("content-type", "application/json")).body(GZIP.to_vec()),
            415,
            "Content-Type",
        ),
        (with(&|e| e).body(GZIP.to_vec()), 415, "Content-Type"),
        (
            with(&|e| {
                e.header("content-type", SESSION_DOCUMENT_TYPE)
                    .header("content-encoding", "br")
            })
            .body(GZIP.to_vec()),
            415,
            "Content-Encoding",
        ),
        (
            base(with(&|e| e)).body(b"{\"not\":\"gzip\"}".to_vec()),
            400,
            "gzip",
        ),
    ];
    for (event, status, needle) in cases {
        let response = handle(&app, event.into_request().unwrap()).await.unwrap();
        let problem = assert_problem(&response, status);
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{needle}: {problem}"
        );
    }
    assert!(app.objects.keys().is_empty());
    assert!(app.tokens.records().is_empty());
    assert!(app.tokens.copies(&owner(&secret)).await.unwrap().is_empty());
    assert_eq!(quota_used(&app, &secret, QuotaKind::UploadBytes), 0);
    // Identity encoding, said or not, is accepted as is.
    let plain = testing::event("PUT", ROUTE_PATH, "/api/recovery/sessions/s", &secret)
        .path_parameter("session_id", "s")
        .query(ok)
        .header(
            "content-type",
            "application/vnd.chatterbox.session+json; charset=utf-8",
        )
        .header("content-encoding", "identity")
        .body(b"{}".to_vec());
    let response = handle(&app, plain.into_request().unwrap()).await.unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn without_identity_the_copy_is_refused_with_401() {
    let app = testing::app();
    let event = HttpApiEvent::new("PUT", ROUTE_PATH, "/api/recovery/sessions/s")
        .path_parameter("session_id", "s")
        .query("parts=0&updated_at=1")
        .header("content-type", SESSION_DOCUMENT_TYPE)
        .body(GZIP.to_vec());
    let response = handle(&app, event.into_request().unwrap()).await.unwrap();
    assert_problem(&response, 401);
    assert!(app.objects.keys().is_empty());
}

#[tokio::test]
async fn a_storage_outage_is_a_503_problem_never_a_panic() {
    let secret = testing::client_secret();
    for down in ["table", "bucket"] {
        let app = testing::app();
        match down {
            "table" => app.tokens.set_unavailable(true),
            _ => app.objects.set_unavailable(true),
        }
        let response = put(&app, &secret, "s", "parts=0&updated_at=1").await;
        let problem = assert_problem(&response, 503);
        assert_eq!(
            problem["type"],
            "urn:chatterbox-recovery:problem:dependency-unavailable"
        );
    }
}

#[tokio::test]
async fn expired_copies_of_other_sessions_leave_the_list_with_the_next_copy() {
    let app = testing::app();
    let secret = testing::client_secret();
    put(&app, &secret, "old", "parts=0&updated_at=1").await;
    put(&app, &secret, "kept", "parts=0&updated_at=1").await;
    app.clock.advance(86_400 - 10);
    put(&app, &secret, "kept", "parts=0&updated_at=2").await;
    app.clock.advance(10);
    put(&app, &secret, "new", "parts=0&updated_at=1").await;
    let mut ids: Vec<String> = app
        .tokens
        .copies(&owner(&secret))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.session_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["kept", "new"]);
}

#[tokio::test]
async fn a_copy_is_never_larger_than_lambdas_payload_allows_whatever_the_configuration() {
    let app = testing::app_with(&[("MAX_SESSION_DOCUMENT_BYTES", "8388608")]);
    let secret = testing::client_secret();
    let limit = usize::try_from(MAX_COPY_BYTES).unwrap();
    let at_limit = [&GZIP[..], &vec![0; limit - GZIP.len()]].concat();
    let response = put_body(&app, &secret, "s", "parts=0&updated_at=1", &at_limit).await;
    assert_eq!(response.status(), 201);
    let over = [&at_limit[..], &[0]].concat();
    let response = put_body(&app, &secret, "s", "parts=0&updated_at=2", &over).await;
    assert!(
        assert_problem(&response, 413)["detail"]
            .as_str()
            .unwrap()
            .contains("4194304")
    );
}

#[tokio::test]
async fn a_copy_of_an_older_edit_never_replaces_a_newer_one_but_still_slides_the_token() {
    let app = testing::app();
    let secret = testing::client_secret();
    let key = ObjectKey::session_copy("recovery/", owner(&secret), SessionId::parse("s").unwrap());
    let newer = [&GZIP[..], b"newer"].concat();
    let sent = put_body(&app, &secret, "s", "parts=2&updated_at=2000", &newer).await;
    let token = Token::parse(body_json(&sent)["token"].as_str().unwrap()).unwrap();
    // WHEN the copy of an earlier edit lands later (a retry, or overtaken on pagehide)
    app.clock.advance(60);
    let late = put(&app, &secret, "s", "parts=1&updated_at=1000").await;
    // THEN the newer copy stays, the answer names it, and the token slid all the same
    assert_eq!(late.status(), 200);
    let body = body_json(&late);
    assert_eq!(body["updated_at"], "1970-01-01T00:00:02Z");
    assert_eq!(body["size"], newer.len());
    assert_eq!(body["parts"], 2);
    assert_eq!(app.objects.get(key.as_str()).unwrap().bytes, newer);
    let record = app.tokens.get_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(record.expires_at, NOW + 60 + 86_400);
    let entries = app.tokens.copies(&owner(&secret)).await.unwrap();
    assert_eq!(entries[0].updated_at_ms, 2000);
    assert_eq!(entries[0].expires_at, NOW + 60 + 86_400);
    // An equal or later edit replaces it.
    assert_eq!(
        put(&app, &secret, "s", "parts=0&updated_at=2000")
            .await
            .status(),
        200
    );
    assert_eq!(app.objects.get(key.as_str()).unwrap().bytes, GZIP);
}
