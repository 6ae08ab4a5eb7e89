//! The front end's side of a [`ConnectionSpec`]: a [`Client`] for the real API with the token
//! from the named variable, or for the embedded emulator started in-process (its data next to
//! the state dir, a fixed local token that never leaves the machine); and module metadata for
//! a pipeline through the state dir's cache ([`CachedMetadata`]). Kept out of `zcrm-pipeline`
//! so that the configuration crate never pulls in a server.

use std::path::{Path, PathBuf};

use zcrm_client::{
    AuthToken, Client, ClientConfig, ClientError, CrmApi, Endpoint, MetadataCache, RetryPolicy,
    TransportConfig,
};
use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use zcrm_pipeline::{ConnectionSpec, Metadata, MetadataError};
use zcrm_protocol::ModuleFields;

/// The token the embedded emulator accepts; it never leaves the machine.
const EMBEDDED_TOKEN: &str = "zcrm-embedded-emulator-token";

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

/// Connects as `consumer` (the ledger's name for this spender).
pub fn connect(
    spec: &ConnectionSpec,
    state_dir: &Path,
    consumer: &str,
) -> Result<Connected, ConnectError> {
    let (endpoint, token, emulator) = match &spec.url {
        Some(url) => (url.clone(), AuthToken::from_env(&spec.authtoken_env)?, None),
        None => {
            let data = state_dir
                .parent()
                .map_or_else(|| Path::new(".zcrm").to_owned(), Path::to_path_buf)
                .join("emulator");
            let cfg = EmulatorConfig {
                edition: spec.edition,
                licenses: spec.licenses,
                daily_budget: spec.daily_budget,
                timezone: spec.timezone.iana_name().unwrap_or("UTC").to_owned(),
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

impl Metadata for CachedMetadata {
    fn fields(&mut self, module: &str) -> Result<ModuleFields, MetadataError> {
        if let Some(hit) = self.cache.cached(module) {
            return Ok(hit.fields);
        }
        let conn = match &mut self.conn {
            Some(c) => c,
            slot => slot.insert(connect(&self.spec, &self.state_dir, &self.consumer)?),
        };
        Ok(self.cache.get(&*conn.client, module, false)?.fields)
    }
}
