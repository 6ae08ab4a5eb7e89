//! Action steps (delete, attach, relate, convert): one call per source row (relations: one
//! per run of up to 100 rows on the same record), each row journalled as *sending* before its
//! call and settled after, so a rerun skips what is done and settles what was in flight.
//!
//! A row whose answer was lost is sent again: deleting and relating are idempotent, and a
//! conversion or upload the server refuses on the second try because the first one was
//! applied (the lead is no longer a lead) is recorded as done, with a note.

use std::path::{Path, PathBuf};

use zcrm_batcher::actions::{ActionInFlight, ActionResult};
use zcrm_batcher::{Journal, KeyIds};
use zcrm_client::{Assignee, ClientError, Conversion, CrmApi, FilePart, MAX_RELATIONS, Relation};
use zcrm_mapping::{MappedChunk, MappedRow, MappedValue, Mapper, RejectWriter};
use zcrm_pipeline::{ActionColumns, ActionKind, ActionStep, RecordRef};
use zcrm_protocol::RecordId;
use zcrm_readers::{ReadError, RowReader};

use crate::error::EngineError;
use crate::execute::StepSummary;
use crate::import::StepEnd;
use crate::observer::Observer;
use crate::owners::Users;

/// An action step ready to run: its manifest open, its columns found, its mapping compiled.
#[derive(Debug)]
pub struct CompiledAction {
    /// The step as the pipeline states it.
    pub step: ActionStep,
    /// The open source, positioned after its header.
    pub reader: RowReader,
    /// The source's header.
    pub headers: Vec<String>,
    /// The compiled mapping (a conversion's potential; the key for every kind).
    pub mapper: Mapper,
    /// Where the step's columns are.
    pub cols: ActionColumns,
}

/// Why the row loop stopped early.
enum Halt {
    Read(ReadError),
    End(StepEnd),
}

impl From<ReadError> for Halt {
    fn from(e: ReadError) -> Self {
        Self::Read(e)
    }
}

impl From<EngineError> for Halt {
    fn from(e: EngineError) -> Self {
        Self::End(StepEnd::Failed(e))
    }
}

impl From<zcrm_batcher::BatchError> for Halt {
    fn from(e: zcrm_batcher::BatchError) -> Self {
        Self::End(StepEnd::Failed(e.into()))
    }
}

impl From<zcrm_mapping::RejectWriterError> for Halt {
    fn from(e: zcrm_mapping::RejectWriterError) -> Self {
        Self::End(StepEnd::Failed(e.into()))
    }
}

/// One row ready to act on.
struct Ready {
    row: u64,
    line: u64,
    key: Option<String>,
    source: Vec<String>,
    record: RecordId,
    target: Option<RecordId>,
    fields: Vec<(String, String)>,
    file: Option<PathBuf>,
    conversion: Option<Conversion>,
}

/// The record a reference names in `text`, or why there is none.
fn resolve(r: &RecordRef, text: &str, journal: &Journal, what: &str) -> Result<RecordId, String> {
    let text = text.trim();
    let col = r.column();
    if text.is_empty() {
        return Err(format!("{col}: empty: the row names no {what}"));
    }
    match r {
        RecordRef::Column(_) => {
            text.parse().map_err(|_| format!("{col}: {text:?} is not a record id (digits only)"))
        }
        RecordRef::Lookup { step, .. } => match journal.id_for_key(step, text) {
            Ok(KeyIds::One(id)) => Ok(id),
            Ok(KeyIds::None) => Err(format!(
                "{col}: no record of step {step:?} has the key {text:?} (its row was rejected, or the step has not run)"
            )),
            Ok(KeyIds::Several(ids)) => Err(format!(
                "{col}: the key {text:?} of step {step:?} belongs to {} records: ambiguous",
                ids.len()
            )),
            Err(e) => Err(format!("{col}: the journal could not be read: {e}")),
        },
    }
}

