//! `zcrm settle PIPELINE.toml --step NAME --job ID | --not-created`: settles a Bulk Write job
//! whose creation answer was lost and which the CRM could not find again (`zcrm status` shows
//! it as "creating"). With the job's id the next run polls it and reads its result; with
//! `--not-created` the next run creates it. The journal is taken exclusively, as a run takes
//! it.

use std::path::PathBuf;

use anyhow::{Result, bail};
use zcrm_batcher::Journal;
use zcrm_batcher::bulk::journal::Settlement;
use zcrm_engine::journal_path;

/// The command's options.
#[derive(Debug, clap::Args)]
pub struct SettleArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// The import step whose job waits to be settled.
    #[arg(long, value_name = "NAME")]
    pub step: String,
    /// The id of the Bulk Write job the CRM holds for the step's uploaded file.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "not_created",
        required_unless_present = "not_created"
    )]
    pub job: Option<String>,
    /// The CRM holds no Bulk Write job created from the step's uploaded file at that time:
    /// the next run creates it (if one exists after all, its rows are imported twice).
    #[arg(long)]
    pub not_created: bool,
}

/// Examples of `--help`.
pub const EXAMPLES: &str = "Examples:\n  zcrm status migration.toml     # shows the job, its file id and when it was sent\n  \
zcrm settle migration.toml --step leads --job 4150868000004567001\n  \
zcrm settle migration.toml --step leads --not-created";

/// Runs the command; returns the text to print.
pub fn run(args: &SettleArgs) -> Result<String> {
    let p = zcrm_pipeline::load(&args.pipeline)?;
    let settlement = match &args.job {
        Some(id) => {
            let id = id.trim();
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                bail!("--job {id:?}: a Bulk Write job id is a number");
            }
            Settlement::Created(id.to_owned())
        }
        None => Settlement::NotCreated,
    };
    let mut journal = Journal::open_exclusive(&journal_path(&p))?;
    let Some(job) = journal.settle_bulk_job(&args.step, &settlement)? else {
        bail!(
            "step {}: no Bulk Write job waits to be settled (`zcrm status` lists the open jobs)",
            args.step
        );
    };
    Ok(match settlement {
        Settlement::Created(id) => format!(
            "step {}: job {} ({} rows) is Bulk Write job {id}: the next run polls it and reads its result\n",
            args.step, job.seq, job.rows
        ),
        Settlement::NotCreated => format!(
            "step {}: job {} ({} rows) was not created: the next run creates it\n",
            args.step, job.seq, job.rows
        ),
    })
}
