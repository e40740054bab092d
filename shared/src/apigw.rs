//! API Gateway HTTP API (payload format 2.0) events, built the way API Gateway builds them. The
//! local gateway uses this to call the handlers exactly as Lambda would, and the handlers' unit
//! tests use it to make their requests.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use lambda_http::Request;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct HttpApiEvent {
    method: String,
    route_key: String,
    raw_path: String,
    raw_query: String,
    path_parameters: BTreeMap<String, String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    request_id: String,
    source_ip: String,
    domain_name: String,
    jwt_claims: Option<BTreeMap<String, String>>,
    time_epoch_ms: i64,
}

impl HttpApiEvent {
    /// `route` is the template route (`/api/recovery/audio/{token}`), `path` the actual one.
    pub fn new(method: &str, route: &str, path: &str) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            route_key: format!("{} {route}", method.to_ascii_uppercase()),
            raw_path: path.to_owned(),
            raw_query: String::new(),
            path_parameters: BTreeMap::new(),
            headers: Vec::new(),
            body: None,
            request_id: new_request_id(),
            source_ip: "127.0.0.1".to_owned(),
            domain_name: "localhost".to_owned(),
            jwt_claims: None,
            time_epoch_ms: time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
        }
    }

    pub fn query(mut self, raw_query: &str) -> Self {
        raw_query.clone_into(&mut self.raw_query);
        self
    }

    pub fn path_parameter(mut self, name: &str, value: &str) -> Self {
        self.path_parameters
            .insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }

    pub fn request_id(mut self, id: &str) -> Self {
        id.clone_into(&mut self.request_id);
        self
    }

    pub fn source_ip(mut self, ip: &str) -> Self {
        ip.clone_into(&mut self.source_ip);
        self
    }

    pub fn domain_name(mut self, host: &str) -> Self {
        host.clone_into(&mut self.domain_name);
        self
    }

    /// Claims of a JWT that API Gateway's authorizer has already validated.
    pub fn jwt_claims(mut self, claims: BTreeMap<String, String>) -> Self {
        self.jwt_claims = Some(claims);
        self
    }

    /// The event as API Gateway sends it to Lambda.
    pub fn to_json(&self) -> Value {
        // API Gateway joins repeated headers and query parameters with commas and passes
        // cookies separately.
        let mut headers = BTreeMap::<String, String>::new();
        let mut cookies = Vec::new();
        for (name, value) in &self.headers {
            if name == "cookie" {
                cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
                continue;
            }
            headers
                .entry(name.clone())
                .and_modify(|v| {
                    v.push(',');
                    v.push_str(value);
                })
                .or_insert_with(|| value.clone());
        }
        let mut query = BTreeMap::<String, String>::new();
        for (name, value) in url_pairs(&self.raw_query) {
            query
                .entry(name)
                .and_modify(|v| {
                    v.push(',');
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
        let mut context = json!({
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": self.domain_name,
            "domainPrefix": self.domain_name.split('.').next().unwrap_or_default(),
            "http": {
                "method": self.method,
                "path": self.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": self.source_ip,
                "userAgent": user_agent,
            },
            "requestId": self.request_id,
            "routeKey": self.route_key,
            "stage": "$default",
            "time": "",
            "timeEpoch": self.time_epoch_ms,
        });
        if let Some(claims) = &self.jwt_claims {
            context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": self.raw_path,
            "rawQueryString": self.raw_query,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": false,
        });
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        if !query.is_empty() {
            event["queryStringParameters"] = json!(query);
        }
        if !self.path_parameters.is_empty() {
            event["pathParameters"] = json!(self.path_parameters);
        }
        if let Some(body) = &self.body {
            event["body"] = json!(STANDARD.encode(body));
            event["isBase64Encoded"] = json!(true);
        }
        event
    }

    /// The `lambda_http::Request` the Lambda runtime would hand the handler for this event.
    pub fn into_request(self) -> Result<Request, serde_json::Error> {
        lambda_http::request::from_str(&self.to_json().to_string())
    }
}

/// A request id in API Gateway's style (12 random bytes, base64).
pub fn new_request_id() -> String {
    let mut bytes = [0u8; 12];
    // An all-zero id still identifies nothing secret; uniqueness is best-effort here.
    let _ = getrandom::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn url_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        (decode(k), decode(v))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;

    #[test]
    fn an_event_becomes_the_request_lambda_would_deliver() {
        let request = HttpApiEvent::new(
            "delete",
            "/api/recovery/token/{token}",
            "/api/recovery/token/abc",
        )
        .path_parameter("token", "abc")
        .query("purge=true&x=1&x=2")
        .header("X-Recovery-Client", "secret")
        .header("accept", "a")
        .header("accept", "b")
        .request_id("req-42")
        .into_request()
        .unwrap();
        assert_eq!(request.method(), "DELETE");
        assert_eq!(request.uri().path(), "/api/recovery/token/abc");
        assert_eq!(request.path_parameters().first("token"), Some("abc"));
        assert_eq!(
            request.query_string_parameters().first("purge"),
            Some("true")
        );
        assert_eq!(request.headers()["x-recovery-client"], "secret");
        match request.request_context() {
            RequestContext::ApiGatewayV2(ctx) => {
                assert_eq!(ctx.request_id.as_deref(), Some("req-42"));
                assert_eq!(
                    ctx.route_key.as_deref(),
                    Some("DELETE /api/recovery/token/{token}")
                );
            }
            other => panic!("unexpected context {other:?}"),
        }
    }

    #[test]
    fn a_binary_body_arrives_intact() {
        let bytes: Vec<u8> = (0..=255).collect();
        let request = HttpApiEvent::new("POST", "/x", "/x")
            .body(bytes.clone())
            .into_request()
            .unwrap();
        assert_eq!(request.body().as_ref(), bytes.as_slice());
    }

    #[test]
    fn jwt_claims_reach_the_request_context() {
        let request = HttpApiEvent::new("GET", "/x", "/x")
            .jwt_claims(BTreeMap::from([("sub".to_owned(), "user-1".to_owned())]))
            .into_request()
            .unwrap();
        let owner = crate::http::owner(&request).unwrap();
        assert_eq!(owner, crate::domain::Owner::from_subject("user-1").unwrap());
    }

    #[test]
    fn a_jwt_without_sub_is_refused_and_never_falls_back_to_the_client_secret() {
        let request = HttpApiEvent::new("GET", "/x", "/x")
            .header(crate::http::CLIENT_HEADER, &"A".repeat(22))
            .jwt_claims(BTreeMap::from([("email".to_owned(), "a@b.c".to_owned())]))
            .into_request()
            .unwrap();
        let err = crate::http::owner(&request).unwrap_err();
        assert_eq!(err.status(), 401);
        assert!(err.to_string().contains("sub"), "{err}");
    }
}
