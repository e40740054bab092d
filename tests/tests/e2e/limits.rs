//! What holds against abuse and odd input on the real emulators: daily quotas (with two requests
//! racing for the last unit), purge reaching every token of the audio, metadata the table could
//! not hold, download names that cannot disguise themselves, and counters spread over shards.

use recovery_e2e::{Stack, client_secret, problem};
use recovery_shared::ports::TokenStore;
use serde_json::{Value, json};

/// Runs two requests at once and returns their statuses, sorted, and the 429 among them.
async fn race(
    a: impl std::future::Future<Output = reqwest::Response>,
    b: impl std::future::Future<Output = reqwest::Response>,
) -> (Vec<u16>, Option<reqwest::Response>) {
    let (a, b) = tokio::join!(a, b);
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    let limited = [a, b].into_iter().find(|r| r.status() == 429);
    (statuses, limited)
}

async fn assert_quota_problem(response: reqwest::Response, needle: &str) {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let body = problem(response, 429).await;
    assert!(body["detail"].as_str().unwrap().contains(needle), "{body}");
}

/// An upload of `first` bytes, then two of `racing` bytes at once: one gets its 201, the other
/// a 429 problem naming `needle`.
async fn assert_one_of_two_racing_uploads_is_refused(
    stack: &Stack,
    secret: &str,
    first: u64,
    racing: u64,
    needle: &str,
) {
    assert_eq!(stack.create_wav_upload(secret, first).await.status(), 201);
    let (statuses, limited) = race(
        stack.create_wav_upload(secret, racing),
        stack.create_wav_upload(secret, racing),
    )
    .await;
    assert_eq!(statuses, [201, 429]);
    assert_quota_problem(limited.unwrap(), needle).await;
}

#[tokio::test]
async fn two_uploads_racing_for_the_last_of_the_days_uploads_get_one_201_and_one_429() {
    let stack = Stack::start_with(&[("QUOTA_UPLOADS_PER_DAY", "2")]).await;
    let secret = client_secret();
    assert_one_of_two_racing_uploads_is_refused(&stack, &secret, 10, 10, "uploads (2)").await;
    // Another owner's day is untouched.
    assert_eq!(
        stack.create_wav_upload(&client_secret(), 10).await.status(),
        201
    );
}

#[tokio::test]
async fn two_uploads_racing_for_the_last_bytes_of_the_day_get_one_201_and_one_429() {
    let stack = Stack::start_with(&[("QUOTA_UPLOAD_BYTES_PER_DAY", "100")]).await;
    let secret = client_secret();
    assert_one_of_two_racing_uploads_is_refused(&stack, &secret, 60, 40, "uploaded bytes (100)")
        .await;
}

#[tokio::test]
async fn two_tokens_racing_for_the_last_of_the_day_get_one_201_and_one_429_and_one_record() {
    let stack = Stack::start_with(&[("QUOTA_TOKENS_PER_DAY", "2")]).await;
    let secret = client_secret();
    let (key, _) = stack.upload_and_issue(&secret, &[1; 10], json!({})).await;
    let body = json!({"key": key});
    let (statuses, limited) = race(
        stack.issue_token(&secret, &body),
        stack.issue_token(&secret, &body),
    )
    .await;
    assert_eq!(statuses, [201, 429]);
    assert_quota_problem(limited.unwrap(), "recovery tokens (2)").await;
    // Exactly the two acknowledged tokens are stored.
    let records = stack.table_items().await.len();
    assert_eq!(records, 2);
}

#[tokio::test]
async fn after_a_purge_every_token_of_the_audio_answers_410_and_no_new_one_is_issued() {
    let stack = Stack::start().await;
    let secret = client_secret();
    let (key, first) = stack.upload_and_issue(&secret, &[3; 32], json!({})).await;
    let second = stack.issue(&secret, &json!({"key": key})).await;
    assert_eq!(stack.redeem(&second, false).await.status(), 302);

    assert_eq!(stack.revoke(&secret, &first, true).await.status(), 204);
    // The revoked token is gone; the other one is refused as deleted, never redirected.
    problem(stack.redeem(&first, false).await, 404).await;
    for json in [false, true] {
        let gone = problem(stack.redeem(&second, json).await, 410).await;
        assert!(
            gone["detail"].as_str().unwrap().contains("deleted"),
            "{gone}"
        );
    }
    problem(stack.issue_token(&secret, &json!({"key": key})).await, 404).await;
    // Revoking the other token still works, purge or not.
    assert_eq!(stack.revoke(&secret, &second, true).await.status(), 204);
}

