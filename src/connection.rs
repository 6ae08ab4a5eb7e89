//! The connection of commands that take no pipeline file: `ZCRM_URL`, `ZCRM_AUTHTOKEN`,
//! `ZCRM_EDITION`, `ZCRM_LICENSES` (README), plus `ZCRM_DAILY_BUDGET`, `ZCRM_BUDGET_SHARE`,
//! for the REST API `ZCRM_API=v8` with `ZCRM_CLIENT_ID`, `ZCRM_CLIENT_SECRET`,
//! `ZCRM_REFRESH_TOKEN` and `ZCRM_DAILY_CREDITS`,
//! `ZCRM_TIMEZONE`, `ZCRM_ORG`, `ZCRM_STATE_DIR` and `ZCRM_READS_IN_FLIGHT` (pages an export
//! asks for at once). No URL (or `embedded`) starts the built-in emulator
//! in-process, with its data in `.zcrm/emulator/`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use zcrm_client::{CrmApi, Endpoint, Ledger};
use zcrm_emulator::EmulatorHandle;
use zcrm_pipeline::{Api, ConnectionSpec, OAuthEnv};
use zcrm_protocol::Edition;

/// Connection settings read from the environment.
pub struct Settings {
    /// `ZCRM_URL`, unless embedded.
    pub url: Option<Endpoint>,
    /// `ZCRM_BUDGET_SHARE` (default 1.0 for ad hoc commands).
    pub share: f64,
    /// `ZCRM_TIMEZONE`.
    pub timezone: jiff::tz::TimeZone,
    /// `ZCRM_STATE_DIR` (default `.zcrm/state`).
    pub state_dir: PathBuf,
    edition: Edition,
    licenses: u32,
    daily_budget: Option<u32>,
    org: Option<String>,
    api: Api,
    daily_credits: Option<u32>,
    /// `ZCRM_READS_IN_FLIGHT` (default 4).
    pub reads_in_flight: u32,
}

/// Checks a number of pages an export asks for at once (`ZCRM_READS_IN_FLIGHT`,
/// `--reads-in-flight`) against the dialect: 1..=8, on v8 at most the edition's cap.
pub fn reads_in_flight(text: &str, api: Api, edition: Edition) -> Result<u32> {
    let most = match api {
        Api::Xml => zcrm_protocol::limits::MAX_READS_IN_FLIGHT,
        Api::V8 => zcrm_protocol::rest_limits::reads_in_flight_cap(edition),
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => bail!("reads in flight must be a number between 1 and {most}, not {text:?}"),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Result<Self> {
        let edition: Edition =
            env("ZCRM_EDITION").map_or(Ok(Edition::Free), |e| e.parse()).context("ZCRM_EDITION")?;
        let licenses: u32 = env("ZCRM_LICENSES")
            .map_or(Ok(1), |v| v.parse())
            .context("ZCRM_LICENSES must be a number")?;
        let daily_budget: Option<u32> = env("ZCRM_DAILY_BUDGET")
            .map(|v| v.parse())
            .transpose()
            .context("ZCRM_DAILY_BUDGET must be a number")?;
        let api = match env("ZCRM_API") {
            None => Api::Xml,
            Some(a) => match Api::parse(&a) {
                Some(api) => api,
                None => bail!("ZCRM_API must be xml or v8, not {a:?}"),
            },
        };
        let daily_credits: Option<u32> = env("ZCRM_DAILY_CREDITS")
            .map(|v| v.parse())
            .transpose()
            .context("ZCRM_DAILY_CREDITS must be a number")?;
        let reads_in_flight = match env("ZCRM_READS_IN_FLIGHT") {
            None => zcrm_protocol::limits::DEFAULT_READS_IN_FLIGHT,
            Some(v) => reads_in_flight(&v, api, edition).context("ZCRM_READS_IN_FLIGHT")?,
        };
        let share: f64 = env("ZCRM_BUDGET_SHARE")
            .map_or(Ok(1.0), |v| v.parse())
            .context("ZCRM_BUDGET_SHARE must be a number")?;
        if !(share > 0.0 && share <= 1.0) {
            bail!("ZCRM_BUDGET_SHARE must be in (0, 1], not {share}");
        }
        // Checked here so the message names the variable; it never repeats a secret in the URL.
        let url = env("ZCRM_URL")
            .filter(|u| !u.eq_ignore_ascii_case("embedded"))
            .map(|u| Endpoint::parse(&u).map_err(anyhow::Error::from).context("ZCRM_URL"))
            .transpose()?;
        let timezone = env("ZCRM_TIMEZONE")
            .unwrap_or_else(|| zcrm_protocol::limits::DEFAULT_ORG_TIMEZONE.to_owned());
        let timezone = zcrm_client::budget::timezone(&timezone).context("ZCRM_TIMEZONE")?;
        Ok(Self {
            url,
            share,
            timezone,
            state_dir: env("ZCRM_STATE_DIR")
                .map_or_else(|| PathBuf::from(".zcrm/state"), PathBuf::from),
            edition,
            licenses,
            daily_budget,
            org: env("ZCRM_ORG").map(|o| o.trim().to_owned()),
            api,
            daily_credits,
            reads_in_flight,
        })
    }

    /// The connection as a pipeline's `[connection]` would state it.
    pub fn spec(&self) -> ConnectionSpec {
        ConnectionSpec {
            url: self.url.clone(),
            authtoken_env: "ZCRM_AUTHTOKEN".to_owned(),
            edition: self.edition,
            licenses: self.licenses,
            budget_share: self.share,
            timezone: self.timezone.clone(),
            daily_budget: self.daily_budget,
            write_batch: zcrm_protocol::limits::DEFAULT_WRITE_ROWS,
            writes_in_flight: zcrm_pipeline::model::DEFAULT_WRITES_IN_FLIGHT,
            reads_in_flight: self.reads_in_flight,
            org: self.org.clone(),
            api: self.api,
            oauth: OAuthEnv::default(),
            daily_credits: self.daily_credits,
        }
    }

    /// Overrides the pages an export asks for at once (`--reads-in-flight`).
    pub fn set_reads_in_flight(&mut self, text: &str) -> Result<()> {
        self.reads_in_flight =
            reads_in_flight(text, self.api, self.edition).context("--reads-in-flight")?;
        Ok(())
    }

    /// The org key of the ledger and the metadata cache (see `ConnectionSpec::org`).
    pub fn org(&self) -> Result<String> {
        Ok(self.spec().org()?)
    }

    /// Opens the ledger for `consumer`.
    pub fn ledger(&self, consumer: &str) -> Result<Arc<Ledger>> {
        Ok(self.spec().ledger(&self.state_dir, consumer)?)
    }
}

/// A connected client, and the embedded emulator when one was started (kept alive with it).
pub struct Connected {
    /// The client, in the connection's dialect.
    pub client: Box<dyn CrmApi>,
    /// The in-process emulator, if the connection is embedded (kept running while this lives).
    pub _emulator: Option<EmulatorHandle>,
}

/// Connects as `consumer`: to `ZCRM_URL` with the token of `ZCRM_AUTHTOKEN`, or to the embedded emulator.
pub fn connect(settings: &Settings, consumer: &str) -> Result<Connected> {
    let c = zcrm_connect::connect(&settings.spec(), &settings.state_dir, consumer)?;
    Ok(Connected { client: c.client, _emulator: c.emulator })
}
