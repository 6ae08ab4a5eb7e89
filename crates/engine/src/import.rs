//! One import step: the source read and mapped on rayon while the batcher sends, rejected rows
//! written as they come, then the CRM's refusals and the success file once the step ends.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use zcrm_batcher::{
    BatchError, FieldInput, Journal, LineInput, PendingRow, RejectedRow, StepReport,
};
use zcrm_pipeline::lines::{LineError, LineIndex, Lines};
use zcrm_protocol::Value;

use crate::owners::Users;
use zcrm_client::CrmApi;
use zcrm_mapping::{MappedChunk, MappedRow, MappedValue, RejectWriter, RejectWriterError};
use zcrm_pipeline::ImportStep;
use zcrm_readers::ReadError;

use crate::error::EngineError;
use crate::execute::StepSummary;
use crate::observer::Observer;
use crate::prepare::CompiledImport;

/// Why an import step ended without finishing.
pub(crate) enum StepEnd {
    /// Today's budget share is spent: the message, and when the budget day turns.
    Budget(String, jiff::Timestamp),
    /// Anything else.
    Failed(EngineError),
}

impl<E: Into<EngineError>> From<E> for StepEnd {
    fn from(e: E) -> Self {
        Self::Failed(e.into())
    }
}

/// The value of "not counted yet" in the total handed to the observer.
const UNKNOWN: u64 = u64::MAX;

/// Runs one compiled import step (a dry run maps and counts but sends nothing).
/// What an import step sends.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sending {
    /// Read, map and write the reject file, but send nothing.
    pub(crate) dry_run: bool,
    /// Send at most this many valid rows (a rehearsal).
    pub(crate) limit: Option<u64>,
    /// Rows per Bulk Write job (`RunOptions::bulk_rows`).
    pub(crate) bulk_rows: Option<usize>,
}

