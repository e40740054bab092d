//! Each function's IAM policy in template.yaml names exactly the actions its code performs: the
//! handlers run through their paths on recording fakes, and the storage calls they make are
//! mapped to IAM actions by the adapters' table. Inside the table, each `UpdateItem` grant is
//! limited to the partition keys the function's calls write (`dynamodb:LeadingKeys`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use lambda_http::{Body, Response};
use recovery_infra::gateway::Function;
use recovery_infra::template::{Template, repo_template_path};
use recovery_shared::MemoryApp;
use recovery_shared::apigw::HttpApiEvent;
use recovery_shared::domain::OwnerHash;
use recovery_shared::dynamodb::{COUNTER_SHARDS, COUNTERS_KEY};
use recovery_shared::memory::StoredObject;
use recovery_shared::ports::IAM_ACTIONS;
use recovery_shared::quota::QuotaCharge;
use recovery_shared::testing::{self, body_json};
use serde_json::json;

type Used = BTreeMap<&'static str, BTreeSet<String>>;

/// What one walk through every route's outcomes did, by function's logical id.
struct Walk {
    /// The IAM actions of the storage calls made.
    actions: Used,
    /// The port methods called (`put_token`, `increment`...).
    methods: BTreeMap<&'static str, BTreeSet<&'static str>>,
    app: MemoryApp,
    /// The uploaded audio's key, `recovery/{owner_hash}/...`.
    key: String,
    /// Every token the walk had stored (audio, and server copies): their records' keys.
    token_hashes: BTreeSet<String>,
    /// Every object the walk stored (audio, copies' documents, a copy's part).
    object_keys: BTreeSet<String>,
}

/// The calls one walk makes, by function's logical id, as it runs the handlers on `app`.
struct Recorder<'a> {
    app: &'a MemoryApp,
    /// The IAM actions of the storage calls made.
    used: Used,
    /// The port methods called.
    methods: BTreeMap<&'static str, BTreeSet<&'static str>>,
}

impl Recorder<'_> {
    /// Runs `function` on `event` and records the storage calls it made.
    async fn run(&mut self, function: Function, event: HttpApiEvent) -> Response<Body> {
        let app = self.app;
        let response = function.invoke(app, event.into_request().unwrap()).await;
        let calls: Vec<&'static str> = app
            .tokens
            .calls
            .take()
            .into_iter()
            .chain(app.objects.calls.take())
            .collect();
        self.methods
            .entry(function.logical_id())
            .or_default()
            .extend(calls.iter().copied());
        let actions = self.used.entry(function.logical_id()).or_default();
        for call in calls {
            let (_, action) = IAM_ACTIONS
                .iter()
                .find(|(method, _)| *method == call)
                .unwrap_or_else(|| panic!("port method {call} has no entry in IAM_ACTIONS"));
            actions.extend(action.iter().map(|a| (*a).to_owned()));
        }
        response
    }

    /// An upload of 3 bytes of audio in `session`, then the browser's PUT (which S3 authorises
    /// with the presigned URL): the object's key.
    async fn upload(&mut self, secret: &str, session: &str) -> String {
        let uploads = "/api/recovery/uploads";
        let body = json!({"session_id": session, "content_type": "audio/wav", "content_length": 3});
        let upload = self
            .run(
                Function::CreateUpload,
                testing::event("POST", uploads, uploads, secret).json(&body),
            )
            .await;
        let key = body_json(&upload)["key"].as_str().unwrap().to_owned();
        self.app
            .objects
            .put_object(&key, StoredObject::new(vec![1, 2, 3], "audio/wav"));
        key
    }
}

