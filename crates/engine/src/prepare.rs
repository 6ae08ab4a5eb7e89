//! Everything a run needs before its first call that writes: the pipeline checked, the
//! connection made, the journal open, and every selected import step's source opened and its
//! mapping compiled once against its module's metadata. All the steps' problems are reported
//! together, so a mistake in the third step does not surface after the first two have run.

use std::path::Path;

use zcrm_batcher::{ImportStep as BatchStep, Journal, Mode as BatchMode};
use zcrm_client::{CrmApi, MetadataCache};
use zcrm_connect::{CachedMetadata, Connected};
use zcrm_mapping::Mapper;
use zcrm_pipeline::{
    ActionStep, Diagnostic, Diagnostics, ExportStep, ImportStep, Mode, Pipeline, Step,
};
use zcrm_readers::RowReader;

use crate::action::CompiledAction;
use crate::error::EngineError;
use crate::state::{consumer, journal_path};

/// How the journal is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalAccess {
    /// Held for this process alone (a run: a second run of the pipeline is refused at once).
    Exclusive,
    /// Read beside a run that may hold it (plan).
    Shared,
}

/// An import step ready to read and send.
#[derive(Debug)]
pub struct CompiledImport {
    /// The step as the pipeline states it.
    pub step: ImportStep,
    /// The open source, positioned after its header.
    pub reader: RowReader,
    /// The source's header.
    pub headers: Vec<String>,
    /// The compiled mapping.
    pub mapper: Mapper,
    /// The batcher's settings for the step (module metadata included).
    pub batch: BatchStep,
    /// Whether preparing the step spent a metadata call (its module was not cached).
    pub fetched_metadata: bool,
    /// The step's line file, open and its map compiled (`[steps.line_items]`).
    pub lines: Option<zcrm_pipeline::lines::LineSource>,
    /// Where the step's Bulk Write files go (v8).
    pub bulk_dir: std::path::PathBuf,
    /// Record-API write calls kept in flight (for the wall-time estimate).
    pub in_flight: u32,
}

/// A step ready to run.
#[derive(Debug)]
pub enum PreparedStep {
    /// An import, compiled.
    Import(Box<CompiledImport>),
    /// An export (its metadata is fetched when it runs: an earlier step may change nothing it
    /// needs, but a long run should not hold a stale field list).
    Export(ExportStep),
    /// A delete, attach, relate or convert step, compiled.
    Action(Box<CompiledAction>),
}

impl PreparedStep {
    /// The step's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Import(s) => &s.step.name,
            Self::Export(e) => &e.name,
            Self::Action(a) => &a.step.name,
        }
    }
}

/// A pipeline ready to plan or run.
pub struct Prepared {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// The client (and the embedded emulator, kept running while this lives).
    pub connected: Connected,
    /// The org key of the ledger, the metadata cache and the watermarks.
    pub org: String,
    /// The state dir's metadata cache.
    pub cache: MetadataCache,
    /// The journal.
    pub journal: Journal,
    /// The selected steps, in file order.
    pub steps: Vec<PreparedStep>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("pipeline", &self.pipeline.path)
            .field("org", &self.org)
            .field("steps", &self.steps.iter().map(PreparedStep::name).collect::<Vec<_>>())
            .finish()
    }
}

