//! The front end's side of a [`ConnectionSpec`]: a [`Client`] for the real API with the token
//! from the named variable, or for the embedded emulator started in-process (its data next to
//! the state dir, a fixed local token that never leaves the machine); and module metadata for
//! a pipeline through the state dir's cache ([`CachedMetadata`]). Kept out of `zcrm-pipeline`
//! so that the configuration crate never pulls in a server.

use std::path::{Path, PathBuf};

use zcrm_client::{
    AuthToken, Client, ClientConfig, ClientError, CrmApi, DataCentre, Endpoint, MetadataCache,
    OAuthConfig, RestClient, RestConfig, RetryPolicy, Secret, TransportConfig,
};
use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OAuthClient};
use zcrm_pipeline::{Api, ConnectionSpec, Metadata, MetadataError};
use zcrm_protocol::ModuleFields;

/// The token the embedded emulator accepts; it never leaves the machine.
const EMBEDDED_TOKEN: &str = "zcrm-embedded-emulator-token";
/// The embedded emulator's OAuth client (v8 face); local only, like the token.
const EMBEDDED_CLIENT_ID: &str = "1000.ZCRMEMBEDDED";
/// Its secret.
const EMBEDDED_CLIENT_SECRET: &str = "zcrm-embedded-client-secret";
/// Its refresh token.
const EMBEDDED_REFRESH_TOKEN: &str = "1000.zcrm-embedded-refresh-token";

/// A connection that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The client could not be set up (bad URL, missing token, ledger).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The embedded emulator did not start.
    #[error("starting the embedded emulator")]
    Emulator(#[from] zcrm_emulator::EmulatorError),
}

/// A connected client, and the embedded emulator when one was started (kept alive with it).
pub struct Connected {
    /// The client, in the connection's dialect.
    pub client: Box<dyn CrmApi>,
    /// The in-process emulator, if the connection is embedded (kept running while this lives).
    pub emulator: Option<EmulatorHandle>,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected").field("embedded", &self.emulator.is_some()).finish()
    }
}

/// Connects as `consumer` (the ledger's name for this spender), in the connection's dialect.
pub fn connect(
    spec: &ConnectionSpec,
    state_dir: &Path,
    consumer: &str,
) -> Result<Connected, ConnectError> {
    match spec.api {
        Api::Xml => connect_xml(spec, state_dir, consumer),
        Api::V8 => connect_v8(spec, state_dir, consumer),
    }
}

/// A v8 client: to the org's API domain with the OAuth credentials of the named variables
/// (the accounts server of its data centre; any other host, such as an emulator, serves its
/// own token endpoint).
fn connect_v8(
    spec: &ConnectionSpec,
    state_dir: &Path,
    consumer: &str,
) -> Result<Connected, ConnectError> {
    let Some(api_url) = &spec.url else {
        return connect_v8_embedded(spec, state_dir, consumer);
    };
    let accounts = DataCentre::ALL
        .into_iter()
        .find(|dc| Endpoint::parse(dc.api_domain()).is_ok_and(|e| e.host() == api_url.host()))
        .map_or_else(|| Ok(api_url.clone()), |dc| Endpoint::parse(dc.accounts_url()))?;
    let oauth = OAuthConfig {
        accounts_url: accounts,
        client_id: required_env(&spec.oauth.client_id)?,
        client_secret: Secret::from_env(&spec.oauth.client_secret)?,
        refresh_token: Secret::from_env(&spec.oauth.refresh_token)?,
    };
    let cfg = RestConfig::new(api_url.clone(), oauth, state_dir, spec.timezone.clone());
    let client = RestClient::new(cfg, spec.ledger(state_dir, consumer)?)?;
    Ok(Connected { client: Box::new(client), emulator: None })
}

