//! Imports through Bulk Write (v8): valid rows, lookups resolved through the journal, written
//! as CSV into ZIPs of at most 25,000 rows and 25 MB, one job per ZIP, one job at a time; each
//! job's result read back row by row into the same journal as the record API's writes (rows
//! created, updated, matched or refused with the server's `ERRORS`).
//!
//! Exactly once: a job's phases are journalled before each call that depends on them
//! ([`journal::Phase`]). A run killed while uploading uploads again (an unused upload harms
//! nothing); killed after the create call left and before its id was journalled, it asks the
//! server for the job created from its uploaded file ([`CrmApi::bulk_find`]) and creates it
//! only when there is none; killed while polling or downloading, it polls the job by its id.

pub mod file;
pub mod journal;
pub mod result;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing::{info, warn};
use zcrm_client::{
    BulkColumn, BulkEncoder, BulkJob, BulkOperation, BulkState, ClientError, CrmApi,
};
use zcrm_protocol::Value;

use crate::error::BatchError;
use crate::import::{ImportStep, Mode, StepReport, resolve_lookups};
use crate::journal::{Journal, RowOutcome};
use crate::row::{Action, FieldInput, PendingRow, RejectedRow};

use file::{ChunkWriter, LineEncoder};
use journal::{BulkJobEntry, ChunkRow, Phase};
use result::{RowResult, read_results};

/// How often a job's status is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// The wait after the first poll that finds the job unfinished (the first poll is at
    /// once: a small job may be done already).
    pub first: Duration,
    /// The longest wait between polls (the wait doubles up to it).
    pub max: Duration,
    /// How long a job may stay unfinished before the step stops (a rerun polls it again).
    pub give_up: Duration,
}

impl Default for Poll {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(500),
            max: Duration::from_secs(30),
            give_up: Duration::from_secs(6 * 3600),
        }
    }
}

/// A bulk import's settings besides the step's.
#[derive(Debug, Clone)]
pub struct BulkSettings {
    /// The folder of this step's ZIPs and results (kept until their job is done).
    pub dir: PathBuf,
    /// The step's mapped fields, in mapping order: the CSV's columns.
    pub labels: Vec<String>,
    /// Rows per job (at most [`zcrm_client::bulk::MAX_BULK_ROWS`]).
    pub max_rows: usize,
    /// The status polls.
    pub poll: Poll,
}

/// Attempts at a download whose ZIP does not read (cut short) before the step stops.
const DOWNLOAD_ATTEMPTS: u32 = 3;

/// Runs `step` over `rows` through Bulk Write. Jobs an earlier run left unfinished are
/// finished first; rows the journal already has are skipped; lookups that have no Id and
/// values the dialect cannot encode go to `reject` (never uploaded).
pub fn run_bulk_import(
    client: &dyn CrmApi,
    journal: &mut Journal,
    step: &ImportStep,
    settings: &BulkSettings,
    rows: impl Iterator<Item = PendingRow>,
    reject: &mut dyn FnMut(RejectedRow),
    progress: &mut dyn FnMut(&StepReport),
) -> Result<StepReport, BatchError> {
    std::fs::create_dir_all(&settings.dir)
        .map_err(|source| BatchError::BulkFile { path: settings.dir.clone(), source })?;
    let mut b = Bulk { client, journal, step, settings, report: StepReport::default(), progress };
    let mut rows = rows.peekable();
    let outcome = b.drive(&mut rows, reject);
    match outcome {
        Ok(()) => Ok(b.report),
        Err(BatchError::Client(ClientError::Budget(source))) => {
            let known = b.journal.known_rows(&step.name)?;
            let mut left: u64 = b.journal.open_bulk_jobs(&step.name)?.iter().map(|j| j.rows).sum();
            left += rows.filter(|r| !known.contains(&r.row)).count() as u64;
            Err(BatchError::Budget { source, rows_left: left })
        }
        Err(e) => Err(e),
    }
}

/// A bulk import under way.
struct Bulk<'a> {
    client: &'a dyn CrmApi,
    journal: &'a mut Journal,
    step: &'a ImportStep,
    settings: &'a BulkSettings,
    report: StepReport,
    progress: &'a mut dyn FnMut(&StepReport),
}

/// The CSV's columns: `(label the rows use, column)`, one per API name.
type Columns = Vec<(String, BulkColumn)>;

