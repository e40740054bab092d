//! The reader against the repository's template.yaml and against broken templates.
#![allow(clippy::unwrap_used)]
use super::*;
use serde::Deserialize;
use shapes::strings;

fn template() -> Template {
    Template::load(&repo_template_path()).unwrap()
}

#[test]
fn the_template_declares_the_five_routes_of_the_api() {
    let keys: Vec<String> = template()
        .routes()
        .unwrap()
        .iter()
        .map(Route::key)
        .collect();
    assert_eq!(
        keys,
        [
            "DELETE /api/recovery/token/{token}",
            "GET /api/recovery/audio/{token}",
            "GET /api/recovery/health",
            "POST /api/recovery/token",
            "POST /api/recovery/uploads",
        ]
    );
}

#[test]
fn the_table_is_keyed_by_the_token_hash_with_ttl_on_expires_at() {
    let table = template().table().unwrap();
    assert_eq!(table.partition_key, "token_hash");
    assert_eq!(table.partition_key_type, "S");
    assert_eq!(table.billing_mode, "PAY_PER_REQUEST");
    assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
}

#[test]
fn the_bucket_is_private_encrypted_and_expires_recovery_audio() {
    let bucket = template().bucket().unwrap();
    assert!(bucket.block_public_access);
    assert_eq!(bucket.sse_algorithm.as_deref(), Some("AES256"));
    let expire = bucket
        .lifecycle
        .iter()
        .find(|r| r.expiration_days.is_some())
        .unwrap();
    assert_eq!(expire.prefix.as_deref(), Some("recovery/"));
    assert_eq!(expire.expiration_days, Some(2));
    assert!(
        bucket
            .lifecycle
            .iter()
            .any(|r| r.abort_incomplete_days == Some(1))
    );
    assert_eq!(bucket.cors.len(), 1);
    assert_eq!(bucket.cors[0].allowed_methods, ["GET", "PUT"]);
}

fn resource<'a>(template: &'a Template, name: &str) -> &'a Resource {
    template
        .resource(name)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuthorizerProperties {
    authorizer_type: String,
    #[serde(deserialize_with = "strings")]
    identity_source: Vec<String>,
}

#[test]
fn every_route_but_health_is_behind_the_optional_jwt_authorizer() {
    let template = template();
    let condition = template.condition("UseJwtAuthorizer");
    // Only with an issuer: `!Not [!Equals [!Ref JwtIssuer, ""]]`.
    assert!(
        format!("{condition:?}").contains("JwtIssuer"),
        "{condition:?}"
    );
    let authorizer = resource(&template, "JwtAuthorizer");
    assert_eq!(authorizer.condition.as_deref(), Some("UseJwtAuthorizer"));
    let props: AuthorizerProperties = authorizer.properties("JwtAuthorizer").unwrap();
    assert_eq!(props.authorizer_type, "JWT");
    assert_eq!(props.identity_source, ["$request.header.Authorization"]);
    for route in template.routes().unwrap() {
        let name = route.function.replace("Function", "Route");
        let props = &resource(&template, &name).properties;
        let kind = props.get("AuthorizationType").unwrap();
        if route.path == "/api/recovery/health" {
            assert_eq!(kind.as_str(), Some("NONE"), "{name}");
            assert!(props.get("AuthorizerId").is_none(), "{name}");
        } else {
            let choice = tagged(kind, "If").and_then(Value::as_sequence).unwrap();
            assert_eq!(choice[0].as_str(), Some("UseJwtAuthorizer"), "{name}");
            assert_eq!(
                (choice[1].as_str(), choice[2].as_str()),
                (Some("JWT"), Some("NONE"))
            );
            let id = format!("{:?}", props.get("AuthorizerId").unwrap());
            assert!(
                id.contains("JwtAuthorizer") && id.contains("AWS::NoValue"),
                "{name}: {id}"
            );
        }
    }
}

#[test]
fn api_gateway_may_invoke_each_function_for_its_own_route_only() {
    let template = template();
    for route in template.routes().unwrap() {
        let name = route.function.replace("Function", "Permission");
        let props = &resource(&template, &name).properties;
        assert_eq!(
            props.get("Principal").and_then(Value::as_str),
            Some("apigateway.amazonaws.com")
        );
        let function = format!("{:?}", props.get("FunctionName").unwrap());
        assert!(function.contains(&route.function), "{name}: {function}");
        let arn = tagged(props.get("SourceArn").unwrap(), "Sub")
            .and_then(Value::as_str)
            .unwrap();
        let route_arn = format!(
            "${{HttpApi}}/*/{}{}",
            route.method,
            route.path.replace("{token}", "*")
        );
        assert!(
            arn.ends_with(&route_arn),
            "{name}: {arn} is not for {}",
            route.key()
        );
    }
}

#[test]
fn access_logs_record_every_request_without_the_token() {
    let template = template();
    let stage = &resource(&template, "HttpApiStage").properties;
    let logs = stage.get("AccessLogSettings").unwrap();
    let destination = format!("{:?}", logs.get("DestinationArn").unwrap());
    assert!(destination.contains("ApiAccessLogs"), "{destination}");
    let format = logs.get("Format").and_then(Value::as_str).unwrap();
    // A valid JSON object per line once API Gateway fills it in.
    let line: serde_json::Value = serde_json::from_str(format).unwrap();
    for field in ["requestId", "routeKey", "status", "ip"] {
        assert!(line.get(field).is_some(), "no {field} in {format}");
    }
    // A path carries the recovery token: it must not be logged.
    assert!(!format.contains("$context.path"), "{format}");
    let retention = &resource(&template, "ApiAccessLogs").properties;
    assert!(retention.get("RetentionInDays").is_some());
}

#[test]
fn every_function_names_the_workspace_crate_it_is_built_from() {
    let functions = template().functions().unwrap();
    let root = repo_template_path().parent().unwrap().to_owned();
    for f in &functions {
        let manifest = root.join("functions").join(&f.binary).join("Cargo.toml");
        assert!(
            manifest.is_file(),
            "{}: no {}",
            f.logical_id,
            manifest.display()
        );
    }
    // And every crate of functions/ is a function of the stack.
    let mut crates: Vec<String> = std::fs::read_dir(root.join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    let mut binaries: Vec<String> = functions.iter().map(|f| f.binary.clone()).collect();
    binaries.sort();
    assert_eq!(binaries, crates);
}

#[test]
fn resources_and_properties_the_reader_does_not_model_are_ignored() {
    let text = std::fs::read_to_string(repo_template_path()).unwrap();
    let extra = r"
  RateLimit:
    Type: AWS::WAFv2::WebACL
    Condition: UseWaf
    Properties:
      Rules: [{ Name: per-ip, Statement: { RateBasedStatement: { Limit: !Ref WafLimit } } }]
";
    let grown = text
        .replacen(
            "Resources:
",
            &format!("Resources:{extra}"),
            1,
        )
        .replace(
            "      ProtocolType: HTTP
",
            "      ProtocolType: HTTP
      DisableExecuteApiEndpoint: !If [UseDomain, true, false]
",
        );
    assert_ne!(grown, text);
    let template = Template::parse(&grown).unwrap();
    assert_eq!(
        template.routes().unwrap(),
        super::tests::template().routes().unwrap()
    );
    assert_eq!(
        template.api_cors().unwrap(),
        super::tests::template().api_cors().unwrap()
    );
    assert!(template.resource("RateLimit").is_some());
}

#[test]
fn a_template_without_resources_is_refused() {
    assert!(Template::parse("Parameters: {}").is_err());
}