/// The embedded emulator's configuration: the connection's edition, budget and time zone, its
/// data next to the state dir, and the fixed local credentials of both faces.
fn embedded_config(spec: &ConnectionSpec, state_dir: &Path) -> EmulatorConfig {
    let data = state_dir
        .parent()
        .map_or_else(|| Path::new(".zcrm").to_owned(), Path::to_path_buf)
        .join("emulator");
    EmulatorConfig {
        edition: spec.edition,
        licenses: spec.licenses,
        daily_budget: spec.daily_budget,
        daily_credits: spec.daily_credits.map(u64::from),
        timezone: spec.timezone.iana_name().unwrap_or("UTC").to_owned(),
        ..EmulatorConfig::new(data).token(EMBEDDED_TOKEN).oauth_client(OAuthClient::new(
            EMBEDDED_CLIENT_ID,
            EMBEDDED_CLIENT_SECRET,
            EMBEDDED_REFRESH_TOKEN,
        ))
    }
}

/// A v8 client of the embedded emulator, with its local OAuth client (no credentials needed).
fn connect_v8_embedded(
    spec: &ConnectionSpec,
    state_dir: &Path,
    consumer: &str,
) -> Result<Connected, ConnectError> {
    let emu = Emulator::start(embedded_config(spec, state_dir))?;
    let url = Endpoint::parse(emu.url())?;
    let oauth = OAuthConfig {
        accounts_url: url.clone(),
        client_id: EMBEDDED_CLIENT_ID.to_owned(),
        client_secret: Secret::new(EMBEDDED_CLIENT_SECRET),
        refresh_token: Secret::new(EMBEDDED_REFRESH_TOKEN),
    };
    let cfg = RestConfig::new(url, oauth, state_dir, spec.timezone.clone());
    let client = RestClient::new(cfg, spec.ledger(state_dir, consumer)?)?;
    Ok(Connected { client: Box::new(client), emulator: Some(emu) })
}

/// The value of the variable `var` (a client id: not a secret, but required).
fn required_env(var: &str) -> Result<String, ClientError> {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ClientError::MissingSecret { var: var.to_owned() })
}

/// An XML client: to the URL with the token of the named variable, or to the embedded
/// emulator.
fn connect_xml(
    spec: &ConnectionSpec,
    state_dir: &Path,
    consumer: &str,
) -> Result<Connected, ConnectError> {
    let (endpoint, token, emulator) = match &spec.url {
        Some(url) => (url.clone(), AuthToken::from_env(&spec.authtoken_env)?, None),
        None => {
            let emu = Emulator::start(embedded_config(spec, state_dir))?;
            (Endpoint::parse(emu.url())?, AuthToken::new(EMBEDDED_TOKEN), Some(emu))
        }
    };
    let cfg = ClientConfig {
        endpoint,
        token,
        transport: TransportConfig::default(),
        retry: RetryPolicy::default(),
    };
    let client = Client::new(cfg, spec.ledger(state_dir, consumer)?)?;
    Ok(Connected { client: Box::new(client), emulator })
}

/// Module metadata for a pipeline: the state dir's cache, else one `getFields` call per
/// module, the connection made at the first need (none when the cache has everything).
pub struct CachedMetadata {
    spec: ConnectionSpec,
    state_dir: PathBuf,
    consumer: String,
    cache: MetadataCache,
    conn: Option<Connected>,
}

impl std::fmt::Debug for CachedMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedMetadata").field("connected", &self.conn.is_some()).finish()
    }
}

impl CachedMetadata {
    /// Metadata for the org of `spec`, spending as `consumer` when a call is needed.
    pub fn new(
        spec: &ConnectionSpec,
        state_dir: &Path,
        consumer: &str,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            cache: MetadataCache::new(state_dir, &spec.org()?),
            spec: spec.clone(),
            state_dir: state_dir.to_owned(),
            consumer: consumer.to_owned(),
            conn: None,
        })
    }
}

impl CachedMetadata {
    /// The client, connecting at the first need.
    pub fn client(&mut self) -> Result<&dyn zcrm_client::CrmApi, ConnectError> {
        let conn = match &mut self.conn {
            Some(c) => c,
            slot => slot.insert(connect(&self.spec, &self.state_dir, &self.consumer)?),
        };
        Ok(&*conn.client)
    }
}

impl Metadata for CachedMetadata {
    fn fields(&mut self, module: &str) -> Result<ModuleFields, MetadataError> {
        if let Some(hit) = self.cache.cached(module) {
            return Ok(hit.fields);
        }
        let cache = self.cache.clone();
        Ok(cache.get(self.client()?, module, false)?.fields)
    }
}