#[tokio::test]
async fn metadata_dynamodb_would_refuse_is_a_400_naming_the_member_and_stores_nothing() {
    let stack = Stack::start().await;
    let secret = client_secret();
    let key = stack.upload(&secret, "s", &[1; 10], None).await;
    let before = stack.table_items().await;
    for (metadata, needle) in [
        (json!({"x": 1e200}), "metadata.x"),
        (json!({"x": -1e-200}), "metadata.x"),
        (json!({"": "a"}), "metadata member names"),
    ] {
        let refused = problem(
            stack
                .issue_token(&secret, &json!({"key": key, "metadata": metadata}))
                .await,
            400,
        )
        .await;
        assert!(
            refused["detail"].as_str().unwrap().contains(needle),
            "{refused}"
        );
    }
    assert_eq!(stack.table_items().await, before);
    // The extremes that DynamoDB does hold are stored and come back.
    let (_, token) = stack
        .upload_and_issue(
            &secret,
            &[1; 10],
            json!({"metadata": {"big": 9.9e125, "small": -1e-130, "int": u64::MAX}}),
        )
        .await;
    let body: Value = stack.redeem(&token, true).await.json().await.unwrap();
    assert_eq!(body["metadata"]["int"], json!(u64::MAX));
    assert_eq!(body["metadata"]["big"], json!(9.9e125));
    assert_eq!(body["metadata"]["small"], json!(-1e-130));
}

#[tokio::test]
async fn a_download_name_cannot_disguise_its_type() {
    let stack = Stack::start().await;
    let secret = client_secret();
    let (_, token) = stack
        .upload_and_issue(
            &secret,
            &[1; 10],
            json!({"filename": "invoice\u{202e}gpj.exe"}),
        )
        .await;
    let body: Value = stack.redeem(&token, true).await.json().await.unwrap();
    assert_eq!(body["filename"], "invoicegpj.wav");
    let download = stack.get(body["url"].as_str().unwrap()).await;
    let disposition = download.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("filename=\"invoicegpj.wav\""),
        "{disposition}"
    );
}

#[tokio::test]
async fn each_count_is_written_before_its_request_answers_and_summed_across_shards() {
    // Lambda freezes an instance after its response: nothing counted may wait for later.
    let stack = Stack::start().await;
    let store = stack.token_store();
    for _ in 0..50 {
        store
            .increment(recovery_shared::domain::Counter::Redeemed)
            .await
            .unwrap();
    }
    store
        .increment(recovery_shared::domain::Counter::NotFound)
        .await
        .unwrap();
    // No later request, no waiting: the table already holds every count.
    let counters = store.counters().await.unwrap();
    assert_eq!((counters.redeemed, counters.not_found), (50, 1));
    let shards = stack
        .all_table_items()
        .await
        .into_iter()
        .filter(|i| i.contains("#counters#"))
        .count();
    assert!(shards > 1, "the writes were not spread over shards");
}

#[tokio::test]
async fn health_reports_every_issued_token_at_once_while_the_instance_is_idle() {
    let stack = Stack::start().await;
    let secret = client_secret();
    for _ in 0..5 {
        stack.upload_and_issue(&secret, &[1; 10], json!({})).await;
    }
    let health: Value = stack.health().await.json().await.unwrap();
    assert_eq!(health["counters"]["issued"], 5, "{health}");
}

#[tokio::test]
async fn the_longest_names_in_wide_characters_stay_within_s3s_metadata_limit_and_come_back_whole() {
    // S3 refuses more than 2 KB of user metadata; LocalStack does not, so the size is checked on
    // the signed headers themselves.
    let stack = Stack::start().await;
    let secret = client_secret();
    for name in ["\u{1F600}".repeat(255), "声".repeat(251) + ".wav"] {
        let response = stack
            .create_upload(
                &secret,
                &json!({"session_id": "s", "content_type": "audio/wav", "content_length": 10, "filename": name}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let upload: Value = response.json().await.unwrap();
        let metadata: usize = upload["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("x-amz-meta-")?, v.as_str()?)))
            .map(|(k, v)| k.len() + v.len())
            .sum();
        assert!(
            (1..=2_048).contains(&metadata),
            "{metadata} bytes of metadata"
        );
        assert_eq!(
            stack.put_presigned(&upload, vec![1; 10]).await.status(),
            200
        );
        let token = stack.issue(&secret, &json!({"key": upload["key"]})).await;
        let body: Value = stack.redeem(&token, true).await.json().await.unwrap();
        // The name given at upload, read back from the object's metadata (none at token time).
        let expected = recovery_shared::download::download_name(Some(&name), "", "audio/wav");
        assert_eq!(body["filename"], expected.as_str());
    }
}
