//! `zcrm validate`: every import step's source read, mapped and checked locally; reject files
//! written; at most one metadata call per module (none when the state dir has it cached).

use std::collections::HashMap;
use std::path::PathBuf;

use zcrm_mapping::{
    CompileOptions, MappedRow, MappedValue, Mapper, RejectWriter, RejectWriterError, map_blocks,
};
use zcrm_protocol::ModuleFields;
use zcrm_readers::{ReadError, RowReader, SourceKind};

use crate::lines::{LineIndex, LineSource, Lines, compile_lines};
use crate::{Diagnostic, Diagnostics, ImportStep, Pipeline};

/// What `validate` found for one import step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSummary {
    /// The step.
    pub name: String,
    /// The module.
    pub module: String,
    /// The source file.
    pub source: PathBuf,
    /// Rows read.
    pub rows_read: u64,
    /// Rows that would be sent.
    pub valid: u64,
    /// Rows in the reject file.
    pub rejected: u64,
    /// Rejection reasons (`field: rule`) with the number of problems, most frequent first.
    pub reasons: Vec<(String, u64)>,
    /// Warnings of valid rows (`field: rule`), most frequent first.
    pub warnings: Vec<(String, u64)>,
    /// The reject file.
    pub rejects: PathBuf,
    /// Line items: lines read, and lines that belong to no row (in the line reject file).
    pub lines: Option<(u64, u64)>,
}

