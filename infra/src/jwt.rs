//! The local gateway's JWT mode: what API Gateway's JWT authorizer does for a stack deployed with
//! `JwtIssuer`, so that the bearer path runs locally end to end.
//!
//! With `JWT_ISSUER`, `JWT_AUDIENCE` (comma-separated) and `JWT_JWKS_FILE` (a JWKS document of
//! RS256 public keys) set, every route the template puts behind the authorizer needs
//! `Authorization: Bearer <jwt>`: the signature is verified against the JWKS (the key named by the
//! token's `kid`, or each key when it names none), `iss` must be the issuer, `aud` one of the
//! audiences (or, without `aud`, `client_id`, as Cognito access tokens carry it), `exp` present
//! and not past, `nbf` not in the future. Anything else is API Gateway's own 401
//! `{"message":"Unauthorized"}`. The claims of a good token reach the handlers in
//! `requestContext.authorizer.jwt.claims`, stringified as API Gateway does.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Verifies bearer tokens against one issuer, its audiences and its keys.
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    /// Each key with its `kid`, if the JWKS names one.
    keys: Vec<(Option<String>, DecodingKey)>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// Why a request was refused; the client only ever sees `{"message":"Unauthorized"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthorized {
    #[error("no bearer token")]
    Missing,
    #[error("the token's signature, header or claims are invalid: {0}")]
    Invalid(String),
    #[error("no key of the JWKS verifies the token")]
    UnknownKey,
    #[error("the token is for another audience")]
    Audience,
}

/// The environment variables of JWT mode.
pub const ENV_ISSUER: &str = "JWT_ISSUER";
pub const ENV_AUDIENCE: &str = "JWT_AUDIENCE";
pub const ENV_JWKS_FILE: &str = "JWT_JWKS_FILE";

impl JwtVerifier {
    /// JWT mode from the environment: `None` when none of the three variables is set; an error
    /// naming what is missing when only some are, or when the JWKS cannot be used.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match (var(ENV_ISSUER), var(ENV_AUDIENCE), var(ENV_JWKS_FILE)) {
            (None, None, None) => Ok(None),
            (Some(issuer), Some(audience), Some(file)) => {
                let audiences: Vec<String> = audience
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect();
                Self::from_file(&issuer, audiences, Path::new(&file)).map(Some)
            }
            _ => bail!(
                "JWT mode needs all of {ENV_ISSUER}, {ENV_AUDIENCE} and {ENV_JWKS_FILE}, or none"
            ),
        }
    }

    pub fn from_file(issuer: &str, audiences: Vec<String>, jwks: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(jwks)
            .with_context(|| format!("reading {ENV_JWKS_FILE} {}", jwks.display()))?;
        Self::new(issuer, audiences, &text)
            .with_context(|| format!("using {ENV_JWKS_FILE} {}", jwks.display()))
    }

    /// From a JWKS document; keys that are not RSA are skipped, none at all is an error.
    pub fn new(issuer: &str, audiences: Vec<String>, jwks: &str) -> anyhow::Result<Self> {
        if audiences.is_empty() {
            bail!("{ENV_AUDIENCE} names no audience");
        }
        let set: JwkSet = serde_json::from_str(jwks).context("the JWKS is not a JWK set")?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
                continue;
            }
            let key = DecodingKey::from_jwk(jwk).context("an RSA key of the JWKS is invalid")?;
            keys.push((jwk.common.key_id.clone(), key));
        }
        if keys.is_empty() {
            bail!("the JWKS holds no RSA key");
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audiences,
            keys,
        })
    }

    /// The claims of the bearer token in `authorization` (the header's value), or why not.
    pub fn verify(
        &self,
        authorization: Option<&str>,
    ) -> Result<BTreeMap<String, String>, Unauthorized> {
        let token = authorization
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Unauthorized::Missing)?;
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Unauthorized::Invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(Unauthorized::Invalid(format!(
                "{:?} is not RS256",
                header.alg
            )));
        }
        // API Gateway's JWT authorizer picks the key by the token's `kid` and refuses a token that
        // names none; so does this stand-in, so a token that works here works there.
        let Some(kid) = header.kid.as_deref() else {
            return Err(Unauthorized::Invalid(
                "the token's header names no key (`kid`)".to_owned(),
            ));
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 0;
        // Checked below: API Gateway accepts `client_id` where `aud` is absent.
        validation.validate_aud = false;

        let candidates = self
            .keys
            .iter()
            .filter(|(key_id, _)| key_id.as_deref() == Some(kid));
        let mut last = Unauthorized::UnknownKey;
        for (_, key) in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => {
                    self.check_audience(&data.claims)?;
                    check_subject(&data.claims)?;
                    return Ok(stringify_claims(data.claims));
                }
                Err(e) => {
                    last = match e.kind() {
                        jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                            Unauthorized::UnknownKey
                        }
                        _ => Unauthorized::Invalid(e.to_string()),
                    }
                }
            }
        }
        Err(last)
    }

    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), Unauthorized> {
        let named = |v: &Value| {
            v.as_str()
                .is_some_and(|a| self.audiences.iter().any(|x| x == a))
        };
        let ok = match claims.get("aud") {
            Some(Value::Array(list)) => list.iter().any(named),
            Some(aud) => named(aud),
            None => claims.get("client_id").is_some_and(named),
        };
        if ok {
            Ok(())
        } else {
            Err(Unauthorized::Audience)
        }
    }
}

