//! API Gateway HTTP API (payload format 2.0) events, built the way API Gateway builds them, as
//! `aws_lambda_events`' typed event. The
//! local gateway uses this to call the handlers exactly as Lambda would, and the handlers' unit
//! tests use it to make their requests.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue, Method};
use lambda_http::request::LambdaRequest;
use serde_json::Value;

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

    #[must_use]
    pub fn query(mut self, raw_query: &str) -> Self {
        raw_query.clone_into(&mut self.raw_query);
        self
    }

    #[must_use]
    pub fn path_parameter(mut self, name: &str, value: &str) -> Self {
        self.path_parameters
            .insert(name.to_owned(), value.to_owned());
        self
    }

    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    #[must_use]
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }

    #[must_use]
    pub fn request_id(mut self, id: &str) -> Self {
        id.clone_into(&mut self.request_id);
        self
    }

    #[must_use]
    pub fn source_ip(mut self, ip: &str) -> Self {
        ip.clone_into(&mut self.source_ip);
        self
    }

    #[must_use]
    pub fn domain_name(mut self, host: &str) -> Self {
        host.clone_into(&mut self.domain_name);
        self
    }

    /// Claims of a JWT that API Gateway's authorizer has already validated.
    #[must_use]
    pub fn jwt_claims(mut self, claims: BTreeMap<String, String>) -> Self {
        self.jwt_claims = Some(claims);
        self
    }

    /// The event as API Gateway sends it to Lambda, in `aws_lambda_events`' type.
    pub fn to_event(&self) -> Result<ApiGatewayV2httpRequest, serde_json::Error> {
        use serde::de::Error as _;
        // API Gateway joins repeated headers and query parameters with commas and passes
        // cookies separately.
        let mut joined = BTreeMap::<String, String>::new();
        let mut cookies = Vec::new();
        for (name, value) in &self.headers {
            if name == "cookie" {
                cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
                continue;
            }
            joined
                .entry(name.clone())
                .and_modify(|v| {
                    v.push(',');
                    v.push_str(value);
                })
                .or_insert_with(|| value.clone());
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &joined {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| serde_json::Error::custom(format!("header {name:?}: {e}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| serde_json::Error::custom(format!("header {name}: {e}")))?;
            headers.insert(name, value);
        }
        let mut query = HashMap::<String, Vec<String>>::new();
        for (name, value) in url_pairs(&self.raw_query) {
            let values = query.entry(name).or_default();
            match values.first_mut() {
                Some(v) => {
                    v.push(',');
                    v.push_str(&value);
                }
                None => values.push(value),
            }
        }

        let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
        http.method = Method::from_bytes(self.method.as_bytes())
            .map_err(|e| serde_json::Error::custom(format!("method: {e}")))?;
        http.path = Some(self.raw_path.clone());
        http.protocol = Some("HTTP/1.1".to_owned());
        http.source_ip = Some(self.source_ip.clone());
        http.user_agent = Some(joined.get("user-agent").cloned().unwrap_or_default());

        let mut context = ApiGatewayV2httpRequestContext::default();
        context.account_id = Some("000000000000".to_owned());
        context.apiid = Some("local".to_owned());
        context.domain_name = Some(self.domain_name.clone());
        context.domain_prefix = Some(
            self.domain_name
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
        context.http = http;
        context.request_id = Some(self.request_id.clone());
        context.route_key = Some(self.route_key.clone());
        context.stage = Some("$default".to_owned());
        context.time = Some(String::new());
        context.time_epoch = self.time_epoch_ms;
        if let Some(claims) = &self.jwt_claims {
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims.clone().into_iter().collect();
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.jwt = Some(jwt);
            context.authorizer = Some(authorizer);
        }

        let mut event = ApiGatewayV2httpRequest::default();
        event.version = Some("2.0".to_owned());
        event.route_key = Some(self.route_key.clone());
        event.raw_path = Some(self.raw_path.clone());
        event.raw_query_string = Some(self.raw_query.clone());
        event.cookies = (!cookies.is_empty()).then_some(cookies);
        event.headers = headers;
        event.query_string_parameters = QueryMap::from(query);
        event.path_parameters = self.path_parameters.clone().into_iter().collect();
        event.request_context = context;
        if let Some(body) = &self.body {
            event.body = Some(STANDARD.encode(body));
            event.is_base64_encoded = true;
        }
        Ok(event)
    }

    /// The event as the JSON API Gateway sends to Lambda.
    pub fn to_json(&self) -> Value {
        self.to_event()
            .and_then(|event| serde_json::to_value(&event))
            .unwrap_or(Value::Null)
    }

    /// The `lambda_http::Request` the Lambda runtime would hand the handler for this event.
    pub fn into_request(self) -> Result<Request, serde_json::Error> {
        Ok(LambdaRequest::ApiGatewayV2(self.to_event()?).into())
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

    #[test]
    fn a_null_subject_handed_on_as_text_is_refused_not_shared() {
        let request = HttpApiEvent::new("GET", "/x", "/x")
            .jwt_claims(BTreeMap::from([("sub".to_owned(), "null".to_owned())]))
            .into_request()
            .unwrap();
        assert_eq!(crate::http::owner(&request).unwrap_err().status(), 401);
    }

    #[test]
    fn behind_the_edge_only_requests_carrying_its_secret_pass() {
        let secret = crate::testing::config_with(&[("ORIGIN_VERIFY_SECRET", &"e".repeat(40))])
            .origin_secret
            .unwrap();
        let with = |value: Option<&str>| {
            let mut event = HttpApiEvent::new("GET", "/x", "/x");
            if let Some(value) = value {
                event = event.header(crate::http::ORIGIN_VERIFY_HEADER, value);
            }
            crate::http::check_origin(Some(&secret), &event.into_request().unwrap())
        };
        assert!(with(Some(&"e".repeat(40))).is_ok());
        for refused in [
            None,
            Some(""),
            Some(&*"e".repeat(39)),
            Some(&*"f".repeat(40)),
        ] {
            let err = with(refused).unwrap_err();
            assert_eq!(err.status(), 403, "{refused:?}");
            assert!(err.to_string().contains("CloudFront"), "{err}");
        }
        // Without an edge, nothing is asked of the request.
        let bare = HttpApiEvent::new("GET", "/x", "/x").into_request().unwrap();
        assert!(crate::http::check_origin(None, &bare).is_ok());
    }
}
