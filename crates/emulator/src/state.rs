//! The shared state of a running emulator.

use std::collections::HashSet;
use std::sync::RwLock;

use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::faults::Faults;
use crate::ratelimit::RateLimiter;
use crate::reqlog::RequestLog;
use crate::schema::Schema;
use crate::store::Store;

/// Everything handlers share.
#[derive(Debug)]
pub struct State {
    /// The configuration it started with.
    pub cfg: EmulatorConfig,
    /// Modules and users.
    pub schema: Schema,
    /// The durable store.
    pub store: Store,
    /// The org clock.
    pub clock: Clock,
    /// Injected faults.
    pub faults: Faults,
    /// Accepted tokens.
    pub tokens: RwLock<HashSet<String>>,
    /// Received requests.
    pub log: RequestLog,
    /// Per-minute rate limits.
    pub rate: RateLimiter,
    /// The v8 face's tokens and in-flight calls.
    pub rest: crate::rest::RestState,
    /// The server's origin (`http://127.0.0.1:PORT`), set once the listener is bound.
    pub origin: std::sync::OnceLock<String>,
}

impl State {
    /// Whether `token` is accepted.
    pub fn token_ok(&self, token: &str) -> bool {
        self.tokens.read().map(|t| t.contains(token)).unwrap_or(false)
    }

    /// Accepts `token` from now on (and after restarts).
    pub fn add_token(&self, token: &str) -> Result<(), rusqlite::Error> {
        let now = self.clock.now().as_second();
        self.store.write(|tx| crate::store::add_token(tx, token, now))?;
        if let Ok(mut t) = self.tokens.write() {
            t.insert(token.to_owned());
        }
        Ok(())
    }

    /// Advances the clock by `days` and persists the offset.
    pub fn advance_days(&self, days: i64) -> Result<(), rusqlite::Error> {
        self.advance_secs(days.saturating_mul(86_400))
    }

    /// Advances the clock by `secs` and persists the offset.
    pub fn advance_secs(&self, secs: i64) -> Result<(), rusqlite::Error> {
        let offset = self.clock.advance_secs(secs);
        self.store.write(|tx| crate::store::meta_set(tx, "clock_offset_secs", &offset.to_string()))
    }

    /// The server's origin, the v8 token answer's `api_domain`.
    pub fn origin(&self) -> String {
        self.origin.get().cloned().unwrap_or_default()
    }

    /// The org day as `yyyy-MM-dd`.
    pub fn today(&self) -> String {
        self.clock.today().to_string()
    }
}
