//! `zcrm status PIPELINE.toml`: per step rows done, rejected and in flight, calls spent today,
//! and whether a rerun resumes.
//!
//! Rows rejected by local checks are not journalled (each run checks them again), so the
//! rejected count is read from the step's reject file, which holds both kinds.

use anyhow::Result;
use zcrm_batcher::Journal;
use zcrm_batcher::bulk::journal::{BulkJobEntry, Phase};
use zcrm_pipeline::Step;

use zcrm_engine::{consumer, journal_path};

/// Runs the command; returns the text to print.
pub fn run(path: &std::path::Path) -> Result<String> {
    let p = zcrm_pipeline::load(path)?;
    let journal = Journal::open(&journal_path(&p))?;
    let mut out = String::from(
        "step              created  updated  matched  rejected  in flight  payloads\n",
    );
    let mut resumes = false;
    let mut sources = String::new();
    let mut bulk = String::new();
    for step in &p.steps {
        if let Step::Action(s) = step {
            // Actions: done rows count under `created` (the column of rows finished in the CRM).
            let c = journal.action_counts(&s.name)?;
            resumes |= c.done > 0 || c.in_flight > 0;
            let rejected = reject_rows(&s.rejects).unwrap_or(c.rejected);
            out.push_str(&format!(
                "{:<16}  {:>7}  {:>7}  {:>7}  {:>8}  {:>9}  {:>8}  ({} {}: done rows)\n",
                s.name,
                c.done,
                "-",
                "-",
                rejected,
                c.in_flight,
                "-",
                s.kind.keyword(),
                s.module
            ));
            sources.push_str(&source_line(&journal, &s.name, &s.source)?);
        }
        if let Step::Import(s) = step {
            let c = journal.counts(&s.name)?;
            resumes |= c.payloads > 0 || c.in_flight > 0;
            let rejected = reject_rows(&s.rejects).unwrap_or(c.rejected);
            out.push_str(&format!(
                "{:<16}  {:>7}  {:>7}  {:>7}  {:>8}  {:>9}  {:>8}\n",
                s.name, c.created, c.updated, c.matched, rejected, c.in_flight, c.payloads
            ));
            sources.push_str(&source_line(&journal, &s.name, &s.source)?);
            let open = journal.open_bulk_jobs(&s.name)?;
            resumes |= !open.is_empty();
            for job in &open {
                bulk.push_str(&bulk_line(&s.name, &p.path, job));
            }
        }
    }
    out.push_str(
        "(rejected: the rows of each step's reject file, local checks and the CRM's answers)\n",
    );
    if !bulk.is_empty() {
        out.push_str(
            "\nopen Bulk Write jobs (their rows are neither sent again nor counted above):\n",
        );
        out.push_str(&bulk);
    }
    if !sources.is_empty() {
        out.push_str("\nsources (the journal belongs to the file whose bytes it fingerprinted):\n");
        out.push_str(&sources);
    }
    let ledger = p.connection.ledger(&p.state_dir, &consumer(&p))?;
    let b = ledger.status()?;
    if p.connection.rule().rolling() {
        out.push_str(&format!(
            "\ncredits in the last 24 hours: {} by this pipeline, {} in all, of {} (share limit {}); the oldest free up at {}\n",
            b.spent_by_consumer, b.spent, b.budget, b.share_limit, b.resets_at
        ));
    } else {
        out.push_str(&format!(
            "\ncalls today: {} by this pipeline, {} in all, of {} (share limit {}); the day turns at {}\n",
            b.spent_by_consumer, b.spent, b.budget, b.share_limit, b.resets_at
        ));
    }
    out.push_str(if resumes {
        "a rerun resumes: rows already in the CRM are skipped, in-flight payloads are reconciled first\n"
    } else {
        "nothing recorded yet: a run starts from the beginning\n"
    });
    Ok(out)
}

/// One open Bulk Write job: its phase, ids, rows and what happens to it next.
fn bulk_line(step: &str, pipeline: &std::path::Path, job: &BulkJobEntry) -> String {
    let file = job.file_id.as_deref().unwrap_or("?");
    let head = format!("  {step} job {}: {} rows, {}", job.seq, job.rows, job.phase.as_str());
    let next = match job.phase {
        Phase::Chunked => "not uploaded yet: the next run uploads and creates it".to_owned(),
        Phase::Uploaded => format!("file {file}, not created yet: the next run creates it"),
        Phase::Creating => format!(
            "file {file}, create call sent at {} and its answer lost: the next run asks the CRM \
             for the job; if the CRM cannot say (Zoho documents no way to list Bulk Write jobs), \
             the step stops rather than risk creating it twice. Look in the CRM for a Bulk Write \
             job created from file {file} around that time, then run\n      \
             zcrm settle {p} --step {step} --job ID     (it exists)\n      \
             zcrm settle {p} --step {step} --not-created (it does not)",
            job.sent_at.as_deref().unwrap_or("?"),
            p = pipeline.display()
        ),
        Phase::Created => format!(
            "job id {}: the next run polls it and reads its result",
            job.job_id.as_deref().unwrap_or("?")
        ),
        Phase::Done => "done".to_owned(),
    };
    format!("{head}, {next}\n")
}

/// One step's source line: the fingerprint the journal holds and whether the file on disk
/// still has it (a different file starts the step over at the next run).
fn source_line(journal: &Journal, step: &str, path: &std::path::Path) -> Result<String> {
    use zcrm_batcher::source::{content_fingerprint, legacy_fingerprint, short};
    let Some(held) = journal.source_fingerprint(step)? else {
        return Ok(format!("  {step}: {} (no run yet)\n", path.display()));
    };
    let now = content_fingerprint(path).ok();
    let matches = now.as_deref() == Some(held.as_str())
        || legacy_fingerprint(path).ok().as_deref() == Some(held.as_str());
    let verdict = match (&now, matches) {
        (None, _) => "the file cannot be read now".to_owned(),
        (Some(_), true) => "the same bytes: a rerun resumes".to_owned(),
        (Some(n), false) => {
            format!("now {}: a different file, the next run starts the step over", short(n))
        }
    };
    Ok(format!("  {step}: {} journal {}, {verdict}\n", path.display(), short(&held)))
}

/// The data rows of a reject file (`None` when there is none yet or it cannot be read).
fn reject_rows(path: &std::path::Path) -> Option<u64> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).ok()?;
    let mut record = csv::ByteRecord::new();
    let mut n = 0;
    while reader.read_byte_record(&mut record).ok()? {
        n += 1;
    }
    Some(n)
}
