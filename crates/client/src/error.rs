//! What can go wrong talking to the API, each case saying what the caller can do about it.
//!
//! A variant with a cause keeps it as its `source()`; its message also shows the cause's text
//! (as it always did), so a report that prints the whole chain leaves out the repetition.

use std::path::PathBuf;

use zcrm_protocol::request::RequestError;
use zcrm_protocol::{ApiError, DecodeError, EncodeError, Method};

use crate::owner_only::StateFileError;

/// A client failure. No variant ever carries the auth token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL holds credentials, a query string or a fragment (where tokens get pasted).
    /// The URL itself is not kept.
    #[error(
        "configuration: the URL {what}: {home} (the URL is not repeated here)",
        home = crate::endpoint::TOKEN_HOME
    )]
    UrlWithSecret {
        /// What the URL holds and why that is refused, without repeating any of it.
        what: &'static str,
    },
    /// The base URL has no `scheme://`.
    #[error("configuration: {url:?} is not a URL (expected https://host)")]
    NotAUrl {
        /// The URL given.
        url: String,
    },
    /// The base URL has no host.
    #[error("configuration: {url:?} has no host")]
    NoHost {
        /// The URL given.
        url: String,
    },
    /// The base URL's scheme is neither `https` nor `http`.
    #[error("configuration: unsupported URL scheme {scheme:?} in {url:?}")]
    UnsupportedScheme {
        /// The scheme, lower-cased.
        scheme: String,
        /// The URL given.
        url: String,
    },
    /// The environment variable that should hold the token is unset or blank.
    #[error(
        "configuration: the environment variable {var} that should hold the Zoho authtoken is not set"
    )]
    MissingToken {
        /// The variable's name.
        var: String,
    },
    /// The environment variable that should hold an OAuth secret (client id, client secret,
    /// refresh token) is unset or blank. Only the variable's name is kept.
    #[error(
        "configuration: the environment variable {var} that should hold a Zoho OAuth credential is not set"
    )]
    MissingSecret {
        /// The variable's name.
        var: String,
    },
    /// A time zone name that is not in the time zone database.
    #[error("configuration: unknown time zone {name:?}: {source}")]
    UnknownTimeZone {
        /// The name given.
        name: String,
        /// Why jiff refused it.
        #[source]
        source: jiff::Error,
    },
    /// `budget_share` outside (0, 1].
    #[error("configuration: budget_share {share} must be in (0, 1]")]
    BudgetShare {
        /// The share given.
        share: f64,
    },
    /// The rehearsal clock offset ([`crate::budget::CLOCK_OFFSET_ENV`]) is not a whole number of
    /// seconds.
    #[error("configuration: {var} must be a number of seconds, not {value:?}", var = crate::budget::CLOCK_OFFSET_ENV)]
    ClockOffset {
        /// The variable's value.
        value: String,
        /// Why it is not a number.
        #[source]
        source: std::num::ParseIntError,
    },
    /// The extra CA certificate (`TransportConfig::ca_cert_pem`) is not valid PEM.
    #[error("configuration: the CA certificate is not valid PEM: {source}")]
    CaCertificate {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built.
    #[error("configuration: HTTP client: {source}")]
    HttpClient {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The caller asked for a request the API's rules forbid (checked before anything is sent).
    #[error("configuration: {source}")]
    InvalidRequest {
        /// The rule broken.
        #[source]
        source: RequestError,
    },
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
    /// A call's input could not be encoded in the dialect (a character XML cannot carry, a
    /// value the field cannot take): nothing was sent.
    #[error("{method}: the input cannot be encoded: {source}")]
    Encode {
        /// The method that was to be called.
        method: Method,
        /// What the encoder reported.
        #[source]
        source: EncodeError,
    },
    /// The record API reads at most `limit` records of a module (v8 `page_token` paging ends
    /// there); the rest can only be read through Bulk Read.
    #[error(
        "{module}: the REST API's record list stops at record {limit}, and the module may have more: export it with method = \"bulk\" (Bulk Read, 200,000 records a job; `zcrm export --method bulk`)"
    )]
    ReadLimit {
        /// The module.
        module: String,
        /// The last record the list reaches.
        limit: u32,
    },
    /// A v8 search reads at most `limit` records, and the export's criteria match more.
    #[error(
        "{module}: a search reads at most {limit} records and this criteria matches more: narrow the criteria (for example by Created_Time), or export the whole module"
    )]
    SearchLimit {
        /// The module.
        module: String,
        /// The most records a search reads.
        limit: u32,
    },
    /// An export names a custom view the module does not have (v8: looked up by name in
    /// `settings/custom_views`).
    #[error(
        "{module} has no custom view {view:?}; its views: {}",
        known.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
    )]
    UnknownView {
        /// The module.
        module: String,
        /// The name asked for.
        view: String,
        /// The names of the module's views.
        known: Vec<String>,
    },
    /// The OAuth token endpoint refused to give an access token, or its answer was unusable.
    #[error("OAuth: {0}")]
    OAuth(#[source] crate::rest::OAuthError),
    /// The access-token cache in the state dir could not be written (it names the file).
    #[error("state dir: OAuth token cache: {0}")]
    TokenCache(#[source] StateFileError),
    /// A call or a form of a call the dialect does not offer.
    #[error("{what} is not supported by the {dialect} dialect")]
    Unsupported {
        /// The dialect (`v8`).
        dialect: &'static str,
        /// What was asked.
        what: String,
    },
    /// A bulk job ended in failure (state `FAILURE`), or its result could not be read.
    #[error("bulk {operation} job {job} failed: {reason}")]
    BulkJob {
        /// `read` or `write`.
        operation: &'static str,
        /// The job's id and module (`600000000000003 on Leads`).
        job: String,
        /// The server's error message, or what went wrong with the result.
        reason: String,
    },
    /// A bulk job's result file could not be kept on disk (a temporary file of its own).
    #[error("bulk job {job}: its result file: {source}")]
    BulkFile {
        /// The job's id.
        job: String,
        /// What the file system reported.
        #[source]
        source: std::io::Error,
    },
    /// The budget ledger's file or folder could not be created or narrowed to its owner.
    #[error("state dir: budget ledger: {0}")]
    LedgerFile(#[source] StateFileError),
    /// SQLite failed on the budget ledger.
    #[error("state dir: budget ledger: {source}")]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },
    /// A thread panicked while holding the ledger's connection.
    #[error("state dir: budget ledger: lock poisoned")]
    LedgerPoisoned {
        /// The ledger file.
        path: PathBuf,
    },
    /// Fetched metadata could not be encoded for the metadata cache.
    #[error("state dir: metadata cache: {source}")]
    MetadataEncode {
        /// The cache file it was meant for.
        path: PathBuf,
        /// What the encoder reported.
        #[source]
        source: EncodeError,
    },
    /// A metadata cache entry could not be serialised.
    #[error("state dir: metadata cache: {source}")]
    MetadataJson {
        /// The cache file it was meant for.
        path: PathBuf,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// A metadata cache file could not be written (it names the file).
    #[error("state dir: metadata cache: {0}")]
    MetadataFile(#[source] StateFileError),
}

/// What kind of failure a [`ClientError`] is, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The configuration or the caller's request is wrong: fix it and rerun.
    Usage,
    /// The CRM or the network.
    Remote,
    /// The day's call budget.
    Budget,
    /// A file in the state dir (the budget ledger, the metadata cache).
    LocalIo,
}

impl ClientError {
    /// Whether the error means "stop for today" (budget spent).
    pub fn is_budget(&self) -> bool {
        matches!(self, Self::Budget(_))
    }

    /// What kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::UrlWithSecret { .. }
            | Self::NotAUrl { .. }
            | Self::NoHost { .. }
            | Self::UnsupportedScheme { .. }
            | Self::InsecureUrl { .. }
            | Self::MissingToken { .. }
            | Self::MissingSecret { .. }
            | Self::Unsupported { .. }
            | Self::UnknownView { .. }
            | Self::UnknownTimeZone { .. }
            | Self::BudgetShare { .. }
            | Self::ClockOffset { .. }
            | Self::CaCertificate { .. }
            | Self::HttpClient { .. }
            | Self::InvalidRequest { .. }
            | Self::Encode { .. } => ErrorClass::Usage,
            Self::Budget(_) => ErrorClass::Budget,
            Self::LedgerFile(_)
            | Self::Ledger { .. }
            | Self::LedgerPoisoned { .. }
            | Self::MetadataEncode { .. }
            | Self::MetadataJson { .. }
            | Self::MetadataFile(_)
            | Self::TokenCache(_) => ErrorClass::LocalIo,
            Self::OAuth(e) => e.class(),
            Self::Api { .. }
            | Self::Transport { .. }
            | Self::InDoubt { .. }
            | Self::Redirected { .. }
            | Self::BulkJob { .. }
            | Self::ReadLimit { .. }
            | Self::SearchLimit { .. }
            | Self::Decode { .. } => ErrorClass::Remote,
            Self::BulkFile { .. } => ErrorClass::LocalIo,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::error::Error as _;

    use super::*;

    /// The causes no function of this crate can be made to hit from a test keep their source
    /// and their message too.
    #[test]
    fn state_and_client_errors_keep_their_source_and_their_message() {
        let path = PathBuf::from("state/metadata/org/Leads.json");
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        let want = format!("state dir: metadata cache: {json}");
        let e = ClientError::MetadataJson { path: path.clone(), source: json };
        assert_eq!(e.to_string(), want);
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));

        let enc = EncodeError::InvalidXmlChar { field: "Company".into(), code: 0, position: 3 };
        let want = format!("state dir: metadata cache: {enc}");
        let e = ClientError::MetadataEncode { path: path.clone(), source: enc };
        assert_eq!(e.to_string(), want);
        assert!(e.source().is_some_and(|s| s.is::<EncodeError>()));

        let e = ClientError::LedgerPoisoned { path };
        assert_eq!(e.to_string(), "state dir: budget ledger: lock poisoned");
        assert_eq!(e.class(), ErrorClass::LocalIo);

        let http = reqwest::blocking::Client::new().get("not a url").build().unwrap_err();
        let want = format!("configuration: HTTP client: {http}");
        let e = ClientError::HttpClient { source: http };
        assert_eq!(e.to_string(), want);
        assert!(e.source().is_some_and(|s| s.is::<reqwest::Error>()));
        assert_eq!(e.class(), ErrorClass::Usage);
    }

    /// The classes the binary's exit codes were built on: configuration is usage, the state
    /// dir is local I/O.
    #[test]
    fn configuration_is_usage_and_the_state_dir_is_local_io() {
        let io = || StateFileError { path: "s".into(), source: std::io::Error::other("x") };
        assert_eq!(ClientError::MissingToken { var: "V".into() }.class(), ErrorClass::Usage);
        assert_eq!(ClientError::InsecureUrl { url: "http://x".into() }.class(), ErrorClass::Usage);
        assert_eq!(ClientError::BudgetShare { share: 2.0 }.class(), ErrorClass::Usage);
        assert_eq!(ClientError::LedgerFile(io()).class(), ErrorClass::LocalIo);
        assert_eq!(ClientError::MetadataFile(io()).class(), ErrorClass::LocalIo);
        let transport =
            ClientError::Transport { method: Method::GetFields, attempts: 1, reason: "x".into() };
        assert_eq!(transport.class(), ErrorClass::Remote);
    }
}
