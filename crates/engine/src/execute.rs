//! A prepared pipeline run step by step, with the journal's resume semantics.

use std::path::PathBuf;
use std::time::Instant;

use crate::action::run_action;
use crate::error::EngineError;
use crate::export::run_export;
use crate::import::{Sending, StepEnd, run_import};
use crate::observer::Observer;
use crate::prepare::{Prepared, PreparedStep, compile_action_again, compile_import};

/// How to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Read, map and count everything, but send no write call (exports are skipped).
    pub dry_run: bool,
    /// Forget the journal of the steps run and start over (records already created stay).
    pub restart: bool,
    /// When today's budget share is spent, sleep until the day turns and go on.
    pub wait_for_budget: bool,
    /// A rehearsal: each import step sends at most its first this-many valid rows
    /// (journalled, so a full run continues after them); a step's `sample` is the same.
    pub limit: Option<u64>,
    /// Rows per Bulk Write job (`None`: the most a job takes, 25,000; larger values are
    /// clamped to it).
    pub bulk_rows: Option<usize>,
}

/// One step's line in the summary.
#[derive(Debug, Clone, Default)]
pub struct StepSummary {
    /// Step name.
    pub name: String,
    /// What the step did.
    pub kind: &'static str,
    /// Source rows read (imports) or records written (exports).
    pub rows: u64,
    /// Rows in the CRM after this run (created or matched, over all runs).
    pub created: u64,
    /// Rows updated (over all runs).
    pub updated: u64,
    /// Rows in the reject file.
    pub rejected: u64,
    /// What this step spent in this run, in the budget's unit (calls, or credits on v8).
    pub calls: u64,
    /// Seconds.
    pub elapsed: f64,
    /// When the step started.
    pub started_at: Option<jiff::Timestamp>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Things the user should know that are not errors.
    pub notes: Vec<String>,
    /// The rejected rows the step tolerates (`max_rejects`): up to this many leave the exit
    /// code at 0.
    pub allowed_rejects: Option<u64>,
}

/// Why a run ended early without failing.
#[derive(Debug, Clone)]
pub enum Stop {
    /// Today's budget share is spent (a rerun resumes): the message to show.
    Budget(String),
    /// A step's source has more local rejects than its `max_rejects`: it sent nothing, and
    /// the run stopped there (the message to show).
    Rejects(String),
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// Per step, in order.
    pub steps: Vec<StepSummary>,
    /// Set when the run stopped for the budget.
    pub stopped: Option<Stop>,
    /// Whether the budget's unit is credits (v8) rather than calls.
    pub credits: bool,
    /// Where the budget stood when the run ended.
    pub budget: Option<zcrm_client::BudgetStatus>,
}

