//! Running one import step: reconcile what was in flight, skip what the journal says is done,
//! resolve lookups, pack full payloads in source order, and record every outcome.

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use tracing::{info, warn};
use zcrm_client::{ClientError, CrmApi, OnDuplicate, WriteKind, WriteOptions};
use zcrm_protocol::params::{ApiVersion, ReadParams, SelectColumns, Sort, Window};
use zcrm_protocol::value::format_datetime;
use zcrm_protocol::{
    ApiCode, Direction, ModuleFields, RecordId, RowOutcome as ApiRow, Value, WriteResponse,
};

use crate::error::BatchError;
use crate::fingerprint;
use crate::journal::{Journal, KeyIds, RowOutcome, SentValues};
use crate::reconcile::{call_end, reconcile};
use crate::row::{Action, FieldInput, PendingRow, RejectedRow};
use crate::window::{Job, Senders};

/// What an import step does with each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Create every row.
    Insert,
    /// Update existing records: by the `Id` field the rows carry, or by `match_on`.
    Update {
        /// The CRM field that identifies the record (else rows carry `Id`).
        match_on: Option<String>,
    },
    /// Update the record that matches on `match_on`, create the others.
    Upsert {
        /// The CRM field that identifies a record.
        match_on: String,
    },
}

/// How an upsert finds existing records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchStrategy {
    /// `insertRecords` with `duplicateCheck=2` on the module's duplicate-check field: no reads.
    DuplicateCheck,
    /// Page through the module's `match_on` values and Ids first (one call per 200 records).
    Index,
    /// Plain inserts (nothing to match).
    None,
}

/// One import step's settings.
#[derive(Debug, Clone)]
pub struct ImportStep {
    /// Step name (journal key).
    pub name: String,
    /// The module's API name.
    pub module: String,
    /// Insert, update or upsert.
    pub mode: Mode,
    /// Rows per write call (100 by default, never above 200).
    pub write_batch: u32,
    /// Write calls kept in flight at once (1 = one after the other; at most
    /// [`MAX_IN_FLIGHT`](crate::window::MAX_IN_FLIGHT)).
    pub in_flight: u32,
    /// The module's metadata.
    pub fields: ModuleFields,
    /// The org's time zone (payload send times are recorded in it).
    pub timezone: TimeZone,
    /// Workflow, approval and what an insert does with a duplicate.
    pub options: WriteOptions,
}

impl ImportStep {
    /// How this step matches existing records.
    pub fn strategy(&self) -> MatchStrategy {
        let dup = self
            .module
            .parse::<zcrm_protocol::Module>()
            .ok()
            .and_then(|m| m.duplicate_check_field());
        match &self.mode {
            Mode::Insert => MatchStrategy::None,
            Mode::Upsert { match_on } if dup == Some(match_on.as_str()) => {
                MatchStrategy::DuplicateCheck
            }
            Mode::Upsert { .. } | Mode::Update { match_on: Some(_) } => MatchStrategy::Index,
            Mode::Update { match_on: None } => MatchStrategy::None,
        }
    }
}

/// What a run of a step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepReport {
    /// Valid rows offered.
    pub rows: u64,
    /// Rows skipped because the journal already had them.
    pub already_done: u64,
    /// Rows created in this run.
    pub created: u64,
    /// Rows updated in this run.
    pub updated: u64,
    /// Rows matched to existing records in this run.
    pub matched: u64,
    /// Rows the server refused in this run.
    pub server_rejected: u64,
    /// Rows refused locally in this run (lookups without an Id).
    pub lookup_rejected: u64,
    /// Write calls made.
    pub writes: u64,
    /// Read calls made (upsert index, reconciliation).
    pub reads: u64,
    /// Rows found in the CRM by reconciliation.
    pub reconciled: u64,
}