/// Turns a mapped row into an action, or the reasons it is rejected locally.
fn ready(
    s: &ActionStep,
    cols: &ActionColumns,
    base: &Path,
    row: MappedRow,
    journal: &Journal,
    users: Option<&Users>,
) -> Result<Ready, Box<(MappedRow, Vec<String>)>> {
    let mut errors = Vec::new();
    let cell = |i: usize| row.source.get(i).to_owned();
    let record =
        resolve(&s.record, &cell(cols.record), journal, "record").map_err(|e| errors.push(e)).ok();
    let mut target = None;
    let mut fields = Vec::new();
    let mut file = None;
    let mut conversion = None;
    match &s.kind {
        ActionKind::Delete => {}
        ActionKind::Attach { file: col, photo } => {
            let text = cols.file.map(cell).unwrap_or_default();
            if text.trim().is_empty() {
                errors.push(format!("{col}: empty: the row names no file"));
            } else {
                let path = base.join(text.trim());
                match zcrm_pipeline::check_attachment(&path, col, *photo) {
                    Ok(()) => file = Some(path),
                    Err(e) => errors.push(e),
                }
            }
        }
        ActionKind::Relate { target: t, .. } => {
            let text = cols.target.map(cell).unwrap_or_default();
            target = resolve(t, &text, journal, "target").map_err(|e| errors.push(e)).ok();
            fields = cols
                .fields
                .iter()
                .map(|(f, i)| (f.clone(), cell(*i).trim().to_owned()))
                .filter(|(_, v)| !v.is_empty())
                .collect();
        }
        ActionKind::Convert { notify, .. } => {
            let mut c = Conversion { notify: *notify, ..Conversion::default() };
            for (label, v) in &row.fields {
                match v {
                    MappedValue::Value(v) => c.potential.push((label.to_string(), v.clone())),
                    MappedValue::Lookup { .. } | MappedValue::Owner { .. } => {}
                }
            }
            if let Some(i) = cols.assign_to {
                let who = cell(i);
                if !who.trim().is_empty() {
                    match users.map(|u| u.resolve_user(&who)) {
                        Some(Ok((id, email))) => c.assign_to = Some(Assignee { id, email }),
                        Some(Err(reason)) => errors.push(format!("assign_to: {reason}")),
                        None => errors.push("assign_to: the org's users were not read".to_owned()),
                    }
                }
            }
            conversion = Some(c);
        }
    }
    match record {
        Some(record) if errors.is_empty() => Ok(Ready {
            row: row.pos.row,
            line: row.pos.line,
            // Without a `key`, a row is known by its record column's value.
            key: row.key.clone().or_else(|| Some(cell(cols.record).trim().to_owned())),
            source: row.source.to_vec(),
            record,
            target,
            fields,
            file,
            conversion,
        }),
        _ => Err(Box::new((row, errors))),
    }
}

/// What a call's failure means for its rows.
enum Failed {
    /// The server refused: `(code, message)`.
    Refused(String, String),
    /// Stop the step (the budget, the network): the rows are forgotten (nothing was applied).
    Stop(StepEnd),
}

fn failed(step: &str, e: ClientError) -> Failed {
    match e {
        ClientError::Api { error, .. } => {
            Failed::Refused(error.code.as_str().to_owned(), error.message)
        }
        ClientError::Budget(b) => Failed::Stop(StepEnd::Budget(
            format!("step {step}: {b}; rerun to continue (or use --wait-for-budget)"),
            b.resets_at.timestamp(),
        )),
        other => Failed::Stop(StepEnd::Failed(EngineError::Action {
            step: step.to_owned(),
            source: other,
        })),
    }
}