/// The caller's identity is `sub`, so it must be a non-empty string: handed on as text, `null`,
/// `123` or `[a b]` would be owners shared by every token that carries the same value.
fn check_subject(claims: &Map<String, Value>) -> Result<(), Unauthorized> {
    match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => Ok(()),
        _ => Err(Unauthorized::Invalid(
            "the token's `sub` claim is missing or not a non-empty string".to_owned(),
        )),
    }
}

/// Claims as API Gateway hands them to a Lambda: strings as they are, lists as `[a b]`, other
/// values in their JSON form.
fn stringify_claims(claims: Map<String, Value>) -> BTreeMap<String, String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    claims
        .into_iter()
        .map(|(name, value)| {
            let value = match &value {
                Value::Array(items) => {
                    format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(" "))
                }
                other => text(other),
            };
            (name, value)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    pub const ISSUER: &str = "https://issuer.test/pool";
    pub const AUDIENCE: &str = "recovery-web";
    const JWKS: &str = include_str!("../fixtures/jwt/jwks.json");
    const KEY_A: &str = include_str!("../fixtures/jwt/test-key-a.pem");
    const KEY_B: &str = include_str!("../fixtures/jwt/test-key-b.pem");

    pub fn verifier() -> JwtVerifier {
        JwtVerifier::new(ISSUER, vec!["other-app".into(), AUDIENCE.into()], JWKS).unwrap()
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    pub fn good_claims(sub: &str) -> Value {
        json!({ "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "iat": now() })
    }

    fn sign_with(pem: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// A token signed by the JWKS's key.
    pub fn sign(claims: &Value) -> String {
        sign_with(KEY_A, Some("test-key-a"), claims)
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[test]
    fn a_good_token_gives_its_claims_as_api_gateway_does() {
        let mut claims = good_claims("user-1");
        claims["groups"] = json!(["a", "b"]);
        let got = verifier().verify(Some(&bearer(&sign(&claims)))).unwrap();
        assert_eq!(got["sub"], "user-1");
        assert_eq!(got["iss"], ISSUER);
        assert_eq!(got["groups"], "[a b]");
        assert_eq!(got["exp"], claims["exp"].to_string());
        // An audience list, or Cognito's client_id where there is no aud.
        let mut list = good_claims("u");
        list["aud"] = json!(["x", AUDIENCE]);
        assert!(verifier().verify(Some(&bearer(&sign(&list)))).is_ok());
        let mut cognito = good_claims("u");
        cognito.as_object_mut().unwrap().remove("aud");
        cognito["client_id"] = json!(AUDIENCE);
        assert!(verifier().verify(Some(&bearer(&sign(&cognito)))).is_ok());
    }

    #[test]
    fn a_missing_or_malformed_header_is_refused() {
        let v = verifier();
        assert_eq!(v.verify(None), Err(Unauthorized::Missing));
        assert_eq!(v.verify(Some("")), Err(Unauthorized::Missing));
        assert_eq!(v.verify(Some("Bearer ")), Err(Unauthorized::Missing));
        let token = sign(&good_claims("u"));
        assert_eq!(
            v.verify(Some(&format!("Basic {token}"))),
            Err(Unauthorized::Missing)
        );
        assert!(matches!(
            v.verify(Some("Bearer not.a.jwt")),
            Err(Unauthorized::Invalid(_))
        ));
    }

    #[test]
    fn a_token_that_names_no_key_is_refused_as_api_gateway_refuses_it() {
        // Signed by a key the JWKS holds, but without `kid` in its header.
        let unnamed = sign_with(KEY_A, None, &good_claims("u"));
        let refused = verifier().verify(Some(&bearer(&unnamed)));
        assert!(
            matches!(&refused, Err(Unauthorized::Invalid(why)) if why.contains("kid")),
            "{refused:?}"
        );
    }

    #[test]
    fn a_subject_that_is_not_a_non_empty_string_is_refused() {
        // Each would become an owner shared by every token carrying the same value.
        for sub in [
            json!(null),
            json!(123),
            json!(["a", "b"]),
            json!(""),
            json!({"id": 1}),
        ] {
            let mut claims = good_claims("u");
            claims["sub"] = sub.clone();
            let refused = verifier().verify(Some(&bearer(&sign(&claims))));
            // (jsonwebtoken itself refuses some shapes before the subject check does.)
            assert!(
                matches!(&refused, Err(Unauthorized::Invalid(_))),
                "{sub}: {refused:?}"
            );
        }
        let mut claims = good_claims("u");
        claims.as_object_mut().unwrap().remove("sub");
        assert!(verifier().verify(Some(&bearer(&sign(&claims)))).is_err());
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let v = verifier();
        // Signed by a key the JWKS does not hold, named as if it were the JWKS's key.
        let forged = sign_with(KEY_B, Some("test-key-a"), &good_claims("u"));
        assert_eq!(
            v.verify(Some(&bearer(&forged))),
            Err(Unauthorized::UnknownKey)
        );
        let unknown_kid = sign_with(KEY_A, Some("elsewhere"), &good_claims("u"));
        assert_eq!(
            v.verify(Some(&bearer(&unknown_kid))),
            Err(Unauthorized::UnknownKey)
        );
        // A good token whose claims were swapped after signing.
        let good = sign(&good_claims("u"));
        let other = sign(&good_claims("admin"));
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap();
        let spliced = parts.join(".");
        let _ = v.verify(Some(&bearer(&spliced))).unwrap_err();
        // HS256 signed with the public key's text: the classic algorithm confusion.
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &good_claims("u"),
            &EncodingKey::from_secret(JWKS.as_bytes()),
        )
        .unwrap();
        assert!(matches!(
            v.verify(Some(&bearer(&hs))),
            Err(Unauthorized::Invalid(_))
        ));
    }

    #[test]
    fn wrong_issuer_audience_or_time_is_refused() {
        let v = verifier();
        let with = |name: &str, value: Value| {
            let mut claims = good_claims("u");
            claims[name] = value;
            v.verify(Some(&bearer(&sign(&claims))))
        };
        assert!(matches!(
            with("iss", json!("https://evil.test")),
            Err(Unauthorized::Invalid(_))
        ));
        assert_eq!(
            with("aud", json!("someone-else")),
            Err(Unauthorized::Audience)
        );
        assert!(matches!(
            with("exp", json!(now() - 5)),
            Err(Unauthorized::Invalid(_))
        ));
        assert!(matches!(
            with("nbf", json!(now() + 600)),
            Err(Unauthorized::Invalid(_))
        ));
        // Claims of the wrong type are not skipped.
        assert!(matches!(
            with("exp", json!("never")),
            Err(Unauthorized::Invalid(_))
        ));
        assert!(matches!(
            with("nbf", json!("later")),
            Err(Unauthorized::Invalid(_))
        ));
        for missing in ["exp", "iss"] {
            let mut claims = good_claims("u");
            claims.as_object_mut().unwrap().remove(missing);
            let got = v.verify(Some(&bearer(&sign(&claims))));
            assert!(
                matches!(got, Err(Unauthorized::Invalid(_))),
                "{missing}: {got:?}"
            );
        }
        let mut no_audience = good_claims("u");
        no_audience.as_object_mut().unwrap().remove("aud");
        assert_eq!(
            v.verify(Some(&bearer(&sign(&no_audience)))),
            Err(Unauthorized::Audience)
        );
    }

    #[test]
    fn a_jwks_without_rsa_keys_or_an_empty_audience_is_refused() {
        assert!(JwtVerifier::new(ISSUER, vec![AUDIENCE.into()], r#"{"keys":[]}"#).is_err());
        assert!(JwtVerifier::new(ISSUER, vec![], JWKS).is_err());
        assert!(JwtVerifier::new(ISSUER, vec![AUDIENCE.into()], "not json").is_err());
    }
}
