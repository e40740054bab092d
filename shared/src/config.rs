//! Typed configuration, read once at cold start. A missing or bad value fails the start with a
//! message naming the variable; no request ever sees a configuration error.

use std::collections::HashMap;
use std::str::FromStr;

use crate::quota::QuotaLimits;

/// The longest a token may live, whatever the deployment sets: the product promises 24 hours.
pub const MAX_TOKEN_TTL_SECONDS: u32 = 86_400;
/// S3 caps a SigV4 presigned URL at 7 days; a recovery link has no business living that long.
pub const MAX_PRESIGN_TTL_SECONDS: u32 = 3_600;
/// S3's single-PUT limit.
pub const MAX_SINGLE_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub bucket_name: String,
    /// Ends with `/`.
    pub audio_prefix: String,
    /// Default and maximum token lifetime.
    pub token_ttl_seconds: u32,
    pub presign_ttl_seconds: u32,
    pub max_audio_bytes: u64,
    /// Largest session document (`MAX_SESSION_DOCUMENT_BYTES`).
    pub max_session_document_bytes: u64,
    /// Per owner and UTC day: uploads, uploaded bytes, tokens (`QUOTA_*_PER_DAY`).
    pub quota: QuotaLimits,
    /// How long a request waits for its counter write (`COUNTER_TIMEOUT_MS`) before it answers
    /// without it; the count is then kept for the instance's next write.
    pub counter_timeout_ms: u64,
    /// Web origins allowed by CORS (`*` alone allows any).
    pub allowed_origins: Vec<String>,
    /// Path-style S3 addressing, for emulators without wildcard DNS (`S3_FORCE_PATH_STYLE`).
    pub s3_force_path_style: bool,
    /// The value the stack's CloudFront distribution adds as `X-Origin-Verify` when the stack is
    /// deployed behind it (`ORIGIN_VERIFY_SECRET`): every request without it is refused, so the
    /// API cannot be called around the edge's per-IP limit. Unset: no check.
    pub origin_secret: Option<OriginSecret>,
}

/// A secret shared with the edge; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct OriginSecret(String);

impl OriginSecret {
    /// At least this long: the template generates 32 characters.
    pub const MIN_LEN: usize = 32;

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginSecret(..)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Parses every variable and reports all problems at once, so an operator fixes them in one go.
    #[allow(
        clippy::too_many_lines,
        reason = "one line group per setting, read top to bottom; splitting would scatter the table"
    )]
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let mut required = |name: &str, valid: fn(&str) -> bool, rule: &str| match get(name) {
            Some(v) if valid(v) => v.to_owned(),
            Some(v) => {
                errors.push(format!("{name}={v:?} is not {rule}"));
                String::new()
            }
            None => {
                errors.push(format!("{name} is required"));
                String::new()
            }
        };
        let table_name = required("TABLE_NAME", valid_table_name, "a DynamoDB table name");
        let bucket_name = required("BUCKET_NAME", valid_bucket_name, "an S3 bucket name");

        let audio_prefix = get("AUDIO_PREFIX").unwrap_or("recovery/").to_owned();
        if !valid_prefix(&audio_prefix) {
            errors.push(format!(
                "AUDIO_PREFIX={audio_prefix:?} must be path segments of A-Z a-z 0-9 - _ . ending in '/'"
            ));
        }

        let token_ttl_seconds = number(
            &mut errors,
            "TOKEN_TTL_SECONDS",
            get("TOKEN_TTL_SECONDS"),
            MAX_TOKEN_TTL_SECONDS,
            1..=MAX_TOKEN_TTL_SECONDS,
        );
        let presign_ttl_seconds = number(
            &mut errors,
            "PRESIGN_TTL_SECONDS",
            get("PRESIGN_TTL_SECONDS"),
            300,
            1..=MAX_PRESIGN_TTL_SECONDS,
        );
        let max_audio_bytes = number(
            &mut errors,
            "MAX_AUDIO_BYTES",
            get("MAX_AUDIO_BYTES"),
            50 * 1024 * 1024,
            1..=MAX_SINGLE_PUT_BYTES,
        );

        let max_session_document_bytes = number(
            &mut errors,
            "MAX_SESSION_DOCUMENT_BYTES",
            get("MAX_SESSION_DOCUMENT_BYTES"),
            1024 * 1024,
            1..=MAX_SINGLE_PUT_BYTES,
        );

        let quota = QuotaLimits {
            uploads: number(
                &mut errors,
                "QUOTA_UPLOADS_PER_DAY",
                get("QUOTA_UPLOADS_PER_DAY"),
                500,
                1..=u64::from(u32::MAX),
            ),
            upload_bytes: number(
                &mut errors,
                "QUOTA_UPLOAD_BYTES_PER_DAY",
                get("QUOTA_UPLOAD_BYTES_PER_DAY"),
                2 * 1024 * 1024 * 1024,
                1..=u64::MAX / 2,
            ),
            tokens: number(
                &mut errors,
                "QUOTA_TOKENS_PER_DAY",
                get("QUOTA_TOKENS_PER_DAY"),
                500,
                1..=u64::from(u32::MAX),
            ),
        };
        let counter_timeout_ms = number(
            &mut errors,
            "COUNTER_TIMEOUT_MS",
            get("COUNTER_TIMEOUT_MS"),
            250,
            1..=2_000,
        );

        let allowed_origins: Vec<String> = get("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect();
        for origin in &allowed_origins {
            if !valid_origin(origin) {
                errors.push(format!(
                    "ALLOWED_ORIGINS entry {origin:?} is not an origin like https://app.example.com or *"
                ));
            }
        }

        let s3_force_path_style = match get("S3_FORCE_PATH_STYLE").map(str::to_ascii_lowercase) {
            None => false,
            Some(v) if v == "true" || v == "1" => true,
            Some(v) if v == "false" || v == "0" => false,
            Some(v) => {
                errors.push(format!("S3_FORCE_PATH_STYLE={v:?} must be true or false"));
                false
            }
        };

        let origin_secret = match get("ORIGIN_VERIFY_SECRET") {
            None => None,
            Some(v) if v.len() >= OriginSecret::MIN_LEN => Some(OriginSecret(v.to_owned())),
            Some(_) => {
                // The value itself is never echoed.
                errors.push(format!(
                    "ORIGIN_VERIFY_SECRET is shorter than {} characters",
                    OriginSecret::MIN_LEN
                ));
                None
            }
        };

        if errors.is_empty() {
            Ok(Self {
                table_name,
                bucket_name,
                audio_prefix,
                token_ttl_seconds,
                presign_ttl_seconds,
                max_audio_bytes,
                max_session_document_bytes,
                quota,
                counter_timeout_ms,
                allowed_origins,
                s3_force_path_style,
                origin_secret,
            })
        } else {
            Err(ConfigError(errors))
        }
    }
}

