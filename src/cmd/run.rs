//! `zcrm run PIPELINE.toml`: every step in order, with the journal's resume semantics.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use zcrm_batcher::{
    BatchError, FieldInput, ImportStep as BatchStep, Journal, Mode, PendingRow, StepReport,
    run_import_with_progress,
};
use zcrm_client::MetadataCache;
use zcrm_mapping::{CompileOptions, MappedChunk, MappedValue, Mapper, RejectWriter};
use zcrm_pipeline::{
    Diagnostic, Diagnostics, ExportColumns, ExportStep, ImportStep, Pipeline, Step,
};
use zcrm_writers::{Codec, ExportSpec, Since, export};

use crate::connection::consumer;
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
}

/// One step's line in the summary table.
#[derive(Debug, Clone, Default)]
pub struct StepSummary {
    /// Step name.
    pub name: String,
    /// What the step did.
    pub kind: &'static str,
    /// Source rows read (imports) or records written (exports).
    pub rows: u64,
    /// Rows in the CRM after this run (created/updated/matched over all runs).
    pub created: u64,
    /// Updated.
    pub updated: u64,
    /// Rows in the reject file.
    pub rejected: u64,
    /// Calls spent by this step in this run.
    pub calls: u64,
    /// Seconds.
    pub elapsed: f64,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Things the user should know that are not errors (printed under the table).
    pub notes: Vec<String>,
}

/// Why a run ended early.
pub enum Stop {
    /// The budget share is spent (exit 75).
    Budget(String),
}

/// The result of a run.
pub struct RunResult {
    /// Per step.
    pub steps: Vec<StepSummary>,
    /// Set when the run stopped for the budget.
    pub stopped: Option<Stop>,
}

/// The journal file of a pipeline.
pub fn journal_path(p: &Pipeline) -> PathBuf {
    let stem = p
        .path
        .file_stem()
        .map_or_else(|| "pipeline".to_owned(), |s| s.to_string_lossy().into_owned());
    p.state_dir.join(format!("journal-{stem}.sqlite"))
}

/// Runs the pipeline, showing each step's progress on `progress`.
pub fn run(args: &RunArgs, progress: &Progress) -> Result<RunResult> {
    let p = zcrm_pipeline::load_checked(&args.pipeline, crate::connection::metadata_for)?;
    let selected: Vec<&Step> = p
        .steps
        .iter()
        .filter(|s| args.steps.is_empty() || args.steps.iter().any(|n| n == s.name()))
        .collect();
    if let Some(unknown) =
        args.steps.iter().find(|n| !p.steps.iter().any(|s| s.name() == n.as_str()))
    {
        return Err(anyhow!("{}: no step named {unknown:?}", args.pipeline.display()));
    }
    let conn = zcrm_connect::connect(&p.connection, &p.state_dir, &consumer(&p))?;
    let client = &conn.client;
    let org = p.connection.org()?;
    let cache = MetadataCache::new(&p.state_dir, &org);
    let mut journal = Journal::open_exclusive(&journal_path(&p))?;
    let import_names: Vec<String> = p.imports().map(|s| s.name.clone()).collect();
    // Every mapping is checked against its module before anything is sent, so a mistake in the
    // third step does not surface after the first two have run.
    // Mapping and source problems of every step are reported together, with their places in
    // the pipeline file; a failure to reach the CRM is not a pipeline problem and stops here.
    let mut problems = Vec::new();
    for step in &selected {
        if let Step::Import(s) = step
            && let Err(e) = compile(&p, s, client, &cache, &import_names)
        {
            match e.downcast::<Diagnostics>() {
                Ok(d) => problems.extend(d.0),
                Err(e) => return Err(e.context(format!("step {}", s.name))),
            }
        }
    }
    if !problems.is_empty() {
        return Err(anyhow::Error::new(Diagnostics(problems))
            .context(format!("{}: nothing was sent", args.pipeline.display())));
    }
    let mut result = RunResult { steps: Vec::new(), stopped: None };
    for step in selected {
        let started = Instant::now();
        let spent_before = client.ledger().status()?.spent_by_consumer;
        let mut summary = match step {
            Step::Import(s) => {
                if args.restart {
                    journal.reset_step(&s.name)?;
                }
                loop {
                    match import_step(
                        &p,
                        s,
                        client,
                        &cache,
                        &mut journal,
                        &import_names,
                        args.dry_run,
                        progress,
                    ) {
                        Ok(summary) => break summary,
                        Err(StepError::Budget(msg, resets_at)) if args.wait_for_budget => {
                            let wait = (resets_at - jiff::Timestamp::now()).as_secs().max(1) as u64;
                            progress.note(&format!(
                                "{msg}\nwaiting {wait}s for the budget day to turn (--wait-for-budget)"
                            ));
                            std::thread::sleep(std::time::Duration::from_secs(wait + 5));
                        }
                        Err(StepError::Budget(msg, _)) => {
                            result.stopped = Some(Stop::Budget(msg));
                            break StepSummary {
                                name: s.name.clone(),
                                kind: "import",
                                ..StepSummary::default()
                            };
                        }
                        Err(StepError::Other(e)) => return Err(e),
                    }
                }
            }
            Step::Export(e) => {
                if args.dry_run {
                    StepSummary {
                        name: e.name.clone(),
                        kind: "export (dry run)",
                        ..StepSummary::default()
                    }
                } else {
                    export_step(&p, e, client, &cache, &org, progress)?
                }
            }
        };
        summary.calls =
            client.ledger().status()?.spent_by_consumer.saturating_sub(spent_before).into();
        summary.elapsed = started.elapsed().as_secs_f64();
        result.steps.push(summary);
        if result.stopped.is_some() {
            break;
        }
    }
    Ok(result)
}

