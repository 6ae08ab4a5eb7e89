//! zcrm-client against a real emulator on loopback.

// Test helpers panic on setup failures; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budget;
mod errors;
mod hostile;
mod methods;
mod policy;
mod reliability;
mod rest;

use std::sync::Arc;
use std::time::Duration;

use zcrm_client::{
    AuthToken, Client, ClientConfig, Endpoint, Ledger, LedgerConfig, RetryPolicy, TransportConfig,
};
use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use zcrm_protocol::{BudgetRule, Edition};

/// A token that looks like a real one, so leaks are easy to find.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// An emulator and a temp dir that outlives it.
pub struct Env {
    /// The running emulator.
    pub emu: EmulatorHandle,
    /// Its data and the client's state dir.
    pub dir: tempfile::TempDir,
}

/// Starts an emulator (enterprise, 10 licences) with [`TOKEN`], configured by `configure`.
pub fn emulator(configure: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let cfg = configure(EmulatorConfig {
        edition: Edition::Enterprise,
        licenses: 10,
        ..EmulatorConfig::new(dir.path().join("emu")).token(TOKEN)
    });
    Env { emu: Emulator::start(cfg).unwrap(), dir }
}

/// A ledger in the env's state dir.
pub fn ledger(env: &Env, rule: BudgetRule, share: f64) -> Arc<Ledger> {
    let cfg = LedgerConfig {
        org: "test-org".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("America/Los_Angeles").unwrap(),
        rule,
        share,
    };
    Arc::new(Ledger::open(&env.dir.path().join("state/ledger.sqlite"), cfg).unwrap())
}

/// A client with fast retries, tweaked by `tweak`.
pub fn client_with(
    env: &Env,
    ledger: Arc<Ledger>,
    tweak: impl FnOnce(&mut ClientConfig),
) -> Client {
    let mut cfg = ClientConfig {
        endpoint: Endpoint::parse(env.emu.url()).unwrap(),
        token: AuthToken::new(TOKEN),
        transport: TransportConfig {
            timeout: Duration::from_secs(20),
            ..TransportConfig::default()
        },
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
        },
    };
    tweak(&mut cfg);
    Client::new(cfg, ledger).unwrap()
}

/// A client with a large budget.
pub fn client(env: &Env) -> Client {
    let l = ledger(env, BudgetRule::Fixed(100_000), 1.0);
    client_with(env, l, |_| {})
}
