//! `zcrm run PIPELINE.toml`: the engine prepares and runs every step; this prints the table.

use std::path::PathBuf;

use anyhow::Result;
use zcrm_engine::{JournalAccess, RunOptions, RunResult};

use crate::exit::engine_error;
use crate::progress::Progress;

/// The command's options.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// Run only these steps (repeatable), in file order.
    #[arg(long = "step", value_name = "NAME")]
    pub steps: Vec<String>,
    /// Read, map and plan everything, but send no write call.
    #[arg(long)]
    pub dry_run: bool,
    /// Forget the journal of the steps run and start over (already-created records stay in the CRM).
    #[arg(long)]
    pub restart: bool,
    /// When today's budget share is spent, sleep until the day turns and go on.
    #[arg(long)]
    pub wait_for_budget: bool,
    /// A rehearsal on each import step's first N valid rows (journalled: a run without
    /// --limit continues after them).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Write a machine-readable summary here (per step rows, created, updated, rejected by
    /// reason, calls or credits by day, duration, exit code).
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Write a one-file HTML report here (counts, top reject reasons with example rows, spend
    /// per day against the budget, the run's timeline).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

/// Runs the pipeline, showing each step's progress on `progress`.
pub fn run(args: &RunArgs, progress: &Progress) -> Result<RunResult> {
    let prepared = zcrm_engine::prepare(&args.pipeline, &args.steps, JournalAccess::Exclusive)
        .map_err(engine_error)?;
    let opts = RunOptions {
        dry_run: args.dry_run,
        restart: args.restart,
        wait_for_budget: args.wait_for_budget,
        limit: args.limit,
        bulk_rows: bulk_rows()?,
    };
    zcrm_engine::execute(prepared, opts, progress).map_err(engine_error)
}

/// `ZCRM_BULK_ROWS`: rows per Bulk Write job (smaller jobs finish sooner and show progress
/// sooner; each still costs 500 credits).
fn bulk_rows() -> Result<Option<usize>> {
    match std::env::var("ZCRM_BULK_ROWS") {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=zcrm_client::bulk::MAX_BULK_ROWS).contains(&n) => Ok(Some(n)),
            _ => anyhow::bail!(
                "ZCRM_BULK_ROWS must be a number of rows from 1 to {}, not {v:?}",
                zcrm_client::bulk::MAX_BULK_ROWS
            ),
        },
        Err(_) => Ok(None),
    }
}

/// The summary table printed at the end of every run.
pub fn table(r: &RunResult) -> String {
    // The budget's unit: XML calls, or v8 credits.
    let (unit, w) = if r.credits { ("credits", 7) } else { ("calls", 5) };
    let mut out =
        format!("step              kind      rows  in CRM  updated  rejected  {unit}  elapsed\n");
    for s in &r.steps {
        out.push_str(&format!(
            "{:<16}  {:<6}  {:>6}  {:>6}  {:>7}  {:>8}  {:>w$}  {:>6.1}s\n",
            s.name, s.kind, s.rows, s.created, s.updated, s.rejected, s.calls, s.elapsed
        ));
    }
    for s in &r.steps {
        for f in &s.files {
            out.push_str(&format!("  {}: {}\n", s.name, f.display()));
        }
    }
    for s in &r.steps {
        for n in &s.notes {
            out.push_str(&format!("  {}: note: {n}\n", s.name));
        }
    }
    out
}
