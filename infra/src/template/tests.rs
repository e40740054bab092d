//! The reader against the repository's template.yaml and against broken templates.
#![allow(clippy::unwrap_used)]
use super::*;
use serde::Deserialize;
use shapes::strings;

fn template() -> Template {
    Template::load(&repo_template_path()).unwrap()
}

#[test]
fn the_template_declares_the_ten_routes_of_the_api() {
    let keys: Vec<String> = template()
        .routes()
        .unwrap()
        .iter()
        .map(Route::key)
        .collect();
    assert_eq!(
        keys,
        [
            "DELETE /api/recovery/sessions/{session_id}",
            "DELETE /api/recovery/token/{token}",
            "GET /api/recovery/audio",
            "GET /api/recovery/audio/{token}",
            "GET /api/recovery/health",
            "GET /api/recovery/sessions",
            "GET /api/recovery/sessions/{session_id}",
            "POST /api/recovery/token",
            "POST /api/recovery/uploads",
            "PUT /api/recovery/sessions/{session_id}",
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

/// A stack with a JWT issuer (and an audience, which the rules ask for).
fn with_issuer() -> Settings {
    Settings::defaults()
        .with(
            "JwtIssuer",
            "https://cognito-idp.us-east-1.amazonaws.com/pool",
        )
        .with("JwtAudience", "web")
}

/// Each route's `AuthorizationType` and `AuthorizerId` in a stack deployed with `settings`.
fn route_auth(template: &Template, settings: &Settings) -> Vec<(String, String, Option<Value>)> {
    template
        .routes_under(settings)
        .unwrap()
        .iter()
        .map(|route| {
            let name = route.function.replace("Function", "Route");
            let props = &resource(template, &name).properties;
            let kind = template
                .resolve(props.get("AuthorizationType").unwrap(), settings)
                .unwrap()
                .and_then(|k| k.as_str().map(str::to_owned))
                .unwrap();
            let id = props
                .get("AuthorizerId")
                .and_then(|id| template.resolve(id, settings).unwrap());
            (route.key(), kind, id)
        })
        .collect()
}

fn is_ref_to(value: Option<&Value>, name: &str) -> bool {
    value.and_then(|v| tagged_str(v, "Ref")) == Some(name)
}

#[test]
fn the_jwt_authorizer_is_an_api_gateway_jwt_authorizer_on_the_authorization_header() {
    let template = template();
    let authorizer = resource(&template, "JwtAuthorizer");
    assert_eq!(authorizer.condition.as_deref(), Some("UseJwtAuthorizer"));
    let props: AuthorizerProperties = authorizer.properties("JwtAuthorizer").unwrap();
    assert_eq!(props.authorizer_type, "JWT");
    assert_eq!(props.identity_source, ["$request.header.Authorization"]);
    assert!(
        !template
            .has_resource("JwtAuthorizer", &Settings::defaults())
            .unwrap()
    );
    assert!(
        template
            .has_resource("JwtAuthorizer", &with_issuer())
            .unwrap()
    );
}

#[test]
fn without_an_issuer_no_route_has_an_authorizer() {
    let template = template();
    for (key, kind, id) in route_auth(&template, &Settings::defaults()) {
        assert_eq!((kind.as_str(), &id), ("NONE", &None), "{key}");
    }
}

#[test]
fn with_an_issuer_every_route_but_health_needs_a_token() {
    let template = template();
    for (key, kind, id) in route_auth(&template, &with_issuer()) {
        if key == "GET /api/recovery/health" {
            assert_eq!((kind.as_str(), &id), ("NONE", &None), "{key}");
        } else {
            assert_eq!(kind, "JWT", "{key}");
            assert!(is_ref_to(id.as_ref(), "JwtAuthorizer"), "{key}: {id:?}");
        }
    }
}

#[test]
fn require_auth_puts_the_jwt_authorizer_on_every_route_health_included() {
    let template = template();
    let settings = with_issuer().with("RequireAuth", "true");
    let routes = route_auth(&template, &settings);
    assert_eq!(routes.len(), 10);
    for (key, kind, id) in routes {
        assert_eq!(kind, "JWT", "{key}");
        assert!(is_ref_to(id.as_ref(), "JwtAuthorizer"), "{key}: {id:?}");
    }
    assert!(
        template
            .routes_under(&settings)
            .unwrap()
            .iter()
            .all(|r| r.authorizer)
    );
}

#[test]
fn the_local_jwt_mode_stands_for_an_issuer_without_require_auth() {
    // The gateway's JWT mode checks tokens on the routes flagged here: health stays open, as in a
    // stack deployed with JwtIssuer and RequireAuth at its default.
    let open: Vec<String> = template()
        .routes()
        .unwrap()
        .iter()
        .filter(|r| !r.authorizer)
        .map(Route::key)
        .collect();
    assert_eq!(open, ["GET /api/recovery/health"]);
}

#[test]
fn require_auth_without_an_issuer_and_an_audience_fails_before_deploying() {
    let template = template();
    let require = Settings::defaults().with("RequireAuth", "true");
    assert_eq!(
        template.broken_rules(&require).unwrap(),
        ["RequireAuthNeedsAnIssuer"]
    );
    let no_audience = require.with("JwtIssuer", "https://issuer.example");
    assert_eq!(
        template.broken_rules(&no_audience).unwrap(),
        ["JwtAuthorizerNeedsAnAudience"]
    );
    let complete = no_audience.with("JwtAudience", "web,app");
    assert!(template.broken_rules(&complete).unwrap().is_empty());
    assert!(
        template
            .broken_rules(&Settings::defaults())
            .unwrap()
            .is_empty()
    );
    // An empty entry in the list is no audience either.
    let blank = complete.with("JwtAudience", "web,");
    assert_eq!(
        template.broken_rules(&blank).unwrap(),
        ["JwtAuthorizerNeedsAnAudience"]
    );
}

const EDGE: [&str; 3] = ["EdgeOriginSecret", "EdgeWebAcl", "EdgeDistribution"];

fn edge_in(region: &str) -> Settings {
    Settings::defaults()
        .with("EdgeProtection", "true")
        .with("AWS::Region", region)
}

fn api_url(template: &Template, settings: &Settings) -> String {
    let text = std::fs::read_to_string(repo_template_path()).unwrap();
    let raw: Value = serde_yaml_ng::from_str(&text).unwrap();
    let url = template
        .resolve(&raw["Outputs"]["ApiUrl"]["Value"], settings)
        .unwrap()
        .unwrap();
    tagged_str(&url, "Sub").unwrap().to_owned()
}

#[test]
fn without_the_edge_switch_the_stack_has_no_edge_and_serves_the_api_directly() {
    let template = template();
    let settings = Settings::defaults().with("AWS::Region", "eu-west-1");
    for name in EDGE {
        assert!(resource(&template, name).condition.is_some(), "{name}");
        assert!(!template.has_resource(name, &settings).unwrap(), "{name}");
    }
    assert!(template.broken_rules(&settings).unwrap().is_empty());
    assert!(api_url(&template, &settings).contains("${HttpApi}.execute-api"));
}

#[test]
fn in_us_east_1_the_edge_brings_its_own_web_acl_with_a_per_ip_rate_rule() {
    let template = template();
    let settings = edge_in("us-east-1");
    assert!(template.broken_rules(&settings).unwrap().is_empty());
    for name in EDGE {
        assert!(template.has_resource(name, &settings).unwrap(), "{name}");
    }
    let acl = &resource(&template, "EdgeWebAcl").properties;
    // CloudFront takes only web ACLs of scope CLOUDFRONT.
    assert_eq!(acl["Scope"].as_str(), Some("CLOUDFRONT"));
    assert!(acl["DefaultAction"].get("Allow").is_some());
    let rules = acl["Rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 1);
    let rate = &rules[0]["Statement"]["RateBasedStatement"];
    assert_eq!(rate["AggregateKeyType"].as_str(), Some("IP"));
    assert!(is_ref_to(rate.get("Limit"), "EdgeRateLimit"));
    let block = &rules[0]["Action"]["Block"]["CustomResponse"];
    assert_eq!(block["ResponseCode"].as_u64(), Some(429));
    // Every 429 of the API says when to come back (shared/DESIGN.md): here, once the window
    // the rule counts over has passed.
    let headers = block["ResponseHeaders"].as_sequence().unwrap();
    let retry = headers
        .iter()
        .find(|h| h["Name"].as_str() == Some("Retry-After"))
        .unwrap();
    let window = rate["EvaluationWindowSec"].as_u64().unwrap();
    let after: u64 = retry["Value"].as_str().unwrap().parse().unwrap();
    assert!(after >= window, "Retry-After {after} < {window}");
    let body = block["CustomResponseBodyKey"].as_str().unwrap();
    let problem: serde_json::Value = serde_json::from_str(
        acl["CustomResponseBodies"][body]["Content"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(problem["status"], 429);

    let distribution = &resource(&template, "EdgeDistribution").properties["DistributionConfig"];
    let acl_id = template
        .resolve(&distribution["WebACLId"], &settings)
        .unwrap()
        .unwrap();
    assert_eq!(tagged_str(&acl_id, "GetAtt"), Some("EdgeWebAcl.Arn"));
    assert!(api_url(&template, &settings).starts_with("https://${EdgeDistribution.DomainName}/"));
}

#[test]
fn outside_us_east_1_the_edge_needs_an_existing_web_acl() {
    let template = template();
    let settings = edge_in("eu-west-1");
    assert_eq!(
        template.broken_rules(&settings).unwrap(),
        ["EdgeOutsideUsEast1NeedsAWebAcl"]
    );
    let arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0000";
    let settings = settings.with("EdgeWebAclArn", arn);
    assert!(template.broken_rules(&settings).unwrap().is_empty());
    assert!(!template.has_resource("EdgeWebAcl", &settings).unwrap());
    assert!(
        template
            .has_resource("EdgeDistribution", &settings)
            .unwrap()
    );
    let distribution = &resource(&template, "EdgeDistribution").properties["DistributionConfig"];
    let acl_id = template
        .resolve(&distribution["WebACLId"], &settings)
        .unwrap();
    assert!(is_ref_to(acl_id.as_ref(), "EdgeWebAclArn"), "{acl_id:?}");
}

#[test]
fn the_edge_forwards_every_route_uncached_with_the_origin_secret() {
    let template = template();
    let config = &resource(&template, "EdgeDistribution").properties["DistributionConfig"];
    let origins = config["Origins"].as_sequence().unwrap();
    assert_eq!(origins.len(), 1);
    let origin = &origins[0];
    let domain = tagged_str(&origin["DomainName"], "Sub").unwrap();
    assert!(domain.starts_with("${HttpApi}.execute-api."), "{domain}");
    assert_eq!(
        origin["CustomOriginConfig"]["OriginProtocolPolicy"].as_str(),
        Some("https-only")
    );
    // The header the functions check, valued from the stack's generated secret.
    let headers = origin["OriginCustomHeaders"].as_sequence().unwrap();
    let verify = headers
        .iter()
        .find(|h| h["HeaderName"].as_str() == Some("X-Origin-Verify"))
        .unwrap();
    let value = tagged_str(&verify["HeaderValue"], "Sub").unwrap();
    assert!(
        value.starts_with("{{resolve:secretsmanager:${EdgeOriginSecret}"),
        "{value}"
    );
    assert_eq!(
        resource(&template, "EdgeOriginSecret").condition.as_deref(),
        Some("UseEdge")
    );

    let behavior = &config["DefaultCacheBehavior"];
    assert_eq!(
        behavior["TargetOriginId"].as_str(),
        origin["Id"].as_str(),
        "the default behavior goes to the API"
    );
    assert!(config.get("CacheBehaviors").is_none());
    assert_eq!(
        behavior["ViewerProtocolPolicy"].as_str(),
        Some("https-only")
    );
    let methods = strings(behavior["AllowedMethods"].clone()).unwrap();
    for route in template.routes().unwrap() {
        assert!(methods.contains(&route.method), "{}", route.key());
    }
    assert!(methods.iter().any(|m| m == "OPTIONS"), "CORS preflights");
    // Managed policies (CloudFront Developer Guide): CachingDisabled, and
    // AllViewerExceptHostHeader, which forwards Authorization and X-Recovery-Client.
    assert_eq!(
        behavior["CachePolicyId"].as_str(),
        Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
    );
    assert_eq!(
        behavior["OriginRequestPolicyId"].as_str(),
        Some("b689b0a8-53d0-40ab-baf2-68738e2966ac")
    );
}

#[test]
fn behind_the_edge_the_functions_are_given_the_secret_the_distribution_sends() {
    // The functions refuse requests without X-Origin-Verify when ORIGIN_VERIFY_SECRET is set
    // (shared/src/http.rs): both must name the one generated secret, and only with the edge.
    let template = template();
    let text = std::fs::read_to_string(repo_template_path()).unwrap();
    let raw: Value = serde_yaml_ng::from_str(&text).unwrap();
    let variable = &raw["Globals"]["Function"]["Environment"]["Variables"]["ORIGIN_VERIFY_SECRET"];
    let with_edge = template
        .resolve(variable, &edge_in("us-east-1"))
        .unwrap()
        .unwrap();
    assert_eq!(
        tagged_str(&with_edge, "Sub"),
        Some("{{resolve:secretsmanager:${EdgeOriginSecret}:SecretString}}")
    );
    let config = &resource(&template, "EdgeDistribution").properties["DistributionConfig"];
    let sent = config["Origins"][0]["OriginCustomHeaders"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|h| h["HeaderName"].as_str() == Some("X-Origin-Verify"))
        .map(|h| h["HeaderValue"].clone())
        .unwrap();
    assert_eq!(tagged_str(&sent, "Sub"), tagged_str(&with_edge, "Sub"));
    let without_edge = template
        .resolve(
            variable,
            &Settings::defaults().with("AWS::Region", "eu-west-1"),
        )
        .unwrap();
    assert_eq!(without_edge, None, "no edge, no check");
}

#[test]
fn conditions_take_parameter_defaults_and_refuse_what_they_do_not_understand() {
    let template = template();
    assert!(
        !template
            .condition_holds("UseEdge", &Settings::defaults())
            .unwrap()
    );
    assert!(
        template
            .condition_holds("UseEdge", &edge_in("us-east-1"))
            .unwrap()
    );
    assert!(
        template
            .condition_holds("UseJwtAuthorizer", &with_issuer())
            .unwrap()
    );
    let odd = Template::parse(
        "Conditions:\n  Odd: !Select [0, [true]]\n  Regional: !Equals [!Ref AWS::Region, x]\nResources: {}\n",
    )
    .unwrap();
    assert!(odd.condition_holds("Odd", &Settings::defaults()).is_err());
    // A pseudo parameter has no default: a test must say which region it means.
    assert!(
        odd.condition_holds("Regional", &Settings::defaults())
            .is_err()
    );
    assert!(
        odd.condition_holds("Regional", &Settings::defaults().with("AWS::Region", "x"))
            .unwrap()
    );
}

#[test]
fn api_gateway_may_invoke_each_function_for_its_own_routes_only() {
    let template = template();
    let permissions: Vec<(&str, &Resource)> = template
        .resources_of_type("AWS::Lambda::Permission")
        .collect();
    let routes = template.routes().unwrap();
    // One permission per route, each naming the function of its route and that route alone.
    assert_eq!(permissions.len(), routes.len());
    for route in &routes {
        let route_arn = format!(
            "${{HttpApi}}/*/{}{}",
            route.method,
            // Each `{parameter}` segment is a wildcard in the ARN.
            route
                .path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "*" } else { seg })
                .collect::<Vec<_>>()
                .join("/")
        );
        let granting: Vec<&str> = permissions
            .iter()
            .filter(|(_, p)| {
                tagged(p.properties.get("SourceArn").unwrap(), "Sub")
                    .and_then(Value::as_str)
                    .is_some_and(|arn| arn.ends_with(&route_arn))
            })
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(granting.len(), 1, "{}: {granting:?}", route.key());
        let props = &resource(&template, granting[0]).properties;
        assert_eq!(
            props.get("Principal").and_then(Value::as_str),
            Some("apigateway.amazonaws.com")
        );
        let function = format!("{:?}", props.get("FunctionName").unwrap());
        assert!(
            function.contains(&route.function),
            "{}: {function} for {}",
            granting[0],
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
