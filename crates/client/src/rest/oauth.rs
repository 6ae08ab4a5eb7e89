//! OAuth 2.0 against Zoho's accounts server: a refresh token and a client's id and secret give
//! an access token of an hour and the `api_domain` to call; a self-client grant code gives the
//! refresh token once. The token endpoint always answers HTTP 200; its errors are JSON
//! `{"error": ...}` bodies, each a typed [`OAuthError`].

use std::time::Duration;

use tracing::warn;

use crate::ClientError;
use crate::endpoint::{DataCentre, Endpoint};
use crate::retry::{RetryPolicy, seed};
use crate::secret::Secret;
use crate::transport::{Failure, Transport};

/// The path of the token endpoint on the accounts server.
pub const TOKEN_PATH: &str = "/oauth/v2/token";

/// The credentials of one org's OAuth client.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The accounts server (`https://accounts.zoho.eu`, or the emulator's URL).
    pub accounts_url: Endpoint,
    /// The client id (`1000.XXXX`); not a secret, but part of the token cache's key.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// The refresh token (it does not expire until revoked).
    pub refresh_token: Secret,
}

impl OAuthConfig {
    /// The credentials for the accounts server of data centre `dc`.
    pub fn for_data_centre(
        dc: DataCentre,
        client_id: impl Into<String>,
        client_secret: Secret,
        refresh_token: Secret,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            accounts_url: Endpoint::parse(dc.accounts_url())?,
            client_id: client_id.into(),
            client_secret,
            refresh_token,
        })
    }

    /// Replaces every secret of the configuration in `text`.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.refresh_token.redact(&self.client_secret.redact(text))
    }
}

/// Why the token endpoint gave no access token. No variant carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// `invalid_code`: the refresh token (or grant code) is unknown, revoked, expired or used.
    #[error(
        "Zoho's accounts server refused the refresh token or grant code (invalid_code): it is revoked, expired, already used, or belongs to another data centre"
    )]
    InvalidCode,
    /// `invalid_client`: the client id or secret is wrong (or the client is another DC's).
    #[error(
        "Zoho's accounts server refused the client (invalid_client): the client id or client secret is wrong, or the client was registered in another data centre"
    )]
    InvalidClient,
    /// `unsupported_grant_type`.
    #[error("Zoho's accounts server does not support this grant type (unsupported_grant_type)")]
    UnsupportedGrantType,
    /// `Access Denied`: more than 10 access tokens minted for one refresh token in 10 minutes.
    #[error(
        "Zoho's accounts server refused to mint another access token ({message}): at most 10 are minted per refresh token in 10 minutes; wait and rerun"
    )]
    AccessDenied {
        /// The server's message (secrets redacted).
        message: String,
    },
    /// Another `error` value.
    #[error("Zoho's accounts server answered the error {error:?}")]
    Other {
        /// The `error` value (secrets redacted).
        error: String,
    },
    /// An answer without `access_token` (or, for a grant code, without `refresh_token`), or
    /// not JSON at all.
    #[error("the token endpoint's answer is unusable: {reason}")]
    BadAnswer {
        /// What is wrong with it.
        reason: String,
    },
    /// The accounts server could not be reached (after retries).
    #[error("the token endpoint could not be reached: {reason}")]
    Transport {
        /// What the transport reported (secrets redacted).
        reason: String,
    },
    /// The answer's `api_domain` breaks the HTTPS policy or is no URL.
    #[error("the token endpoint named an API domain zcrm will not call: {reason}")]
    ApiDomain {
        /// Why it is refused.
        reason: String,
    },
}

impl OAuthError {
    /// What kind of failure this is, for the exit code: wrong credentials are usage, a
    /// throttle or an unreachable server remote.
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            Self::InvalidCode | Self::InvalidClient | Self::UnsupportedGrantType => {
                crate::ErrorClass::Usage
            }
            Self::ApiDomain { .. } => crate::ErrorClass::Usage,
            Self::AccessDenied { .. }
            | Self::Other { .. }
            | Self::BadAnswer { .. }
            | Self::Transport { .. } => crate::ErrorClass::Remote,
        }
    }
}

/// What the token endpoint gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The access token.
    pub access_token: Secret,
    /// `api_domain`: the origin to call the CRM on, when the answer names one.
    pub api_domain: Option<String>,
    /// Seconds the access token lives (`expires_in`, or the older `expires_in_sec`; 3,600
    /// when neither is given).
    pub expires_in: u64,
    /// The refresh token (only when a grant code was exchanged).
    pub refresh_token: Option<Secret>,
}