/// The call of one action (not relations: see [`relate`]).
fn call(s: &ActionStep, client: &dyn CrmApi, r: &Ready) -> Result<ActionResult, ClientError> {
    let record = Some(r.record.0);
    match &s.kind {
        ActionKind::Delete => {
            client.delete(&s.module, r.record)?;
            Ok(ActionResult { action: "deleted".into(), record, ..ActionResult::default() })
        }
        ActionKind::Attach { photo, .. } => {
            let path = r.file.as_deref().unwrap_or(Path::new(""));
            let bytes = std::fs::read(path).map_err(|e| ClientError::Transport {
                method: zcrm_protocol::Method::UploadFile,
                attempts: 0,
                reason: format!("reading {}: {e}", path.display()),
            })?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
            let part = FilePart { file_name: name, bytes };
            if *photo {
                client.set_photo(&s.module, r.record, &part)?;
                Ok(ActionResult { action: "photo set".into(), record, ..ActionResult::default() })
            } else {
                let up = client.attach(&s.module, r.record, &part)?;
                Ok(ActionResult {
                    action: "attached".into(),
                    record,
                    id: Some(up.detail.id.0),
                    ..ActionResult::default()
                })
            }
        }
        ActionKind::Convert { .. } => {
            let c = r.conversion.clone().unwrap_or_default();
            let done = client.convert_lead(r.record, &c)?;
            Ok(ActionResult {
                action: "converted".into(),
                record,
                contact: Some(done.contact.0),
                account: Some(done.account.0),
                potential: done.potential.map(|p| p.0),
                ..ActionResult::default()
            })
        }
        ActionKind::Relate { .. } => Err(ClientError::Unsupported {
            dialect: "engine",
            what: "a relation outside a batch".into(),
        }),
    }
}

/// Seconds of clock difference allowed between zcrm and the CRM when an attachment is matched
/// to an upload whose answer was lost.
const CLOCK_SLACK_SECS: i64 = 30;

/// Whether an action whose answer was lost (sent at `since`, epoch seconds) was applied, as
/// far as the dialect can tell: the conversion the CRM records for the lead, or an attachment
/// of the same name made since. `None`: not applied, or no way to know (the XML API).
fn applied(
    s: &ActionStep,
    client: &dyn CrmApi,
    r: &Ready,
    since: i64,
) -> Result<Option<ActionResult>, ClientError> {
    let note = Some("the first call's answer was lost; the CRM shows it was applied".to_owned());
    match &s.kind {
        ActionKind::Convert { .. } => Ok(client.conversion_of(r.record)?.map(|c| ActionResult {
            action: s.kind.done().into(),
            record: Some(r.record.0),
            contact: Some(c.contact.0),
            account: Some(c.account.0),
            potential: c.potential.map(|p| p.0),
            note,
            ..ActionResult::default()
        })),
        ActionKind::Attach { photo: false, .. } => {
            let name = r.file.as_deref().and_then(Path::file_name).and_then(|n| n.to_str());
            let Some(list) = client.attachments(&s.module, r.record)? else { return Ok(None) };
            Ok(list
                .into_iter()
                .filter(|(_, n, at)| {
                    Some(n.as_str()) == name && at.as_second() + CLOCK_SLACK_SECS >= since
                })
                .max_by_key(|(id, _, _)| *id)
                .map(|(id, _, _)| ActionResult {
                    action: s.kind.done().into(),
                    record: Some(r.record.0),
                    id: Some(id.0),
                    note,
                    ..ActionResult::default()
                }))
        }
        _ => Ok(None),
    }
}

/// Everything the row loop needs.
struct Runner<'a> {
    s: &'a ActionStep,
    client: &'a dyn CrmApi,
    journal: &'a mut Journal,
    rejects: &'a mut RejectWriter,
    /// Rows whose previous call's answer was lost: a refusal of their resend may mean the
    /// first call was applied.
    in_doubt: std::collections::HashMap<u64, i64>,
    /// Relations waiting for their batch.
    group: Vec<Ready>,
}

