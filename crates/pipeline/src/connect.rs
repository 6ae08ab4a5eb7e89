//! A client for a [`ConnectionSpec`]: the real API with the token from the named variable, or
//! the embedded emulator started in-process (data next to the state dir, a fixed local token).

use std::path::Path;
use std::sync::Arc;

use zcrm_client::{
    AuthToken, Client, ClientConfig, ClientError, Endpoint, Ledger, LedgerConfig, RetryPolicy,
    TransportConfig,
};
use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use zcrm_protocol::BudgetRule;

use crate::ConnectionSpec;

/// The token the embedded emulator accepts; it never leaves the machine.
const EMBEDDED_TOKEN: &str = "zcrm-embedded-emulator-token";

/// A connection that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The client could not be set up (bad URL, missing token, ledger).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The embedded emulator did not start.
    #[error("starting the embedded emulator: {0}")]
    Emulator(#[from] zcrm_emulator::EmulatorError),
}

/// A connected client, and the embedded emulator when one was started (kept alive with it).
pub struct Connected {
    /// The client.
    pub client: Client,
    /// The in-process emulator, if the connection is embedded (kept running while this lives).
    pub emulator: Option<EmulatorHandle>,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected").field("embedded", &self.emulator.is_some()).finish()
    }
}

impl ConnectionSpec {
    /// The org key of the budget ledger and the metadata cache: `embedded`; or the API host
    /// with the `org` name the connection gives (`crm.zoho.eu/acme`); or the host with a
    /// one-way fingerprint of the token (`crm.zoho.eu~3f9c0a1b2c4d`), so two orgs on one data
    /// centre never share a budget or metadata, and a wrong token misses the cache instead of
    /// hiding behind it. The token itself is never part of the key.
    pub fn org(&self) -> Result<String, ClientError> {
        let Some(u) = &self.url else { return Ok("embedded".to_owned()) };
        let host = Endpoint::parse(u)?.host().to_owned();
        Ok(match &self.org {
            Some(name) => format!("{host}/{name}"),
            None => format!("{host}~{}", AuthToken::from_env(&self.authtoken_env)?.fingerprint()),
        })
    }

    /// The daily budget rule.
    pub fn rule(&self) -> BudgetRule {
        match self.daily_budget {
            Some(n) => BudgetRule::Fixed(n),
            None => BudgetRule::Edition { edition: self.edition, licenses: self.licenses },
        }
    }

    /// Opens the budget ledger in `state_dir` for `consumer`.
    pub fn ledger(&self, state_dir: &Path, consumer: &str) -> Result<Arc<Ledger>, ClientError> {
        let cfg = LedgerConfig {
            org: self.org()?,
            consumer: consumer.to_owned(),
            timezone: zcrm_client::budget::timezone(&self.timezone)?,
            rule: self.rule(),
            share: self.budget_share,
        };
        Ok(Arc::new(Ledger::open(&state_dir.join("budget.sqlite"), cfg)?))
    }
}

/// Connects as `consumer` (the ledger's name for this spender).
pub fn connect(
    spec: &ConnectionSpec,
    state_dir: &Path,
    consumer: &str,
) -> Result<Connected, ConnectError> {
    let (endpoint, token, emulator) = match &spec.url {
        Some(url) => (Endpoint::parse(url)?, AuthToken::from_env(&spec.authtoken_env)?, None),
        None => {
            let data = state_dir
                .parent()
                .map_or_else(|| Path::new(".zcrm").to_owned(), Path::to_path_buf)
                .join("emulator");
            let cfg = EmulatorConfig {
                edition: spec.edition,
                licenses: spec.licenses,
                daily_budget: spec.daily_budget,
                timezone: spec.timezone.clone(),
                ..EmulatorConfig::new(data).token(EMBEDDED_TOKEN)
            };
            let emu = Emulator::start(cfg)?;
            (Endpoint::parse(emu.url())?, AuthToken::new(EMBEDDED_TOKEN), Some(emu))
        }
    };
    let cfg = ClientConfig {
        endpoint,
        token,
        transport: TransportConfig::default(),
        retry: RetryPolicy::default(),
    };
    Ok(Connected { client: Client::new(cfg, spec.ledger(state_dir, consumer)?)?, emulator })
}
