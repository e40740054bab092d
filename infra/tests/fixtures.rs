//! The API Gateway v2 event fixtures (`infra/fixtures/apigw-v2-<crate>.json`, which
//! `scripts/measure-functions.sh` sends to the real function binaries) exist for every function
//! of `template.yaml`, and each is a valid event that reaches its handler's intended path.
//!
//! Keyed on the template's functions, not its routes: the script runs one binary per function,
//! whatever routes that function serves.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use recovery_infra::gateway::Function;
use recovery_infra::template::{Template, repo_template_path};
use recovery_shared::testing;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The file `scripts/measure-functions.sh` sends to the binary `binary`.
fn fixture_path(binary: &str) -> PathBuf {
    fixtures_dir().join(format!("apigw-v2-{binary}.json"))
}

/// The status each function's fixture is written to get from an empty in-memory stack. A match
/// without a wildcard, so a new function does not compile here until its fixture's answer is
/// written down.
fn expected_status(function: Function) -> u16 {
    match function {
        // Create-upload: a presigned PUT. Copy-session: the first copy of the fixture's session
        // issues its token.
        Function::CreateUpload | Function::CopySession => 201,
        // Issue: the fixture's key is in the fixture's client namespace, but no object was
        // uploaded. Redeem: the fixture's token was never issued.
        Function::IssueToken | Function::RedeemToken => 404,
        Function::RevokeToken => 204,
        // Sessions: the fixture's owner has no copies, an empty list.
        Function::Health | Function::Sessions => 200,
    }
}

async fn status_of(function: Function, fixture: &str) -> u16 {
    let app = testing::app();
    let request = lambda_http::request::from_str(fixture).unwrap();
    function.invoke(&app, request).await.status().as_u16()
}

#[tokio::test]
async fn every_function_of_the_template_has_a_fixture_that_reaches_its_handler() {
    let template = Template::load(&repo_template_path()).unwrap();
    let functions = template.functions().unwrap();
    assert!(!functions.is_empty(), "template.yaml names no functions");
    for spec in &functions {
        let path = fixture_path(&spec.binary);
        let fixture = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{} has no API Gateway fixture at {} ({e}): scripts/measure-functions.sh needs one \
                 (docs/architecture.md, \"Adding a route\")",
                spec.logical_id,
                path.display()
            )
        });
        let function = Function::from_logical_id(&spec.logical_id)
            .unwrap_or_else(|| panic!("{} has no local handler", spec.logical_id));
        assert_eq!(
            status_of(function, &fixture).await,
            expected_status(function),
            "{} with {}",
            spec.logical_id,
            path.display()
        );
    }
}

#[test]
fn every_fixture_belongs_to_a_function_of_the_template() {
    let template = Template::load(&repo_template_path()).unwrap();
    let binaries: Vec<String> = template
        .functions()
        .unwrap()
        .into_iter()
        .map(|f| f.binary)
        .collect();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(binary) = name
            .strip_prefix("apigw-v2-")
            .and_then(|rest| rest.strip_suffix(".json"))
        else {
            continue;
        };
        assert!(
            binaries.iter().any(|b| b == binary),
            "{name} names no function of template.yaml (a renamed or removed function?)"
        );
    }
}