impl Runner<'_> {
    fn reject_local(&mut self, row: &MappedRow, errors: &[String]) -> Result<(), Halt> {
        self.rejects.write_parts(
            row.source.iter(),
            row.pos.row,
            row.pos.line,
            &errors.join(" | "),
        )?;
        Ok(())
    }

    /// Sends one action (with one resend if its answer is lost) and records the outcome.
    fn one(&mut self, r: Ready) -> Result<(), Halt> {
        let name = &self.s.name;
        let now = jiff::Timestamp::now().as_second();
        self.journal.begin_actions(name, &[(r.row, r.line, r.key.clone(), r.record, None)], now)?;
        // When a call's answer was lost (in this run or a killed one), ask the CRM first
        // whether it was applied, where the dialect can tell.
        let mut doubt = self.in_doubt.get(&r.row).copied();
        let mut tries = 0;
        let outcome = loop {
            if let Some(since) = doubt {
                match applied(self.s, self.client, &r, since) {
                    Ok(Some(result)) => break Ok(result),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            }
            tries += 1;
            match call(self.s, self.client, &r) {
                Err(ClientError::InDoubt { .. }) if tries < 3 => doubt = Some(now),
                other => break other,
            }
        };
        let doubt = doubt.is_some();
        match outcome {
            Ok(mut result) => {
                if doubt
                    && result.note.is_none()
                    && matches!(self.s.kind, ActionKind::Attach { photo: false, .. })
                {
                    result.note = Some(
                        "an earlier upload's answer was lost and the CRM cannot list attachments here: the record may hold the file twice".into(),
                    );
                }
                self.journal.settle_actions(name, &[(r.row, result)])?;
            }
            Err(ClientError::InDoubt { .. }) => {
                return Err(Halt::End(StepEnd::Failed(EngineError::ActionInDoubt {
                    step: name.clone(),
                    row: r.row,
                })));
            }
            Err(e) => match failed(name, e) {
                Failed::Refused(code, message) if doubt => {
                    // The first call was applied; its answer was lost.
                    let result = ActionResult {
                        action: self.s.kind.done().into(),
                        record: Some(r.record.0),
                        note: Some(format!(
                            "the first call's answer was lost; sent again, the server answered {code} ({message}): taken as done"
                        )),
                        ..ActionResult::default()
                    };
                    self.journal.settle_actions(name, &[(r.row, result)])?;
                }
                Failed::Refused(code, message) => {
                    self.journal.refuse_actions(name, &[(r.row, r.source)], &code, &message)?;
                }
                Failed::Stop(end) => {
                    self.journal.forget_actions(name, &[r.row])?;
                    return Err(Halt::End(end));
                }
            },
        }
        Ok(())
    }

    /// Sends the waiting relations of one record in one call.
    fn flush(&mut self) -> Result<(), Halt> {
        if self.group.is_empty() {
            return Ok(());
        }
        let group = std::mem::take(&mut self.group);
        let ActionKind::Relate { related, .. } = &self.s.kind else { return Ok(()) };
        let name = &self.s.name;
        let record = group[0].record;
        let entries: Vec<_> =
            group.iter().map(|r| (r.row, r.line, r.key.clone(), r.record, r.target)).collect();
        self.journal.begin_actions(name, &entries, jiff::Timestamp::now().as_second())?;
        let relations: Vec<Relation> = group
            .iter()
            .map(|r| Relation { id: r.target.unwrap_or(RecordId(0)), fields: r.fields.clone() })
            .collect();
        let mut tries = 0;
        let outcome = loop {
            tries += 1;
            match self.client.relate(&self.s.module, record, related, &relations) {
                Err(ClientError::InDoubt { .. }) if tries < 3 => {}
                other => break other,
            }
        };
        match outcome {
            Ok(_) => {
                let done: Vec<_> = group
                    .iter()
                    .map(|r| {
                        let result = ActionResult {
                            action: "related".into(),
                            record: Some(r.record.0),
                            id: r.target.map(|t| t.0),
                            ..ActionResult::default()
                        };
                        (r.row, result)
                    })
                    .collect();
                self.journal.settle_actions(name, &done)?;
            }
            Err(ClientError::InDoubt { .. }) => {
                return Err(Halt::End(StepEnd::Failed(EngineError::ActionInDoubt {
                    step: name.clone(),
                    row: group[0].row,
                })));
            }
            Err(e) => match failed(name, e) {
                Failed::Refused(code, message) => {
                    let rows: Vec<_> = group.into_iter().map(|r| (r.row, r.source)).collect();
                    self.journal.refuse_actions(name, &rows, &code, &message)?;
                }
                Failed::Stop(end) => {
                    let rows: Vec<u64> = group.iter().map(|r| r.row).collect();
                    self.journal.forget_actions(name, &rows)?;
                    return Err(Halt::End(end));
                }
            },
        }
        Ok(())
    }

    fn take(&mut self, r: Ready) -> Result<(), Halt> {
        if !matches!(self.s.kind, ActionKind::Relate { .. }) {
            return self.one(r);
        }
        if self.group.first().is_some_and(|g| g.record != r.record)
            || self.group.len() >= MAX_RELATIONS
        {
            self.flush()?;
        }
        self.group.push(r);
        Ok(())
    }
}