impl Bulk<'_> {
    fn drive(
        &mut self,
        rows: &mut dyn Iterator<Item = PendingRow>,
        reject: &mut dyn FnMut(RejectedRow),
    ) -> Result<(), BatchError> {
        let open = self.journal.open_bulk_jobs(&self.step.name)?;
        self.remove_strays(&open);
        for job in open {
            info!(step = %self.step.name, seq = job.seq, phase = ?job.phase, "finishing a Bulk Write job an earlier run left");
            self.finish(job)?;
        }
        let known = self.journal.known_rows(&self.step.name)?;
        let encoder = self.client.bulk_encoder(&self.step.module).map_err(BatchError::Client)?;
        let columns = self.columns(&*encoder)?;
        let header: Vec<String> = columns.iter().map(|(_, c)| c.api_name.clone()).collect();
        let max_rows = self.settings.max_rows.clamp(1, zcrm_client::bulk::MAX_BULK_ROWS);
        let mut chunk: Option<(ChunkWriter, PathBuf, Vec<ChunkRow>)> = None;
        let mut cells: Vec<String> = Vec::with_capacity(columns.len());
        let mut lines = LineEncoder::default();
        for row in rows {
            self.report.rows += 1;
            if known.contains(&row.row) {
                self.report.already_done += 1;
                continue;
            }
            let row = match resolve_lookups(self.journal, row)? {
                Ok(r) => r,
                Err(r) => {
                    self.report.lookup_rejected += 1;
                    reject(r);
                    continue;
                }
            };
            if let Err(e) = encode(&*encoder, &columns, &row, &mut cells) {
                self.report.lookup_rejected += 1;
                reject(RejectedRow {
                    row: row.row,
                    line: row.line,
                    source: row.source,
                    errors: vec![e.to_string()],
                });
                continue;
            }
            let line = lines
                .line(cells.iter().map(String::as_str))
                .map_err(|e| BatchError::Internal(format!("a Bulk Write row as CSV: {e}")))?;
            if chunk.as_ref().is_some_and(|(w, _, _)| w.full(max_rows, line.len() as u64))
                && let Some((w, _, rows)) = chunk.take()
            {
                self.send_chunk(w, &rows)?;
            }
            if chunk.is_none() {
                let path = self.settings.dir.join(chunk_name());
                let csv = format!("{}.csv", self.step.module);
                chunk = Some((ChunkWriter::create(&path, &csv, &header)?, path, Vec::new()));
            }
            if let Some((w, _, rows)) = chunk.as_mut() {
                let no = u32::try_from(w.rows()).unwrap_or(u32::MAX);
                w.push(line)?;
                rows.push((no, row.row, row.line, row.key, row.source));
            }
        }
        if let Some((w, _, rows)) = chunk.take() {
            self.send_chunk(w, &rows)?;
        }
        Ok(())
    }

    /// The CSV's columns from the step's labels: one per API name (an id column such as
    /// `ACCOUNTID` wins over its lookup's name, as in the record API's payload).
    fn columns(&self, encoder: &dyn BulkEncoder) -> Result<Columns, BatchError> {
        let mut out: Columns = Vec::new();
        for label in &self.settings.labels {
            let col = encoder.column(label).map_err(BatchError::Encode)?;
            match out.iter_mut().find(|(_, c)| c.api_name == col.api_name) {
                Some(slot) if col.find_by.is_some() && slot.1.find_by.is_none() => {
                    *slot = (label.clone(), col);
                }
                Some(_) => {}
                None => out.push((label.clone(), col)),
            }
        }
        if out.len() > zcrm_client::bulk::MAX_BULK_COLUMNS {
            return Err(BatchError::Unexpected(format!(
                "step {}: {} columns, more than the {} a Bulk Write file may have",
                self.step.name,
                out.len(),
                zcrm_client::bulk::MAX_BULK_COLUMNS
            )));
        }
        Ok(out)
    }

    /// The job's operation and `find_by` for the step's mode.
    fn operation(
        &self,
        encoder: Option<&dyn BulkEncoder>,
    ) -> Result<(BulkOperation, Option<String>), BatchError> {
        let find_by = |m: &str| -> Result<String, BatchError> {
            match encoder {
                Some(e) => Ok(e.column(m).map_err(BatchError::Encode)?.api_name),
                None => Ok(m.to_owned()),
            }
        };
        Ok(match &self.step.mode {
            Mode::Insert => (BulkOperation::Insert, None),
            Mode::Update { match_on: Some(m) } => (BulkOperation::Update, Some(find_by(m)?)),
            Mode::Update { match_on: None } => (BulkOperation::Update, Some("id".into())),
            Mode::Upsert { match_on } => (BulkOperation::Upsert, Some(find_by(match_on)?)),
        })
    }

    /// Seals a chunk, journals it and its rows, and runs its job to the end.
    fn send_chunk(&mut self, w: ChunkWriter, rows: &[ChunkRow]) -> Result<(), BatchError> {
        let zip = w.seal()?;
        let encoder = self.client.bulk_encoder(&self.step.module).map_err(BatchError::Client)?;
        let (op, _) = self.operation(Some(&*encoder))?;
        let columns = self.columns(&*encoder)?;
        let cols: Vec<(String, Option<&str>, Option<&str>)> =
            columns.iter().map(|(_, c)| (c.api_name.clone(), c.format, c.find_by)).collect();
        let cols = serde_json::to_string(&cols)
            .map_err(|e| BatchError::Internal(format!("encoding the columns: {e}")))?;
        let zip_text = zip.to_string_lossy().into_owned();
        let seq =
            self.journal.begin_bulk_job(&self.step.name, op.as_str(), &zip_text, &cols, rows)?;
        let job = BulkJobEntry {
            seq,
            phase: Phase::Chunked,
            operation: op.as_str().to_owned(),
            zip: zip_text,
            columns: cols,
            rows: rows.len() as u64,
            file_id: None,
            job_id: None,
            sent_at: None,
        };
        self.finish(job)
    }

    /// Takes job `job` from its phase to done.
    fn finish(&mut self, mut job: BulkJobEntry) -> Result<(), BatchError> {
        let name = self.step.name.clone();
        let mut reuploaded = false;
        loop {
            match job.phase {
                Phase::Chunked => {
                    let file_id = self.upload(Path::new(&job.zip))?;
                    self.journal.set_bulk_phase(&name, job.seq, Phase::Uploaded, &file_id)?;
                    job.file_id = Some(file_id);
                    job.phase = Phase::Uploaded;
                }
                Phase::Uploaded => {
                    let file_id = job.file_id.clone().unwrap_or_default();
                    let sent_at = jiff::Timestamp::now().to_string();
                    // Durable before the create leaves: a kill from here on finds the job by
                    // its file instead of creating it again.
                    self.journal.set_bulk_phase(&name, job.seq, Phase::Creating, &sent_at)?;
                    job.sent_at = Some(sent_at);
                    let spec = self.job_spec(&job, file_id)?;
                    match self.client.bulk_create(&spec) {
                        Ok(id) => {
                            self.journal.set_bulk_phase(&name, job.seq, Phase::Created, &id)?;
                            self.report.writes += 1;
                            job.job_id = Some(id);
                            job.phase = Phase::Created;
                        }
                        Err(ClientError::InDoubt { reason, .. }) => {
                            warn!(step = %name, %reason, "Bulk Write job creation in doubt; looking for it");
                            job.phase = Phase::Creating;
                        }
                        Err(e @ (ClientError::Budget(_) | ClientError::Transport { .. })) => {
                            // Never sent (the ledger refused it, or it could not leave): the
                            // job does not exist.
                            let file_id = job.file_id.clone().unwrap_or_default();
                            self.journal.set_bulk_phase(
                                &name,
                                job.seq,
                                Phase::Uploaded,
                                &file_id,
                            )?;
                            return Err(BatchError::Client(e));
                        }
                        Err(ClientError::Api { error, .. })
                            if error.code.as_str() == "INVALID_FILE_ID" && !reuploaded =>
                        {
                            // The upload expired or was not kept: upload again, once.
                            reuploaded = true;
                            self.journal.set_bulk_phase(&name, job.seq, Phase::Chunked, "")?;
                            job.phase = Phase::Chunked;
                        }
                        Err(ClientError::Api { error, .. }) => {
                            // Refused as a whole: nothing was created; every row carries it.
                            let reason =
                                format!("the Bulk Write job was refused: {}", error.message);
                            return self.refuse_all(&job, error.code.as_str(), &reason);
                        }
                        Err(e) => return Err(BatchError::Client(e)),
                    }
                }
                Phase::Creating => {
                    let file_id = job.file_id.clone().unwrap_or_default();
                    match self.client.bulk_find(&file_id) {
                        Ok(Some(id)) => {
                            info!(step = %name, job = %id, "found the Bulk Write job whose creation answer was lost");
                            self.journal.set_bulk_phase(&name, job.seq, Phase::Created, &id)?;
                            self.report.writes += 1;
                            job.job_id = Some(id);
                            job.phase = Phase::Created;
                        }
                        Ok(None) => {
                            info!(step = %name, "the lost Bulk Write job creation never reached the CRM; creating it");
                            self.journal.set_bulk_phase(
                                &name,
                                job.seq,
                                Phase::Uploaded,
                                &file_id,
                            )?;
                            job.phase = Phase::Uploaded;
                        }
                        Err(ClientError::Unsupported { .. }) => {
                            return Err(BatchError::BulkJobUnknown {
                                step: name,
                                file_id,
                                sent_at: job.sent_at.clone().unwrap_or_default(),
                            });
                        }
                        Err(e) => return Err(BatchError::Client(e)),
                    }
                }
                Phase::Created => {
                    let id = job.job_id.clone().unwrap_or_default();
                    return match self.wait(&id)? {
                        BulkState::Completed { download_url } => {
                            self.read_back(&job, &download_url)
                        }
                        BulkState::Failed { reason } => self.refuse_all(
                            &job,
                            "BULK_JOB_FAILED",
                            &format!("the Bulk Write job {id} failed: {reason}"),
                        ),
                        BulkState::Added | BulkState::InProgress => Err(BatchError::Unexpected(
                            format!("Bulk Write job {id} is still unfinished"),
                        )),
                    };
                }
                Phase::Done => return Ok(()),
            }
        }
    }

    /// The job as the create call states it, from the journal's entry.
    fn job_spec(&self, job: &BulkJobEntry, file_id: String) -> Result<BulkJob, BatchError> {
        let cols: Vec<(String, Option<String>, Option<String>)> =
            serde_json::from_str(&job.columns).map_err(|e| {
                BatchError::Internal(format!("the journal's columns of a Bulk Write job: {e}"))
            })?;
        let statics = |s: Option<String>, known: &[&'static str]| {
            s.and_then(|s| known.iter().copied().find(|k| *k == s))
        };
        let columns = cols
            .into_iter()
            .map(|(api_name, format, find_by)| BulkColumn {
                api_name,
                format: statics(
                    format,
                    &[zcrm_client::bulk::DATE_FORMAT, zcrm_client::bulk::DATETIME_FORMAT],
                ),
                find_by: statics(find_by, &["id"]),
            })
            .collect();
        let operation = BulkOperation::parse(&job.operation).unwrap_or(BulkOperation::Insert);
        let encoder = self.client.bulk_encoder(&self.step.module).ok();
        let (_, find_by) = self.operation(encoder.as_deref())?;
        Ok(BulkJob { module: self.step.module.clone(), operation, find_by, file_id, columns })
    }

    /// Uploads a chunk; an upload whose answer was lost is simply repeated (an unused upload
    /// harms nothing).
    fn upload(&self, zip: &Path) -> Result<String, BatchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.client.bulk_upload(zip) {
                Ok(id) => return Ok(id),
                Err(ClientError::InDoubt { reason, .. }) if attempt < 3 => {
                    warn!(step = %self.step.name, %reason, "Bulk Write upload lost; uploading again");
                }
                Err(e) => return Err(BatchError::Client(e)),
            }
        }
    }

    /// Polls job `id` until it completes or fails: at once, then with a doubling wait.
    fn wait(&self, id: &str) -> Result<BulkState, BatchError> {
        let poll = self.settings.poll;
        let started = Instant::now();
        let mut delay = poll.first;
        loop {
            let state = self.client.bulk_status(id).map_err(BatchError::Client)?;
            match state {
                BulkState::Added | BulkState::InProgress => {
                    if started.elapsed() > poll.give_up {
                        return Err(BatchError::Unexpected(format!(
                            "Bulk Write job {id} is still unfinished after {:?}: rerun to poll it again",
                            poll.give_up
                        )));
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(poll.max);
                }
                done => return Ok(done),
            }
        }
    }

    /// Downloads the result and records every row's outcome (a ZIP that does not read is
    /// downloaded again; nothing of it is believed).
    fn read_back(&mut self, job: &BulkJobEntry, url: &str) -> Result<(), BatchError> {
        let result = PathBuf::from(format!("{}.result.zip", job.zip));
        let rows = self.journal.bulk_rows(&self.step.name, job.seq)?;
        let mut attempt = 0;
        let outcomes = loop {
            attempt += 1;
            self.client.bulk_download(url, &result).map_err(BatchError::Client)?;
            let mut results: Vec<Option<RowResult>> = vec![None; rows.len()];
            let read = read_results(&result, &mut |i, r| {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
                Ok(())
            });
            match read {
                Ok(_) => break results,
                Err(e) if attempt < DOWNLOAD_ATTEMPTS => {
                    warn!(step = %self.step.name, error = %e, "a Bulk Write result that does not read; downloading again");
                }
                Err(e) => return Err(e),
            }
        };
        let mut outcome = Vec::with_capacity(rows.len());
        let mut unprocessed = 0u64;
        for ((no, row, source), r) in rows.into_iter().zip(outcomes) {
            let _ = no;
            outcome.push(match r {
                Some(RowResult::Done { id, action }) => {
                    match action {
                        Action::Created => self.report.created += 1,
                        Action::Updated => self.report.updated += 1,
                        Action::Matched => self.report.matched += 1,
                    }
                    RowOutcome::Done { row, id, action }
                }
                Some(RowResult::Refused { code, errors }) => {
                    self.report.server_rejected += 1;
                    RowOutcome::Refused { row, code, message: errors, source }
                }
                Some(RowResult::NotProcessed) | None => {
                    unprocessed += 1;
                    RowOutcome::NotApplied { row }
                }
            });
        }
        if unprocessed > 0 {
            warn!(step = %self.step.name, unprocessed, "rows the Bulk Write job did not process: the next run sends them again");
        }
        let summary = format!("job {}", job.job_id.as_deref().unwrap_or("?"));
        self.journal.complete_bulk_job(&self.step.name, job.seq, &outcome, &summary)?;
        remove(&result);
        remove(Path::new(&job.zip));
        (self.progress)(&self.report);
        Ok(())
    }

    /// Records every row of `job` as refused with `code` and `reason`.
    fn refuse_all(
        &mut self,
        job: &BulkJobEntry,
        code: &str,
        reason: &str,
    ) -> Result<(), BatchError> {
        let rows = self.journal.bulk_rows(&self.step.name, job.seq)?;
        self.report.server_rejected += rows.len() as u64;
        let outcome: Vec<RowOutcome> = rows
            .into_iter()
            .map(|(_, row, source)| RowOutcome::Refused {
                row,
                code: code.to_owned(),
                message: reason.to_owned(),
                source,
            })
            .collect();
        self.journal.complete_bulk_job(&self.step.name, job.seq, &outcome, reason)?;
        remove(Path::new(&job.zip));
        (self.progress)(&self.report);
        Ok(())
    }

    /// Removes files of the step's folder no open job needs (chunks a kill left before they
    /// were journalled, results of finished jobs).
    fn remove_strays(&self, open: &[BulkJobEntry]) {
        let Ok(entries) = std::fs::read_dir(&self.settings.dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            let text = p.to_string_lossy();
            if !open.iter().any(|j| text == j.zip || text == format!("{}.result.zip", j.zip)) {
                remove(&p);
            }
        }
    }
}

/// The cells of `row` for `columns` (an unmapped or empty field is an empty cell).
fn encode(
    encoder: &dyn BulkEncoder,
    columns: &Columns,
    row: &PendingRow,
    cells: &mut Vec<String>,
) -> Result<(), zcrm_protocol::EncodeError> {
    cells.clear();
    for (label, _) in columns {
        let cell = match row.fields.iter().find(|(l, _)| l == label).map(|(_, v)| v) {
            Some(FieldInput::Value(v)) => encoder.cell(label, v)?,
            Some(FieldInput::Text(t)) => encoder.cell(label, &Value::Text(t.clone()))?,
            Some(FieldInput::Lookup { .. }) | None => String::new(),
        };
        cells.push(cell);
    }
    Ok(())
}

/// A new chunk's file name: unique across runs and processes.
fn chunk_name() -> String {
    let now = jiff::Timestamp::now();
    format!("chunk-{}-{}-{}.zip", now.as_second(), now.subsec_nanosecond(), std::process::id())
}

fn remove(p: &Path) {
    if let Err(e) = std::fs::remove_file(p)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(file = %p.display(), error = %e, "could not remove a Bulk Write file");
    }
}