fn number<T>(
    errors: &mut Vec<String>,
    name: &str,
    value: Option<&str>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> T
where
    T: FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let Some(raw) = value else {
        return default;
    };
    match raw.parse::<T>() {
        Ok(v) if range.contains(&v) => v,
        _ => {
            errors.push(format!(
                "{name}={raw:?} must be a whole number from {} to {}",
                range.start(),
                range.end()
            ));
            default
        }
    }
}

fn valid_table_name(s: &str) -> bool {
    (3..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn valid_bucket_name(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn valid_prefix(s: &str) -> bool {
    s.ends_with('/')
        && s[..s.len() - 1].split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

fn valid_origin(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_only_the_table_and_bucket_are_set() {
        let config =
            Config::from_vars(&vars(&[("TABLE_NAME", "tokens"), ("BUCKET_NAME", "audio")]))
                .unwrap();
        assert_eq!(config.audio_prefix, "recovery/");
        assert_eq!(config.token_ttl_seconds, 86_400);
        assert_eq!(config.presign_ttl_seconds, 300);
        assert_eq!(config.max_audio_bytes, 52_428_800);
        assert_eq!(config.max_session_document_bytes, 1_048_576);
        assert_eq!(
            config.quota,
            QuotaLimits {
                uploads: 500,
                upload_bytes: 2_147_483_648,
                tokens: 500
            }
        );
        assert_eq!(config.counter_timeout_ms, 250);
        assert!(config.allowed_origins.is_empty());
        assert_eq!(config.origin_secret, None);
    }

    #[test]
    fn an_origin_secret_must_be_long_and_is_never_printed() {
        let with = |value: &str| {
            Config::from_vars(&vars(&[
                ("TABLE_NAME", "tokens"),
                ("BUCKET_NAME", "audio"),
                ("ORIGIN_VERIFY_SECRET", value),
            ]))
        };
        let short = with("tooshort-tooshort").unwrap_err().to_string();
        assert!(short.contains("ORIGIN_VERIFY_SECRET"), "{short}");
        assert!(!short.contains("tooshort"), "{short}");
        let secret = "s".repeat(32);
        let config = with(&secret).unwrap();
        assert_eq!(
            config.origin_secret.as_ref().unwrap().as_bytes(),
            secret.as_bytes()
        );
        assert!(!format!("{config:?}").contains(&secret));
    }

    #[test]
    fn every_problem_is_reported_at_once_with_the_variable_named() {
        let err = Config::from_vars(&vars(&[
            ("BUCKET_NAME", "Not_A_Bucket"),
            ("TOKEN_TTL_SECONDS", "90000"),
            ("PRESIGN_TTL_SECONDS", "five"),
            ("AUDIO_PREFIX", "../x/"),
            ("ALLOWED_ORIGINS", "https://ok.example, ftp://nope"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "TABLE_NAME is required",
            "BUCKET_NAME",
            "TOKEN_TTL_SECONDS",
            "PRESIGN_TTL_SECONDS",
            "AUDIO_PREFIX",
            "ftp://nope",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert_eq!(err.0.len(), 6);
    }

    #[test]
    fn origins_are_trimmed_and_trailing_slashes_dropped() {
        let config = Config::from_vars(&vars(&[
            ("TABLE_NAME", "tokens"),
            ("BUCKET_NAME", "audio"),
            (
                "ALLOWED_ORIGINS",
                " http://127.0.0.1:3000/ ,https://app.example.com",
            ),
        ]))
        .unwrap();
        assert_eq!(
            config.allowed_origins,
            ["http://127.0.0.1:3000", "https://app.example.com"]
        );
    }
}