/// Runs every prepared step in order, telling `observer` what happens.
pub fn execute(
    prepared: Prepared,
    opts: RunOptions,
    observer: &dyn Observer,
) -> Result<RunResult, EngineError> {
    let Prepared { pipeline: p, connected, org, cache, mut journal, steps } = prepared;
    let client = &*connected.client;
    let mut users = None;
    let users_cache = crate::state::users_cache(&p, &org);
    let mut result =
        RunResult { credits: client.ledger().config().rule.rolling(), ..RunResult::default() };
    for step in steps {
        let started = Instant::now();
        let started_at = jiff::Timestamp::now();
        let spent_before = client.ledger().status()?.spent_by_consumer;
        let mut summary = match step {
            PreparedStep::Import(c) => {
                let name = c.step.name.clone();
                if opts.restart {
                    journal.reset_step(&name)?;
                }
                let limit = match (c.step.sample, opts.limit) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let max_rejects = c.step.max_rejects;
                // More local rejects than the step tolerates: nothing is sent (the reject
                // file is written, as a dry run writes it), and the run stops here.
                let over = match max_rejects {
                    Some(max) if !opts.dry_run => {
                        let (rows, rejected) = crate::import::local_rejects(&c)?;
                        let allowed = max.allowed(rows);
                        (rejected > allowed).then(|| format!(
                            "step {name}: {rejected} of {rows} rows fail the local checks, more than max_rejects = {max} ({allowed}): nothing was sent; fix the source (see {}) and rerun",
                            c.step.rejects.display()
                        ))
                    }
                    _ => None,
                };
                let mut compiled = Some(*c);
                loop {
                    // A step waiting for the budget is prepared again (its source reopened):
                    // the rows it sent are in the journal and are skipped.
                    let c = match compiled.take() {
                        Some(c) => c,
                        None => compile_import(&p, &name, client, &cache)?,
                    };
                    match run_import(
                        c,
                        client,
                        &mut journal,
                        Sending {
                            dry_run: opts.dry_run || over.is_some(),
                            limit: limit.filter(|_| over.is_none()),
                            bulk_rows: opts.bulk_rows,
                        },
                        &mut users,
                        &users_cache,
                        observer,
                    ) {
                        Ok(mut summary) => {
                            summary.allowed_rejects = max_rejects.map(|m| m.allowed(summary.rows));
                            if let Some(msg) = &over {
                                summary.kind = "import (nothing sent)";
                                summary.created = 0;
                                summary.notes.push(msg.clone());
                                result.stopped = Some(Stop::Rejects(msg.clone()));
                            } else if let Some(n) = limit {
                                summary.notes.push(format!(
                                    "a rehearsal on the first {n} valid rows (--limit / sample): a run without it continues after them"
                                ));
                            }
                            break summary;
                        }
                        Err(StepEnd::Budget(msg, resets_at)) if opts.wait_for_budget => {
                            let wait = (resets_at - jiff::Timestamp::now()).as_secs().max(1) as u64;
                            observer.note(&format!(
                                "{msg}\nwaiting {wait}s for the budget day to turn (--wait-for-budget)"
                            ));
                            std::thread::sleep(std::time::Duration::from_secs(wait + 5));
                        }
                        Err(StepEnd::Budget(msg, _)) => {
                            result.stopped = Some(Stop::Budget(msg));
                            break StepSummary { name, kind: "import", ..StepSummary::default() };
                        }
                        Err(StepEnd::Failed(e)) => return Err(e),
                    }
                }
            }
            PreparedStep::Action(a) => {
                let name = a.step.name.clone();
                if opts.restart {
                    journal.reset_step(&name)?;
                }
                let mut compiled = Some(*a);
                loop {
                    let a = match compiled.take() {
                        Some(a) => a,
                        None => compile_action_again(&p, &name, client, &cache)?,
                    };
                    match run_action(
                        a,
                        client,
                        &mut journal,
                        opts.dry_run,
                        &mut users,
                        &users_cache,
                        observer,
                    ) {
                        Ok(summary) => break summary,
                        Err(StepEnd::Budget(msg, resets_at)) if opts.wait_for_budget => {
                            let wait = (resets_at - jiff::Timestamp::now()).as_secs().max(1) as u64;
                            observer.note(&format!(
                                "{msg}\nwaiting {wait}s for the budget day to turn (--wait-for-budget)"
                            ));
                            std::thread::sleep(std::time::Duration::from_secs(wait + 5));
                        }
                        Err(StepEnd::Budget(msg, _)) => {
                            result.stopped = Some(Stop::Budget(msg));
                            break StepSummary { name, kind: "action", ..StepSummary::default() };
                        }
                        Err(StepEnd::Failed(e)) => return Err(e),
                    }
                }
            }
            PreparedStep::Export(e) if opts.dry_run => StepSummary {
                name: e.name.clone(),
                kind: "export (dry run)",
                ..StepSummary::default()
            },
            PreparedStep::Export(e) => run_export(&p, &e, client, &cache, &org, observer)?,
        };
        summary.calls =
            client.ledger().status()?.spent_by_consumer.saturating_sub(spent_before).into();
        summary.elapsed = started.elapsed().as_secs_f64();
        summary.started_at = Some(started_at);
        result.steps.push(summary);
        if result.stopped.is_some() {
            break;
        }
    }
    result.budget = client.ledger().status().ok();
    Ok(result)
}