enum StepError {
    Budget(String, jiff::Timestamp),
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for StepError {
    fn from(e: E) -> Self {
        Self::Other(e.into())
    }
}

fn batch_mode(s: &ImportStep) -> Result<Mode, StepError> {
    Ok(match s.mode {
        zcrm_pipeline::Mode::Insert => Mode::Insert,
        zcrm_pipeline::Mode::Update => Mode::Update { match_on: s.match_on.clone() },
        zcrm_pipeline::Mode::Upsert => Mode::Upsert {
            match_on: s.match_on.clone().ok_or_else(|| {
                StepError::Other(anyhow!("step {}: upsert needs match_on", s.name))
            })?,
        },
    })
}

fn pending(row: zcrm_mapping::MappedRow) -> PendingRow {
    PendingRow {
        row: row.pos.row,
        line: row.pos.line,
        key: row.key,
        source: row.source.iter().map(str::to_owned).collect(),
        fields: row
            .fields
            .into_iter()
            .map(|(label, v)| {
                let input = match v {
                    MappedValue::Lookup { step, key } => FieldInput::Lookup { step, key },
                    other => FieldInput::Text(other.wire_text().unwrap_or_default()),
                };
                (label.to_string(), input)
            })
            .collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn import_step(
    p: &Pipeline,
    s: &ImportStep,
    client: &zcrm_client::Client,
    cache: &MetadataCache,
    journal: &mut Journal,
    import_names: &[String],
    dry_run: bool,
    progress: &Progress,
) -> Result<StepSummary, StepError> {
    let Compiled { fields, reader, headers, mapper } = compile(p, s, client, cache, import_names)?;
    // A changed source file (a recurring sync's new extract) starts the step over; the same
    // file resumes where the last run stopped.
    let content = zcrm_batcher::source::content_fingerprint(&s.source)
        .with_context(|| format!("step {}: reading {}", s.name, s.source.display()))?;
    let legacy = zcrm_batcher::source::legacy_fingerprint(&s.source).ok();
    if journal.check_source(&s.name, &content, legacy.as_deref())? {
        progress.note(&format!(
            "step {}: {} changed since the last run: starting the step over",
            s.name,
            s.source.display()
        ));
    }
    let rejects = RefCell::new(RejectWriter::create(&s.rejects, &headers)?);
    let mut summary =
        StepSummary { name: s.name.clone(), kind: "import", ..StepSummary::default() };
    let step = BatchStep {
        name: s.name.clone(),
        module: s.module.clone(),
        mode: batch_mode(s)?,
        write_batch: p.connection.write_batch,
        in_flight: p.connection.writes_in_flight,
        fields: fields.clone(),
        timezone: zcrm_client::budget::timezone(&p.connection.timezone)?,
    };
    let shown = progress.import(&s.name, client.ledger());
    let mut rows_read = 0u64;
    let counted = AtomicBool::new(false);
    let report_error: RefCell<Option<zcrm_mapping::RejectWriterError>> = RefCell::new(None);
    let (outcome, read_error) = std::thread::scope(|scope| {
        // The ETA needs the source's row count: a second, cheap pass over the file counts
        // them while the first is sent (a dry run has no time to save, so it does not).
        if !dry_run {
            let total = shown.total_slot();
            let stop = &counted;
            scope.spawn(move || {
                if let Some(n) = count_rows(s, stop) {
                    total.store(n, Ordering::Relaxed);
                }
            });
        }
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<Result<MappedChunk, zcrm_readers::ReadError>>(4);
        let mapper = &mapper;
        scope.spawn(move || {
            let r = zcrm_mapping::map_blocks(reader.blocks(), mapper, true, |chunk| {
                tx.send(Ok(chunk))
                    .map_err(|_| zcrm_readers::ReadError::Stopped { path: PathBuf::new() })
            });
            if let Err(e) = r {
                let _ = tx.send(Err(e));
            }
        });
        let mut read_error: Option<zcrm_readers::ReadError> = None;
        let rows = rx.iter().map_while(|c| match c {
            Ok(c) => Some(c),
            Err(e) => {
                read_error = Some(e);
                None
            }
        });
        let shown = &shown;
        let report_failed = &report_error;
        let rows = rows.flat_map(|chunk| {
            rows_read += chunk.rows_read as u64;
            let mut w = rejects.borrow_mut();
            for r in &chunk.rejected {
                if let Err(e) = w.write(r) {
                    report_failed.borrow_mut().get_or_insert(e);
                }
            }
            // Rejected rows count as read when their chunk arrives, valid ones as the
            // batcher takes them: the figure moves with the payloads.
            shown.rows_read(chunk.rows_read.saturating_sub(chunk.rows.len()) as u64);
            chunk.rows.into_iter().map(move |r| {
                shown.rows_read(1);
                pending(r)
            })
        });
        // A reject row that cannot be written stops the step: nothing more is offered to the
        // batcher (rows not journalled are read again by the rerun that rewrites the reports).
        let rows = rows.take_while(|_| report_failed.borrow().is_none());
        let outcome = if dry_run {
            let n = rows.count() as u64;
            Ok(StepReport { rows: n, ..StepReport::default() })
        } else {
            run_import_with_progress(
                client,
                journal,
                &step,
                rows,
                &mut |r| {
                    let written = rejects.borrow_mut().write_parts(
                        r.source.iter().map(String::as_str),
                        r.row,
                        r.line,
                        &r.errors.join(" | "),
                    );
                    if let Err(e) = written {
                        report_failed.borrow_mut().get_or_insert(e);
                    }
                },
                &mut |report| shown.written(report),
            )
        };
        counted.store(true, Ordering::Relaxed);
        (outcome, read_error)
    });
    if let Some(e) = report_error.into_inner() {
        shown.stop();
        return Err(StepError::Other(anyhow::Error::new(e).context(format!(
            "step {}: a rejected row could not be written to its reject file, so the step stopped (the journal keeps every outcome; rerun to finish the step and rewrite the reports)",
            s.name
        ))));
    }
    // A source that fails part-way (an I/O error, a corrupt sheet) must not end the step as if
    // it were complete: what was sent is in the journal, and a rerun resumes after the fix.
    let outcome: Result<StepReport, BatchError> = match (outcome, read_error) {
        (Ok(_), Some(e)) => {
            shown.stop();
            finish_reports(journal, s, rejects.into_inner(), &mut summary)?;
            return Err(StepError::Other(anyhow::Error::new(e).context(format!(
                "step {}: reading {} stopped after {rows_read} rows (the rows before were sent; rerun to resume)",
                s.name,
                s.source.display()
            ))));
        }
        (outcome, _) => outcome,
    };
    if outcome.is_ok() {
        // Every row was read: the count is exact whether or not the counting pass finished.
        shown.total_slot().store(rows_read, Ordering::Relaxed);
        shown.finish();
    } else {
        shown.stop();
    }
    summary.rows = rows_read;
    let report = match outcome {
        Ok(r) => r,
        Err(BatchError::Budget { source, rows_left }) => {
            finish_reports(journal, s, rejects.into_inner(), &mut summary)?;
            let msg = format!(
                "step {}: {}; {rows_left} row(s) left — rerun to continue (or use --wait-for-budget)",
                s.name, source
            );
            return Err(StepError::Budget(msg, source.resets_at.timestamp()));
        }
        Err(e) => {
            return Err(StepError::Other(
                anyhow::Error::new(e).context(format!("step {}", s.name)),
            ));
        }
    };
    let _ = report;
    finish_reports(journal, s, rejects.into_inner(), &mut summary)?;
    Ok(summary)
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

/// A step ready to read: its metadata, open source and compiled mapping.
pub struct Compiled {
    /// The module's metadata.
    pub fields: zcrm_protocol::ModuleFields,
    /// The open source.
    pub reader: zcrm_readers::RowReader,
    /// The source's header.
    pub headers: Vec<String>,
    /// The compiled mapping.
    pub mapper: Mapper,
}

/// Opens the step's source and compiles its mapping against the module's metadata. A source
/// that cannot be opened or a wrong mapping is a [`Diagnostics`] error (with places in the
/// pipeline file); a failed metadata call is the client's error.
pub fn compile(
    p: &Pipeline,
    s: &ImportStep,
    client: &zcrm_client::Client,
    cache: &MetadataCache,
    import_names: &[String],
) -> Result<Compiled> {
    let fields = cache.get(client, &s.module, false)?.fields;
    let problem =
        |span, message: String, hint| Diagnostic::at(&p.path, &p.text, span, message, hint);
    let reader = zcrm_readers::open(&s.source, &s.source_options).map_err(|e| {
        Diagnostics(vec![problem(s.spans.source.clone(), format!("step {:?}: {e}", s.name), None)])
    })?;
    let headers = reader.headers().to_vec();
    let opts = CompileOptions {
        require_mandatory: s.mode != zcrm_pipeline::Mode::Update,
        picklist: s.picklist,
        key: s.key.clone().map(|k| (k, s.spans.key.clone())),
        lookup_steps: import_names.to_vec(),
        excel_serials: reader.kind() == zcrm_readers::SourceKind::Xlsx,
    };
    let mapper = Mapper::compile(&s.map, &fields, &headers, &opts).map_err(|errs| {
        Diagnostics(
            errs.into_iter()
                .map(|e| {
                    let span = e.span.or_else(|| s.spans.map.clone());
                    problem(span, format!("step {:?}: {}", s.name, e.message), e.hint)
                })
                .collect(),
        )
    })?;
    Ok(Compiled { fields, reader, headers, mapper })
}

/// Appends the server's refusals to the reject file and writes the success file.
fn finish_reports(
    journal: &Journal,
    s: &ImportStep,
    mut rejects: RejectWriter,
    summary: &mut StepSummary,
) -> Result<(), StepError> {
    for r in journal.server_rejects(&s.name)? {
        rejects.write_parts(
            r.source.iter().map(String::as_str),
            r.row,
            r.line,
            &r.errors.join(" | "),
        )?;
    }
    summary.rejected = rejects.finish()?;
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

fn export_step(
    p: &Pipeline,
    e: &ExportStep,
    client: &zcrm_client::Client,
    cache: &MetadataCache,
    org: &str,
    progress: &Progress,
) -> Result<StepSummary> {
    let fields = cache.get(client, &e.module, false)?.fields;
    let since = match &e.since {
        None => Since::All,
        Some(s) => zcrm_writers::parse_since(s)?,
    };
    let spec = ExportSpec {
        module: e.module.clone(),
        to: e.to.clone(),
        format: ExportSpec::format_of(&e.to, None)?,
        columns: match &e.columns {
            ExportColumns::All => None,
            ExportColumns::List(c) => Some(c.clone()),
        },
        since,
        codec: Codec::Zstd,
        guard_formulas: true,
        state_dir: p.state_dir.clone(),
        org: org.to_owned(),
        timezone: p.connection.timezone.clone(),
    };
    let shown = progress.export(&e.name, client.ledger());
    let s = export(client, &fields, &spec, |p| shown.page(p.pages.into(), p.records))
        .with_context(|| format!("step {}", e.name))?;
    // The per-page figures trail by the pages still converting: the summary's are final.
    shown.page(s.pages.into(), s.records);
    shown.finish();
    let notes = (s.reread_passes > 0)
        .then(|| {
            format!(
                "{} page(s) read again: records already written were deleted during the export (none was skipped or written twice)",
                s.reread_pages
            )
        })
        .into_iter()
        .collect();
    Ok(StepSummary {
        name: e.name.clone(),
        kind: "export",
        rows: s.records,
        files: s.path.into_iter().chain(s.deleted_path).collect(),
        notes,
        ..StepSummary::default()
    })
}

/// The summary table printed at the end of every run.
pub fn table(r: &RunResult) -> String {
    let mut out = String::from(
        "step              kind      rows  in CRM  updated  rejected  calls  elapsed\n",
    );
    for s in &r.steps {
        out.push_str(&format!(
            "{:<16}  {:<6}  {:>6}  {:>6}  {:>7}  {:>8}  {:>5}  {:>6.1}s\n",
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
