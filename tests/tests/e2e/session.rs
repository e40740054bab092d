//! Whole-session backup: a session document uploaded beside the audio, named on the token,
//! answered on redeem and deleted by a purge.

use recovery_e2e::openapi::OpenApi;
use recovery_e2e::{SESSION_TYPE, Stack, audio_record, client_secret, problem};
use serde_json::{Value, json};

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

    let token = stack
        .issue(&secret, &json!({"key": audio, "session_key": doc}))
        .await;

    let response = stack.redeem(&token, true).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    openapi.assert_schema("AudioResponse", &body);
    assert_eq!(body["session_size"], doc_bytes.len());
    let fetched = stack.get(body["session_url"].as_str().unwrap()).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], SESSION_TYPE);
    assert_eq!(
        fetched.bytes().await.unwrap().as_ref(),
        doc_bytes.as_slice()
    );
    let audio_back = stack.get(body["url"].as_str().unwrap()).await;
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

#[tokio::test]
async fn a_purge_reaches_a_thousand_tokens_of_the_audio_and_the_document_within_the_deadline() {
    use recovery_shared::domain::{SessionDocument, Token, TokenRecord};

    // GIVEN one backup through the API, 998 more tokens of its audio and document (an index
    // holds about a thousand in a day), and one token of other audio with the same document
    let _heavy = recovery_e2e::HEAVY.lock().await;
    let stack = Stack::start().await;
    let secret = client_secret();
    let session = "many";
    let audio = stack
        .upload_as(&secret, session, "audio/wav", &[5; 64])
        .await;
    let other_audio = stack
        .upload_as(&secret, session, "audio/wav", &[6; 64])
        .await;
    let doc = stack
        .upload_as(&secret, session, SESSION_TYPE, &document(session))
        .await;
    let first = stack
        .issue(&secret, &json!({"key": audio, "session_key": doc}))
        .await;
    let record = |audio_key: &str| TokenRecord {
        session: Some(SessionDocument {
            key: doc.clone(),
            size_bytes: 10,
        }),
        ..audio_record(&secret, session, audio_key)
    };
    let mut records: Vec<TokenRecord> = (0..998).map(|_| record(&audio)).collect();
    let via_document = Token::generate().unwrap();
    records.push(TokenRecord {
        token_hash: via_document.hash(),
        ..record(&other_audio)
    });
    stack.put_tokens(&records).await;

    // WHEN the first is revoked with purge
    let started = std::time::Instant::now();
    let revoked = stack.revoke(&secret, &first, true).await;
    let took = started.elapsed();
    // THEN it succeeded within the route's deadline (a 503 problem otherwise), the audio and the
    // document are gone, and every one of the 999 other tokens is refused as deleted
    assert_eq!(revoked.status(), 204, "{:?}", revoked.text().await);
    eprintln!("purge of 1,000 tokens on DynamoDB Local took {took:?}");
    assert!(!stack.object_exists(&audio).await);
    assert!(!stack.object_exists(&doc).await);
    let hashes: Vec<_> = records.into_iter().map(|r| r.token_hash).collect();
    assert_eq!(
        stack.unpurged(&hashes).await,
        0,
        "tokens left answering 200"
    );
    let gone = problem(stack.redeem(via_document.as_str(), true).await, 410).await;
    assert!(
        gone["detail"].as_str().unwrap().contains("deleted"),
        "{gone}"
    );
}
