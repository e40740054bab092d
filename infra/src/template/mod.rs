//! Reads what the local stand-ins need from `template.yaml`: the HTTP API's routes and CORS, and
//! the table's and bucket's settings. Intrinsic functions (`!Ref AllowedOrigins`...) are resolved
//! against local values where they matter and refused where they are not understood, so the
//! template cannot drift away from what runs locally without a failing start.

use std::path::Path;

mod conditions;
mod shapes;

use anyhow::{Context as _, bail};
use serde_yaml_ng::Value;

use conditions::Evaluator;
pub use conditions::Settings;
pub use shapes::Resource;
use shapes::{
    ApiProperties, BucketProperties, Document, FunctionMetadata, FunctionProperties,
    IntegrationProperties, PolicyDocument, RouteProperties, TableProperties,
};

/// One route of the HTTP API and the function that serves it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    /// API Gateway's path template, e.g. `/api/recovery/audio/{token}`.
    pub path: String,
    /// The logical id of the function in the template.
    pub function: String,
    /// Whether the route is behind the JWT authorizer: its `AuthorizationType`, with its `!If`
    /// evaluated for the settings the routes were read under, is anything but `NONE`.
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
    /// Response headers a page on an allowed origin may read.
    pub expose_headers: Vec<String>,
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

/// One of the bucket's CORS rules, as S3 has them: like [`ApiCors`], but its own resource type's
/// fields (a rule's `MaxAge` is optional), so kept apart.
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

/// One function of the stack: its logical id and the workspace binary cargo-lambda builds for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the crate (and binary) of `functions/`.
    pub binary: String,
}

#[derive(Debug, Clone)]
pub struct Template {
    doc: Document,
}

