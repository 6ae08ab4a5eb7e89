//! `zcrm emulator ...`: the arguments and the blocking runner (the emulator crate knows no
//! command line).

use std::net::SocketAddr;
use std::path::PathBuf;

use zcrm_protocol::Edition;

use zcrm_emulator::{Durability, Emulator, EmulatorConfig, EmulatorError, FaultSpec, OAuthClient};

/// Serve a local Zoho CRM (the emulator: the XML API and the REST v8 API) until interrupted.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:4280")]
    pub listen: SocketAddr,
    /// Data folder: SQLite store, TLS certificate, generated token.
    #[arg(long, default_value = ".zcrm/emulator")]
    pub data: PathBuf,
    /// The org's edition: free, standard, professional or enterprise.
    #[arg(long, default_value = "free")]
    pub edition: Edition,
    /// User licences (with the edition, sets the daily call budget).
    #[arg(long, default_value_t = 1)]
    pub licenses: u32,
    /// A fixed daily call budget instead of the edition rule.
    #[arg(long)]
    pub daily_budget: Option<u32>,
    /// An accepted authtoken (repeatable). Without any, one is generated and written to
    /// DATA/token (never printed).
    #[arg(long = "token", env = "ZCRM_EMULATOR_TOKENS", value_delimiter = ',')]
    pub tokens: Vec<String>,
    /// Serve HTTPS with a self-signed certificate written to DATA/tls/cert.pem.
    #[arg(long)]
    pub tls: bool,
    /// Injected faults, e.g. "latency=50ms,error_rate=0.05,drop_after_commit=0.02,truncate=0.01,seed=7".
    #[arg(long, value_parser = parse_faults)]
    pub faults: Option<FaultSpec>,
    /// Fill an empty store with a few thousand demo records.
    #[arg(long)]
    pub seed_demo: bool,
    /// TOML file with custom modules and fields.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Rows a write call may carry (Zoho documents 100; at most 200).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub max_write_rows: u32,
    /// The org's IANA time zone (values and the budget day).
    #[arg(long, default_value = "America/Los_Angeles")]
    pub timezone: String,
    /// normal: commits survive the process being killed; full: also an OS crash (slower).
    #[arg(long, default_value = "normal", value_parser = parse_durability)]
    pub durability: Durability,
    /// searchRecords leaves out records created or modified in the last SECS seconds, as
    /// Zoho's search index lagged writes (getSearchRecords stays immediate).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub search_index_lag: u64,
    /// An OAuth client of the REST (v8) face, CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN
    /// (repeatable): `/oauth/v2/token` exchanges that refresh token for hour-long access tokens.
    #[arg(long = "oauth-client", value_name = "ID:SECRET:REFRESH_TOKEN", value_parser = parse_oauth_client)]
    pub oauth_clients: Vec<OAuthClient>,
    /// The v8 face's credits per rolling 24 hours instead of the edition formula.
    #[arg(long)]
    pub daily_credits: Option<u64>,
    /// How long a v8 bulk job stays ADDED before it runs (and IN PROGRESS after), in ms.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub bulk_delay: u64,
    /// Rows of one Bulk Read job page (Zoho's is 200,000).
    #[arg(long, value_name = "ROWS", default_value_t = 200_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub bulk_read_page: u32,
}

fn parse_oauth_client(s: &str) -> Result<OAuthClient, String> {
    OAuthClient::parse(s)
}

fn parse_durability(s: &str) -> Result<Durability, String> {
    s.parse()
}

fn parse_faults(s: &str) -> Result<FaultSpec, String> {
    FaultSpec::parse(s)
}

impl EmulatorArgs {
    /// The configuration these arguments describe (tokens as given).
    pub fn config(&self) -> EmulatorConfig {
        let mut c = EmulatorConfig::new(&self.data);
        c.listen = self.listen;
        c.edition = self.edition;
        c.licenses = self.licenses;
        c.daily_budget = self.daily_budget;
        c.tokens =
            self.tokens.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        c.tls = self.tls;
        c.faults = self.faults.unwrap_or_default();
        c.seed_demo = self.seed_demo;
        c.schema = self.schema.clone();
        c.max_write_rows = self.max_write_rows;
        c.timezone = self.timezone.clone();
        c.durability = self.durability;
        c.search_index_lag = std::time::Duration::from_secs(self.search_index_lag);
        c.oauth_clients = self.oauth_clients.clone();
        c.daily_credits = self.daily_credits;
        c.bulk_job_delay = std::time::Duration::from_millis(self.bulk_delay);
        c.bulk_read_page = self.bulk_read_page;
        c
    }
}

/// Starts the emulator and serves until the process is stopped. Prints the URL (and where the
/// certificate and a generated token are) on standard output; never prints a token.
pub fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let mut config = args.config();
    if config.tokens.is_empty() {
        let (token, path) = zcrm_emulator::token::load_or_generate(&config.data_dir)?;
        println!("authtoken: in {}", path.display());
        config.tokens.push(token);
    }
    let handle = Emulator::start(config)?;
    println!("zcrm emulator listening on {}", handle.url());
    if let Some(p) = handle.cert_path() {
        println!("TLS certificate: {}", p.display());
    }
    println!(
        "daily call budget: {} (day turns at midnight {})",
        handle.daily_budget(),
        args.timezone
    );
    handle.wait();
    Ok(())
}