#[allow(
    clippy::too_many_lines,
    reason = "one walk through every route's outcomes, recording the calls each makes"
)]
async fn walk() -> Walk {
    let app = testing::app();
    let secret = testing::client_secret();
    let mut rec = Recorder {
        app: &app,
        used: Used::new(),
        methods: BTreeMap::new(),
    };
    let path = |p: &str| format!("/api/recovery/{p}");

    // Upload, then the browser's PUT (which S3 authorises with the presigned URL).
    let key = rec.upload(&secret, "s").await;

    // Issue: for the object, and for a key with no object.
    let token_path = path("token");
    let issued = rec
        .run(
            Function::IssueToken,
            testing::event("POST", &token_path, &token_path, &secret)
                .json(&json!({"key": key, "ttl_seconds": 60})),
        )
        .await;
    let token = body_json(&issued)["token"].as_str().unwrap().to_owned();
    let token_hash = app.tokens.records()[0].token_hash.as_str().to_owned();
    let missing = format!("{}x", &key[..key.len() - 1]);
    rec.run(
        Function::IssueToken,
        testing::event("POST", &token_path, &token_path, &secret).json(&json!({"key": missing})),
    )
    .await;

    // Redeem: as JSON, as a redirect, unknown, expired.
    let audio_route = "/api/recovery/audio/{token}";
    for (t, accept) in [
        (token.as_str(), "application/json"),
        (token.as_str(), "*/*"),
        (&"A".repeat(43), "*/*"),
    ] {
        rec.run(
            Function::RedeemToken,
            HttpApiEvent::new("GET", audio_route, &path(&format!("audio/{t}")))
                .path_parameter("token", t)
                .header("accept", accept),
        )
        .await;
    }
    // Redeem with the token in the header (the browser client's form).
    let header_route = "/api/recovery/audio";
    let redeemed = rec
        .run(
            Function::RedeemToken,
            HttpApiEvent::new("GET", header_route, header_route).header("x-recovery-token", &token),
        )
        .await;
    assert_eq!(redeemed.status(), 200);
    app.clock.advance(61);
    let expired = rec
        .run(
            Function::RedeemToken,
            HttpApiEvent::new("GET", audio_route, &path(&format!("audio/{token}")))
                .path_parameter("token", &token),
        )
        .await;
    assert_eq!(expired.status(), 410);

    // Revoke with purge, then again (already gone).
    let revoke_route = "/api/recovery/token/{token}";
    for _ in 0..2 {
        let revoked = rec
            .run(
                Function::RevokeToken,
                testing::event(
                    "DELETE",
                    revoke_route,
                    &path(&format!("token/{token}")),
                    &secret,
                )
                .path_parameter("token", &token)
                .query("purge=true"),
            )
            .await;
        assert_eq!(revoked.status(), 204);
    }

    let (token_hashes, object_keys) = copy_walk(&mut rec, &secret).await;

    let health = path("health");
    rec.run(Function::Health, HttpApiEvent::new("GET", &health, &health))
        .await;

    let Recorder { used, methods, .. } = rec;
    Walk {
        actions: used,
        methods,
        app,
        key: key.clone(),
        token_hashes: token_hashes.into_iter().chain([token_hash]).collect(),
        object_keys: object_keys.into_iter().chain([key]).collect(),
    }
}