pub(crate) fn run_import(
    c: CompiledImport,
    client: &dyn CrmApi,
    journal: &mut Journal,
    send: Sending,
    users: &mut Option<Users>,
    users_cache: &std::path::Path,
    observer: &dyn Observer,
) -> Result<StepSummary, StepEnd> {
    let Sending { dry_run, limit, bulk_rows } = send;
    let CompiledImport {
        step: s, reader, headers, mapper, batch, lines, bulk_dir, in_flight, ..
    } = c;
    // Owners by e-mail or name: the org's active users, read once per run.
    if mapper.has_owners() && users.is_none() {
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
    let users = &*users;
    let owner_field = s.map.entries.iter().find(|e| e.spec.owner).map(|e| e.field.as_str());
    // A changed source file (a recurring sync's new extract) starts the step over; the same
    // file resumes where the last run stopped.
    let content = zcrm_batcher::source::content_fingerprint(&s.source).map_err(|source| {
        EngineError::Fingerprint { step: s.name.clone(), path: s.source.clone(), source }
    })?;
    let legacy = zcrm_batcher::source::legacy_fingerprint(&s.source).ok();
    if journal.check_source(&s.name, &content, legacy.as_deref())? {
        observer.note(&format!(
            "step {}: {} changed since the last run: starting the step over",
            s.name,
            s.source.display()
        ));
    }
    // Line items: the line file indexed on disk by parent key before the first row is read.
    let lines = match lines {
        Some(l) => Some(LineIndex::build(&s, l).map_err(|source| EngineError::Lines {
            step: s.name.clone(),
            source: Box::new(source),
        })?),
        None => None,
    };
    // Records or Bulk Write: the pipeline's `method`, else the cheaper for the rows to send
    // (counted by a cheap pass over the source, less the rows the journal has).
    let open_jobs = journal.has_open_bulk_jobs(&s.name)?;
    let bulk_offered = client.dialect() == zcrm_client::Dialect::V8 && s.line_items.is_none();
    let choice = if dry_run || !bulk_offered {
        None
    } else {
        // Counted for a fixed `method` too: the note says what either way costs.
        let rows = if open_jobs {
            0
        } else {
            let known = journal.known_rows(&s.name)?.len() as u64;
            count_rows(&s, &AtomicBool::new(false)).unwrap_or(0).saturating_sub(known)
        };
        let c = crate::method::choose(
            client,
            rows,
            batch.write_batch,
            in_flight,
            s.method,
            s.line_items.is_some(),
            open_jobs,
        );
        observer.note(&format!("step {}: {}", s.name, c.why));
        Some(c)
    };
    let bulk = choice.is_some_and(|c| c.method == zcrm_pipeline::Method::Bulk).then(|| {
        zcrm_batcher::BulkSettings {
            dir: bulk_dir,
            labels: mapper.fields().map(str::to_owned).collect(),
            max_rows: bulk_rows
                .unwrap_or(zcrm_client::bulk::MAX_BULK_ROWS)
                .clamp(1, zcrm_client::bulk::MAX_BULK_ROWS),
            poll: zcrm_batcher::Poll::default(),
        }
    });
    let key_col = s.key.as_ref().and_then(|k| headers.iter().position(|h| h == k));
    let line_error: RefCell<Option<LineError>> = RefCell::new(None);
    let rejects = RefCell::new(RejectWriter::create(&s.rejects, &headers)?);
    let mut summary =
        StepSummary { name: s.name.clone(), kind: "import", ..StepSummary::default() };
    let total = Arc::new(AtomicU64::new(UNKNOWN));
    let shown = observer.import(&s.name, client.ledger(), total.clone());
    let mut rows_read = 0u64;
    let counted = AtomicBool::new(false);
    let report_error: RefCell<Option<RejectWriterError>> = RefCell::new(None);
    let (outcome, read_error) = std::thread::scope(|scope| {
        // The ETA needs the source's row count: a second, cheap pass over the file counts
        // them while the first is sent (a dry run has no time to save, so it does not).
        if !dry_run {
            let (total, stop, s) = (total.clone(), &counted, &s);
            scope.spawn(move || {
                if let Some(n) = count_rows(s, stop) {
                    total.store(n, Ordering::Relaxed);
                }
            });
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<MappedChunk, ReadError>>(4);
        let mapper = &mapper;
        scope.spawn(move || {
            let r = zcrm_mapping::map_blocks(reader.blocks(), mapper, true, |chunk| {
                tx.send(Ok(chunk)).map_err(|_| ReadError::Stopped { path: PathBuf::new() })
            });
            if let Err(e) = r {
                let _ = tx.send(Err(e));
            }
        });
        let mut read_error: Option<ReadError> = None;
        let rows = rx.iter().map_while(|c| match c {
            Ok(c) => Some(c),
            Err(e) => {
                read_error = Some(e);
                None
            }
        });
        let shown = &*shown;
        let report_failed = &report_error;
        // A row refused past the mapping (an owner no active user has, a lookup without an
        // Id, a value the payload cannot carry) goes to the reject file; a reject row that
        // cannot be written stops the step.
        let refused = |r: RejectedRow| {
            let written = rejects.borrow_mut().write_parts(
                r.source.iter().map(String::as_str),
                r.row,
                r.line,
                &r.errors.join(" | "),
            );
            if let Err(e) = written {
                report_failed.borrow_mut().get_or_insert(e);
            }
        };
        let refused = &refused;
        let rows = rows.flat_map(|chunk| {
            rows_read += chunk.rows_read as u64;
            let mut w = rejects.borrow_mut();
            for r in &chunk.rejected {
                if let Err(e) = w.write(r) {
                    report_failed.borrow_mut().get_or_insert(e);
                }
                // A row rejected here owns its lines: they are not orphans.
                if let (Some(ix), Some(k)) = (&lines, key_col)
                    && k < r.source.len()
                    && let Err(e) = ix.claim(r.source.get(k))
                {
                    line_error.borrow_mut().get_or_insert(e);
                }
            }
            // Rejected rows count as read when their chunk arrives, valid ones as the
            // batcher takes them: the figure moves with the payloads.
            shown.rows_read(chunk.rows_read.saturating_sub(chunk.rows.len()) as u64);
            let (lines, line_error) = (&lines, &line_error);
            chunk.rows.into_iter().filter_map(move |r| {
                shown.rows_read(1);
                let items = match (lines, &r.key) {
                    (Some(ix), Some(key)) => match ix.lines_of(key) {
                        Ok(l) => l,
                        Err(e) => {
                            line_error.borrow_mut().get_or_insert(e);
                            return None;
                        }
                    },
                    _ => Lines::Items(Vec::new()),
                };
                match pending(r, users.as_ref(), owner_field, items) {
                    Ok(p) => Some(p),
                    // An owner no active user has: rejected here, never sent.
                    Err(r) => {
                        refused(r);
                        None
                    }
                }
            })
        });
        // A reject row that cannot be written stops the step: nothing more is offered to the
        // batcher (rows not journalled are read again by the rerun that rewrites the reports).
        let rows =
            rows.take_while(|_| report_failed.borrow().is_none() && line_error.borrow().is_none());
        // A rehearsal (`--limit`, `sample`): the first valid rows only.
        let rows =
            rows.take(limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX)));
        let outcome = if dry_run {
            let n = rows.count() as u64;
            Ok(StepReport { rows: n, ..StepReport::default() })
        } else if let Some(settings) = &bulk {
            zcrm_batcher::run_bulk_import(
                client,
                journal,
                &batch,
                settings,
                rows,
                &mut |r| refused(r),
                &mut |report| shown.written(report),
            )
        } else {
            zcrm_batcher::run_import_with_progress(
                client,
                journal,
                &batch,
                rows,
                &mut |r| refused(r),
                &mut |report| shown.written(report),
            )
        };
        counted.store(true, Ordering::Relaxed);
        (outcome, read_error)
    });
    if let Some(source) = report_error.into_inner() {
        shown.stop();
        return Err(EngineError::RejectStopped { step: s.name.clone(), source }.into());
    }
    if let Some(source) = line_error.into_inner() {
        shown.stop();
        return Err(EngineError::Lines { step: s.name.clone(), source: Box::new(source) }.into());
    }
    // A source that fails part-way (an I/O error, a corrupt sheet) must not end the step as if
    // it were complete: what was sent is in the journal, and a rerun resumes after the fix.
    let outcome: Result<StepReport, BatchError> = match (outcome, read_error) {
        (Ok(_), Some(source)) => {
            shown.stop();
            finish_reports(journal, &s, rejects.into_inner(), &mut summary)?;
            return Err(EngineError::SourceStopped {
                step: s.name.clone(),
                path: s.source.clone(),
                rows: rows_read,
                source: Box::new(source),
            }
            .into());
        }
        (outcome, _) => outcome,
    };
    if outcome.is_ok() {
        // Every row was read: the count is exact whether or not the counting pass finished.
        total.store(rows_read, Ordering::Relaxed);
        shown.finish();
    } else {
        shown.stop();
    }
    summary.rows = rows_read;
    match outcome {
        Ok(_) => {}
        Err(BatchError::Budget { source, rows_left }) => {
            finish_reports(journal, &s, rejects.into_inner(), &mut summary)?;
            let msg = format!(
                "step {}: {}; {rows_left} row(s) left — rerun to continue (or use --wait-for-budget)",
                s.name, source
            );
            return Err(StepEnd::Budget(msg, source.resets_at.timestamp()));
        }
        Err(source) => {
            return Err(EngineError::Import { step: s.name.clone(), source }.into());
        }
    }
    finish_reports(journal, &s, rejects.into_inner(), &mut summary)?;
    if let Some(ix) = lines {
        let orphans = ix.finish().map_err(|source| EngineError::Lines {
            step: s.name.clone(),
            source: Box::new(source),
        })?;
        if let Some(l) = &s.line_items {
            if orphans > 0 {
                summary.notes.push(format!(
                    "{orphans} line item(s) belong to no row of the step: see {}",
                    l.rejects.display()
                ));
            }
            summary.files.push(l.rejects.clone());
        }
    }
    Ok(summary)
}

