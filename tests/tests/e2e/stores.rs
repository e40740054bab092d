//! The DynamoDB adapter's semantics on DynamoDB Local: what the handlers rely on.

use recovery_e2e::Stack;
use recovery_shared::domain::{Counter, Counters, Metadata, OwnerHash, Token, TokenRecord};
use recovery_shared::ports::{DeleteOutcome, StoreError, TokenStore};

fn record(token: &Token, owner: &str) -> TokenRecord {
    TokenRecord {
        token_hash: token.hash(),
        audio_key: "recovery/o/s/x".into(),
        owner_hash: OwnerHash::from_stored(owner.into()),
        session_id: "s".into(),
        created_at: 1,
        expires_at: 4_000_000_000,
        content_type: "audio/wav".into(),
        size_bytes: 1,
        filename: None,
        metadata: Metadata::new(),
        session: None,
        purged_at: None,
    }
}

#[tokio::test]
async fn a_second_write_of_the_same_hash_is_refused_and_changes_nothing() {
    let stack = Stack::start().await;
    let store = stack.token_store();
    let token = Token::generate().unwrap();
    store
        .put_token(&record(&token, "first"), None)
        .await
        .unwrap();
    let again = store.put_token(&record(&token, "second"), None).await;
    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
    let stored = store.get_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(stored.owner_hash.as_str(), "first");
}

#[tokio::test]
async fn deletes_are_owner_checked_and_idempotent() {
    let stack = Stack::start().await;
    let store = stack.token_store();
    let token = Token::generate().unwrap();
    store
        .put_token(&record(&token, "owner"), None)
        .await
        .unwrap();
    let stranger = OwnerHash::from_stored("stranger".into());
    let owner = OwnerHash::from_stored("owner".into());
    assert_eq!(
        store.delete_token(&token.hash(), &stranger).await.unwrap(),
        DeleteOutcome::NotOwner
    );
    assert!(store.get_token(&token.hash()).await.unwrap().is_some());
    assert_eq!(
        store.delete_token(&token.hash(), &owner).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        store.delete_token(&token.hash(), &owner).await.unwrap(),
        DeleteOutcome::Missing
    );
}

#[tokio::test]
async fn counters_start_at_zero_and_add_up() {
    let stack = Stack::start().await;
    let store = stack.token_store();
    assert_eq!(store.counters().await.unwrap(), Counters::default());
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.increment(Counter::Redeemed).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    store.increment(Counter::NotFound).await.unwrap();
    let counters = store.counters().await.unwrap();
    assert_eq!(
        (counters.redeemed, counters.not_found, counters.issued),
        (10, 1, 0)
    );
}