impl Template {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let doc: Document =
            serde_yaml_ng::from_str(text).context("the template has no Resources")?;
        Ok(Self { doc })
    }

    fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Resource)> {
        self.doc
            .resources
            .iter()
            .filter(move |(_, r)| r.kind == kind)
            .map(|(name, r)| (name.as_str(), r))
    }

    /// A resource by its logical id.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.doc.resources.get(name)
    }

    /// A condition of the template's `Conditions`, as written.
    pub fn condition(&self, name: &str) -> Option<&Value> {
        self.doc.conditions.get(name)
    }

    fn evaluator<'a>(&'a self, settings: &'a Settings) -> Evaluator<'a> {
        Evaluator {
            doc: &self.doc,
            settings,
        }
    }

    /// Whether the named condition holds in a stack deployed with `settings`.
    pub fn condition_holds(&self, name: &str, settings: &Settings) -> anyhow::Result<bool> {
        self.evaluator(settings).condition(name)
    }

    /// Whether a stack deployed with `settings` has the resource: it exists and its
    /// `Condition`, if any, holds.
    pub fn has_resource(&self, name: &str, settings: &Settings) -> anyhow::Result<bool> {
        match self.resource(name) {
            None => Ok(false),
            Some(Resource {
                condition: Some(c), ..
            }) => self.condition_holds(c, settings),
            Some(_) => Ok(true),
        }
    }

    /// `value` (a property, an output...) as a stack deployed with `settings` sees it: each
    /// `!If` replaced by its branch, `AWS::NoValue` left out (`None` when it is the whole value).
    pub fn resolve(&self, value: &Value, settings: &Settings) -> anyhow::Result<Option<Value>> {
        self.evaluator(settings).resolve(value)
    }

    /// The `Rules` that would stop a deploy with `settings`, by name.
    pub fn broken_rules(&self, settings: &Settings) -> anyhow::Result<Vec<String>> {
        self.evaluator(settings).broken_rules()
    }

    fn only_resource<'a>(&'a self, kind: &'a str) -> anyhow::Result<(&'a str, &'a Resource)> {
        let mut found = self.resources_of_type(kind);
        let first = found
            .next()
            .with_context(|| format!("the template has no {kind}"))?;
        if found.next().is_some() {
            bail!("the template has more than one {kind}; the local stack expects one");
        }
        Ok(first)
    }

    /// Every route of the HTTP API, its `authorizer` as in a stack deployed with a JWT issuer
    /// and every other parameter at its default: what the local gateway's JWT mode stands in for
    /// (the gateway ignores the flag without JWT mode).
    pub fn routes(&self) -> anyhow::Result<Vec<Route>> {
        self.routes_under(&jwt_mode())
    }

    /// Every route of the HTTP API (`AWS::ApiGatewayV2::Route`), followed through its
    /// integration to the function that serves it, its `authorizer` as in a stack deployed with
    /// `settings`; sorted.
    pub fn routes_under(&self, settings: &Settings) -> anyhow::Result<Vec<Route>> {
        let evaluator = self.evaluator(settings);
        let mut routes = Vec::new();
        for (name, resource) in self.resources_of_type("AWS::ApiGatewayV2::Route") {
            let props: RouteProperties = resource.properties(&format!("route {name}"))?;
            let key = &props.route_key;
            let (method, path) = key.split_once(' ').with_context(|| {
                format!("route {name}: RouteKey \"{key}\" is not \"METHOD /path\"")
            })?;
            let integration = tagged_str(&props.target, "Sub")
                .and_then(|t| t.strip_prefix("integrations/${")?.strip_suffix('}'))
                .with_context(|| {
                    format!("route {name}: Target must be !Sub \"integrations/${{Integration}}\"")
                })?;
            let function = self
                .resource(integration)
                .and_then(|i| i.properties::<IntegrationProperties>(integration).ok())
                .and_then(|i| tagged_str(&i.integration_uri, "GetAtt")?.strip_suffix(".Arn").map(str::to_owned))
                .with_context(|| {
                    format!("route {name}: integration {integration} must have IntegrationUri !GetAtt Function.Arn")
                })?;
            let kind = match &props.authorization_type {
                Some(kind) => evaluator
                    .resolve(kind)
                    .with_context(|| format!("route {name}: AuthorizationType"))?,
                None => None,
            };
            let authorizer = match kind {
                // API Gateway's default is NONE.
                None => false,
                Some(Value::String(kind)) => kind != "NONE",
                Some(other) => {
                    bail!("route {name}: AuthorizationType {other:?} is not understood")
                }
            };
            routes.push(Route {
                method: method.to_ascii_uppercase(),
                path: path.to_owned(),
                function,
                authorizer,
            });
        }
        routes.sort();
        Ok(routes)
    }

    pub fn api_cors(&self) -> anyhow::Result<ApiCors> {
        let (name, api) = self.only_resource("AWS::ApiGatewayV2::Api")?;
        let cors = api
            .properties::<ApiProperties>(name)?
            .cors_configuration
            .unwrap_or_default();
        Ok(ApiCors {
            allow_methods: cors.allow_methods,
            allow_headers: cors.allow_headers,
            expose_headers: cors.expose_headers,
            max_age: cors.max_age,
        })
    }

    pub fn table(&self) -> anyhow::Result<TableSpec> {
        let (name, table) = self.only_resource("AWS::DynamoDB::Table")?;
        let props: TableProperties = table.properties(name)?;
        let key = props
            .key_schema
            .iter()
            .find(|k| k.key_type == "HASH")
            .map(|k| k.attribute_name.clone())
            .context("the table has no HASH key")?;
        let key_type = props
            .attribute_definitions
            .iter()
            .find(|a| a.attribute_name == key)
            .map(|a| a.attribute_type.clone())
            .context("the table's key has no AttributeDefinition")?;
        Ok(TableSpec {
            partition_key: key,
            partition_key_type: key_type,
            billing_mode: props
                .billing_mode
                .unwrap_or_else(|| "PROVISIONED".to_owned()),
            ttl_attribute: props
                .time_to_live_specification
                .filter(|t| t.enabled)
                .and_then(|t| t.attribute_name),
        })
    }

    pub fn bucket(&self) -> anyhow::Result<BucketSpec> {
        let (name, bucket) = self.only_resource("AWS::S3::Bucket")?;
        let props: BucketProperties = bucket.properties(name)?;
        let block = &props.public_access_block_configuration;
        let block_public_access = block.block_public_acls
            && block.block_public_policy
            && block.ignore_public_acls
            && block.restrict_public_buckets;
        let sse_algorithm = props
            .bucket_encryption
            .and_then(|e| e.server_side_encryption_configuration.into_iter().next())
            .and_then(|rule| rule.server_side_encryption_by_default)
            .map(|d| d.sse_algorithm);
        let cors = props
            .cors_configuration
            .map(|c| c.cors_rules)
            .unwrap_or_default()
            .into_iter()
            .map(|rule| CorsRule {
                allowed_methods: rule.allowed_methods,
                allowed_headers: rule.allowed_headers,
                exposed_headers: rule.exposed_headers,
                max_age: rule.max_age,
            })
            .collect();
        let lifecycle = props
            .lifecycle_configuration
            .map(|l| l.rules)
            .unwrap_or_default()
            .into_iter()
            .filter(|rule| rule.status == "Enabled")
            .map(|rule| {
                Ok(LifecycleRule {
                    id: rule.id.context("a lifecycle rule has no Id")?,
                    prefix: rule.prefix,
                    expiration_days: rule.expiration_in_days,
                    abort_incomplete_days: rule
                        .abort_incomplete_multipart_upload
                        .map(|a| a.days_after_initiation),
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

    /// Every function of the stack (`AWS::Serverless::Function`) with the binary it is built
    /// from; sorted by logical id. The one list of the functions: scripts/functions.sh reads the
    /// same `Binary` entries for the builds.
    pub fn functions(&self) -> anyhow::Result<Vec<FunctionSpec>> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(name, resource)| {
                let metadata: FunctionMetadata =
                    serde_yaml_ng::from_value(resource.metadata.clone())
                        .with_context(|| format!("reading the Metadata of {name}"))?;
                let binary = metadata
                    .build_properties
                    .binary
                    .with_context(|| format!("{name} has no Metadata.BuildProperties.Binary"))?;
                Ok(FunctionSpec {
                    logical_id: name.to_owned(),
                    binary,
                })
            })
            .collect()
    }

    /// Each function's allowed IAM actions: the `Allow` statements of its policy documents
    /// (policy templates and managed policy names are not documents, and are skipped).
    pub fn function_policies(&self) -> Vec<FunctionPolicy> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(function, resource)| {
                let policies = resource
                    .properties::<FunctionProperties>(function)
                    .map(|p| p.policies)
                    .unwrap_or_default();
                let mut actions: Vec<String> = policies
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| serde_yaml_ng::from_value::<PolicyDocument>(p.clone()).ok())
                    .flat_map(|doc| doc.statement)
                    .filter(|s| s.effect == "Allow")
                    .flat_map(|s| s.action)
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

/// The settings the local gateway's JWT mode stands in for: a stack with a JWT authorizer and
/// every other parameter at its default (so `RequireAuth` off: health stays open).
fn jwt_mode() -> Settings {
    Settings::defaults()
        .with("JwtIssuer", "https://issuer.local")
        .with("JwtAudience", "local")
}

/// The string argument of an intrinsic function written in short form (`!Sub ...`, `!GetAtt ...`).
fn tagged_str<'a>(value: &'a Value, function: &str) -> Option<&'a str> {
    tagged(value, function)?.as_str()
}

/// The value of an intrinsic function written in short form.
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
        .map_or_else(|| "template.yaml".into(), |root| root.join("template.yaml"))
}

#[cfg(test)]
mod tests;