/// Why `validate` could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The pipeline or its mappings are wrong (exit 2).
    #[error("{0}")]
    Spec(Diagnostics),
    /// A module's metadata could not be had (the cause says why: the CRM, the budget, the
    /// embedded emulator).
    #[error("fetching the field metadata of {module}")]
    Metadata {
        /// The module.
        module: String,
        /// Why.
        #[source]
        source: MetadataError,
    },
    /// A source stopped being readable mid-way.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A reject file could not be written.
    #[error(transparent)]
    Reject(#[from] RejectWriterError),
    /// The line items could not be read or indexed.
    #[error(transparent)]
    Lines(#[from] crate::lines::LineError),
    /// The keys of looked-up steps could not be kept on disk.
    #[error("keeping the looked-up steps' keys on disk")]
    Keys(#[source] rusqlite::Error),
}

/// Why a module's metadata could not be had: whatever the provider's error is (a client
/// error, a server that did not start), kept whole as the cause.
pub type MetadataError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where module metadata comes from (the metadata cache, or the CRM through a client the
/// front end connected): `validate` and [`load_checked`] ask for each module once.
pub trait Metadata {
    /// The fields of `module`.
    fn fields(&mut self, module: &str) -> Result<ModuleFields, MetadataError>;

    /// Why no active user of the org can own a record as `who` (an e-mail or a full name,
    /// what an `owner = "column"` mapping holds), or `None` when one can. A provider that
    /// does not know the org's users (the default) finds nothing wrong.
    fn owner_problem(&mut self, who: &str) -> Result<Option<String>, MetadataError> {
        let _ = who;
        Ok(None)
    }
}

/// The metadata of every module the import steps use, asked of `meta` once each.
fn metadata(
    p: &Pipeline,
    meta: &mut dyn Metadata,
) -> Result<HashMap<String, ModuleFields>, ValidateError> {
    let mut out = HashMap::new();
    let action_modules: Vec<String> =
        p.actions().filter_map(crate::action::action_metadata_module).map(str::to_owned).collect();
    for module in action_modules {
        if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(module) {
            let fields = meta
                .fields(slot.key())
                .map_err(|source| ValidateError::Metadata { module: slot.key().clone(), source })?;
            slot.insert(fields);
        }
    }
    for step in p.imports() {
        if !out.contains_key(&step.module) {
            let fields = meta.fields(&step.module).map_err(|source| ValidateError::Metadata {
                module: step.module.clone(),
                source,
            })?;
            out.insert(step.module.clone(), fields);
        }
    }
    Ok(out)
}

/// Opens `step`'s source and compiles its mapping against `fields` (the module's metadata):
/// the reader (positioned after the header) and the mapper, or `None` with the problems
/// (a source that cannot be opened, every mapping mistake) added to `diags`, each placed in
/// the pipeline file. `validate`, `run` and `plan` all prepare a step through here.
pub fn compile_step(
    p: &Pipeline,
    step: &ImportStep,
    fields: &ModuleFields,
    diags: &mut Vec<Diagnostic>,
) -> Option<(RowReader, Mapper)> {
    let reader = match zcrm_readers::open(&step.source, &step.source_options) {
        Ok(r) => r,
        Err(e) => {
            diags.push(Diagnostic::at(
                &p.path,
                &p.text,
                step.spans.source.clone(),
                format!("step {:?}: {e}", step.name),
                None,
            ));
            return None;
        }
    };
    let lookup_steps = p.lookup_targets();
    let opts = CompileOptions {
        require_mandatory: step.mode.needs_mandatory(),
        picklist: step.picklist,
        key: step.key.clone().map(|k| (k, step.spans.key.clone())),
        lookup_steps,
        excel_serials: reader.kind() == SourceKind::Xlsx,
    };
    match Mapper::compile(&step.map, fields, reader.headers(), &opts) {
        Ok(m) => Some((reader, m)),
        Err(errors) => {
            for e in errors {
                let span = e.span.or_else(|| step.spans.map.clone());
                diags.push(Diagnostic::at(
                    &p.path,
                    &p.text,
                    span,
                    format!("step {:?}: {}", step.name, e.message),
                    e.hint,
                ));
            }
            None
        }
    }
}

fn top(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Why the row's owners cannot own records (`field: reason` each, the field as the map names
/// it), asking `meta` once per distinct owner text.
fn owner_errors(
    row: &MappedRow,
    field: Option<&str>,
    meta: &mut dyn Metadata,
    known: &mut HashMap<String, Option<String>>,
) -> Result<Vec<String>, MetadataError> {
    let mut errors = Vec::new();
    for (label, v) in &row.fields {
        let label = field.unwrap_or(label);
        let MappedValue::Owner { user } = v else { continue };
        let problem = match known.get(user) {
            Some(p) => p.clone(),
            None => {
                let p = meta.owner_problem(user)?;
                known.insert(user.clone(), p.clone());
                p
            }
        };
        if let Some(reason) = problem {
            errors.push(format!("{label}: {reason}"));
        }
    }
    Ok(errors)
}

/// What a step's lookups are checked against.
struct Lookups<'a> {
    /// The keys of the valid rows of looked-up steps validated before this one.
    keys: Option<&'a crate::lookup_keys::LookupKeys>,
    /// Whether this step's valid rows' keys are kept (a later step looks it up).
    keep: bool,
    /// The steps validated before this one (a lookup to another step is not checked: its
    /// rows are not known here).
    checked: &'a [String],
}

/// Why the row's lookups will find no CRM Id: a key no valid row of an already checked step
/// has (the field as the map names it, and `field: reason`).
fn lookup_errors(
    step: &ImportStep,
    row: &MappedRow,
    lookups: &Lookups<'_>,
) -> Result<Vec<(String, String)>, ValidateError> {
    let Some(keys) = lookups.keys else { return Ok(Vec::new()) };
    let mut errors = Vec::new();
    for (label, v) in &row.fields {
        let MappedValue::Lookup { step: target, key } = v else { continue };
        if !lookups.checked.iter().any(|c| c == target)
            || keys.has(target, key).map_err(ValidateError::Keys)?
        {
            continue;
        }
        let mut named = step.map.entries.iter().filter(|e| e.spec.lookup.as_ref() == Some(target));
        let field = match (named.next(), named.next()) {
            (Some(e), None) => e.field.as_str(),
            _ => &**label,
        };
        errors.push((
            field.to_owned(),
            format!(
                "{field}: no CRM Id for key {key:?} in step {target:?} (no valid row of its file has that key)"
            ),
        ));
    }
    Ok(errors)
}

fn run_step(
    step: &ImportStep,
    reader: RowReader,
    mapper: &Mapper,
    lines: Option<LineSource>,
    meta: &mut dyn Metadata,
    lookups: &Lookups<'_>,
) -> Result<StepSummary, ValidateError> {
    let index = lines.map(|l| LineIndex::build(step, l)).transpose()?;
    let key_col = step.key.as_ref().and_then(|k| reader.headers().iter().position(|h| h == k));
    let mut writer = RejectWriter::create(&step.rejects, reader.headers())?;
    let (mut read, mut valid) = (0u64, 0u64);
    let mut reasons: HashMap<String, u64> = HashMap::new();
    let mut warnings: HashMap<String, u64> = HashMap::new();
    // With line items every valid row's key is needed, and with owners every owner's text
    // (each checked against the org's active users, as the run does), so rows are built.
    let owner_field = step.map.entries.iter().find(|e| e.spec.owner).map(|e| e.field.as_str());
    let owners = owner_field.is_some();
    let looks_up = lookups.keys.is_some()
        && step
            .map
            .entries
            .iter()
            .any(|e| e.spec.lookup.as_ref().is_some_and(|t| lookups.checked.contains(t)));
    let build = index.is_some() || owners || lookups.keep || looks_up;
    let mut known_owners: HashMap<String, Option<String>> = HashMap::new();
    let (mut unchecked, mut unchecked_rows): (Option<String>, u64) = (None, 0);
    map_blocks(reader.blocks(), mapper, build, |chunk| -> Result<(), ValidateError> {
        read += chunk.rows_read as u64;
        valid += chunk.valid as u64;
        for r in &chunk.rejected {
            writer.write(r)?;
            for p in &r.problems {
                *reasons.entry(p.summary_key()).or_default() += 1;
            }
            if let (Some(ix), Some(k)) = (&index, key_col)
                && k < r.source.len()
            {
                ix.claim(r.source.get(k))?;
            }
        }
        for r in &chunk.rows {
            let mut errors = Vec::new();
            if let (Some(ix), Some(key)) = (&index, &r.key)
                && let Lines::Bad(bad) = ix.lines_of(key)?
            {
                errors.extend(bad);
                *reasons.entry("Product Details: bad line items".to_owned()).or_default() += 1;
            }
            // The users cannot be read (the CRM unreachable, say): the rest is still checked,
            // and the owners are said to be unchecked rather than failing the whole check.
            if owners && unchecked.is_none() {
                match owner_errors(r, owner_field, meta, &mut known_owners) {
                    Ok(bad) => {
                        if !bad.is_empty() {
                            let field = owner_field.unwrap_or("owner");
                            *reasons.entry(format!("{field}: not an active user")).or_default() +=
                                bad.len() as u64;
                        }
                        errors.extend(bad);
                    }
                    Err(e) => unchecked = Some(e.to_string()),
                }
            }
            if unchecked.is_some() {
                unchecked_rows += 1;
            }
            if looks_up {
                for (field, error) in lookup_errors(step, r, lookups)? {
                    *reasons.entry(format!("{field}: no row with that key")).or_default() += 1;
                    errors.push(error);
                }
            }
            if errors.is_empty()
                && lookups.keep
                && let (Some(keys), Some(key)) = (lookups.keys, &r.key)
            {
                keys.add(&step.name, key).map_err(ValidateError::Keys)?;
            }
            if !errors.is_empty() {
                valid -= 1;
                let cells = (0..r.source.len()).map(|i| r.source.get(i));
                writer.write_parts(cells, r.pos.row, r.pos.line, &errors.join(" | "))?;
            }
        }
        for w in &chunk.warnings {
            *warnings.entry(w.summary_key()).or_default() += 1;
        }
        Ok(())
    })?;
    if let Some(why) = unchecked {
        let field = owner_field.unwrap_or("owner");
        warnings.insert(
            format!(
                "{field}: not checked against the org's users, which could not be read ({why})"
            ),
            unchecked_rows,
        );
    }
    let rejected = writer.finish()?;
    Ok(StepSummary {
        name: step.name.clone(),
        module: step.module.clone(),
        source: step.source.clone(),
        rows_read: read,
        valid,
        rejected,
        reasons: top(reasons),
        warnings: top(warnings),
        rejects: step.rejects.clone(),
        lines: match index {
            Some(ix) => {
                let n = ix.lines;
                Some((n, ix.finish()?))
            }
            None => None,
        },
    })
}

/// Loads the pipeline at `path` and reports every problem at once: the file's own and, when
/// it has some, the mapping problems of the import steps that could be read, checked against
/// their modules' fields from the provider `meta_for` gives for the partly read pipeline
/// (`None`, or a provider that fails: those checks are skipped), so one attempt shows the
/// whole list. Nothing is ever written.
pub fn load_checked<M: Metadata>(
    path: &std::path::Path,
    meta_for: impl FnOnce(&Pipeline) -> Option<M>,
) -> Result<Pipeline, crate::LoadError> {
    let (p, mut diags) = crate::load::load_partial(path)?;
    if diags.0.is_empty() {
        return Ok(p);
    }
    if let Some(mut m) = meta_for(&p)
        && let Ok(meta) = metadata(&p, &mut m)
    {
        for step in p.imports() {
            // A missing or unreadable source already has its own problem in the list.
            if !step.source.is_file() {
                continue;
            }
            if let Some(fields) = meta.get(&step.module) {
                let _ = compile_step(&p, step, fields, &mut diags.0);
            }
            if step.line_items.as_ref().is_some_and(|l| l.source.is_file()) {
                let _ = compile_lines(&p, step, &mut diags.0);
            }
        }
    }
    diags.0.sort_by_key(|d| (d.line == 0, d.line, d.column));
    Err(crate::LoadError::Invalid(diags))
}

/// Validates every import step (or those named in `only`): all mapping problems of all steps
/// are reported together before any row is read; then each step's rows are checked.
pub fn validate(
    p: &Pipeline,
    only: &[String],
    meta: &mut dyn Metadata,
) -> Result<Vec<StepSummary>, ValidateError> {
    let mut diags = Vec::new();
    for name in only {
        if !p.steps.iter().any(|s| s.name() == name) {
            diags.push(Diagnostic::at(
                &p.path,
                &p.text,
                None,
                format!("no step named {name:?}"),
                None,
            ));
        }
    }
    if !diags.is_empty() {
        return Err(ValidateError::Spec(Diagnostics(diags)));
    }
    let by_module = metadata(p, meta)?;
    let mut ready = Vec::new();
    for step in p.imports().filter(|s| only.is_empty() || only.contains(&s.name)) {
        let Some(fields) = by_module.get(&step.module) else { continue };
        let x = compile_step(p, step, fields, &mut diags);
        let lines = compile_lines(p, step, &mut diags);
        if let Some(x) = x {
            ready.push((step, x, lines));
        }
    }
    let mut actions = Vec::new();
    for step in p.actions().filter(|s| only.is_empty() || only.contains(&s.name)) {
        let fields = crate::action::action_metadata_module(step).and_then(|m| by_module.get(m));
        if let Some(x) = crate::action::compile_action(p, step, fields, &mut diags) {
            actions.push((step, x));
        }
    }
    if !diags.is_empty() {
        return Err(ValidateError::Spec(Diagnostics(diags)));
    }
    // Steps that lookups name: their valid rows' keys are kept, and a later step's lookup to
    // a key none of them has is rejected, as the run would reject it.
    let targets: std::collections::HashSet<&str> = p
        .imports()
        .flat_map(|s| s.map.entries.iter().filter_map(|e| e.spec.lookup.as_deref()))
        .collect();
    let keys = if targets.is_empty() {
        None
    } else {
        Some(crate::lookup_keys::LookupKeys::new().map_err(ValidateError::Keys)?)
    };
    let mut checked: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (step, (reader, mapper), lines) in ready {
        tracing::info!(step = %step.name, source = %step.source.display(), "validating");
        let lookups = Lookups {
            keys: keys.as_ref(),
            keep: step.key.is_some() && targets.contains(step.name.as_str()),
            checked: &checked,
        };
        out.push(run_step(step, reader, &mapper, lines, meta, &lookups)?);
        checked.push(step.name.clone());
    }
    for (step, (reader, mapper, cols)) in actions {
        tracing::info!(step = %step.name, source = %step.source.display(), "validating");
        out.push(crate::action::check_action(step, reader, &mapper, &cols)?);
    }
    Ok(out)
}
