//! The API Gateway v2 event fixtures (used by `scripts/measure-functions.sh` to drive the real
//! function binaries) are valid events that reach their handlers' intended paths.
#![allow(clippy::unwrap_used)]

use recovery_infra::gateway::Function;
use recovery_shared::testing;

async fn status_of(function: Function, fixture: &str) -> u16 {
    let app = testing::app();
    let request = lambda_http::request::from_str(fixture).unwrap();
    function.invoke(&app, request).await.status().as_u16()
}

#[tokio::test]
async fn every_fixture_reaches_its_handler() {
    let cases = [
        (
            Function::CreateUpload,
            include_str!("../fixtures/apigw-v2-create-upload.json"),
            201,
        ),
        // The fixture's key is in the fixture's client namespace, but no object was uploaded.
        (
            Function::IssueToken,
            include_str!("../fixtures/apigw-v2-issue-token.json"),
            404,
        ),
        (
            Function::RedeemToken,
            include_str!("../fixtures/apigw-v2-redeem-token.json"),
            404,
        ),
        (
            Function::RevokeToken,
            include_str!("../fixtures/apigw-v2-revoke-token.json"),
            204,
        ),
        (
            Function::Health,
            include_str!("../fixtures/apigw-v2-health.json"),
            200,
        ),
    ];
    for (function, fixture, expected) in cases {
        assert_eq!(status_of(function, fixture).await, expected, "{function:?}");
    }
}
