//! What a run would send and spend, per step and per day, without sending anything.

use std::path::PathBuf;

use jiff::civil::Date;
use zcrm_batcher::MatchStrategy;
use zcrm_batcher::plan::{StepPlan, schedule};
use zcrm_client::{BudgetStatus, CallKind, CrmApi};
use zcrm_pipeline::Method;
use zcrm_pipeline::lines::{LineError, LineIndex, Lines};
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_protocol::params::{ReadParams, SelectColumns, Window};
use zcrm_readers::ReadError;

use crate::error::EngineError;
use crate::method::MethodChoice;
use crate::prepare::{CompiledImport, Prepared, PreparedStep};

/// A pipeline's plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pipeline file.
    pub path: PathBuf,
    /// Rows per write call.
    pub write_batch: u32,
    /// Per step, in order.
    pub steps: Vec<PlannedStep>,
    /// Calls the import steps need.
    pub import_calls: u64,
    /// What those calls cost in the dialect's unit (calls on XML, credits on v8).
    pub import_cost: u64,
    /// Whether the budget is credits over a rolling 24 hours (v8) rather than calls per day.
    pub credits: bool,
    /// Today's budget as the ledger has it.
    pub budget: BudgetStatus,
    /// The import cost spread over days: what is left now, then the share each day (on v8,
    /// each further day is the next 24 hours of the rolling window).
    pub days: Vec<(Date, u64)>,
}

/// One step of a plan.
#[derive(Debug, Clone)]
pub enum PlannedStep {
    /// An import.
    Import {
        /// The step.
        name: String,
        /// Source rows.
        rows: u64,
        /// Rows that pass the local checks.
        valid: u64,
        /// Rows the journal already has.
        done: u64,
        /// The calls, payloads and rows still to send.
        calls: StepPlan,
        /// What the calls cost in the dialect's unit.
        cost: u64,
        /// How existing records are matched, in words.
        how: String,
        /// Records or Bulk Write, both ways' credits and time, and why.
        method: MethodChoice,
    },
    /// A delete, attach, relate or convert step: one call per row (relations: per record).
    Action {
        /// The step.
        name: String,
        /// What it does (`delete`, `attach`, `relate`, `convert`).
        kind: &'static str,
        /// The module acted on.
        module: String,
        /// Source rows.
        rows: u64,
        /// Rows that pass the local checks known before the run.
        valid: u64,
        /// Rows the journal already has.
        done: u64,
        /// Calls still to make.
        calls: u64,
        /// What the calls cost in the dialect's unit.
        cost: u64,
        /// Things to know before running (a step that alone needs more than a day's budget).
        warnings: Vec<String>,
    },
    /// An export (paged reads: the count depends on the module's size when it runs).
    Export {
        /// The step.
        name: String,
        /// The module.
        module: String,
        /// The destination.
        to: PathBuf,
        /// How it will read, each way's credits, and why.
        choice: crate::export::ExportChoice,
        /// The folder of the records' attachments (`attachments`): one listing call per record
        /// written, one download per file not present yet.
        attachments: Option<PathBuf>,
    },
}