#[derive(serde::Deserialize)]
struct RawGrant {
    access_token: Option<String>,
    refresh_token: Option<String>,
    api_domain: Option<String>,
    expires_in: Option<serde_json::Value>,
    expires_in_sec: Option<serde_json::Value>,
    error: Option<String>,
    message: Option<String>,
}

fn seconds(v: Option<&serde_json::Value>) -> Option<u64> {
    match v? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a token endpoint answer (contract decision CD-1): an access token, or the typed
/// error its `error` names. `redact` removes the request's secrets from any text kept.
pub fn parse_token_response(
    body: &[u8],
    redact: &dyn Fn(&str) -> String,
) -> Result<TokenGrant, OAuthError> {
    let raw: RawGrant = serde_json::from_slice(body)
        .map_err(|e| OAuthError::BadAnswer { reason: format!("not a JSON token answer ({e})") })?;
    if let Some(error) = raw.error {
        return Err(match error.as_str() {
            "invalid_code" => OAuthError::InvalidCode,
            "invalid_client" | "invalid_client_secret" => OAuthError::InvalidClient,
            "unsupported_grant_type" => OAuthError::UnsupportedGrantType,
            e if e.eq_ignore_ascii_case("access denied") => OAuthError::AccessDenied {
                message: redact(raw.message.as_deref().unwrap_or("Access Denied")),
            },
            other => OAuthError::Other { error: redact(other) },
        });
    }
    let access_token = raw
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| OAuthError::BadAnswer { reason: "no access_token in the answer".into() })?;
    let expires_in = seconds(raw.expires_in.as_ref())
        .or_else(|| seconds(raw.expires_in_sec.as_ref()))
        .unwrap_or(zcrm_protocol::rest_limits::ACCESS_TOKEN_SECS);
    Ok(TokenGrant {
        access_token: Secret::new(access_token),
        api_domain: raw.api_domain.filter(|d| !d.trim().is_empty()),
        expires_in,
        refresh_token: raw.refresh_token.filter(|t| !t.trim().is_empty()).map(Secret::new),
    })
}

/// Posts `form` to the token endpoint of `accounts` and reads the answer, retrying network
/// failures (a lost answer only wastes one of the refresh token's mints).
pub(crate) fn token_call(
    transport: &Transport,
    accounts: &Endpoint,
    form: &[(&str, &str)],
    retry: RetryPolicy,
    redact: &dyn Fn(&str) -> String,
) -> Result<TokenGrant, OAuthError> {
    let url = format!("{}{TOKEN_PATH}", accounts.base());
    let mut jitter = seed();
    let mut attempt = 0;
    loop {
        attempt += 1;
        // The secrets travel in the form body, never in the URL.
        let req = transport.request(reqwest::Method::POST, &url).form(form);
        let reason = match transport.exchange(req) {
            Ok(answer) if answer.status < 500 => {
                return parse_token_response(&answer.body, redact).map_err(|e| match e {
                    OAuthError::BadAnswer { reason } if answer.status != 200 => {
                        OAuthError::BadAnswer {
                            reason: format!("HTTP {}: {reason}", answer.status),
                        }
                    }
                    e => e,
                });
            }
            Ok(answer) => format!("HTTP {} from {}", answer.status, accounts.base()),
            Err(Failure::Redirect(location)) => {
                return Err(OAuthError::Transport {
                    reason: format!(
                        "the accounts server answered with a redirect to {}; zcrm follows none",
                        redact(&location)
                    ),
                });
            }
            Err(Failure::NotSent(r) | Failure::Unknown(r) | Failure::Refused(r)) => redact(&r),
        };
        if attempt >= retry.max_attempts {
            return Err(OAuthError::Transport { reason });
        }
        warn!(attempt, %reason, "retrying the token endpoint");
        std::thread::sleep(retry.delay(attempt, &mut jitter).min(Duration::from_secs(30)));
    }
}

/// `grant_type=refresh_token`: a new access token for `cfg`'s refresh token.
pub(crate) fn refresh(
    transport: &Transport,
    cfg: &OAuthConfig,
    retry: RetryPolicy,
) -> Result<TokenGrant, OAuthError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", cfg.client_id.as_str()),
        ("client_secret", cfg.client_secret.expose()),
        ("refresh_token", cfg.refresh_token.expose()),
    ];
    token_call(transport, &cfg.accounts_url, &form, retry, &|t| cfg.redact(t))
}