/// Loads the pipeline at `path` (every problem of the file at once), keeps the steps named
/// in `only` (all when empty), connects, opens the journal, and compiles each import step.
pub fn prepare(
    path: &Path,
    only: &[String],
    access: JournalAccess,
) -> Result<Prepared, EngineError> {
    let p = zcrm_pipeline::load_checked(path, |p: &Pipeline| {
        CachedMetadata::new(&p.connection, &p.state_dir, &consumer(p)).ok()
    })?;
    if let Some(unknown) = only.iter().find(|n| !p.steps.iter().any(|s| s.name() == n.as_str())) {
        return Err(EngineError::UnknownStep { path: path.to_owned(), name: unknown.clone() });
    }
    let connected = zcrm_connect::connect(&p.connection, &p.state_dir, &consumer(&p))?;
    let org = p.connection.org()?;
    let cache = MetadataCache::new(&p.state_dir, &org);
    let journal = match access {
        JournalAccess::Exclusive => Journal::open_exclusive(&journal_path(&p))?,
        JournalAccess::Shared => Journal::open(&journal_path(&p))?,
    };
    let mut problems = Vec::new();
    let mut steps = Vec::new();
    for step in p.steps.iter().filter(|s| only.is_empty() || only.iter().any(|n| n == s.name())) {
        match step {
            Step::Import(s) => {
                if let Some(c) = compile(&p, s, &*connected.client, &cache, &mut problems)? {
                    steps.push(PreparedStep::Import(Box::new(c)));
                }
            }
            Step::Export(e) => steps.push(PreparedStep::Export(e.clone())),
            Step::Action(a) => {
                if let Some(c) =
                    compile_action_step(&p, a, &*connected.client, &cache, &mut problems)?
                {
                    steps.push(PreparedStep::Action(Box::new(c)));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(EngineError::Invalid { path: path.to_owned(), source: Diagnostics(problems) });
    }
    Ok(Prepared { pipeline: p, connected, org, cache, journal, steps })
}

/// The batcher's mode for a pipeline's mode (the loader made sure updates and upserts name
/// their `match_on`).
fn batch_mode(mode: &Mode) -> BatchMode {
    match mode {
        Mode::Insert => BatchMode::Insert,
        Mode::Update { match_on } => BatchMode::Update { match_on: Some(match_on.clone()) },
        Mode::Upsert { match_on } => BatchMode::Upsert { match_on: match_on.clone() },
    }
}

/// Opens import step `s`'s source and compiles its mapping: `None` with the problems added to
/// `problems` when the pipeline is wrong; an error when the metadata cannot be had (a failure
/// to reach the CRM is not a pipeline problem, and stops preparation).
fn compile(
    p: &Pipeline,
    s: &ImportStep,
    client: &dyn CrmApi,
    cache: &MetadataCache,
    problems: &mut Vec<Diagnostic>,
) -> Result<Option<CompiledImport>, EngineError> {
    let fetched_metadata = cache.cached(&s.module).is_none();
    let fields = cache
        .get(client, &s.module, false)
        .map_err(|source| EngineError::Metadata { step: s.name.clone(), source })?
        .fields;
    let compiled = zcrm_pipeline::compile_step(p, s, &fields, problems);
    let lines = zcrm_pipeline::lines::compile_lines(p, s, problems);
    let Some((reader, mapper)) = compiled else {
        return Ok(None);
    };
    if s.line_items.is_some() && lines.is_none() {
        return Ok(None);
    }
    let batch = BatchStep {
        name: s.name.clone(),
        module: s.module.clone(),
        mode: batch_mode(&s.mode),
        write_batch: p.connection.write_batch,
        in_flight: p.connection.writes_in_flight,
        fields,
        timezone: p.connection.timezone.clone(),
        options: s.options,
    };
    let headers = reader.headers().to_vec();
    Ok(Some(CompiledImport {
        step: s.clone(),
        reader,
        headers,
        mapper,
        batch,
        fetched_metadata,
        lines,
        bulk_dir: crate::state::bulk_dir(p, &s.name),
        in_flight: p.connection.writes_in_flight,
    }))
}

/// Prepares import step `name` of `p` again (a run that waited for the budget reopens its
/// source; the rows it sent are in the journal and are skipped).
pub(crate) fn compile_import(
    p: &Pipeline,
    name: &str,
    client: &dyn CrmApi,
    cache: &MetadataCache,
) -> Result<CompiledImport, EngineError> {
    let unknown = || EngineError::UnknownStep { path: p.path.clone(), name: name.to_owned() };
    let s = p.imports().find(|s| s.name == name).ok_or_else(unknown)?;
    let mut problems = Vec::new();
    compile(p, s, client, cache, &mut problems)?
        .ok_or_else(|| EngineError::Invalid { path: p.path.clone(), source: Diagnostics(problems) })
}

/// Opens action step `s`'s manifest, finds its columns and compiles its mapping (a
/// conversion's potential against the Potentials metadata).
fn compile_action_step(
    p: &Pipeline,
    s: &ActionStep,
    client: &dyn CrmApi,
    cache: &MetadataCache,
    problems: &mut Vec<Diagnostic>,
) -> Result<Option<CompiledAction>, EngineError> {
    let fields = match zcrm_pipeline::action_metadata_module(s) {
        Some(module) => Some(
            cache
                .get(client, module, false)
                .map_err(|source| EngineError::Metadata { step: s.name.clone(), source })?
                .fields,
        ),
        None => None,
    };
    let Some((reader, mapper, cols)) =
        zcrm_pipeline::compile_action(p, s, fields.as_ref(), problems)
    else {
        return Ok(None);
    };
    let headers = reader.headers().to_vec();
    Ok(Some(CompiledAction { step: s.clone(), reader, headers, mapper, cols }))
}

/// Prepares action step `name` of `p` again (after a wait for the budget).
pub(crate) fn compile_action_again(
    p: &Pipeline,
    name: &str,
    client: &dyn CrmApi,
    cache: &MetadataCache,
) -> Result<CompiledAction, EngineError> {
    let unknown = || EngineError::UnknownStep { path: p.path.clone(), name: name.to_owned() };
    let s = p.actions().find(|s| s.name == name).ok_or_else(unknown)?;
    let mut problems = Vec::new();
    compile_action_step(p, s, client, cache, &mut problems)?
        .ok_or_else(|| EngineError::Invalid { path: p.path.clone(), source: Diagnostics(problems) })
}