/// Plans every prepared step: each import step's source is read and mapped (nothing is
/// sent); an upsert that matches through an index counts the module's records (one read per
/// 200).
pub fn plan(prepared: Prepared) -> Result<Plan, EngineError> {
    let Prepared { pipeline: p, connected, journal, steps, org, .. } = prepared;
    let client = &*connected.client;
    let batch = p.connection.write_batch;
    let mut out = Vec::new();
    let mut total = 0u64;
    let mut total_cost = 0u64;
    for step in steps {
        match step {
            PreparedStep::Import(c) => {
                let CompiledImport {
                    step: s,
                    reader,
                    mapper,
                    batch: bs,
                    fetched_metadata,
                    lines,
                    in_flight: writes_in_flight,
                    ..
                } = *c;
                let (mut rows, mut valid, mut to_send) = (0u64, 0u64, 0u64);
                let known = journal.known_rows(&s.name)?;
                // Line items: a row with a bad line is rejected, not sent.
                let lines_err =
                    |source| EngineError::Lines { step: s.name.clone(), source: Box::new(source) };
                let index =
                    lines.map(|l| LineIndex::build(&s, l)).transpose().map_err(lines_err)?;
                let bad_lines = |key: Option<&String>| -> Result<bool, LineError> {
                    match (&index, key) {
                        (Some(ix), Some(k)) => Ok(matches!(ix.lines_of(k)?, Lines::Bad(_))),
                        _ => Ok(false),
                    }
                };
                let mut line_error = None;
                zcrm_mapping::map_blocks(
                    reader.blocks(),
                    &mapper,
                    true,
                    |c| -> Result<(), ReadError> {
                        rows += c.rows_read as u64;
                        for r in &c.rows {
                            match bad_lines(r.key.as_ref()) {
                                Ok(true) => continue,
                                Ok(false) => {}
                                Err(e) => {
                                    line_error.get_or_insert(e);
                                    continue;
                                }
                            }
                            valid += 1;
                            if !known.contains(&r.pos.row) {
                                to_send += 1;
                            }
                        }
                        Ok(())
                    },
                )?;
                if let Some(e) = line_error {
                    return Err(lines_err(e));
                }
                let in_flight = journal.in_flight(&s.name)?.len() as u64;
                let match_on = s.mode.match_on().unwrap_or_default();
                let (reads, how) = match bs.strategy() {
                    MatchStrategy::None => (in_flight, "insert".to_owned()),
                    MatchStrategy::DuplicateCheck => (
                        in_flight,
                        format!("upsert with duplicateCheck=2 on {match_on:?}: no reads"),
                    ),
                    MatchStrategy::Index if to_send == 0 => {
                        (in_flight, "upsert: nothing to send".to_owned())
                    }
                    MatchStrategy::Index => {
                        let existing = count_records(client, &s.module)?;
                        let index = existing.div_ceil(u64::from(MAX_READ_ROWS)).max(1);
                        (
                            index + in_flight,
                            format!(
                                "upsert: index of {existing} existing records = {index} read(s), vs {to_send} searches one row at a time"
                            ),
                        )
                    }
                };
                let mut calls = StepPlan::new(to_send, batch, reads, u64::from(fetched_metadata));
                let mut cost = cost_of(client, &calls, batch);
                let method = crate::method::choose(
                    client,
                    to_send,
                    batch,
                    writes_in_flight,
                    s.method,
                    s.line_items.is_some(),
                    journal.has_open_bulk_jobs(&s.name)?,
                );
                if method.method == Method::Bulk {
                    // One job per 25,000 rows (create, upload, a poll, the download), the org's
                    // id once, no record writes and no upsert index.
                    let meta = calls.metadata;
                    calls = StepPlan { rows: to_send, payloads: 0, reads: 0, metadata: meta };
                    calls.reads = method.jobs * 3 + u64::from(method.jobs > 0);
                    calls.payloads = method.jobs;
                    cost = method.bulk_cost.unwrap_or(0)
                        + u64::from(method.jobs > 0) * u64::from(client.cost(CallKind::Settings))
                        + meta * u64::from(client.cost(CallKind::Metadata));
                }
                total += calls.calls();
                total_cost += cost;
                out.push(PlannedStep::Import {
                    name: s.name,
                    rows,
                    valid,
                    done: known.len() as u64,
                    calls,
                    cost,
                    how,
                    method,
                });
            }
            PreparedStep::Export(e) => {
                let choice = crate::export::choose(&p, &e, client, &org);
                if let Some(reason) = crate::export::filter_refusal(&e, client, &choice)? {
                    return Err(EngineError::ExportRefused { step: e.name, reason });
                }
                out.push(PlannedStep::Export {
                    name: e.name,
                    module: e.module,
                    to: e.to,
                    choice,
                    attachments: e.attachments,
                });
            }
            PreparedStep::Action(a) => {
                let planned = crate::action::plan_action(*a, client, &journal)?;
                if let PlannedStep::Action { calls, cost, .. } = &planned {
                    total += calls;
                    total_cost += cost;
                }
                out.push(planned);
            }
        }
    }
    let ledger = client.ledger();
    let budget = ledger.status()?;
    // A step that alone needs more than a day's budget (this pipeline's share of it) takes
    // several days whatever the order of the steps: say so before it starts.
    let share = u64::from(budget.share_limit);
    for step in &mut out {
        if let PlannedStep::Action { cost, warnings, .. } = step
            && share > 0
            && *cost > share
        {
            let unit = if ledger.config().rule.rolling() { "credits" } else { "calls" };
            warnings.push(format!(
                "this step alone needs {cost} {unit}, more than a day's share of the budget ({share}): it takes {} days",
                cost.div_ceil(share)
            ));
        }
    }
    let (today, _) = ledger.day();
    let days =
        schedule(total_cost, u64::from(budget.remaining), u64::from(budget.share_limit), today);
    Ok(Plan {
        path: p.path,
        write_batch: batch,
        steps: out,
        import_calls: total,
        import_cost: total_cost,
        credits: ledger.config().rule.rolling(),
        budget,
        days,
    })
}

/// What a step's calls cost in the dialect's unit: every payload full but the last, each read
/// and metadata call at its own price.
fn cost_of(client: &dyn CrmApi, plan: &StepPlan, batch: u32) -> u64 {
    let batch = u64::from(batch.max(1));
    let last = plan.rows - plan.rows.saturating_sub(1) / batch * batch;
    let write = |rows: u64| {
        u64::from(client.cost(CallKind::Write { rows: u32::try_from(rows).unwrap_or(u32::MAX) }))
    };
    let writes = match plan.payloads {
        0 => 0,
        n => (n - 1) * write(batch) + write(last),
    };
    writes
        + plan.reads * u64::from(client.cost(CallKind::Read))
        + plan.metadata * u64::from(client.cost(CallKind::Metadata))
}

/// Counts the module's records by paging ids only (one read per 200 records).
fn count_records(client: &dyn CrmApi, module: &str) -> Result<u64, EngineError> {
    let id_field = module
        .parse::<zcrm_protocol::Module>()
        .map(|m| m.id_field().into_owned())
        .unwrap_or_default();
    let mut n = 0u64;
    let mut page = 0;
    loop {
        let params = ReadParams {
            select: SelectColumns::fields(module, [id_field.clone()]),
            window: Window::page(page),
            ..ReadParams::default()
        };
        let mut got = 0;
        client.read(module, &params, &mut |p| got = p.len())?;
        n += got as u64;
        if got < MAX_READ_ROWS as usize {
            return Ok(n);
        }
        page += 1;
    }
}