/// A mapped row as the batcher takes it: typed values (the dialect renders them), lookups
/// still keys until the batcher resolves them, owners resolved to their user's Id (a name no
/// active user has rejects the row).
fn pending(
    row: MappedRow,
    users: Option<&Users>,
    owner_field: Option<&str>,
    lines: Lines,
) -> Result<PendingRow, RejectedRow> {
    let source: Vec<String> = row.source.iter().map(str::to_owned).collect();
    // A row with any bad line is rejected whole, naming the line file's lines.
    let items = match lines {
        Lines::Bad(errors) => {
            return Err(RejectedRow { row: row.pos.row, line: row.pos.line, source, errors });
        }
        Lines::Items(items) => items
            .into_iter()
            .map(|i| LineInput {
                line: i.line,
                fields: i.fields.into_iter().map(|(l, v)| (l, line_input(v))).collect(),
            })
            .collect(),
    };
    let mut fields = Vec::with_capacity(row.fields.len());
    let mut errors = Vec::new();
    for (label, v) in row.fields {
        let input = match v {
            MappedValue::Lookup { step, key } => FieldInput::Lookup { step, key },
            MappedValue::Value(v) => FieldInput::Value(v),
            // A refused owner is named as the map names its field (`Lead Owner`), not by the
            // id column the payload writes (`SMOWNERID`).
            MappedValue::Owner { user } => match users.map(|u| u.resolve(&user)) {
                Some(Ok(id)) => FieldInput::Value(Value::Id(id)),
                Some(Err(reason)) => {
                    errors.push(format!("{}: {reason}", owner_field.unwrap_or(&label)));
                    continue;
                }
                None => {
                    let field = owner_field.unwrap_or(&label);
                    errors.push(format!("{field}: the org's users were not read"));
                    continue;
                }
            },
        };
        fields.push((label.to_string(), input));
    }
    if !errors.is_empty() {
        return Err(RejectedRow { row: row.pos.row, line: row.pos.line, source, errors });
    }
    Ok(PendingRow { row: row.pos.row, line: row.pos.line, key: row.key, source, fields, items })
}

