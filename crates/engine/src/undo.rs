//! `undo`: deletes the records a pipeline's runs created, newest step first, from what the
//! journal recorded; records the runs only updated or matched are left as they are and listed.
//! Each deleted record's row is forgotten by the journal, so a later run imports it again.

use std::collections::HashSet;
use std::path::Path;

use zcrm_batcher::{Action, Journal};
use zcrm_client::{CallKind, ClientError, CrmApi};
use zcrm_pipeline::Step;
use zcrm_protocol::RecordId;

use crate::error::EngineError;
use crate::execute::Stop;
use crate::observer::Observer;
use crate::state::{consumer, journal_path};

/// Delete calls in doubt (the answer lost) in a row before an undo stops: a delete is
/// idempotent, so each is simply sent again.
const MAX_DELETE_ATTEMPTS: u32 = 3;

/// What the journal forgets once a step's records are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forget {
    /// The import rows whose records are deleted (a later run imports them again).
    Rows,
    /// Every row of an action step (a later run acts on them again), once this part is done.
    Actions,
    /// Nothing (another part of the same step forgets).
    Nothing,
}

/// One step's share of an undo (a conversion has one per module it created records in).
#[derive(Debug, Clone)]
pub struct UndoStep {
    /// The step.
    pub name: String,
    /// The module of the records deleted.
    pub module: String,
    /// `(source row, record)` the step's runs created: deleted.
    pub created: Vec<(u64, RecordId)>,
    /// `(source row, record, what the run did)` for records that existed before: kept.
    pub kept: Vec<(u64, RecordId, Action)>,
    /// What the journal forgets.
    pub forget: Forget,
    /// What the undo leaves of the step, in words (deleted records stay deleted; attachments
    /// and relations go with their records).
    pub note: Option<String>,
}

/// What an undo will do, shown before it does it.
#[derive(Debug, Clone)]
pub struct UndoPlan {
    /// The steps, newest first.
    pub steps: Vec<UndoStep>,
    /// What the deletes cost in the dialect's unit (one call per record on the XML API).
    pub cost: u64,
    /// The budget's unit: credits (v8) or calls.
    pub credits: bool,
}

/// What an undo did.
#[derive(Debug, Clone, Default)]
pub struct UndoResult {
    /// `(step, module, records deleted)`, in the order undone.
    pub deleted: Vec<(String, String, u64)>,
    /// Set when the budget stopped it (a rerun of the undo continues).
    pub stopped: Option<Stop>,
}