/// Codes that mean "this whole run cannot go on" rather than "these rows are bad".
fn fatal(code: &ApiCode) -> bool {
    matches!(
        code,
        ApiCode::InvalidTicket
            | ApiCode::NoApiPermission
            | ApiCode::NoModulePermission
            | ApiCode::CrmDisabled
            | ApiCode::NoCrmAccount
            | ApiCode::ModuleNotSupported
            | ApiCode::UseAuthtoken
            | ApiCode::ApiKeyInactive
            | ApiCode::WrongApiKey
    )
}

/// A write call in flight: its rows, and what it claims (records it updates, duplicate-check
/// values it inserts) so that two calls touching the same record never run at once.
struct Outstanding {
    seq: i64,
    rows: Vec<(u32, Option<RecordId>, PendingRow)>,
    insert: bool,
    dup: bool,
    claims: Vec<String>,
}

/// The running state of a step.
struct Run<'a> {
    progress: &'a mut dyn FnMut(&StepReport),
    client: &'a dyn CrmApi,
    journal: &'a mut Journal,
    step: &'a ImportStep,
    report: StepReport,
    inserts: Vec<PendingRow>,
    updates: Vec<(RecordId, PendingRow)>,
    index: HashMap<String, RecordId>,
    /// Upsert through the index: `match_on` values of rows sent (or about to be) as inserts in
    /// this run, and their source rows. A later row with the same value updates the record the
    /// first one creates instead of creating a second.
    inserting: HashMap<String, u64>,
    /// `match_on` values that several existing records share, with those records: a row with
    /// such a value cannot say which one it means.
    ambiguous: HashMap<String, Vec<RecordId>>,
    senders: Senders,
    outstanding: Vec<Outstanding>,
    /// Write calls in doubt since the last answered one: each waits longer before its rows are
    /// sent again, and [`MAX_IN_DOUBT_STREAK`] of them stop the step.
    in_doubt_streak: u32,
    /// The back-off's jitter state.
    jitter: u64,
}

/// Write calls in a row whose outcome is unknown (5xx, dropped or truncated answers) after
/// which a step stops: a broken server costs a few dozen calls, not the day's budget.
pub const MAX_IN_DOUBT_STREAK: u32 = 5;

/// Runs `step` over `rows` (valid rows in source order). Rows the journal already has are
/// skipped; lookup failures go to `reject`. Stops with [`BatchError::Budget`] when the budget
/// share is spent (everything done so far is recorded; a rerun continues).
pub fn run_import(
    client: &dyn CrmApi,
    journal: &mut Journal,
    step: &ImportStep,
    rows: impl Iterator<Item = PendingRow>,
    reject: &mut dyn FnMut(RejectedRow),
) -> Result<StepReport, BatchError> {
    run_import_with_progress(client, journal, step, rows, reject, &mut |_| {})
}

/// [`run_import`] that also calls `progress` with the running totals after every write call
/// (and after reconciling an in-flight payload), for progress bars and periodic log lines.
///
/// Payloads are packed and journalled on the calling thread, in source order; up to
/// `step.in_flight` write calls run at once on sender threads, and every outcome is recorded
/// on the calling thread as it arrives.
pub fn run_import_with_progress(
    client: &dyn CrmApi,
    journal: &mut Journal,
    step: &ImportStep,
    rows: impl Iterator<Item = PendingRow>,
    reject: &mut dyn FnMut(RejectedRow),
    progress: &mut dyn FnMut(&StepReport),
) -> Result<StepReport, BatchError> {
    std::thread::scope(|scope| {
        let mut run = Run {
            progress,
            client,
            journal,
            step,
            report: StepReport::default(),
            inserts: Vec::new(),
            updates: Vec::new(),
            index: HashMap::new(),
            inserting: HashMap::new(),
            ambiguous: HashMap::new(),
            senders: Senders::start(scope, client, &step.module, step.in_flight),
            outstanding: Vec::new(),
            in_doubt_streak: 0,
            jitter: zcrm_client::retry::seed(),
        };
        let mut rows = rows.peekable();
        let outcome = run.drive(&mut rows, reject);
        run.senders.close();
        match outcome {
            Ok(()) => Ok(run.report),
            Err(BatchError::Client(ClientError::Budget(b))) => {
                let mut left = (run.inserts.len() + run.updates.len()) as u64;
                let known = run.journal.known_rows(&step.name)?;
                left += rows.filter(|r| !known.contains(&r.row)).count() as u64;
                Err(BatchError::Budget { source: b, rows_left: left })
            }
            Err(e) => Err(e),
        }
    })
}

