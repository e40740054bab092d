//! Whole-session backup: a session document uploaded beside the audio, named on the token,
//! answered on redeem and deleted by a purge.

use recovery_e2e::openapi::OpenApi;
use recovery_e2e::{Stack, client_secret, problem};
use serde_json::{Value, json};

const SESSION_TYPE: &str = "application/vnd.chatterbox.session+json";

fn document(session: &str) -> Vec<u8> {
    json!({
        "version": 1, "id": session, "text": "Hello there.", "voiceId": "emily",
        "params": {"seed": 7}, "createdAt": 1, "updatedAt": 2,
        "parts": [{"index": 0, "mime": "audio/wav", "size": 64}],
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_session_document_comes_back_beside_the_audio_and_a_purge_deletes_both() {
    let openapi = OpenApi::load();
    let stack = Stack::start().await;
    let secret = client_secret();
    let session = "take-1~2";
    let audio = stack
        .upload_as(&secret, session, "audio/wav", &[7; 64])
        .await;
    let doc_bytes = document(session);
    let doc = stack
        .upload_as(&secret, session, SESSION_TYPE, &doc_bytes)
        .await;
    assert!(doc.contains("/take-1~2/"), "{doc}");

    let issued = stack
        .issue_token(&secret, &json!({"key": audio, "session_key": doc}))
        .await;
    assert_eq!(issued.status(), 201);
    let token = issued.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = stack.redeem(&token, true).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    openapi.assert_schema("AudioResponse", &body);
    assert_eq!(body["session_size"], doc_bytes.len());
    let fetched = stack
        .http
        .get(body["session_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], SESSION_TYPE);
    assert_eq!(
        fetched.bytes().await.unwrap().as_ref(),
        doc_bytes.as_slice()
    );
    let audio_back = stack
        .http
        .get(body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(audio_back.bytes().await.unwrap().as_ref(), &[7; 64]);
    // The redirect still leads to the audio.
    assert_eq!(stack.redeem(&token, false).await.status(), 302);

    assert_eq!(stack.revoke(&secret, &token, true).await.status(), 204);
    assert!(!stack.object_exists(&audio).await);
    assert!(!stack.object_exists(&doc).await);
}

#[tokio::test]
async fn a_session_document_has_its_own_size_cap() {
    let stack = Stack::start_with(&[("MAX_SESSION_DOCUMENT_BYTES", "1000")]).await;
    let secret = client_secret();
    let ask = |length: u64| json!({"session_id": "s", "content_type": SESSION_TYPE, "content_length": length});
    assert_eq!(stack.create_upload(&secret, &ask(1000)).await.status(), 201);
    let refused = problem(stack.create_upload(&secret, &ask(1001)).await, 400).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("content_length"),
        "{refused}"
    );
    // Audio keeps its own, larger cap.
    assert_eq!(stack.create_wav_upload(&secret, 5000).await.status(), 201);
}

#[tokio::test]
async fn a_session_key_must_be_the_callers_in_the_same_session_existing_and_a_document() {
    let stack = Stack::start().await;
    let secret = client_secret();
    let audio = stack.upload_as(&secret, "s1", "audio/wav", &[1; 10]).await;
    let other_session = stack
        .upload_as(&secret, "s2", SESSION_TYPE, &document("s2"))
        .await;
    let not_a_document = stack.upload_as(&secret, "s1", "audio/wav", &[2; 10]).await;
    let stranger = client_secret();
    let theirs = stack
        .upload_as(&stranger, "s1", SESSION_TYPE, &document("s1"))
        .await;
    // A key that was presigned but never uploaded.
    let never_uploaded = stack
        .create_upload(
            &secret,
            &json!({"session_id": "s1", "content_type": SESSION_TYPE, "content_length": 10}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["key"]
        .clone();
    let before = stack.table_items().await;
    for (session_key, status) in [
        (json!("recovery/../../etc"), 400),
        (json!(other_session), 400),
        (json!(not_a_document), 400),
        (json!(theirs), 403),
        (never_uploaded, 404),
    ] {
        let refused = problem(
            stack
                .issue_token(&secret, &json!({"key": audio, "session_key": session_key}))
                .await,
            status,
        )
        .await;
        assert!(
            refused["detail"].as_str().unwrap().contains("session"),
            "{refused}"
        );
    }
    assert_eq!(stack.table_items().await, before);
}
