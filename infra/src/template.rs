//! Reads what the local stand-ins need from `template.yaml`: the HTTP API's routes and CORS, and
//! the table's and bucket's settings. Intrinsic functions (`!Ref AllowedOrigins`...) are resolved
//! against local values where they matter and refused where they are not understood, so the
//! template cannot drift away from what runs locally without a failing start.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde_yaml_ng::Value;

/// One route of the HTTP API and the function that serves it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    /// API Gateway's path template, e.g. `/api/recovery/audio/{token}`.
    pub path: String,
    /// The logical id of the function in the template.
    pub function: String,
    /// Whether the route is behind the stack's JWT authorizer when it has one: its
    /// `AuthorizationType` is anything but `NONE` (`!If [UseJwtAuthorizer, JWT, NONE]`).
    pub authorizer: bool,
}

impl Route {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The API's CORS settings, with `AllowOrigins` left to the local configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiCors {
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub partition_key: String,
    pub partition_key_type: String,
    pub billing_mode: String,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRule {
    pub id: String,
    pub prefix: Option<String>,
    pub expiration_days: Option<i32>,
    pub abort_incomplete_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsRule {
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub exposed_headers: Vec<String>,
    pub max_age: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    pub block_public_access: bool,
    pub sse_algorithm: Option<String>,
    pub cors: Vec<CorsRule>,
    pub lifecycle: Vec<LifecycleRule>,
}

/// A function's IAM statements, as written in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionPolicy {
    pub function: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

impl Template {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let root: Value = serde_yaml_ng::from_str(text)?;
        if root.get("Resources").and_then(Value::as_mapping).is_none() {
            bail!("the template has no Resources");
        }
        Ok(Self { root })
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
    }

    fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.resources()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
    }

    fn resource(&self, name: &str) -> Option<&Value> {
        self.resources().find(|(n, _)| *n == name).map(|(_, r)| r)
    }