/// Plans an undo of the import steps named in `only` (all when empty), asks `confirm` with
/// the plan, and when it agrees deletes the records. `None` when `confirm` declined.
pub fn undo(
    path: &Path,
    only: &[String],
    confirm: &mut dyn FnMut(&UndoPlan) -> bool,
    observer: &dyn Observer,
) -> Result<Option<UndoResult>, EngineError> {
    let p = zcrm_pipeline::load(path)?;
    if let Some(unknown) = only.iter().find(|n| !p.steps.iter().any(|s| s.name() == n.as_str())) {
        return Err(EngineError::UnknownStep { path: path.to_owned(), name: unknown.clone() });
    }
    let connected = zcrm_connect::connect(&p.connection, &p.state_dir, &consumer(&p))?;
    let client = &*connected.client;
    let mut journal = Journal::open_exclusive(&journal_path(&p))?;
    let mut steps = Vec::new();
    for step in p.steps.iter().rev() {
        let Step::Import(s) = step else { continue };
        if !(only.is_empty() || only.contains(&s.name)) {
            continue;
        }
        // A payload whose outcome was never recorded may have created records the journal
        // does not know: the run that sent it must settle it first.
        let in_flight = journal.in_flight(&s.name)?;
        if !in_flight.is_empty() {
            return Err(EngineError::UndoInFlight {
                step: s.name.clone(),
                payloads: in_flight.len(),
            });
        }
        let mut created = Vec::new();
        let mut kept = Vec::new();
        let mut seen = HashSet::new();
        for (row, _, id, action) in journal.successes(&s.name)? {
            match action {
                Action::Created if seen.insert(id) => created.push((row, id)),
                // A later row of the same step that updated a record the step created.
                Action::Created => {}
                other => kept.push((row, id, other)),
            }
        }
        let created_ids: HashSet<RecordId> = created.iter().map(|(_, id)| *id).collect();
        kept.retain(|(_, id, _)| !created_ids.contains(id));
        steps.push(UndoStep {
            name: s.name.clone(),
            module: s.module.clone(),
            created,
            kept,
            forget: Forget::Rows,
            note: None,
        });
    }
    let mut reads = 0u64;
    let undone: Vec<&zcrm_pipeline::ActionStep> =
        p.actions().filter(|a| only.is_empty() || only.contains(&a.name)).collect();
    let mut action_parts = Vec::new();
    for a in undone.iter().rev() {
        let (parts, n) = crate::action::undo_parts(a, client, &journal)?;
        reads += n;
        action_parts.push((a.name.clone(), parts));
    }
    // Newest step first: an action step's parts go before the import steps that precede it.
    let mut ordered = Vec::new();
    let mut imports = steps.into_iter().peekable();
    for step in p.steps.iter().rev() {
        if !(only.is_empty() || only.iter().any(|n| n == step.name())) {
            continue;
        }
        match step {
            Step::Import(_) => ordered.extend(imports.next()),
            Step::Action(a) => {
                if let Some(i) = action_parts.iter().position(|(n, _)| *n == a.name) {
                    ordered.extend(action_parts.swap_remove(i).1);
                }
            }
            Step::Export(_) => {}
        }
    }
    let steps = ordered;
    let per_delete = u64::from(client.cost(CallKind::Delete));
    let cost = steps.iter().map(|s| s.created.len() as u64).sum::<u64>() * per_delete
        + reads * u64::from(client.cost(CallKind::Read));
    let plan = UndoPlan { steps, cost, credits: client.ledger().config().rule.rolling() };
    if !confirm(&plan) {
        return Ok(None);
    }
    let mut result = UndoResult::default();
    for step in &plan.steps {
        if step.created.is_empty() {
            // Nothing of its own to delete (files and relations go with their records).
            if step.forget == Forget::Actions {
                journal.reset_actions(&step.name)?;
            }
            continue;
        }
        observer.note(&format!(
            "undo {}: deleting {} {} record(s)",
            step.name,
            step.created.len(),
            step.module
        ));
        let (n, stopped) = delete_step(client, &mut journal, step)?;
        result.deleted.push((step.name.clone(), step.module.clone(), n));
        if let Some(stop) = stopped {
            result.stopped = Some(stop);
            break;
        }
    }
    Ok(Some(result))
}

/// Deletes one step's records, forgetting each row in the journal as its record goes (in
/// batches: a kill between a delete and its batch's record only repeats deletes, which the
/// CRM answers as done).
fn delete_step(
    client: &dyn CrmApi,
    journal: &mut Journal,
    step: &UndoStep,
) -> Result<(u64, Option<Stop>), EngineError> {
    let mut done: Vec<u64> = Vec::new();
    let mut deleted = 0u64;
    let mut stopped = None;
    let forget = |journal: &mut Journal, rows: &[u64]| -> Result<(), EngineError> {
        if step.forget == Forget::Rows {
            journal.forget_rows(&step.name, rows)?;
        }
        Ok(())
    };
    for (row, id) in &step.created {
        match delete_one(client, &step.module, *id) {
            Ok(()) => {
                done.push(*row);
                deleted += 1;
            }
            Err(ClientError::Budget(b)) => {
                stopped = Some(Stop::Budget(format!(
                    "undo {}: {b}; {} record(s) left — rerun the undo to continue",
                    step.name,
                    step.created.len() as u64 - deleted
                )));
                break;
            }
            Err(source) => {
                forget(journal, &done)?;
                return Err(EngineError::Undo { step: step.name.clone(), id: *id, source });
            }
        }
        if done.len() >= 100 {
            forget(journal, &done)?;
            done.clear();
        }
    }
    forget(journal, &done)?;
    if stopped.is_none() && step.forget == Forget::Actions {
        journal.reset_actions(&step.name)?;
    }
    Ok((deleted, stopped))
}

/// Deletes one record, sending the call again when its answer was lost.
fn delete_one(client: &dyn CrmApi, module: &str, id: RecordId) -> Result<(), ClientError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.delete(module, id) {
            Ok(_) => return Ok(()),
            // Already gone (a repeated undo, a lead converted since): v8 refuses the id.
            Err(ClientError::Api { error, .. })
                if error.code == zcrm_protocol::ApiCode::parse("INVALID_DATA") =>
            {
                return Ok(());
            }
            Err(ClientError::InDoubt { .. }) if attempt < MAX_DELETE_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
}
