//! The OpenAPI document, for checking the routes and validating real responses against it.

use std::path::PathBuf;

use serde_json::{Value, json};

#[derive(Debug)]
pub struct OpenApi {
    doc: Value,
}

pub fn repo_openapi_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")
}

impl OpenApi {
    pub fn load() -> Self {
        let text = std::fs::read_to_string(repo_openapi_path()).expect("reading openapi.yaml");
        let doc: Value = serde_yaml_ng::from_str(&text).expect("openapi.yaml is YAML");
        Self { doc }
    }

    pub fn version(&self) -> &str {
        self.doc["openapi"].as_str().unwrap_or_default()
    }

    /// Every operation as `METHOD /path`, sorted.
    pub fn operations(&self) -> Vec<String> {
        let mut ops: Vec<String> = self.doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(method, _)| {
                        ["get", "put", "post", "delete", "patch", "head", "options"]
                            .contains(&method.as_str())
                    })
                    .map(move |(method, _)| format!("{} {path}", method.to_ascii_uppercase()))
            })
            .collect();
        ops.sort();
        ops
    }

    fn operation(&self, route: &str) -> &Value {
        let (method, path) = route.split_once(' ').expect("route is `METHOD /path`");
        let op = &self.doc["paths"][path][method.to_ascii_lowercase()];
        assert!(op.is_object(), "openapi.yaml has no operation {route}");
        op
    }

    /// The documented statuses of an operation, sorted.
    pub fn statuses(&self, route: &str) -> Vec<u16> {
        let mut statuses: Vec<u16> = self.operation(route)["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(status, _)| status.parse().ok())
            .collect();
        statuses.sort_unstable();
        statuses
    }

    /// Resolves a local `$ref` (one level, as used in the document's responses).
    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.doc.pointer(pointer).unwrap_or(&Value::Null),
            None => v,
        }
    }

    /// Asserts that a response of `route` with `status` and `content_type` is documented, and that
    /// `body` matches its schema.
    pub fn assert_response(&self, route: &str, status: u16, content_type: &str, body: &Value) {
        let response = &self.operation(route)["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{route} does not document status {status}"
        );
        let response = self.deref(response);
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let schema = &response["content"][media]["schema"];
        assert!(
            schema.is_object(),
            "{route} {status} documents no {media} body"
        );
        self.assert_matches(schema, body, &format!("{route} {status}"));
    }

    /// Asserts that `body` matches the component schema `name`.
    pub fn assert_schema(&self, name: &str, body: &Value) {
        let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        self.assert_matches(&schema, body, name);
    }

    fn assert_matches(&self, schema: &Value, body: &Value, what: &str) {
        // The schema is checked in the context of the whole document so `$ref`s resolve.
        let mut root = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema" });
        root["components"] = self.doc["components"].clone();
        root["allOf"] = json!([schema]);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .expect("the schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} body does not match openapi.yaml: {errors:?}\nbody: {body}"
        );
    }
}
