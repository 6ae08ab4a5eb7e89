//! `zcrm generate leads` (hidden): a deterministic Leads-like CSV or XLSX of any size.

use std::path::PathBuf;

use anyhow::{Result, bail};
use zcrm_gen::{LeadsSpec, write_leads_csv, write_leads_xlsx};

/// Arguments of `zcrm generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to generate (only `leads`).
    pub what: String,
    /// Data rows.
    #[arg(long, default_value_t = 1000)]
    pub rows: u64,
    /// The output file (.csv or .xlsx).
    #[arg(long)]
    pub out: PathBuf,
    /// Fraction of rows with one deliberate defect.
    #[arg(long, default_value_t = 0.0)]
    pub bad_fraction: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the command; returns the text to print.
pub fn run(args: &GenerateArgs) -> Result<String> {
    if args.what != "leads" {
        bail!("unknown data set {:?} (only `leads`)", args.what);
    }
    if !(0.0..=1.0).contains(&args.bad_fraction) {
        bail!("--bad-fraction must be in [0, 1]");
    }
    let spec = LeadsSpec { rows: args.rows, seed: args.seed, bad_fraction: args.bad_fraction };
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let stats = match ext.as_str() {
        "csv" => write_leads_csv(&args.out, spec)?,
        "xlsx" => write_leads_xlsx(&args.out, spec)?,
        _ => bail!("--out must end in .csv or .xlsx"),
    };
    Ok(format!(
        "{}: {} rows ({} with a deliberate defect)\n",
        args.out.display(),
        stats.rows,
        stats.bad_rows
    ))
}
