//! `zcrm generate leads` (hidden): a deterministic Leads-like CSV or XLSX of any size.

use std::path::PathBuf;

use anyhow::{Result, bail};
use zcrm_gen::{LeadsSpec, leads_map_toml, write_leads_csv, write_leads_xlsx};

/// Arguments of `zcrm generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to generate (only `leads`).
    pub what: String,
    /// Data rows.
    #[arg(long, default_value_t = 1000)]
    pub rows: u64,
    /// The output file (.csv or .xlsx).
    #[arg(long, required_unless_present = "print_map")]
    pub out: Option<PathBuf>,
    /// Print the `[steps.map]` table that maps the generated columns onto Leads, and nothing else.
    #[arg(long)]
    pub print_map: bool,
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
    if args.print_map {
        return Ok(leads_map_toml().to_owned());
    }
    let Some(out) = &args.out else { bail!("--out is required") };
    if !(0.0..=1.0).contains(&args.bad_fraction) {
        bail!("--bad-fraction must be in [0, 1]");
    }
    let spec = LeadsSpec { rows: args.rows, seed: args.seed, bad_fraction: args.bad_fraction };
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let stats = match ext.as_str() {
        "csv" => write_leads_csv(out, spec)?,
        "xlsx" => write_leads_xlsx(out, spec)?,
        _ => bail!("--out must end in .csv or .xlsx"),
    };
    Ok(format!(
        "{}: {} rows ({} with a deliberate defect)\n",
        out.display(),
        stats.rows,
        stats.bad_rows
    ))
}