/// `grant_type=authorization_code`: exchanges a grant code (a self client's "Generate Code",
/// valid a few minutes, usable once) for a refresh token and a first access token. The
/// answer's refresh token is in [`TokenGrant::refresh_token`]; its absence is an error.
pub fn exchange_grant_code(
    accounts: &Endpoint,
    client_id: &str,
    client_secret: &Secret,
    code: &Secret,
    redirect_uri: Option<&str>,
    transport: &crate::TransportConfig,
) -> Result<TokenGrant, ClientError> {
    let t = Transport::new(accounts.clone(), crate::AuthToken::new(""), transport)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose()),
        ("code", code.expose()),
    ];
    if let Some(uri) = redirect_uri {
        form.push(("redirect_uri", uri));
    }
    let redact = |t: &str| code.redact(&client_secret.redact(t));
    let grant = token_call(
        &t,
        accounts,
        &form,
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        &redact,
    )
    .map_err(ClientError::OAuth)?;
    if grant.refresh_token.is_none() {
        return Err(ClientError::OAuth(OAuthError::BadAnswer {
            reason: "no refresh_token in the answer (was the code generated for offline access?)"
                .into(),
        }));
    }
    Ok(grant)
}

/// The API base an answer's `api_domain` names, checked against the HTTPS policy.
pub(crate) fn api_base(domain: &str) -> Result<Endpoint, OAuthError> {
    Endpoint::parse(domain).map_err(|e| OAuthError::ApiDomain { reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn same(t: &str) -> String {
        t.to_owned()
    }

    #[test]
    fn a_refresh_answer_gives_the_token_the_domain_and_the_lifetime() {
        let body = br#"{"access_token":"1000.abc","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
        let g = parse_token_response(body, &same).unwrap();
        assert_eq!(g.access_token.expose(), "1000.abc");
        assert_eq!(g.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
        assert_eq!(g.expires_in, 3600);
        assert!(g.refresh_token.is_none());
        assert!(!format!("{g:?}").contains("1000.abc"), "the token shows in Debug");
        // The older key, and a grant answer with its refresh token.
        let body = br#"{"access_token":"a","refresh_token":"1000.r","expires_in_sec":"1800"}"#;
        let g = parse_token_response(body, &same).unwrap();
        assert_eq!((g.expires_in, g.api_domain), (1800, None));
        assert_eq!(g.refresh_token.unwrap().expose(), "1000.r");
    }

    #[test]
    fn every_documented_error_is_typed_and_secrets_are_redacted() {
        let p = |b: &str| parse_token_response(b.as_bytes(), &|t| t.replace("s3cr3t", "[r]"));
        assert_eq!(p(r#"{"error":"invalid_code"}"#), Err(OAuthError::InvalidCode));
        assert_eq!(p(r#"{"error":"invalid_client"}"#), Err(OAuthError::InvalidClient));
        assert_eq!(
            p(r#"{"error":"unsupported_grant_type"}"#),
            Err(OAuthError::UnsupportedGrantType)
        );
        assert_eq!(
            p(r#"{"error":"Access Denied","message":"too many s3cr3t"}"#),
            Err(OAuthError::AccessDenied { message: "too many [r]".into() })
        );
        assert!(matches!(p(r#"{"error":"x"}"#), Err(OAuthError::Other { .. })));
        assert!(matches!(p("<html>"), Err(OAuthError::BadAnswer { .. })));
        assert!(matches!(p(r#"{"token_type":"Bearer"}"#), Err(OAuthError::BadAnswer { .. })));
        assert_eq!(OAuthError::InvalidClient.class(), crate::ErrorClass::Usage);
        assert_eq!(
            OAuthError::AccessDenied { message: String::new() }.class(),
            crate::ErrorClass::Remote
        );
    }

    #[test]
    fn an_api_domain_must_keep_the_https_policy() {
        assert!(api_base("https://www.zohoapis.com").is_ok());
        assert!(api_base("http://127.0.0.1:9").is_ok());
        assert!(matches!(api_base("http://example.com"), Err(OAuthError::ApiDomain { .. })));
    }
}
