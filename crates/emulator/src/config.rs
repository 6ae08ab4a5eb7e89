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
    /// searchRecords leaves out records created or modified this recently (the search index
    /// lags writes, docs/protocol.md §8 quirk 8); zero: the index is always current.
    pub search_index_lag: Duration,
}

impl EmulatorConfig {
    /// Defaults: loopback on a free port, free edition with 1 licence (250 calls a day),
    /// 100 rows per write, America/Los_Angeles, no tokens, the documented rate limits, no
    /// search index lag.
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
        }
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
