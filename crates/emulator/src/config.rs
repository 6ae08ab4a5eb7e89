//! The emulator's settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use zcrm_protocol::Edition;
use zcrm_protocol::limits::{DEFAULT_ORG_TIMEZONE, DEFAULT_WRITE_ROWS};

use crate::faults::FaultSpec;
use crate::ratelimit::RateLimits;
use crate::store::Durability;

/// Everything [`crate::Emulator::start`] needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The data folder (SQLite store, TLS certificate).
    pub data_dir: PathBuf,
    /// The org's edition (sets the daily call budget).
    pub edition: Edition,
    /// User licences (sets the daily call budget).
    pub licenses: u32,
    /// A fixed daily budget instead of the edition rule.
    pub daily_budget: Option<u32>,
    /// Accepted authtokens (more can be created through the admin surface).
    pub tokens: Vec<String>,
    /// Serve HTTPS with a self-signed certificate written to `DATA/tls/cert.pem`.
    pub tls: bool,
    /// Injected faults.
    pub faults: FaultSpec,
    /// Fill an empty store with demo records.
    pub seed_demo: bool,
    /// A TOML file with custom modules and fields.
    pub schema: Option<PathBuf>,
    /// Rows a write call may carry (Zoho documents 100; at most 200).
    pub max_write_rows: u32,
    /// The org's IANA time zone: values and the budget day follow it.
    pub timezone: String,
    /// How hard commits are pushed to disk.
    pub durability: Durability,
    /// How many received requests the request log keeps (oldest dropped first; never more
    /// than [`crate::reqlog::MAX_LOG_BYTES`] of parameter text).
    pub request_log_capacity: usize,
    /// Per-minute limits of searchRecords and uploadFile (error 4820).
    pub rate_limits: RateLimits,
    /// searchRecords and v8 search leave out records created or modified this recently (the
    /// search index lags writes, docs/protocol.md §8 quirk 8); zero: the index is always current.
    pub search_index_lag: Duration,
    /// OAuth clients of the REST (v8) face: `/oauth/v2/token` mints access tokens for them.
    pub oauth_clients: Vec<OAuthClient>,
    /// The v8 face's credits per rolling 24 hours instead of the edition formula.
    pub daily_credits: Option<u64>,
    /// The v8 face's concurrent calls instead of the edition's cap.
    pub concurrency: Option<u32>,
    /// How long a bulk job (v8 Bulk Write and Bulk Read) stays `ADDED` before it runs, and
    /// `IN PROGRESS` after its work is done, in wall time (zero in tests).
    pub bulk_job_delay: Duration,
    /// Rows of one Bulk Read job page (Zoho: 200,000; tests use a few hundred).
    pub bulk_read_page: u32,
    /// A test hook: the bulk worker stops (as a killed process would) once a write job has
    /// committed this many rows, leaving the job `IN PROGRESS` for a restart to resume.
    pub bulk_halt_after_rows: Option<u64>,
}

/// A registered OAuth client of the v8 face and the refresh token it was granted. `Debug`
/// shows the client id only.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// The refresh token `grant_type=refresh_token` exchanges.
    pub refresh_token: String,
}

impl OAuthClient {
    /// A client with its secret and refresh token.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
        }
    }

    /// Parses `ID:SECRET:REFRESH_TOKEN` (the `--oauth-client` form); the refresh token may
    /// itself hold `:`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.trim().splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(secret), Some(refresh))
                if !id.is_empty() && !secret.is_empty() && !refresh.is_empty() =>
            {
                Ok(Self::new(id, secret, refresh))
            }
            _ => {
                Err("expected CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN, none of them empty".to_owned())
            }
        }
    }
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("refresh_token", &"***")
            .finish()
    }
}

impl EmulatorConfig {
    /// Defaults: loopback on a free port, free edition with 1 licence (250 calls a day),
    /// 100 rows per write, America/Los_Angeles, no tokens, the documented rate limits, no
    /// search index lag, bulk jobs held 1 s in `ADDED`, Bulk Read pages of 200,000 rows.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            edition: Edition::Free,
            licenses: 1,
            daily_budget: None,
            tokens: Vec::new(),
            tls: false,
            faults: FaultSpec::default(),
            seed_demo: false,
            schema: None,
            max_write_rows: DEFAULT_WRITE_ROWS,
            timezone: DEFAULT_ORG_TIMEZONE.to_owned(),
            durability: Durability::Normal,
            request_log_capacity: 10_000,
            rate_limits: RateLimits::default(),
            search_index_lag: Duration::ZERO,
            oauth_clients: Vec::new(),
            daily_credits: None,
            concurrency: None,
            bulk_job_delay: Duration::from_secs(1),
            bulk_read_page: crate::rest::bulk::READ_PAGE_ROWS,
            bulk_halt_after_rows: None,
        }
    }

    /// Registers an OAuth client of the v8 face.
    pub fn oauth_client(mut self, client: OAuthClient) -> Self {
        self.oauth_clients.push(client);
        self
    }

    /// The v8 face's credits per rolling 24 hours: the configured number, else the edition
    /// formula ([`zcrm_protocol::rest_limits::daily_credits`]).
    pub fn credits(&self) -> u64 {
        self.daily_credits.unwrap_or_else(|| {
            zcrm_protocol::rest_limits::daily_credits(self.edition, self.licenses)
        })
    }

    /// The v8 face's cap of concurrent calls: the configured number, else the edition's.
    pub fn concurrency_cap(&self) -> u32 {
        self.concurrency.unwrap_or_else(|| zcrm_protocol::rest_limits::concurrency(self.edition))
    }

    /// Adds an accepted token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// The org's daily call budget.
    pub fn budget(&self) -> u32 {
        self.daily_budget.unwrap_or_else(|| self.edition.daily_budget(self.licenses))
    }
}