impl Run<'_> {
    fn drive(
        &mut self,
        rows: &mut dyn Iterator<Item = PendingRow>,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<(), BatchError> {
        for payload in self.journal.in_flight(&self.step.name)? {
            // Left by an earlier run: its call ended by the deadline at the latest.
            let until = call_end(&payload, None, self.client.call_deadline(), &self.step.timezone);
            let r = reconcile(
                self.client,
                self.journal,
                &self.step.name,
                &self.step.module,
                &self.step.fields,
                &payload,
                until,
            )?;
            info!(step = %self.step.name, found = r.found, resend = r.resend, "reconciled an in-flight payload");
            self.report.reads += r.reads;
            self.report.reconciled += r.found;
            (self.progress)(&self.report);
        }
        let known = self.journal.known_rows(&self.step.name)?;
        let strategy = self.step.strategy();
        let mut index_built = false;
        for row in rows {
            self.report.rows += 1;
            if known.contains(&row.row) {
                self.report.already_done += 1;
                continue;
            }
            if strategy == MatchStrategy::Index && !index_built {
                self.build_index()?;
                index_built = true;
            }
            let Some(row) = self.resolve_lookups(row, reject)? else { continue };
            match (&self.step.mode, strategy) {
                (Mode::Insert, _) | (Mode::Upsert { .. }, MatchStrategy::DuplicateCheck) => {
                    self.inserts.push(row);
                    if self.inserts.len() >= self.step.write_batch as usize {
                        self.flush_inserts(reject)?;
                    }
                }
                (Mode::Update { match_on: None }, _) => match row_id(&row) {
                    Some(id) => self.push_update(id, row, reject)?,
                    None => {
                        self.report.lookup_rejected += 1;
                        reject(RejectedRow { row: row.row, line: row.line, source: row.source, errors: vec!["Id: an update needs the record Id (map a column to \"Id\" or set match_on)".into()] });
                    }
                },
                (Mode::Update { match_on: Some(m) } | Mode::Upsert { match_on: m }, _) => {
                    let m = m.clone();
                    let value =
                        row.fields.iter().find(|(l, _)| *l == m).and_then(|(_, v)| match v {
                            FieldInput::Value(v) => fingerprint::canonical(v),
                            FieldInput::Text(t) => Some(fingerprint::normalise(
                                &self.step.fields,
                                &m,
                                t,
                                Direction::Input,
                            )),
                            FieldInput::Lookup { .. } => None,
                        });
                    if let Some(ids) = value.as_ref().and_then(|v| self.ambiguous.get(v)) {
                        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                        self.report.lookup_rejected += 1;
                        reject(RejectedRow {
                            row: row.row,
                            line: row.line,
                            source: row.source,
                            errors: vec![format!(
                                "{m}: {} existing records have this value (ids {}); map a column to \"Id\" to say which one",
                                ids.len(),
                                ids.join(", ")
                            )],
                        });
                        continue;
                    }
                    let upsert = matches!(self.step.mode, Mode::Upsert { .. });
                    let known = match &value {
                        Some(v) if upsert => self.created_in_this_run(v, reject)?,
                        _ => None,
                    };
                    match known.or_else(|| value.as_ref().and_then(|v| self.index.get(v).copied()))
                    {
                        Some(id) => self.push_update(id, row, reject)?,
                        None if upsert => {
                            if let Some(v) = value {
                                self.inserting.insert(v, row.row);
                            }
                            self.inserts.push(row);
                            if self.inserts.len() >= self.step.write_batch as usize {
                                self.flush_inserts(reject)?;
                            }
                        }
                        None => {
                            self.report.lookup_rejected += 1;
                            reject(RejectedRow {
                                row: row.row,
                                line: row.line,
                                source: row.source,
                                errors: vec![format!("{m}: no existing record matches this value")],
                            });
                        }
                    }
                }
            }
        }
        self.flush_inserts(reject)?;
        self.flush_updates(reject)?;
        self.drain(reject)
    }

    /// The record an earlier row of this run creates with `match_on` value `value`, waiting
    /// for that row's insert to come back if it is still queued or in flight (rare: only a
    /// value repeated in the source costs the wait). `None` when no earlier row inserts it, or
    /// its insert was refused.
    fn created_in_this_run(
        &mut self,
        value: &str,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<Option<RecordId>, BatchError> {
        let Some(&row) = self.inserting.get(value) else { return Ok(None) };
        self.flush_inserts(reject)?;
        self.drain(reject)?;
        self.inserting.remove(value);
        let id = self.journal.crm_id_of(&self.step.name, row)?;
        if let Some(id) = id {
            self.index.insert(value.to_owned(), id);
        }
        Ok(id)
    }

    fn push_update(
        &mut self,
        id: RecordId,
        row: PendingRow,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<(), BatchError> {
        self.updates.push((id, row));
        if self.updates.len() >= self.step.write_batch as usize {
            self.flush_updates(reject)?;
        }
        Ok(())
    }

    /// Pages through the module's `match_on` values: one read call per 200 existing records.
    fn build_index(&mut self) -> Result<(), BatchError> {
        let m = match &self.step.mode {
            Mode::Upsert { match_on } | Mode::Update { match_on: Some(match_on) } => {
                match_on.clone()
            }
            _ => return Ok(()),
        };
        let id_field = self
            .step
            .module
            .parse::<zcrm_protocol::Module>()
            .map(|x| x.id_field().into_owned())
            .unwrap_or_default();
        let mut page = 0;
        loop {
            let params = ReadParams {
                select: SelectColumns::fields(&self.step.module, [m.clone()]),
                window: Window::page(page),
                sort: Some(Sort::asc("Created Time")),
                version: ApiVersion::V2,
                ..ReadParams::default()
            };
            let fields = &self.step.fields;
            let mut got = (0, Vec::new());
            self.client
                .read(&self.step.module, &params, &mut |p| {
                    let pairs: Vec<(String, RecordId)> = p
                        .rows()
                        .filter_map(|r| {
                            Some((
                                fingerprint::normalise(fields, &m, r.text(&m)?, Direction::Output),
                                r.id(&id_field)?,
                            ))
                        })
                        .collect();
                    got = (p.len(), pairs);
                })
                .map_err(BatchError::Client)?;
            let (n, pairs) = got;
            self.report.reads += 1;
            for (k, id) in pairs {
                match self.index.entry(k) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(id);
                    }
                    std::collections::hash_map::Entry::Occupied(o) if *o.get() != id => {
                        let first = *o.get();
                        let ids =
                            self.ambiguous.entry(o.key().clone()).or_insert_with(|| vec![first]);
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    std::collections::hash_map::Entry::Occupied(_) => {}
                }
            }
            if n < 200 {
                break;
            }
            page += 1;
        }
        info!(step = %self.step.name, existing = self.index.len(), reads = self.report.reads, "upsert index built");
        Ok(())
    }

    fn resolve_lookups(
        &mut self,
        row: PendingRow,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<Option<PendingRow>, BatchError> {
        match resolve_lookups(self.journal, row)? {
            Ok(row) => Ok(Some(row)),
            Err(r) => {
                self.report.lookup_rejected += 1;
                reject(r);
                Ok(None)
            }
        }
    }

    /// The server's time now (a lower bound, from its `Date` headers), in the org's zone: when
    /// a payload leaves. Reconciliation claims no record created before it.
    fn now(&self) -> String {
        format_datetime(
            self.client
                .server_clock()
                .now_at_least()
                .to_zoned_datetime(self.step.timezone.clone())
                .datetime(),
        )
    }

    fn flush_inserts(&mut self, reject: &mut dyn FnMut(RejectedRow)) -> Result<(), BatchError> {
        if self.inserts.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Option<RecordId>, PendingRow)> =
            std::mem::take(&mut self.inserts).into_iter().map(|r| (None, r)).collect();
        let dup = self.step.strategy() == MatchStrategy::DuplicateCheck;
        self.send(rows, true, dup, reject)
    }

    fn flush_updates(&mut self, reject: &mut dyn FnMut(RejectedRow)) -> Result<(), BatchError> {
        if self.updates.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Option<RecordId>, PendingRow)> =
            std::mem::take(&mut self.updates).into_iter().map(|(id, r)| (Some(id), r)).collect();
        self.send(rows, false, false, reject)
    }

    /// Packs one payload, records it in the journal as in flight and hands it to a sender.
    /// Waits first while the window is full or a call in flight touches the same records.
    /// `insert` with `dup` uses duplicateCheck=2 (idempotent upsert).
    fn send(
        &mut self,
        rows: Vec<(Option<RecordId>, PendingRow)>,
        insert: bool,
        dup: bool,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<(), BatchError> {
        let claims = self.claims(&rows, insert, dup);
        while self.outstanding.len() >= self.senders.capacity
            || self.outstanding.iter().any(|o| o.claims.iter().any(|c| claims.contains(c)))
        {
            if let Err(e) = self.complete_one(reject) {
                self.put_back(rows.into_iter().map(|(id, r)| (0, id, r)));
                return Err(e);
            }
        }
        let mut b = self.client.payload(&self.step.module, self.step.write_batch);
        let mut sent: Vec<(u32, Option<RecordId>, PendingRow)> = Vec::new();
        // Plain inserts are the payloads reconciliation may have to find again: the journal
        // keeps each row's values in their comparable form.
        let keep_values = insert && !dup;
        let mut values: Vec<Option<SentValues>> = Vec::new();
        for (id, row) in rows {
            let unresolved = Value::Text(String::new());
            let fields: Vec<(&str, std::borrow::Cow<'_, Value>)> = id
                .map(|i| ("Id", std::borrow::Cow::Owned(Value::Id(i))))
                .into_iter()
                .chain(row.fields.iter().filter(|(l, _)| l != "Id").map(|(l, v)| {
                    (l.as_str(), v.value().unwrap_or(std::borrow::Cow::Borrowed(&unresolved)))
                }))
                .collect();
            let items: Vec<Vec<(&str, std::borrow::Cow<'_, Value>)>> = row
                .items
                .iter()
                .map(|item| {
                    item.fields
                        .iter()
                        .map(|(l, v)| {
                            let v = v.value().unwrap_or(std::borrow::Cow::Borrowed(&unresolved));
                            (l.as_str(), v)
                        })
                        .collect()
                })
                .collect();
            let items: Vec<Vec<(&str, &Value)>> = items
                .iter()
                .map(|item| item.iter().map(|(l, v)| (*l, v.as_ref())).collect())
                .collect();
            let pushed =
                b.push_row_with_items(&mut fields.iter().map(|(l, v)| (*l, v.as_ref())), &items);
            if pushed.is_ok() && keep_values {
                values.push(Some(self.comparable(&row)));
            }
            match pushed {
                Ok(no) => sent.push((no, id, row)),
                Err(e) => {
                    self.report.lookup_rejected += 1;
                    reject(RejectedRow {
                        row: row.row,
                        line: row.line,
                        source: row.source,
                        errors: vec![e.to_string()],
                    });
                }
            }
        }
        if sent.is_empty() {
            return Ok(());
        }
        let xml = b.finish().map_err(BatchError::Encode)?;
        let journal_rows: Vec<(u32, u64, u64, Option<String>)> =
            sent.iter().map(|(no, _, r)| (*no, r.row, r.line, r.key.clone())).collect();
        // Only plain inserts need reconciliation; updates and duplicate-checked inserts repeat safely.
        let seq = self.journal.begin_payload_with_values(
            &self.step.name,
            insert && !dup,
            &xml,
            &self.now(),
            &journal_rows,
            &values,
        )?;
        let kind = match (insert, dup) {
            (true, false) => WriteKind::Insert,
            (true, true) => WriteKind::InsertOrUpdateDuplicate,
            (false, _) => WriteKind::Update,
        };
        let options = self.step.options;
        if let Err(job) = self.senders.send(Job { seq, kind, options, payload: xml }) {
            self.journal.abort_payload(&self.step.name, job.seq)?;
            return Err(BatchError::Internal("the write senders stopped".into()));
        }
        self.report.writes += 1;
        self.outstanding.push(Outstanding { seq, rows: sent, insert, dup, claims });
        Ok(())
    }

    /// A row's values in their comparable form, as the journal keeps them for reconciliation:
    /// typed values directly, text read as its field's type (so `10.50` compares with the
    /// CRM's `10.5`).
    fn comparable(&self, row: &PendingRow) -> SentValues {
        row.fields
            .iter()
            .filter(|(l, _)| l != "Id")
            .map(|(l, v)| {
                let c = match v {
                    FieldInput::Value(v) => fingerprint::canonical(v).unwrap_or_default(),
                    FieldInput::Text(t) => {
                        fingerprint::normalise(&self.step.fields, l, t, Direction::Input)
                    }
                    FieldInput::Lookup { .. } => String::new(),
                };
                (l.clone(), c)
            })
            .collect()
    }

    /// What a payload of `rows` claims: the records it updates, or the duplicate-check values
    /// it inserts (plain inserts claim nothing).
    fn claims(
        &self,
        rows: &[(Option<RecordId>, PendingRow)],
        insert: bool,
        dup: bool,
    ) -> Vec<String> {
        // Plain inserts claim nothing; inserts checked for duplicates claim their value, so two
        // rows with one value never race and the earlier source row is the one created.
        if insert && !dup && self.step.options.on_duplicate == OnDuplicate::Create {
            return Vec::new();
        }
        let dup_field = self
            .step
            .module
            .parse::<zcrm_protocol::Module>()
            .ok()
            .and_then(|m| m.duplicate_check_field());
        rows.iter()
            .filter_map(|(id, row)| match (id, dup_field) {
                (Some(id), _) => Some(format!("id:{id}")),
                (None, Some(f)) => row
                    .fields
                    .iter()
                    .find(|(l, _)| l == f)
                    .and_then(|(_, v)| v.input_text())
                    .map(|t| format!("dup:{}", t.trim().to_lowercase())),
                (None, None) => None,
            })
            .collect()
    }

    /// Rows of a payload that was never sent go back to the buffers (counted as left).
    fn put_back(&mut self, rows: impl IntoIterator<Item = (u32, Option<RecordId>, PendingRow)>) {
        for (_, id, row) in rows {
            match id {
                Some(id) => self.updates.push((id, row)),
                None => self.inserts.push(row),
            }
        }
    }

    /// Waits for one write call to finish and records its outcome. On an error, the other calls
    /// in flight are still waited for and recorded before the error is returned.
    fn complete_one(&mut self, reject: &mut dyn FnMut(RejectedRow)) -> Result<(), BatchError> {
        let Some((seq, result)) = self.senders.next_done() else {
            return Err(BatchError::Internal("the write senders stopped".into()));
        };
        let Some(at) = self.outstanding.iter().position(|o| o.seq == seq) else {
            return Err(BatchError::Internal(format!(
                "an answer for payload {seq}, which is not in flight"
            )));
        };
        let o = self.outstanding.swap_remove(at);
        let recorded = self.record(result, o.seq, o.rows, o.insert, o.dup, reject);
        (self.progress)(&self.report);
        if recorded.is_err() {
            while !self.outstanding.is_empty() {
                if self.complete_one(reject).is_err() {
                    break;
                }
            }
        }
        recorded
    }

    /// Waits for every write call in flight and records the outcomes.
    fn drain(&mut self, reject: &mut dyn FnMut(RejectedRow)) -> Result<(), BatchError> {
        while !self.outstanding.is_empty() {
            self.complete_one(reject)?;
        }
        Ok(())
    }

    /// Records the outcome of write call `seq` in the journal (reconciling it when in doubt).
    fn record(
        &mut self,
        result: Result<WriteResponse, ClientError>,
        seq: i64,
        sent: Vec<(u32, Option<RecordId>, PendingRow)>,
        insert: bool,
        dup: bool,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<(), BatchError> {
        match result {
            Ok(WriteResponse::Rows(results)) => {
                self.in_doubt_streak = 0;
                let by_no: HashMap<u32, &ApiRow> =
                    results.iter().map(|r| (r.no, &r.outcome)).collect();
                let mut outcome = Vec::with_capacity(sent.len());
                for (no, id, row) in sent {
                    outcome.push(match by_no.get(&no) {
                        Some(ApiRow::Added(d)) => {
                            self.report.created += 1;
                            RowOutcome::Done { row: row.row, id: d.id, action: Action::Created }
                        }
                        Some(ApiRow::Updated(d)) => {
                            self.report.updated += 1;
                            RowOutcome::Done { row: row.row, id: d.id, action: Action::Updated }
                        }
                        // An insert asked to reject duplicates: the existing record is named
                        // in the refusal, nothing was created.
                        Some(ApiRow::Duplicate(d))
                            if insert && self.step.options.on_duplicate == OnDuplicate::Reject =>
                        {
                            self.report.server_rejected += 1;
                            RowOutcome::Refused {
                                row: row.row,
                                code: "2002".to_owned(),
                                message: format!(
                                    "a record with the same duplicate-check value exists (id {}); on_duplicate = \"reject\"",
                                    d.id
                                ),
                                source: row.source,
                            }
                        }
                        Some(ApiRow::Duplicate(d)) => {
                            self.report.matched += 1;
                            RowOutcome::Done { row: row.row, id: d.id, action: Action::Matched }
                        }
                        Some(ApiRow::Failed(e)) => {
                            self.report.server_rejected += 1;
                            RowOutcome::Refused {
                                row: row.row,
                                code: e.code.to_string(),
                                message: e.message.clone(),
                                source: row.source,
                            }
                        }
                        None => {
                            warn!(
                                row = row.row,
                                ?id,
                                "the server did not answer for this row; it will be sent again"
                            );
                            RowOutcome::NotApplied { row: row.row }
                        }
                    });
                }
                self.journal.complete_payload(&self.step.name, seq, &outcome, "ok")?;
                Ok(())
            }
            Ok(WriteResponse::Single { .. }) => Err(BatchError::Unexpected(
                "the server answered a version=4 write in the single-record form".into(),
            )),
            Err(ClientError::InDoubt { reason, .. }) => {
                let failed_at = self.client.server_clock().now_at_most();
                warn!(step = %self.step.name, %reason, "write in doubt; reconciling before anything else is sent");
                // The other calls in flight finish first: reconciliation then sees their records
                // already claimed by their own rows.
                self.drain(reject)?;
                let payload =
                    self.journal.in_flight(&self.step.name)?.into_iter().find(|p| p.seq == seq);
                if let Some(p) = payload {
                    let until = call_end(
                        &p,
                        Some(failed_at),
                        self.client.call_deadline(),
                        &self.step.timezone,
                    );
                    let r = reconcile(
                        self.client,
                        self.journal,
                        &self.step.name,
                        &self.step.module,
                        &self.step.fields,
                        &p,
                        until,
                    )?;
                    self.report.reads += r.reads;
                    self.report.reconciled += r.found;
                    self.report.created += r.found;
                    // Rows that did not make it go again, in the same order, after a back-off
                    // that grows with every call in doubt in a row; too many stop the step
                    // (the rows stay in no report: a rerun sends them).
                    self.in_doubt_streak += 1;
                    if self.in_doubt_streak >= MAX_IN_DOUBT_STREAK {
                        self.drain(reject)?;
                        return Err(BatchError::ServerFailing {
                            failures: self.in_doubt_streak,
                            last: reason,
                        });
                    }
                    let found: HashSet<u64> = self.journal.known_rows(&self.step.name)?;
                    let again: Vec<(Option<RecordId>, PendingRow)> = sent
                        .into_iter()
                        .filter(|(_, _, r)| !found.contains(&r.row))
                        .map(|(_, id, r)| (id, r))
                        .collect();
                    if !again.is_empty() {
                        let wait = self
                            .client
                            .retry_policy()
                            .delay(self.in_doubt_streak, &mut self.jitter);
                        info!(step = %self.step.name, wait_ms = wait.as_millis() as u64, "backing off before sending the in-doubt rows again");
                        std::thread::sleep(wait);
                        return self.send(again, insert, dup, reject);
                    }
                }
                Ok(())
            }
            Err(ClientError::Api { error, .. })
                if !fatal(&error.code) && error.code != ApiCode::ApiLimitExceeded =>
            {
                // The whole call was refused because of its content: every row carries the error.
                let outcome: Vec<RowOutcome> = sent
                    .into_iter()
                    .map(|(_, _, r)| RowOutcome::Refused {
                        row: r.row,
                        code: error.code.to_string(),
                        message: error.message.clone(),
                        source: r.source,
                    })
                    .collect();
                self.report.server_rejected += outcome.len() as u64;
                self.journal.complete_payload(&self.step.name, seq, &outcome, "refused")?;
                Ok(())
            }
            Err(e) => {
                // Never sent (budget, connection refused) or a fatal refusal: nothing was applied.
                self.journal.abort_payload(&self.step.name, seq)?;
                if matches!(e, ClientError::Budget(_)) {
                    // Put the rows back so the caller can count them as left.
                    self.put_back(sent);
                }
                Err(BatchError::Client(e))
            }
        }
    }
}

/// `row` with every lookup replaced by the CRM Id its step recorded for the key, or the row
/// rejected with each lookup that has no single Id.
pub(crate) fn resolve_lookups(
    journal: &Journal,
    mut row: PendingRow,
) -> Result<Result<PendingRow, RejectedRow>, BatchError> {
    let mut errors = Vec::new();
    for (label, value) in &mut row.fields {
        if let FieldInput::Lookup { step, key } = value {
            match journal.id_for_key(step, key)? {
                KeyIds::One(id) => *value = FieldInput::Value(Value::Id(id)),
                KeyIds::None => errors.push(format!(
                    "{label}: no CRM Id for key {key:?} in step {step:?} (that row was rejected or is not imported yet)"
                )),
                KeyIds::Several(found) => {
                    let rows: Vec<String> = found.iter().map(|(r, _)| r.to_string()).collect();
                    errors.push(format!(
                        "{label}: key {key:?} names {} records of step {step:?} (its rows {} have that key); a lookup needs a key that is unique in its step",
                        found.len(),
                        rows.join(", ")
                    ));
                }
            }
        }
    }
    for item in &mut row.items {
        for (label, value) in &mut item.fields {
            if let FieldInput::Lookup { step, key } = value {
                match journal.id_for_key(step, key)? {
                    KeyIds::One(id) => *value = FieldInput::Value(Value::Id(id)),
                    KeyIds::None => errors.push(format!(
                        "Product Details: line {}: {label}: no CRM Id for key {key:?} in step {step:?} (that row was rejected or is not imported yet)",
                        item.line
                    )),
                    KeyIds::Several(found) => errors.push(format!(
                        "Product Details: line {}: {label}: key {key:?} names {} records of step {step:?}; a lookup needs a key that is unique in its step",
                        item.line,
                        found.len()
                    )),
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(Ok(row));
    }
    Ok(Err(RejectedRow { row: row.row, line: row.line, source: row.source, errors }))
}

fn row_id(row: &PendingRow) -> Option<RecordId> {
    row.fields.iter().find(|(l, _)| l == "Id").and_then(|(_, v)| match v {
        FieldInput::Value(Value::Id(id)) => Some(*id),
        other => other.input_text()?.trim().parse().ok(),
    })
}
