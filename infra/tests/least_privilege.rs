//! Each function's IAM policy in template.yaml names exactly the actions its code performs: the
//! handlers run through their paths on recording fakes, and the storage calls they make are
//! mapped to IAM actions by the adapters' table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use lambda_http::{Body, Response};
use recovery_infra::gateway::Function;
use recovery_infra::template::{Template, repo_template_path};
use recovery_shared::MemoryApp;
use recovery_shared::apigw::HttpApiEvent;
use recovery_shared::memory::StoredObject;
use recovery_shared::ports::IAM_ACTIONS;
use recovery_shared::testing::{self, body_json};
use serde_json::json;

type Used = BTreeMap<&'static str, BTreeSet<String>>;

async fn run(
    app: &MemoryApp,
    used: &mut Used,
    function: Function,
    event: HttpApiEvent,
) -> Response<Body> {
    let response = function.invoke(app, event.into_request().unwrap()).await;
    let calls = app
        .tokens
        .calls
        .take()
        .into_iter()
        .chain(app.objects.calls.take());
    let actions = used.entry(function.logical_id()).or_default();
    for call in calls {
        let (_, action) = IAM_ACTIONS
            .iter()
            .find(|(method, _)| *method == call)
            .unwrap_or_else(|| panic!("port method {call} has no entry in IAM_ACTIONS"));
        actions.extend(action.iter().map(|a| (*a).to_owned()));
    }
    response
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one walk through every route's outcomes, recording the calls each makes"
)]
async fn each_functions_policy_names_exactly_the_actions_its_code_calls() {
    let app = testing::app();
    let secret = testing::client_secret();
    let mut used = Used::new();
    let path = |p: &str| format!("/api/recovery/{p}");

    // Upload, then the browser's PUT (which S3 authorises with the presigned URL).
    let uploads = path("uploads");
    let upload = run(
        &app,
        &mut used,
        Function::CreateUpload,
        testing::event("POST", &uploads, &uploads, &secret)
            .json(&json!({"session_id": "s", "content_type": "audio/wav", "content_length": 3})),
    )
    .await;
    let key = body_json(&upload)["key"].as_str().unwrap().to_owned();
    app.objects.put_object(
        &key,
        StoredObject {
            bytes: vec![1, 2, 3],
            content_type: "audio/wav".into(),
            filename: None,
        },
    );

    // Issue: for the object, and for a key with no object.
    let token_path = path("token");
    let issued = run(
        &app,
        &mut used,
        Function::IssueToken,
        testing::event("POST", &token_path, &token_path, &secret)
            .json(&json!({"key": key, "ttl_seconds": 60})),
    )
    .await;
    let token = body_json(&issued)["token"].as_str().unwrap().to_owned();
    let missing = format!("{}x", &key[..key.len() - 1]);
    run(
        &app,
        &mut used,
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
        run(
            &app,
            &mut used,
            Function::RedeemToken,
            HttpApiEvent::new("GET", audio_route, &path(&format!("audio/{t}")))
                .path_parameter("token", t)
                .header("accept", accept),
        )
        .await;
    }
    app.clock.advance(61);
    let expired = run(
        &app,
        &mut used,
        Function::RedeemToken,
        HttpApiEvent::new("GET", audio_route, &path(&format!("audio/{token}")))
            .path_parameter("token", &token),
    )
    .await;
    assert_eq!(expired.status(), 410);

    // Revoke with purge, then again (already gone).
    let revoke_route = "/api/recovery/token/{token}";
    for _ in 0..2 {
        let revoked = run(
            &app,
            &mut used,
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

    let health = path("health");
    run(
        &app,
        &mut used,
        Function::Health,
        HttpApiEvent::new("GET", &health, &health),
    )
    .await;

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

#[test]
fn listing_is_granted_only_under_the_audio_prefix_to_the_role_that_heads_audio() {
    // HeadObject of a missing key is a 404 only with s3:ListBucket; the grant is limited to the
    // prefix the audio lives under.
    let listing: Vec<_> = statements("IssueTokenFunction")
        .into_iter()
        .filter(|s| {
            s["Action"]
                .as_sequence()
                .is_some_and(|a| a.iter().any(|a| a.as_str() == Some("s3:ListBucket")))
        })
        .collect();
    assert_eq!(listing.len(), 1, "{listing:?}");
    let prefixes = &listing[0]["Condition"]["StringLike"]["s3:prefix"];
    assert_eq!(
        prefixes.as_sequence().map(|p| p
            .iter()
            .filter_map(serde_yaml_ng::Value::as_str)
            .collect::<Vec<_>>()),
        Some(vec!["recovery/*"])
    );
}