/// Settles the rows a killed run left in flight: they are sent again by this run (deleting
/// and relating are idempotent; see the module's note for conversions and uploads).
fn settle_in_flight(
    s: &ActionStep,
    journal: &mut Journal,
) -> Result<Vec<ActionInFlight>, EngineError> {
    let stale = journal.actions_in_flight(&s.name)?;
    let rows: Vec<u64> = stale.iter().map(|r| r.row).collect();
    journal.forget_actions(&s.name, &rows)?;
    Ok(stale)
}

/// Runs an action step.
pub(crate) fn run_action(
    c: CompiledAction,
    client: &dyn CrmApi,
    journal: &mut Journal,
    dry_run: bool,
    users: &mut Option<Users>,
    users_cache: &std::path::Path,
    observer: &dyn Observer,
) -> Result<StepSummary, StepEnd> {
    let CompiledAction { step: s, reader, headers, mapper, cols } = c;
    let kind = s.kind.keyword();
    let mut summary = StepSummary { name: s.name.clone(), kind, ..StepSummary::default() };
    if cols.assign_to.is_some() && users.is_none() && !dry_run {
        let (fetched, age) = Users::load(client, users_cache)
            .map_err(|source| EngineError::Users { step: s.name.clone(), source })?;
        if let Some(age) = age {
            observer.note(&format!(
                "step {}: owners resolved with the org's users as read {} min ago (state dir)",
                s.name,
                age / 60
            ));
        }
        *users = Some(fetched);
    }
    let users = users.as_ref();
    let in_doubt: std::collections::HashMap<u64, i64> = if dry_run {
        Default::default()
    } else {
        settle_in_flight(&s, journal)?.iter().map(|r| (r.row, r.sent_at)).collect()
    };
    let content = zcrm_batcher::source::content_fingerprint(&s.source).map_err(|source| {
        EngineError::Fingerprint { step: s.name.clone(), path: s.source.clone(), source }
    })?;
    if !dry_run && journal.check_source(&s.name, &content, None)? {
        observer.note(&format!(
            "step {}: {} changed since the last run: starting the step over",
            s.name,
            s.source.display()
        ));
    }
    let base = s.source.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut rejects = RejectWriter::create(&s.rejects, &headers)?;
    let total = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
    let shown = observer.import(&s.name, client.ledger(), total.clone());
    let mut rows_read = 0u64;
    let mut would_send = 0u64;
    let mut runner =
        Runner { s: &s, client, journal, rejects: &mut rejects, in_doubt, group: Vec::new() };
    let looped = zcrm_mapping::map_blocks(reader.blocks(), &mapper, true, |chunk: MappedChunk| {
        rows_read += chunk.rows_read as u64;
        shown.rows_read(chunk.rows_read as u64);
        for r in &chunk.rejected {
            runner.rejects.write(r)?;
        }
        for row in chunk.rows {
            if runner.journal.action_state(&s.name, row.pos.row)?.is_some() {
                continue;
            }
            match ready(&s, &cols, &base, row, runner.journal, users) {
                Ok(_) if dry_run => would_send += 1,
                Ok(r) => runner.take(r)?,
                Err(bad) => runner.reject_local(&bad.0, &bad.1)?,
            }
        }
        Ok::<(), Halt>(())
    })
    .and_then(|()| if dry_run { Ok(()) } else { runner.flush() });
    let halted = match looped {
        Ok(()) => None,
        Err(Halt::Read(e)) => Some(StepEnd::Failed(EngineError::SourceStopped {
            step: s.name.clone(),
            path: s.source.clone(),
            rows: rows_read,
            source: Box::new(e),
        })),
        Err(Halt::End(end)) => Some(end),
    };
    if halted.is_some() {
        shown.stop()
    } else {
        shown.finish()
    }
    summary.rows = rows_read;
    finish_reports(journal, &s, rejects, &mut summary)?;
    if dry_run {
        summary.created = would_send;
    }
    match halted {
        Some(end) => Err(end),
        None => Ok(summary),
    }
}

