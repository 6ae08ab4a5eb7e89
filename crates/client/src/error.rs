//! What can go wrong talking to the API, each case saying what the caller can do about it.

use zcrm_protocol::{ApiError, DecodeError, Method};

/// A client failure. No variant ever carries the auth token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The configuration is unusable (bad URL, missing token variable, unreadable CA file).
    #[error("configuration: {0}")]
    Config(String),
    /// An `http://` URL to a host that is not loopback: the token would travel in clear text.
    #[error(
        "refusing to send the authtoken over plain HTTP to {url}: use https:// (plain http is allowed only for loopback addresses such as the emulator)"
    )]
    InsecureUrl {
        /// The URL given.
        url: String,
    },
    /// The day's call budget (or this pipeline's share of it) is spent; nothing was sent.
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetExhausted),
    /// The server answered with an API error (after any retries that could help).
    // The server's error is part of the message, not a `source`: a report that prints the
    // whole chain would say it twice.
    #[error("{method} failed: {error}")]
    Api {
        /// The method called.
        method: Method,
        /// The server's error.
        error: ApiError,
    },
    /// The network failed for a call whose outcome is known not to have changed anything
    /// (a read, or a write that never reached the server), after retries.
    #[error("{method} failed after {attempts} attempt(s): {reason}")]
    Transport {
        /// The method called.
        method: Method,
        /// Attempts made.
        attempts: u32,
        /// What the transport reported (token redacted).
        reason: String,
    },
    /// A write was sent but its outcome is unknown (timeout, reset, truncated body, 5xx): it may
    /// or may not have been applied. Never retried here; the caller must reconcile.
    #[error("{method} on {module} is in doubt ({rows} row(s)): {reason}")]
    InDoubt {
        /// The method called.
        method: Method,
        /// The module.
        module: String,
        /// Rows in the payload.
        rows: usize,
        /// What the transport reported (token redacted).
        reason: String,
    },
    /// The server answered with a redirect. The API never redirects, so zcrm follows none:
    /// nothing was sent to the location (the token stays with the configured host).
    #[error(
        "{method}: the server answered with a redirect to {location}; zcrm follows no redirect (the API never redirects), so nothing was sent there: check the connection URL"
    )]
    Redirected {
        /// The method called.
        method: Method,
        /// The redirect's `Location` (token redacted).
        location: String,
    },
    /// The response body could not be decoded.
    #[error("{method}: undecodable response: {source}")]
    Decode {
        /// The method called.
        method: Method,
        /// The decoding error.
        source: DecodeError,
    },
    /// The ledger or the metadata cache in the state dir failed.
    #[error("state dir: {0}")]
    State(String),
}

impl ClientError {
    /// Whether the error means "stop for today" (budget spent).
    pub fn is_budget(&self) -> bool {
        matches!(self, Self::Budget(_))
    }
}