/// The server copy's routes: a copy stored, overwritten and given a new token; a part beside
/// it; the list, the copy restored, redeemed by its token; a session deleted by its owner and
/// one purged through its token. Returns the token hashes and object keys it stored.
#[allow(
    clippy::too_many_lines,
    reason = "one walk through the copy routes' outcomes, recording the calls each makes"
)]
async fn copy_walk(rec: &mut Recorder<'_>, secret: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let app = rec.app;
    let one = "/api/recovery/sessions/{session_id}";
    let gzip = [
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let copy = |session: &str, query: &str| {
        testing::event(
            "PUT",
            one,
            &format!("/api/recovery/sessions/{session}"),
            secret,
        )
        .path_parameter("session_id", session)
        .query(query)
        .header("content-type", "application/vnd.chatterbox.session+json")
        .header("content-encoding", "gzip")
        .body(gzip.to_vec())
    };
    let mut tokens = BTreeMap::new();
    for (session, query, status) in [
        ("c", "parts=1&updated_at=1", 201),
        ("c", "parts=1&updated_at=2", 200),
        ("c", "parts=1&updated_at=3&new_token=true", 201),
        ("d", "parts=0&updated_at=1", 201),
    ] {
        let response = rec.run(Function::CopySession, copy(session, query)).await;
        assert_eq!(response.status(), status, "{session} {query}");
        if status == 201 {
            tokens.insert(
                session,
                body_json(&response)["token"].as_str().unwrap().to_owned(),
            );
        }
    }
    // A part of session c, uploaded as any audio is.
    rec.upload(secret, "c").await;
    let list = "/api/recovery/sessions";
    let listed = rec
        .run(
            Function::Sessions,
            testing::event("GET", list, list, secret),
        )
        .await;
    assert_eq!(body_json(&listed)["sessions"].as_array().unwrap().len(), 2);
    for (session, status) in [("c", 200), ("nope", 404)] {
        let restored = rec
            .run(
                Function::Sessions,
                testing::event("GET", one, &format!("{list}/{session}"), secret)
                    .path_parameter("session_id", session),
            )
            .await;
        assert_eq!(restored.status(), status, "{session}");
    }
    let header_route = "/api/recovery/audio";
    let redeemed = rec
        .run(
            Function::RedeemToken,
            HttpApiEvent::new("GET", header_route, header_route)
                .header("x-recovery-token", &tokens["c"]),
        )
        .await;
    assert_eq!(body_json(&redeemed)["parts"].as_array().unwrap().len(), 1);

    let hashes: BTreeSet<String> = app
        .tokens
        .records()
        .iter()
        .map(|r| r.token_hash.as_str().to_owned())
        .collect();
    let objects: BTreeSet<String> = app.objects.keys().into_iter().collect();

    // Route 4: the owner deletes session c; route 6: session d purged through its token.
    let deleted = rec
        .run(
            Function::RevokeToken,
            testing::event("DELETE", one, &format!("{list}/c"), secret)
                .path_parameter("session_id", "c"),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    let revoke_route = "/api/recovery/token/{token}";
    let purged = rec
        .run(
            Function::RevokeToken,
            testing::event(
                "DELETE",
                revoke_route,
                &format!("/api/recovery/token/{}", tokens["d"]),
                secret,
            )
            .path_parameter("token", &tokens["d"])
            .query("purge=true"),
        )
        .await;
    assert_eq!(purged.status(), 204);
    // Nothing of either session is left.
    assert!(
        app.objects
            .keys()
            .iter()
            .all(|k| !k.contains("/c/") && !k.contains("/d/"))
    );
    (hashes, objects)
}

#[tokio::test]
async fn each_functions_policy_names_exactly_the_actions_its_code_calls() {
    let used = walk().await.actions;
    let template = Template::load(&repo_template_path()).unwrap();
    let granted: Used = template
        .function_policies()
        .into_iter()
        .map(|p| {
            let id = Function::from_logical_id(&p.function).unwrap().logical_id();
            (id, p.actions.into_iter().collect())
        })
        .collect();
    assert_eq!(granted.len(), Function::ALL.len());
    for function in Function::ALL {
        let id = function.logical_id();
        assert_eq!(
            granted[id], used[id],
            "{id}: granted (left) vs called (right)"
        );
    }
    for actions in granted.values() {
        assert!(actions.iter().all(|a| !a.contains('*')), "{actions:?}");
    }
}

/// The statements of a function's inline policies in template.yaml.
fn statements(function: &str) -> Vec<serde_yaml_ng::Value> {
    let text = std::fs::read_to_string(repo_template_path()).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    doc["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
        .collect()
}

/// The statements of a function's policies whose actions include `action`.
fn statements_naming(function: &str, action: &str) -> Vec<serde_yaml_ng::Value> {
    statements(function)
        .into_iter()
        .filter(|s| {
            s["Action"]
                .as_sequence()
                .is_some_and(|a| a.iter().any(|a| a.as_str() == Some(action)))
        })
        .collect()
}

#[test]
fn listing_is_granted_on_the_bucket_without_a_prefix_condition_to_the_role_that_heads_audio() {
    // HeadObject of a missing key is a 404 only with s3:ListBucket on the bucket (S3 API
    // Reference, "HeadObject"); s3:prefix belongs to list requests, which HeadObject is not, so a
    // prefix-conditioned grant could leave a missing key answering 403 (a 503 to the caller).
    let listing = statements_naming("IssueTokenFunction", "s3:ListBucket");
    assert_eq!(listing.len(), 1, "{listing:?}");
    let grant = &listing[0];
    assert_eq!(grant["Effect"].as_str(), Some("Allow"));
    assert_eq!(
        grant["Action"].as_sequence().map(Vec::len),
        Some(1),
        "s3:ListBucket alone in its statement: {grant:?}"
    );
    assert!(
        grant.get("Condition").is_none(),
        "no condition on the listing grant: {grant:?}"
    );
    // The bucket itself (`!GetAtt AudioBucket.Arn`), not its objects.
    let resource = serde_yaml_ng::to_string(&grant["Resource"]).unwrap();
    assert!(
        resource.contains("AudioBucket.Arn") && !resource.contains('/'),
        "{resource}"
    );
}

impl Walk {
    /// The owner's quota item for today (shared/src/quota.rs).
    fn quota_key(&self) -> String {
        let owner = self.key.split('/').nth(1).unwrap().to_owned();
        QuotaCharge {
            owner: OwnerHash::from_stored(owner),
            day: self.app.clock.now().div_euclid(86_400),
            amounts: Vec::new(),
        }
        .item_key()
    }

    /// The token index of every object the walk stored, as the adapter names them.
    fn index_keys(&self) -> Vec<String> {
        self.object_keys
            .iter()
            .map(|k| recovery_shared::dynamodb::object_index_key(k))
            .collect()
    }

    /// The owner's copy list.
    fn copies_key(&self) -> String {
        let owner = self.key.split('/').nth(1).unwrap().to_owned();
        recovery_shared::domain::copies_key(&OwnerHash::from_stored(owner))
    }

    fn is_token_record(&self, key: &str) -> bool {
        self.token_hashes.contains(key)
    }
}

/// The partition keys a port method's DynamoDB adapter writes with `UpdateItem`, alone or in a
/// transaction (shared/src/dynamodb/), for the walk's owner, objects and tokens; `None` for a
/// method that updates nothing.
fn update_item_keys(method: &str, walk: &Walk) -> Option<Vec<String>> {
    let tokens = || walk.token_hashes.iter().cloned();
    match method {
        // The token itself is a Put; the Updates are its objects' indexes and the owner's quota.
        "put_token" => Some(
            walk.index_keys()
                .into_iter()
                .chain([walk.quota_key()])
                .collect(),
        ),
        "charge_quota" => Some(vec![walk.quota_key()]),
        // Any of the shards: each write picks one at random (counters.rs).
        "increment" => Some(
            (0..COUNTER_SHARDS)
                .map(|i| format!("{COUNTERS_KEY}#{i:02}"))
                .collect(),
        ),
        // The index of each purged object (the audio here), then each token they list.
        "mark_purged" => Some(walk.index_keys()),
        "purge_tokens" => Some(tokens().collect()),
        // The token record and its object's index, in one transaction.
        "extend_token" => Some(tokens().chain(walk.index_keys()).collect()),
        "put_copy" | "remove_copy" => Some(vec![walk.copies_key()]),
        _ => None,
    }
}

/// IAM's `StringLike`: `*` any run of characters, `?` exactly one, case-sensitive.
fn like(pattern: &str, value: &str) -> bool {
    match (pattern.chars().next(), value.chars().next()) {
        (None, None) => true,
        (Some('*'), _) => {
            like(&pattern[1..], value)
                || value
                    .chars()
                    .next()
                    .is_some_and(|c| like(pattern, &value[c.len_utf8()..]))
        }
        (Some(p), Some(v)) if p == '?' || p == v => {
            like(&pattern[p.len_utf8()..], &value[v.len_utf8()..])
        }
        _ => false,
    }
}

/// For each statement of the function's policy that allows `action` (`dynamodb:UpdateItem`,
/// `dynamodb:GetItem`), the `dynamodb:LeadingKeys` patterns it is limited to, or `None` when it
/// covers the whole table.
fn leading_key_grants(function: &str, action: &str) -> Vec<Option<Vec<String>>> {
    statements_naming(function, action)
        .into_iter()
        .filter(|s| s["Effect"].as_str() == Some("Allow"))
        .map(|s| {
            let condition = s.get("Condition")?;
            // ForAllValues: every key the request names must match. (ForAnyValue would let a
            // request through on one matching key; a plain StringLike is not meant for the
            // multivalued LeadingKeys, per the DynamoDB Developer Guide.)
            let operators: Vec<_> = condition.as_mapping().unwrap().keys().collect();
            assert_eq!(
                operators.len(),
                1,
                "{function}: one condition operator, not {operators:?}"
            );
            let keys = &condition["ForAllValues:StringLike"];
            assert_eq!(
                keys.as_mapping().map(serde_yaml_ng::Mapping::len),
                Some(1),
                "{function}: the condition must be ForAllValues:StringLike on dynamodb:LeadingKeys only"
            );
            Some(
                keys["dynamodb:LeadingKeys"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// The partition keys a port method's DynamoDB adapter reads or writes with one action
/// (`update_item_keys`, `get_item_keys`); `None` for a method that makes no such call.
type KeysOf = fn(&str, &Walk) -> Option<Vec<String>>;

/// Checks every function's `action` grant against the partition keys its calls touch
/// (`keys_of`): none without calls, one statement with them, and either a `LeadingKeys`
/// condition that admits exactly those keys and no token record, or the whole table only where
/// the code touches token records. Returns the functions whose grant has the condition.
fn check_leading_key_grants(walk: &Walk, action: &str, keys_of: KeysOf) -> Vec<&'static str> {
    // A method that makes the call and is missing from `keys_of` would go unchecked.
    for (method, actions) in IAM_ACTIONS {
        if actions.contains(&action) {
            assert!(
                keys_of(method, walk).is_some(),
                "{method}: which keys does its {action} touch?"
            );
        }
    }
    let mut conditioned = Vec::new();
    for function in Function::ALL {
        let id = function.logical_id();
        let touched: BTreeSet<String> = walk.methods[id]
            .iter()
            .filter_map(|m| keys_of(m, walk))
            .flatten()
            .collect();
        let grants = leading_key_grants(id, action);
        if touched.is_empty() {
            assert!(grants.is_empty(), "{id} calls no {action}");
            continue;
        }
        assert_eq!(grants.len(), 1, "{id}: one {action} statement");
        if let Some(patterns) = &grants[0] {
            for key in &touched {
                assert!(
                    patterns.iter().any(|p| like(p, key)),
                    "{id} calls {action} on {key}, which none of {patterns:?} grants"
                );
            }
            for pattern in patterns {
                assert!(
                    touched.iter().any(|k| like(pattern, k)),
                    "{id}: {pattern} grants {action} on keys its code never touches"
                );
            }
            // The point of the condition: a token record stays out of reach.
            assert!(
                !patterns
                    .iter()
                    .any(|p| walk.token_hashes.iter().any(|h| like(p, h))),
                "{id}: {patterns:?} lets its {action} reach token records"
            );
            conditioned.push(id);
        } else {
            // The whole table only where the code touches token records, keyed by any hash:
            // there a condition would keep nothing out that matters.
            assert!(
                touched.iter().any(|k| walk.is_token_record(k)),
                "{id} calls {action} only on {touched:?}, yet its grant covers the whole table"
            );
        }
    }
    conditioned
}

#[tokio::test]
async fn each_update_item_grant_is_limited_to_the_keys_its_code_writes() {
    let walk = walk().await;
    let conditioned = check_leading_key_grants(&walk, "dynamodb:UpdateItem", update_item_keys);
    assert_eq!(
        conditioned,
        [
            "CreateUploadFunction",
            "IssueTokenFunction",
            "RedeemTokenFunction"
        ]
    );
}

#[test]
fn string_like_matches_as_iam_does() {
    assert!(like("quota#*", "quota#ab#20000"));
    assert!(like("quota#*", "quota#"));
    assert!(!like("quota#*", "Quota#ab"));
    assert!(like("#counters#??", "#counters#07"));
    assert!(!like("#counters#??", "#counters#7"));
    assert!(!like("#counters#??", "#counters#007"));
    assert!(like("audio#recovery/*", "audio#recovery/o/s/x"));
    assert!(!like("audio#recovery/*", &"a".repeat(64)));
}

/// The partition keys a port method's DynamoDB adapter reads with `GetItem`; `None` for a method
/// that reads none.
fn get_item_keys(method: &str, walk: &Walk) -> Option<Vec<String>> {
    match method {
        "get_token" => Some(walk.token_hashes.iter().cloned().collect()),
        "copies" => Some(vec![walk.copies_key()]),
        _ => None,
    }
}

#[tokio::test]
async fn each_get_item_grant_is_limited_to_the_copy_lists_unless_the_code_reads_token_records() {
    let walk = walk().await;
    let conditioned = check_leading_key_grants(&walk, "dynamodb:GetItem", get_item_keys);
    // The copy list's readers see nothing else of the table.
    assert_eq!(conditioned, ["CopySessionFunction", "SessionsFunction"]);
}

#[tokio::test]
async fn listing_a_sessions_objects_is_granted_only_under_the_recovery_prefix() {
    // Every function that lists (ListObjectsV2 of a session's prefix) has s3:ListBucket with an
    // s3:prefix condition that admits exactly the prefixes it lists; HeadObject's unconditioned
    // grant stays issue-token's alone (see the test above).
    let walk = walk().await;
    let session_prefix = format!("{}/", walk.key.rsplit_once('/').unwrap().0);
    for function in Function::ALL {
        let id = function.logical_id();
        let lists = walk.methods[id].contains("list_objects");
        let grants = statements_naming(id, "s3:ListBucket");
        if !lists {
            continue;
        }
        assert_eq!(grants.len(), 1, "{id}: one s3:ListBucket statement");
        let prefixes: Vec<&str> = grants[0]["Condition"]["StringLike"]["s3:prefix"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id}: s3:ListBucket without an s3:prefix condition"))
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(
            prefixes.iter().any(|p| like(p, &session_prefix)),
            "{id}: {prefixes:?} does not admit {session_prefix}"
        );
        assert!(
            !prefixes.iter().any(|p| like(p, "other/")),
            "{id}: {prefixes:?} admits other prefixes"
        );
    }
}