/// A line item's value as the batcher takes it (line items have no owners).
fn line_input(v: MappedValue) -> FieldInput {
    match v {
        MappedValue::Lookup { step, key } => FieldInput::Lookup { step, key },
        MappedValue::Value(v) => FieldInput::Value(v),
        MappedValue::Owner { user } => FieldInput::Text(user),
    }
}

/// `(rows read, rows the mapping rejects)` of a compiled step's source, read by a reader of its
/// own with the step's mapping (nothing written): what `max_rejects` is checked against.
pub(crate) fn local_rejects(c: &CompiledImport) -> Result<(u64, u64), EngineError> {
    let reader = zcrm_readers::open(&c.step.source, &c.step.source_options)?;
    let (mut rows, mut rejected) = (0u64, 0u64);
    zcrm_mapping::map_blocks(
        reader.blocks(),
        &c.mapper,
        false,
        |chunk| -> Result<(), ReadError> {
            rows += chunk.rows_read as u64;
            rejected += chunk.rejected.len() as u64;
            Ok(())
        },
    )?;
    Ok((rows, rejected))
}

/// The rows of the step's source, counted by a reader of its own; none when reading fails
/// or `stop` is set first (the step ended before the count did).
fn count_rows(s: &ImportStep, stop: &AtomicBool) -> Option<u64> {
    // Raw blocks: rows are split but never decoded or copied into owned cells.
    let reader = zcrm_readers::open(&s.source, &s.source_options).ok()?.blocks();
    let mut n = 0u64;
    for block in reader {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        n += block.ok()?.len() as u64;
    }
    Some(n)
}

/// Appends the server's refusals `refused` to the reject file and closes it: its row count.
pub(crate) fn finish_rejects(
    mut rejects: RejectWriter,
    refused: Vec<zcrm_batcher::RejectedRow>,
) -> Result<u64, EngineError> {
    for r in refused {
        rejects.write_parts(
            r.source.iter().map(String::as_str),
            r.row,
            r.line,
            &r.errors.join(" | "),
        )?;
    }
    Ok(rejects.finish()?)
}

/// Appends the server's refusals to the reject file and writes the success file.
fn finish_reports(
    journal: &Journal,
    s: &ImportStep,
    rejects: RejectWriter,
    summary: &mut StepSummary,
) -> Result<(), EngineError> {
    summary.rejected = finish_rejects(rejects, journal.server_rejects(&s.name)?)?;
    let key = s.key.clone().unwrap_or_else(|| "_key".to_owned());
    zcrm_batcher::report::write_success_file(journal, &s.name, &key, &s.success)?;
    let (repeated, first) = journal.repeated_keys(&s.name, 3)?;
    if repeated > 0 {
        let shown: Vec<String> = first
            .iter()
            .map(|(k, rows)| {
                let rows: Vec<String> = rows.iter().map(u64::to_string).collect();
                format!("{k:?} (rows {})", rows.join(", "))
            })
            .collect();
        summary.notes.push(format!(
            "{repeated} key(s) of column {key:?} belong to more than one record, e.g. {}: lookups to them from later steps are rejected as ambiguous",
            shown.join(", ")
        ));
    }
    let counts = journal.counts(&s.name)?;
    summary.created = counts.created + counts.matched;
    summary.updated = counts.updated;
    summary.files = vec![s.success.clone(), s.rejects.clone()];
    Ok(())
}
