//! `zcrm auth`: the way to a refresh token for the REST API (v8): the console steps for a
//! Self Client, the exchange of its grant code, and a check of the credentials in use.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use zcrm_client::{DataCentre, Endpoint, Secret, TransportConfig};

use crate::connection::{Settings, connect};

/// The scopes a pipeline needs: records, metadata, users and the org; bulk jobs.
pub const SCOPES: &str =
    "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ,ZohoCRM.bulk.ALL";

/// Examples for `--help`.
pub const EXAMPLES: &str = "Examples:\n  zcrm auth --dc eu                                   # the console steps\n  \
ZCRM_CLIENT_ID=1000.X ZCRM_CLIENT_SECRET=Y zcrm auth --dc eu --code 1000.abc.def --save ~/.config/zcrm/refresh-token\n  \
ZCRM_API=v8 ZCRM_URL=eu zcrm auth --check";

/// Arguments of `zcrm auth`.
#[derive(Debug, clap::Args)]
pub struct AuthArgs {
    /// The data centre: com (US), eu, in, com.au, jp, com.cn, ca or sa (default: `ZCRM_URL`,
    /// else com).
    #[arg(long)]
    pub dc: Option<String>,
    /// Exchange this grant code (Self Client → Generate Code) for a refresh token; `-` reads
    /// it from stdin. Needs `ZCRM_CLIENT_ID` and `ZCRM_CLIENT_SECRET`.
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
    /// Write the refresh token to this file (readable by you only) instead of printing it once.
    #[arg(long, value_name = "FILE", requires = "code")]
    pub save: Option<PathBuf>,
    /// Check the credentials in use: refresh an access token and read the org's modules.
    #[arg(long, conflicts_with_all = ["code", "save"])]
    pub check: bool,
}

/// The accounts server: the data centre's (`--dc`, else `ZCRM_URL` when it names one), or the
/// origin `ZCRM_URL` gives (an emulator serves its own token endpoint).
fn accounts(dc: Option<&str>) -> Result<(Endpoint, Option<DataCentre>)> {
    let named = dc.map(str::to_owned).or_else(|| std::env::var("ZCRM_URL").ok());
    let Some(name) = named.filter(|n| !n.trim().is_empty()) else {
        return Ok((Endpoint::parse(DataCentre::Com.accounts_url())?, Some(DataCentre::Com)));
    };
    if let Some(dc) = DataCentre::parse(&name) {
        return Ok((Endpoint::parse(dc.accounts_url())?, Some(dc)));
    }
    if dc.is_some() {
        bail!("--dc {name:?}: use com, eu, in, com.au, jp, com.cn, ca or sa");
    }
    Ok((Endpoint::parse(&name).context("ZCRM_URL")?, None))
}

/// Runs the command; returns the text to print on stdout.
pub fn run(args: &AuthArgs) -> Result<String> {
    if args.check {
        return check();
    }
    let (accounts, dc) = accounts(args.dc.as_deref())?;
    let Some(code) = &args.code else { return Ok(steps(&accounts, dc)) };
    let code = if code == "-" {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the grant code from stdin")?;
        line
    } else {
        code.clone()
    };
    let client_id = std::env::var("ZCRM_CLIENT_ID")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| anyhow!("ZCRM_CLIENT_ID is not set: the Self Client's Client ID"))?;
    let secret = Secret::from_env("ZCRM_CLIENT_SECRET")?;
    let grant = zcrm_client::rest::exchange_grant_code(
        &accounts,
        client_id.trim(),
        &secret,
        &Secret::new(code),
        None,
        &TransportConfig::default(),
    )?;
    let refresh = grant.refresh_token.ok_or_else(|| anyhow!("the answer has no refresh token"))?;
    match &args.save {
        Some(path) => {
            let mut bytes = Vec::new();
            refresh.deliver(&mut bytes)?;
            zcrm_client::owner_only::write_atomic(path, &bytes)?;
            Ok(format!(
                "refresh token saved to {} (readable by you only)\nexport ZCRM_REFRESH_TOKEN=\"$(cat {})\"\n",
                path.display(),
                path.display()
            ))
        }
        None => {
            eprintln!(
                "zcrm: the refresh token follows, once: keep it in a secret store (it does not expire until revoked)"
            );
            let mut out = std::io::stdout().lock();
            refresh.deliver(&mut out)?;
            out.flush()?;
            Ok(String::new())
        }
    }
}

/// The console steps for a Self Client on this data centre.
fn steps(accounts: &Endpoint, dc: Option<DataCentre>) -> String {
    let console = accounts.base().replacen("://accounts.", "://api-console.", 1);
    // The data centre's short name, as `--dc` and `ZCRM_URL` take it.
    let name = dc.map(|_| {
        let host = accounts.host();
        let tld = host.split_once('.').map_or(host, |(_, rest)| rest);
        let tld = tld.strip_prefix("zoho.").unwrap_or(tld);
        if tld == "zohocloud.ca" { "ca".to_owned() } else { tld.to_owned() }
    });
    let dc_flag = name.as_ref().map_or_else(String::new, |n| format!(" --dc {n}"));
    let url = name.unwrap_or_else(|| accounts.base().to_owned());
    format!(
        "To get a refresh token for zcrm (a Self Client of your org):\n\
         1. Open {console} and sign in as a user who may read and write the modules you move.\n\
         2. Add Client → Self Client → Create. Copy the Client ID and the Client Secret.\n\
         3. Tab \"Generate Code\": scopes\n     {SCOPES}\n   \
            time duration 10 minutes, a description, Create. Copy the code (it works once).\n\
         4. Within those minutes:\n     \
            export ZCRM_CLIENT_ID=<Client ID> ZCRM_CLIENT_SECRET=<Client Secret>\n     \
            zcrm auth{dc_flag} --code <the code> --save ~/.config/zcrm/refresh-token\n\
         5. export ZCRM_REFRESH_TOKEN=\"$(cat ~/.config/zcrm/refresh-token)\" and check it:\n     \
            ZCRM_API=v8 ZCRM_URL={url} zcrm auth --check\n"
    )
}

/// Refreshes an access token with the environment's credentials and reads the org's modules.
fn check() -> Result<String> {
    let settings = Settings::from_env()?;
    if settings.spec().api != zcrm_pipeline::Api::V8 {
        bail!("zcrm auth --check checks a REST API (v8) connection: set ZCRM_API=v8");
    }
    let conn = connect(&settings, "auth")?;
    let modules = conn.client.modules()?;
    let status = conn.client.ledger().status()?;
    Ok(format!(
        "ok: an access token was minted and the org answered ({} modules)\ncredits left to zcrm in the last 24 hours: {} of {}\n",
        modules.len(),
        status.remaining,
        status.budget
    ))
}
