//! The server copy of a session (issue 17): `PUT /sessions/{id}` stores the gzip-compressed
//! document and slides the session's one token, `GET /sessions` lists the caller's copies,
//! `GET /sessions/{id}` restores one, `DELETE /sessions/{id}` (and a purge through the token)
//! deletes the whole session.

use recovery_e2e::openapi::OpenApi;
use recovery_e2e::{SESSION_TYPE, Stack, client_secret, gzip_stored, problem};
use serde_json::{Value, json};

fn document(session: &str, text: &str, updated_at: u64) -> Vec<u8> {
    json!({
        "version": 2, "id": session, "text": text, "voiceId": "emily", "params": {"seed": 7},
        "createdAt": 1, "updatedAt": updated_at, "parts": [],
    })
    .to_string()
    .into_bytes()
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

fn copy_key(stack: &Stack, secret: &str, session: &str) -> String {
    use recovery_shared::domain::{ObjectKey, Owner, SessionId};
    ObjectKey::session_copy(
        &stack.config.audio_prefix,
        Owner::from_client_secret(secret).unwrap().hash(),
        SessionId::parse(session).unwrap(),
    )
    .to_string()
}

#[tokio::test]
async fn a_copy_is_stored_gzip_encoded_listed_newest_first_and_its_token_redeems_the_document() {
    let openapi = OpenApi::load();
    let stack = Stack::start().await;
    let secret = client_secret();
    let put_route = "PUT /api/recovery/sessions/{session_id}";

    // GIVEN a first copy of a session, gzip-encoded as the browser sends it
    let first = document("s-1", "Hello", 1_767_225_600_123);
    let created = stack
        .copy_session(
            &secret,
            "s-1",
            "parts=0&updated_at=1767225600123",
            &first,
            true,
        )
        .await;
    let created = json_of(created, 201).await;
    openapi.assert_response(put_route, 201, "application/json", &created);
    // THEN the answer names the document's own edit and the token, shown once
    assert_eq!(created["session_id"], "s-1");
    assert_eq!(created["updated_at"], "2026-01-01T00:00:00.123Z");
    assert_eq!(created["size"], gzip_stored(&first).len());
    let token = created["token"].as_str().unwrap().to_owned();
    // and S3 holds exactly the bytes sent, with their encoding
    let key = copy_key(&stack, &secret, "s-1");
    let (bytes, encoding) = stack.object(&key).await.unwrap();
    assert_eq!(bytes, gzip_stored(&first));
    assert_eq!(encoding.as_deref(), Some("gzip"));

    // WHEN the copy is overwritten, and another session copied (uncompressed) after it
    let second = document("s-1", "Hello, world", 1_767_225_700_000);
    let extended = stack
        .copy_session(
            &secret,
            "s-1",
            "parts=2&updated_at=1767225700000",
            &second,
            true,
        )
        .await;
    let extended = json_of(extended, 200).await;
    openapi.assert_response(put_route, 200, "application/json", &extended);
    // THEN no new token is issued, and the stored copy is the new one
    assert!(extended.get("token").is_none(), "{extended}");
    assert_eq!(stack.object(&key).await.unwrap().0, gzip_stored(&second));
    let other = document("s-2", "Other", 1_767_225_800_000);
    json_of(
        stack
            .copy_session(
                &secret,
                "s-2",
                "parts=0&updated_at=1767225800000",
                &other,
                false,
            )
            .await,
        201,
    )
    .await;
    let (plain, plain_encoding) = stack
        .object(&copy_key(&stack, &secret, "s-2"))
        .await
        .unwrap();
    assert_eq!((plain, plain_encoding), (other.clone(), None));

    // THEN the list has both, newest first, with the latest edit of each
    let listed = json_of(stack.list_sessions(&secret).await, 200).await;
    openapi.assert_response(
        "GET /api/recovery/sessions",
        200,
        "application/json",
        &listed,
    );
    let sessions = listed["sessions"].as_array().unwrap();
    let ids: Vec<&str> = sessions
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["s-2", "s-1"]);
    assert_eq!(sessions[1]["parts"], 2);
    assert_eq!(sessions[1]["size"], gzip_stored(&second).len());
    assert_eq!(sessions[1]["updated_at"], "2026-01-01T00:01:40Z");
    assert_eq!(sessions[1]["expires_at"], extended["expires_at"]);

    // AND the token (the recovery link's) redeems the latest document, served gzip-encoded
    let redeemed = json_of(stack.redeem_in_header(Some(&token)).await, 200).await;
    openapi.assert_response(
        "GET /api/recovery/audio",
        200,
        "application/json",
        &redeemed,
    );
    assert_eq!(redeemed["content_type"], SESSION_TYPE);
    assert_eq!(redeemed["size"], gzip_stored(&second).len());
    assert_eq!(redeemed["parts"], json!([]));
    let download = stack
        .http
        .get(redeemed["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-encoding"], "gzip");
    assert_eq!(download.headers()["content-type"], SESSION_TYPE);
    assert_eq!(
        download.bytes().await.unwrap().to_vec(),
        gzip_stored(&second)
    );
}

#[tokio::test]
async fn without_identity_the_copy_routes_answer_401_and_change_nothing() {
    let stack = Stack::start().await;
    let doc = gzip_stored(&document("s", "x", 1));
    let put = stack
        .http
        .put(stack.url("/api/recovery/sessions/s?parts=0&updated_at=1"))
        .header("content-type", SESSION_TYPE)
        .header("content-encoding", "gzip")
        .body(doc)
        .send()
        .await
        .unwrap();
    problem(put, 401).await;
    for path in ["/api/recovery/sessions", "/api/recovery/sessions/s"] {
        problem(stack.http.get(stack.url(path)).send().await.unwrap(), 401).await;
    }
    let delete = stack
        .http
        .delete(stack.url("/api/recovery/sessions/s"))
        .send()
        .await
        .unwrap();
    problem(delete, 401).await;
    assert!(stack.all_table_items().await.is_empty());
}
