//! The `zcrm` command line: thin argument parsing over the stage crates.

use std::process::ExitCode;

use clap::Parser;

/// zcrm moves data in and out of Zoho CRM in bulk through the XML Developer API.
///
/// Pipelines (CSV/XLSX → validated, batched imports; whole-module exports to Parquet/CSV) run
/// against a real org or against the built-in emulator. The subcommands of DESIGN.md arrive
/// with their issues; this build carries the wire-protocol crate.
#[derive(Debug, Parser)]
#[command(name = "zcrm", version, about, long_about = None)]
struct Cli {
    /// Print the daily API call budget of an edition for a licence count, and exit.
    #[arg(long, value_name = "EDITION")]
    budget_for: Option<zcrm_protocol::Edition>,

    /// User licences, with --budget-for.
    #[arg(long, default_value_t = 1, requires = "budget_for")]
    licenses: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(edition) = cli.budget_for {
        println!("{}", edition.daily_budget(cli.licenses));
        return ExitCode::SUCCESS;
    }
    let _ = <Cli as clap::CommandFactory>::command().print_help();
    ExitCode::SUCCESS
}
