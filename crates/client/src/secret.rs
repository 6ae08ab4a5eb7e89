//! The auth token: kept out of every `Debug`, `Display`, log line and error text.

use std::fmt;

/// What the token is replaced with wherever text might carry it.
pub const REDACTED: &str = "[redacted]";

/// A Zoho authtoken. Its `Debug` and `Display` never show it; only the transport reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthToken(String);

impl AuthToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// Reads the token from the environment variable `var` (the pipeline names the variable,
    /// never the token itself).
    pub fn from_env(var: &str) -> Result<Self, crate::ClientError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Self(v.trim().to_owned())),
            // Not `VarError`: its `NotUnicode` case holds the variable's value, the token.
            _ => Err(crate::ClientError::MissingToken { var: var.to_owned() }),
        }
    }

    /// The token, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// A one-way fingerprint of the token (12 hex digits of a keyed BLAKE3 hash): tells orgs
    /// apart in state keys without the token ever being written.
    pub fn fingerprint(&self) -> String {
        let hash =
            blake3::derive_key("zcrm 2026-12 org key of a Zoho authtoken", self.0.as_bytes());
        hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// Replaces every occurrence of the token in `text`.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_owned() } else { text.replace(&self.0, REDACTED) }
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(")?;
        f.write_str(REDACTED)?;
        f.write_str(")")
    }
}

impl fmt::Display for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// An OAuth secret (client secret, refresh token, access token). Like [`AuthToken`], its
/// `Debug` and `Display` never show it; only the calls that send it read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret (surrounding whitespace removed: secrets are pasted).
    pub fn new(secret: impl Into<String>) -> Self {
        let s: String = secret.into();
        Self(s.trim().to_owned())
    }

    /// Reads the secret from the environment variable `var`; an unset or blank variable is
    /// [`crate::ClientError::MissingSecret`], which names the variable only.
    pub fn from_env(var: &str) -> Result<Self, crate::ClientError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Self::new(v)),
            // Not `VarError`: its `NotUnicode` case holds the variable's value.
            _ => Err(crate::ClientError::MissingSecret { var: var.to_owned() }),
        }
    }

    /// The secret, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Hands the secret to its owner: writes it to `out` (the file or the terminal the user
    /// asked for, as `zcrm auth` does with a new refresh token), followed by a newline.
    pub fn deliver(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.0.as_bytes())?;
        out.write_all(b"\n")
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A one-way fingerprint (12 hex digits of a BLAKE3 hash keyed by `context`), for state
    /// keys that must tell secrets apart without ever holding one.
    pub fn fingerprint(&self, context: &str) -> String {
        let hash = blake3::derive_key(context, self.0.as_bytes());
        hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// Replaces every occurrence of the secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_owned() } else { text.replace(&self.0, REDACTED) }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(")?;
        f.write_str(REDACTED)?;
        f.write_str(")")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