    fn only_resource<'a>(&'a self, kind: &'a str) -> anyhow::Result<(&'a str, &'a Value)> {
        let mut found = self.resources_of_type(kind);
        let first = found
            .next()
            .with_context(|| format!("the template has no {kind}"))?;
        if found.next().is_some() {
            bail!("the template has more than one {kind}; the local stack expects one");
        }
        Ok(first)
    }

    /// Every route of the HTTP API (`AWS::ApiGatewayV2::Route`), followed through its
    /// integration to the function that serves it; sorted.
    pub fn routes(&self) -> anyhow::Result<Vec<Route>> {
        let mut routes = Vec::new();
        for (name, resource) in self.resources_of_type("AWS::ApiGatewayV2::Route") {
            let props = resource.get("Properties");
            let key = props
                .and_then(|p| p.get("RouteKey"))
                .and_then(Value::as_str)
                .with_context(|| format!("route {name} has no RouteKey"))?;
            let (method, path) = key.split_once(' ').with_context(|| {
                format!("route {name}: RouteKey \"{key}\" is not \"METHOD /path\"")
            })?;
            // `Target: !Sub "integrations/${SomeIntegration}"`.
            let integration = props
                .and_then(|p| p.get("Target"))
                .and_then(|t| tagged(t, "Sub"))
                .and_then(Value::as_str)
                .and_then(|t| t.strip_prefix("integrations/${"))
                .and_then(|t| t.strip_suffix('}'))
                .with_context(|| {
                    format!("route {name}: Target must be !Sub \"integrations/${{Integration}}\"")
                })?;
            // `IntegrationUri: !GetAtt SomeFunction.Arn`.
            let function = self
                .resource(integration)
                .and_then(|i| i.get("Properties"))
                .and_then(|p| p.get("IntegrationUri"))
                .and_then(|u| tagged(u, "GetAtt"))
                .and_then(Value::as_str)
                .and_then(|arn| arn.strip_suffix(".Arn"))
                .with_context(|| {
                    format!("route {name}: integration {integration} must have IntegrationUri !GetAtt Function.Arn")
                })?;
            let authorizer = props
                .and_then(|p| p.get("AuthorizationType"))
                .is_some_and(|t| t.as_str() != Some("NONE"));
            routes.push(Route {
                method: method.to_ascii_uppercase(),
                path: path.to_owned(),
                function: function.to_owned(),
                authorizer,
            });
        }
        routes.sort();
        Ok(routes)
    }

    pub fn api_cors(&self) -> anyhow::Result<ApiCors> {
        let (_, api) = self.only_resource("AWS::ApiGatewayV2::Api")?;
        let Some(cors) = api
            .get("Properties")
            .and_then(|p| p.get("CorsConfiguration"))
        else {
            return Ok(ApiCors::default());
        };
        Ok(ApiCors {
            allow_methods: strings(cors.get("AllowMethods")),
            allow_headers: strings(cors.get("AllowHeaders")),
            max_age: cors.get("MaxAge").and_then(Value::as_u64).unwrap_or(0),
        })
    }

    pub fn table(&self) -> anyhow::Result<TableSpec> {
        let (_, table) = self.only_resource("AWS::DynamoDB::Table")?;
        let props = table
            .get("Properties")
            .context("the table has no Properties")?;
        let key = props
            .get("KeySchema")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .find(|k| k.get("KeyType").and_then(Value::as_str) == Some("HASH"))
            .and_then(|k| k.get("AttributeName"))
            .and_then(Value::as_str)
            .context("the table has no HASH key")?;
        let key_type = props
            .get("AttributeDefinitions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .find(|a| a.get("AttributeName").and_then(Value::as_str) == Some(key))
            .and_then(|a| a.get("AttributeType"))
            .and_then(Value::as_str)
            .context("the table's key has no AttributeDefinition")?;
        let ttl = props
            .get("TimeToLiveSpecification")
            .filter(|t| t.get("Enabled").and_then(Value::as_bool) == Some(true));
        Ok(TableSpec {
            partition_key: key.to_owned(),
            partition_key_type: key_type.to_owned(),
            billing_mode: props
                .get("BillingMode")
                .and_then(Value::as_str)
                .unwrap_or("PROVISIONED")
                .to_owned(),
            ttl_attribute: ttl
                .and_then(|t| t.get("AttributeName"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    pub fn bucket(&self) -> anyhow::Result<BucketSpec> {
        let (_, bucket) = self.only_resource("AWS::S3::Bucket")?;
        let props = bucket
            .get("Properties")
            .context("the bucket has no Properties")?;
        let block = props.get("PublicAccessBlockConfiguration");
        let flag =
            |name: &str| block.and_then(|b| b.get(name)).and_then(Value::as_bool) == Some(true);
        let block_public_access = [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ]
        .iter()
        .all(|name| flag(name));
        let sse_algorithm = props
            .get("BucketEncryption")
            .and_then(|e| e.get("ServerSideEncryptionConfiguration"))
            .and_then(Value::as_sequence)
            .and_then(|rules| rules.first())
            .and_then(|r| r.get("ServerSideEncryptionByDefault"))
            .and_then(|d| d.get("SSEAlgorithm"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let cors = props
            .get("CorsConfiguration")
            .and_then(|c| c.get("CorsRules"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .map(|rule| CorsRule {
                allowed_methods: strings(rule.get("AllowedMethods")),
                allowed_headers: strings(rule.get("AllowedHeaders")),
                exposed_headers: strings(rule.get("ExposedHeaders")),
                max_age: rule
                    .get("MaxAge")
                    .and_then(Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok()),
            })
            .collect();
        let lifecycle = props
            .get("LifecycleConfiguration")
            .and_then(|c| c.get("Rules"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter(|rule| rule.get("Status").and_then(Value::as_str) == Some("Enabled"))
            .map(|rule| {
                let days = |v: Option<&Value>| {
                    v.and_then(Value::as_i64)
                        .and_then(|d| i32::try_from(d).ok())
                };
                Ok(LifecycleRule {
                    id: rule
                        .get("Id")
                        .and_then(Value::as_str)
                        .context("a lifecycle rule has no Id")?
                        .to_owned(),
                    prefix: rule
                        .get("Prefix")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    expiration_days: days(rule.get("ExpirationInDays")),
                    abort_incomplete_days: days(
                        rule.get("AbortIncompleteMultipartUpload")
                            .and_then(|a| a.get("DaysAfterInitiation")),
                    ),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(BucketSpec {
            block_public_access,
            sse_algorithm,
            cors,
            lifecycle,
        })
    }

    /// Each function's allowed IAM actions.
    pub fn function_policies(&self) -> Vec<FunctionPolicy> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(function, resource)| {
                let mut actions: Vec<String> = resource
                    .get("Properties")
                    .and_then(|p| p.get("Policies"))
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("Statement"))
                    .filter_map(Value::as_sequence)
                    .flatten()
                    .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
                    .flat_map(|s| strings(s.get("Action")))
                    .collect();
                actions.sort();
                actions.dedup();
                FunctionPolicy {
                    function: function.to_owned(),
                    actions,
                }
            })
            .collect()
    }
}

/// A string or a list of strings; intrinsic functions (tagged values) are skipped, since the
/// local stand-ins supply those values themselves.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The value of an intrinsic function written in short form (`!Sub ...`, `!GetAtt ...`).
fn tagged<'a>(value: &'a Value, function: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(t) if t.tag == function => Some(&t.value),
        _ => None,
    }
}

/// The repository's `template.yaml`.
pub fn repo_template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("template.yaml"))
        .unwrap_or_else(|| "template.yaml".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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

    fn resource<'a>(template: &'a Template, name: &str) -> &'a Value {
        template
            .resource(name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn every_route_but_health_is_behind_the_optional_jwt_authorizer() {
        let template = template();
        let condition = template
            .root
            .get("Conditions")
            .unwrap()
            .get("UseJwtAuthorizer");
        // Only with an issuer: `!Not [!Equals [!Ref JwtIssuer, ""]]`.
        assert!(
            format!("{condition:?}").contains("JwtIssuer"),
            "{condition:?}"
        );
        let authorizer = resource(&template, "JwtAuthorizer");
        assert_eq!(
            authorizer.get("Condition").and_then(Value::as_str),
            Some("UseJwtAuthorizer")
        );
        let props = authorizer.get("Properties").unwrap();
        assert_eq!(
            props.get("AuthorizerType").and_then(Value::as_str),
            Some("JWT")
        );
        assert_eq!(
            strings(props.get("IdentitySource")),
            ["$request.header.Authorization"]
        );
        for route in template.routes().unwrap() {
            let name = route.function.replace("Function", "Route");
            let props = resource(&template, &name).get("Properties").unwrap();
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
            let props = resource(&template, &name).get("Properties").unwrap();
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
        let stage = resource(&template, "HttpApiStage")
            .get("Properties")
            .unwrap();
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
        let retention = resource(&template, "ApiAccessLogs")
            .get("Properties")
            .unwrap();
        assert!(retention.get("RetentionInDays").is_some());
    }

    #[test]
    fn a_template_without_resources_is_refused() {
        assert!(Template::parse("Parameters: {}").is_err());
    }
}
