//! zcrm-emulator: a faithful, durable Zoho CRM XML API (docs/protocol.md) on loopback.
//!
//! Every byte it reads and writes goes through `zcrm-protocol`. Records, files, call
//! counters, admin-created tokens and the clock offset live in SQLite under the data folder
//! (WAL, one transaction per call). Tests start one in-process:
//!
//! ```no_run
//! let dir = std::env::temp_dir().join("zcrm-emulator-doc");
//! let emu = zcrm_emulator::Emulator::start(zcrm_emulator::EmulatorConfig::new(&dir).token("t0k3n")).unwrap();
//! println!("{}/crm/private/xml/Leads/getRecords", emu.url());
//! ```
//!
//! Decisions where docs/protocol.md leaves a choice:
//! - Calls with a missing or unknown `authtoken` (4834) cannot be attributed to the org and
//!   are not counted; every call with a valid token counts, failed ones included (4831, 4600,
//!   4421 ...). Injected HTTP 500s (`error_rate`) are not counted: nothing is committed.
//! - Single-record updateRecords with an unknown `id` answers 4103; version=4 rows with an
//!   unknown `Id` answer 401.2, rows without `Id` 4425, a non-numeric `Id` fails the call (4500).
//! - Line items (`Product Details` of Quotes, SalesOrders, PurchaseOrders, Invoices) are kept
//!   per record; each `<product>` needs a live Products `Product Id` and a `Quantity`, and
//!   numbers must be plain and non-negative, else the row fails with 4832 naming the inner
//!   field (see `api::line_items`). An update without `<product>` entries keeps the stored ones.
//! - Per-minute rate limits (searchRecords 60/min; uploadFile 60/min, then blocked 5 minutes,
//!   as the newer doc says) answer 4820 on the org clock; refused calls still count against
//!   the daily budget but take no slot of the window. Limits live in memory, per org.
//! - `search_index_lag`: searchRecords and the v8 `GET /{module}/search` leave out records
//!   created or modified in the last N seconds (docs/protocol.md §8 quirk 8); getSearchRecords,
//!   COQL and the other reads are immediate.
//! - Custom views (`views`, one definition for both faces): `All <Module>`, `My <Module>` and
//!   Leads' `All Open Leads`, with ids derived from the module and the view (stable across
//!   restarts). On v8 a `cvid` list runs oldest first (creation time, then id), costs 3
//!   credits whatever its outcome, refuses `sort_by` (`AMBIGUITY_DURING_PROCESSING`) and an
//!   unknown id (`INVALID_DATA` naming `cvid`); its `page_token`s are bound to the view.
//! - version 1/2 writes are all-or-nothing: the first bad row fails the call (4401 for a
//!   missing mandatory field, 4832 for a bad value) and nothing is written.

pub mod admin;
pub mod api;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod faults;
pub mod ratelimit;
pub mod reqlog;
pub mod rest;
pub mod schema;
pub mod schema_file;
pub mod schema_std;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;
pub mod token;
pub mod views;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub use config::{EmulatorConfig, OAuthClient};
pub use error::EmulatorError;
pub use faults::{FaultCounts, FaultSpec};
pub use ratelimit::{RateLimit, RateLimits};
pub use reqlog::LoggedRequest;
pub use store::Durability;
pub use store::counters::CallCount;

use state::State;

/// Starts emulators.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Opens the store, binds the listener and serves on a runtime thread of its own
    /// (tokio, 2 workers). Returns once the server accepts connections.
    pub fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        if !(1..=zcrm_protocol::limits::MAX_WRITE_ROWS).contains(&config.max_write_rows) {
            return Err(EmulatorError::Config(format!(
                "max_write_rows {} must be between 1 and {}",
                config.max_write_rows,
                zcrm_protocol::limits::MAX_WRITE_ROWS
            )));
        }
        let tz = jiff::tz::TimeZone::get(&config.timezone)
            .map_err(|e| EmulatorError::Config(format!("time zone {:?}: {e}", config.timezone)))?;
        let schema = match &config.schema {
            Some(p) => schema::Schema::with_file(p)?,
            None => schema::Schema::standard()?,
        };
        let store = store::Store::open(&config.data_dir, config.durability)?;
        let (offset, stored_tokens) = store.read(|c| -> Result<_, rusqlite::Error> {
            let offset = store::meta_get(c, "clock_offset_secs")?
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            Ok((offset, store::stored_tokens(c)?))
        })?;
        let tokens: HashSet<String> = config.tokens.iter().cloned().chain(stored_tokens).collect();
        let state = Arc::new(State {
            clock: clock::Clock::new(tz, offset),
            faults: faults::Faults::new(config.faults),
            log: reqlog::RequestLog::new(config.request_log_capacity),
            tokens: RwLock::new(tokens),
            rate: ratelimit::RateLimiter::default(),
            schema,
            store,
            cfg: config.clone(),
            rest: rest::RestState::default(),
            origin: std::sync::OnceLock::new(),
        });
        if config.seed_demo {
            demo::seed(&state)?;
        }
        let tls = if config.tls { Some(tls::setup(&config.data_dir)?) } else { None };
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|e| EmulatorError::io(format!("binding {}", config.listen), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| EmulatorError::io("configuring the listener", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| EmulatorError::io("reading the listener address", e))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let host = if addr.ip().is_loopback() && tls.is_some() {
            "localhost".to_owned()
        } else {
            addr.ip().to_string()
        };
        let url = format!("{scheme}://{host}:{}", addr.port());
        let _ = state.origin.set(url.clone());
        let (cert_pem, cert_path, acceptor) = match tls {
            Some(t) => (Some(t.cert_pem), Some(t.cert_path), Some(t.acceptor)),
            None => (None, None, None),
        };
        let router = api::router(state.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), EmulatorError>>();
        let thread = std::thread::Builder::new()
            .name("zcrm-emulator".to_owned())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(EmulatorError::io("starting the runtime", e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => {
                            let _ = ready_tx.send(Ok(()));
                            server::serve(l, router, acceptor, stop_rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx
                                .send(Err(EmulatorError::io("registering the listener", e)));
                        }
                    }
                });
                rt.shutdown_timeout(std::time::Duration::from_secs(2));
            })
            .map_err(|e| EmulatorError::io("spawning the emulator thread", e))?;
        ready_rx.recv().map_err(|_| EmulatorError::Stopped)??;
        let bulk = match rest::bulk::worker::spawn(state.clone()) {
            Ok(b) => b,
            Err(e) => {
                let _ = stop_tx.send(());
                let _ = thread.join();
                return Err(e);
            }
        };
        Ok(EmulatorHandle {
            bulk: Some(bulk),
            url,
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
            cert_pem,
            cert_path,
        })
    }
}

