//! The shapes of `template.yaml` that the local stand-ins read, as serde structs. Only what they
//! read is modelled; serde skips every other resource, property and field, so the stack can grow
//! (WAF, quotas, throttling...) without touching this reader. Values that CloudFormation lets an
//! intrinsic function stand in for (`!Sub`, `!GetAtt`, `!If`) stay YAML values, read in
//! `template/mod.rs` with `tagged`. Structs that look alike stay apart where CloudFormation's
//! shapes do: the API's CORS (`AllowMethods`, `MaxAge` a number) and the bucket's
//! (`AllowedMethods`, `MaxAge` optional) are two resource types' properties, not one.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_yaml_ng::Value;

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Document {
    #[serde(rename = "Resources")]
    pub(super) resources: BTreeMap<String, Resource>,
    #[serde(rename = "Conditions", default)]
    pub(super) conditions: BTreeMap<String, Value>,
    #[serde(rename = "Parameters", default)]
    pub(super) parameters: BTreeMap<String, Parameter>,
    #[serde(rename = "Rules", default)]
    pub(super) rules: BTreeMap<String, Rule>,
}

/// A parameter: its type and default, what conditions read of it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Parameter {
    #[serde(rename = "Type")]
    pub(super) kind: String,
    #[serde(rename = "Default", default)]
    pub(super) default: Option<Value>,
}

/// A rule of `Rules`: checked by CloudFormation before a stack is created or updated.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Rule {
    #[serde(default)]
    pub(super) rule_condition: Option<Value>,
    #[serde(default)]
    pub(super) assertions: Vec<Assertion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Assertion {
    pub(super) assert: Value,
}

/// A resource: its type, and its properties read by type on demand.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub properties: Value,
}

impl Resource {
    /// The properties as `T`; `what` names the resource in the error.
    pub(super) fn properties<T: DeserializeOwned>(&self, what: &str) -> anyhow::Result<T> {
        serde_yaml_ng::from_value(self.properties.clone())
            .with_context(|| format!("reading the properties of {what}"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RouteProperties {
    pub(super) route_key: String,
    /// `!Sub "integrations/${SomeIntegration}"`.
    pub(super) target: Value,
    /// `NONE`, or `!If [UseJwtAuthorizer, JWT, NONE]`; API Gateway's default is `NONE`.
    #[serde(default)]
    pub(super) authorization_type: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct IntegrationProperties {
    /// `!GetAtt SomeFunction.Arn`.
    pub(super) integration_uri: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ApiProperties {
    #[serde(default)]
    pub(super) cors_configuration: Option<ApiCorsProperties>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ApiCorsProperties {
    #[serde(default, deserialize_with = "strings")]
    pub(super) allow_methods: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub(super) allow_headers: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub(super) expose_headers: Vec<String>,
    #[serde(default)]
    pub(super) max_age: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableProperties {
    #[serde(default)]
    pub(super) key_schema: Vec<KeySchemaElement>,
    #[serde(default)]
    pub(super) attribute_definitions: Vec<AttributeDefinition>,
    #[serde(default)]
    pub(super) billing_mode: Option<String>,
    #[serde(default)]
    pub(super) time_to_live_specification: Option<TimeToLive>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct KeySchemaElement {
    pub(super) attribute_name: String,
    pub(super) key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttributeDefinition {
    pub(super) attribute_name: String,
    pub(super) attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TimeToLive {
    #[serde(default)]
    pub(super) attribute_name: Option<String>,
    #[serde(default)]
    pub(super) enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketProperties {
    #[serde(default)]
    pub(super) public_access_block_configuration: PublicAccessBlock,
    #[serde(default)]
    pub(super) bucket_encryption: Option<BucketEncryption>,
    #[serde(default)]
    pub(super) cors_configuration: Option<BucketCors>,
    #[serde(default)]
    pub(super) lifecycle_configuration: Option<Lifecycle>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    clippy::struct_excessive_bools,
    reason = "S3's PublicAccessBlockConfiguration: four independent switches, as CloudFormation \
              spells them"
)]
pub(super) struct PublicAccessBlock {
    #[serde(default)]
    pub(super) block_public_acls: bool,
    #[serde(default)]
    pub(super) block_public_policy: bool,
    #[serde(default)]
    pub(super) ignore_public_acls: bool,
    #[serde(default)]
    pub(super) restrict_public_buckets: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketEncryption {
    #[serde(default)]
    pub(super) server_side_encryption_configuration: Vec<EncryptionRule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EncryptionRule {
    #[serde(default)]
    pub(super) server_side_encryption_by_default: Option<EncryptionByDefault>,
}

#[derive(Debug, Deserialize)]
pub(super) struct EncryptionByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub(super) sse_algorithm: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketCors {
    #[serde(default)]
    pub(super) cors_rules: Vec<BucketCorsRule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketCorsRule {
    #[serde(default, deserialize_with = "strings")]
    pub(super) allowed_methods: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub(super) allowed_headers: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub(super) exposed_headers: Vec<String>,
    #[serde(default)]
    pub(super) max_age: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Lifecycle {
    #[serde(default)]
    pub(super) rules: Vec<LifecycleRuleProperties>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LifecycleRuleProperties {
    #[serde(default)]
    pub(super) id: Option<String>,
    pub(super) status: String,
    #[serde(default)]
    pub(super) prefix: Option<String>,
    #[serde(default)]
    pub(super) expiration_in_days: Option<i32>,
    #[serde(default)]
    pub(super) abort_incomplete_multipart_upload: Option<AbortIncomplete>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AbortIncomplete {
    pub(super) days_after_initiation: i32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct FunctionProperties {
    /// A list of policy documents, SAM policy templates and managed policy names.
    #[serde(default)]
    pub(super) policies: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PolicyDocument {
    pub(super) statement: Vec<Statement>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Statement {
    pub(super) effect: String,
    #[serde(default, deserialize_with = "strings")]
    pub(super) action: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct FunctionMetadata {
    #[serde(rename = "BuildProperties", default)]
    pub(super) build_properties: BuildProperties,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct BuildProperties {
    #[serde(rename = "Binary", default)]
    pub(super) binary: Option<String>,
}

/// A string or a list of strings; intrinsic functions (tagged values) are skipped, since the
/// local stand-ins supply those values themselves.
pub(super) fn strings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => vec![s],
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    })
}