/// Appends the server's refusals to the reject file and writes the success file: `_row`, the
/// key, `_id` (the record acted on; the attachment or related record where there is one),
/// `_action`, and for conversions `_contact`, `_account`, `_potential`; `_note` when a row has one.
fn finish_reports(
    journal: &Journal,
    s: &ActionStep,
    rejects: RejectWriter,
    summary: &mut StepSummary,
) -> Result<(), EngineError> {
    summary.rejected = crate::import::finish_rejects(rejects, journal.action_rejects(&s.name)?)?;
    let done = journal.actions_done(&s.name)?;
    write_success(s, &done)
        .map_err(|source| EngineError::Report { path: s.success.clone(), source })?;
    summary.created = done.len() as u64;
    summary.files = vec![s.success.clone(), s.rejects.clone()];
    Ok(())
}

fn write_success(
    s: &ActionStep,
    done: &[zcrm_batcher::actions::ActionDone],
) -> Result<(), std::io::Error> {
    use zcrm_protocol::formula_guard::guard;
    let dir = s.success.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(tmp));
    let key = s.key.clone().unwrap_or_else(|| s.record.column().to_owned());
    let convert = matches!(s.kind, ActionKind::Convert { .. });
    let mut header =
        vec!["_row".to_owned(), guard(&key).into_owned(), "_id".into(), "_action".into()];
    if convert {
        header.extend(["_contact".into(), "_account".into(), "_potential".into()]);
    }
    header.push("_note".into());
    out.write_record(&header)?;
    let text = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    for (row, k, r) in done {
        let id = r.id.or(r.record);
        let mut rec = vec![
            row.to_string(),
            guard(k.as_deref().unwrap_or("")).into_owned(),
            text(id),
            r.action.clone(),
        ];
        if convert {
            rec.extend([text(r.contact), text(r.account), text(r.potential)]);
        }
        rec.push(r.note.clone().unwrap_or_default());
        out.write_record(&rec)?;
    }
    let tmp =
        out.into_inner().map_err(|e| e.into_error())?.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&s.success).map_err(|e| e.error)?;
    Ok(())
}

/// What an action step would send and spend: its manifest read and mapped (files checked),
/// nothing sent. Relations count one call per run of up to 100 rows naming the same record.
pub(crate) fn plan_action(
    c: CompiledAction,
    client: &dyn CrmApi,
    journal: &Journal,
) -> Result<crate::plan::PlannedStep, EngineError> {
    let CompiledAction { step: s, reader, mapper, cols, .. } = c;
    let base = s.source.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let (mut rows, mut valid, mut done, mut calls) = (0u64, 0u64, 0u64, 0u64);
    let mut group: Option<(String, usize)> = None;
    zcrm_mapping::map_blocks(reader.blocks(), &mapper, true, |chunk| -> Result<(), EngineError> {
        rows += chunk.rows_read as u64;
        for row in &chunk.rows {
            if journal.action_state(&s.name, row.pos.row)?.is_some() {
                done += 1;
                continue;
            }
            if !zcrm_pipeline::offline_problems(&s, &cols, &base, row).is_empty() {
                continue;
            }
            valid += 1;
            if matches!(s.kind, ActionKind::Relate { .. }) {
                let record = row.source.get(cols.record).trim().to_owned();
                match &mut group {
                    Some((r, n)) if *r == record && *n < MAX_RELATIONS => *n += 1,
                    _ => {
                        calls += 1;
                        group = Some((record, 1));
                    }
                }
            } else {
                calls += 1;
            }
        }
        Ok(())
    })?;
    let kind = match s.kind {
        ActionKind::Delete => zcrm_client::CallKind::Delete,
        ActionKind::Attach { .. } => zcrm_client::CallKind::File,
        ActionKind::Relate { .. } => zcrm_client::CallKind::Related,
        ActionKind::Convert { .. } => zcrm_client::CallKind::Convert,
    };
    let users = u64::from(cols.assign_to.is_some() && calls > 0);
    let cost = calls * u64::from(client.cost(kind))
        + users * u64::from(client.cost(zcrm_client::CallKind::Settings));
    Ok(crate::plan::PlannedStep::Action {
        name: s.name.clone(),
        kind: s.kind.keyword(),
        module: s.module.clone(),
        rows,
        valid,
        done,
        calls: calls + users,
        cost,
        warnings: Vec::new(),
    })
}