/// A running emulator; dropping it stops the server.
#[derive(Debug)]
pub struct EmulatorHandle {
    url: String,
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    cert_pem: Option<String>,
    cert_path: Option<PathBuf>,
    bulk: Option<std::thread::JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The base URL, e.g. `http://127.0.0.1:41234` (`https://localhost:PORT` with TLS).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TLS certificate (PEM), when serving HTTPS.
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// Where the TLS certificate was written, when serving HTTPS.
    pub fn cert_path(&self) -> Option<&std::path::Path> {
        self.cert_path.as_deref()
    }

    /// Every call counter (day, method, module, count).
    pub fn call_counts(&self) -> Vec<CallCount> {
        self.state.store.read(store::counters::all).unwrap_or_default()
    }

    /// Calls counted on the org's current day.
    pub fn calls_today(&self) -> u64 {
        let day = self.state.today();
        self.state.store.read(|c| store::counters::day_total(c, &day, None)).unwrap_or(0)
    }

    /// Calls of `method` counted on the org's current day.
    pub fn calls_today_of(&self, method: &str) -> u64 {
        let day = self.state.today();
        self.state.store.read(|c| store::counters::day_total(c, &day, Some(&[method]))).unwrap_or(0)
    }

    /// Live records per module.
    pub fn record_counts(&self) -> BTreeMap<String, u64> {
        self.state.store.read(store::records::counts).unwrap_or_default().into_iter().collect()
    }

    /// The org's current day, `yyyy-MM-dd`.
    pub fn today(&self) -> String {
        self.state.today()
    }

    /// The org's daily call budget.
    pub fn daily_budget(&self) -> u32 {
        self.state.cfg.budget()
    }

    /// Moves the org clock forward by `days` days (persisted).
    pub fn advance_days(&self, days: i64) -> Result<(), EmulatorError> {
        Ok(self.state.advance_days(days)?)
    }

    /// Moves the org clock forward by `secs` seconds (persisted): rate-limit windows and
    /// blocks, the search index lag and the budget day all follow it.
    pub fn advance_secs(&self, secs: i64) -> Result<(), EmulatorError> {
        Ok(self.state.advance_secs(secs)?)
    }

    /// The org's current civil time (its time zone, the advanced clock), whole seconds.
    pub fn org_now(&self) -> jiff::civil::DateTime {
        self.state.clock.now_civil()
    }

    /// v8 credits used in the rolling 24-hour window ending now.
    pub fn credits_used(&self) -> u64 {
        let now = self.state.clock.now().as_second();
        self.state.store.read(|c| rest::credits::used(c, now)).unwrap_or(0)
    }

    /// Expires every v8 access token now.
    pub fn expire_tokens(&self) {
        self.state.rest.tokens.expire_all();
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, spec: FaultSpec) {
        self.state.faults.set(spec);
    }

    /// How many faults were injected since this emulator started, by kind.
    pub fn faults_injected(&self) -> FaultCounts {
        self.state.faults.counts()
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.state.faults.set(FaultSpec::default());
    }

    /// Accepts another token (persisted).
    pub fn add_token(&self, token: &str) -> Result<(), EmulatorError> {
        Ok(self.state.add_token(token)?)
    }

    /// The received API requests, oldest first (tokens redacted).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.state.log.clear();
    }

    /// Blocks until the server stops (it stops only when the handle is dropped elsewhere or
    /// the process ends); for the command line.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.state.rest.bulk.stop();
        if let Some(t) = self.bulk.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