/// An action step's share of an undo, and the reads it took to decide it: a conversion's
/// potentials and contacts are deleted, and its accounts when the conversion created them
/// (no import step of the pipeline claims the account, and the CRM says it was created at or
/// after the conversion was sent: an account that existed before is the org's, and stays).
/// Files, photos and relations go with the records they hang on; deleted records stay deleted.
pub(crate) fn undo_parts(
    s: &ActionStep,
    client: &dyn CrmApi,
    journal: &Journal,
) -> Result<(Vec<crate::undo::UndoStep>, u64), EngineError> {
    use crate::undo::{Forget, UndoStep};
    let in_flight = journal.actions_in_flight(&s.name)?;
    if !in_flight.is_empty() {
        return Err(EngineError::UndoInFlight { step: s.name.clone(), payloads: in_flight.len() });
    }
    let done = journal.actions_done(&s.name)?;
    let part =
        |module: &str, created: Vec<(u64, RecordId)>, forget, note: Option<String>| UndoStep {
            name: s.name.clone(),
            module: module.to_owned(),
            created,
            kept: Vec::new(),
            forget,
            note,
        };
    let mut reads = 0;
    let parts = match &s.kind {
        ActionKind::Convert { .. } => {
            let ids = |f: fn(&ActionResult) -> Option<u64>| -> Vec<(u64, RecordId)> {
                done.iter().filter_map(|(row, _, r)| f(r).map(|id| (*row, RecordId(id)))).collect()
            };
            let sent = journal.action_sent_times(&s.name)?;
            let mut accounts = Vec::new();
            let mut kept = 0;
            for (row, id) in ids(|r| r.account) {
                if journal.id_claimed(id)? || accounts.iter().any(|(_, a)| *a == id) {
                    continue;
                }
                reads += 1;
                let created = client.created_at("Accounts", id)?;
                let at = sent.get(&row).copied().unwrap_or(i64::MAX);
                match created {
                    Some(t) if t.as_second() + 1 >= at => accounts.push((row, id)),
                    Some(_) => kept += 1,
                    None => {}
                }
            }
            let note = (kept > 0).then(|| {
                format!("{kept} account(s) the conversions attached existed before them: kept")
            });
            vec![
                part("Potentials", ids(|r| r.potential), Forget::Nothing, None),
                part("Contacts", ids(|r| r.contact), Forget::Nothing, None),
                part("Accounts", accounts, Forget::Actions, note),
            ]
        }
        ActionKind::Delete => vec![part(
            &s.module,
            Vec::new(),
            Forget::Nothing,
            (!done.is_empty()).then(|| {
                format!("{} record(s) it deleted stay deleted (the CRM's recycle bin can restore them)", done.len())
            }),
        )],
        ActionKind::Attach { .. } | ActionKind::Relate { .. } => vec![part(
            &s.module,
            Vec::new(),
            Forget::Actions,
            (!done.is_empty()).then(|| {
                format!(
                    "its {} {} go with the records deleted above; those on records the pipeline did not create stay",
                    done.len(),
                    if matches!(s.kind, ActionKind::Relate { .. }) { "relation(s)" } else { "file(s)" }
                )
            }),
        )],
    };
    Ok((parts, reads))
}
