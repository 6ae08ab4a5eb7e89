//! Preparing an action step (delete, attach, relate, convert): its manifest opened, the
//! columns it reads found (every missing one reported with the nearest), and the mapping of
//! what it sends compiled (a conversion's potential against the Potentials metadata; the
//! other kinds send no mapped fields, so their mapping only checks the key).

use std::path::{Path, PathBuf};
use zcrm_mapping::{CompileOptions, MapSpec, Mapper};
use zcrm_protocol::ModuleFields;

use zcrm_protocol::limits::{MAX_FILE_BYTES, MAX_PHOTO_BYTES};
use zcrm_readers::{RowReader, SourceKind};

use crate::model::{ActionKind, ActionStep};
use crate::{Diagnostic, Pipeline};

/// The photo types the CRM shows.
const PHOTO_TYPES: [&str; 5] = ["jpg", "jpeg", "png", "gif", "bmp"];

/// Checks a file to attach before any call: it exists, and its size and type are ones the
/// API takes.
pub fn check_attachment(path: &Path, col: &str, photo: bool) -> Result<(), String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("{col}: {} cannot be read: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{col}: {} is not a file", path.display()));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let (limit, call) =
        if photo { (MAX_PHOTO_BYTES, "a photo") } else { (MAX_FILE_BYTES, "an attachment") };
    if meta.len() > limit {
        return Err(format!(
            "{col}: {} is {} bytes, over the {} MB limit of {call}",
            path.display(),
            meta.len(),
            limit / (1024 * 1024)
        ));
    }
    if meta.len() == 0 {
        return Err(format!("{col}: {} is empty", path.display()));
    }
    if photo && !PHOTO_TYPES.contains(&ext.as_str()) {
        return Err(format!(
            "{col}: {} is not a picture the CRM shows ({})",
            path.display(),
            PHOTO_TYPES.join(", ")
        ));
    }
    if !photo && ext == "exe" {
        return Err(format!("{col}: {}: the CRM refuses .exe files", path.display()));
    }
    Ok(())
}

/// The module whose metadata an action step's mapping is compiled against, if any.
pub fn action_metadata_module(step: &ActionStep) -> Option<&'static str> {
    matches!(&step.kind, ActionKind::Convert { potential, .. } if !potential.entries.is_empty())
        .then_some("Potentials")
}

/// Where an action step's values are in its source's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionColumns {
    /// The column of `record`.
    pub record: usize,
    /// The column of a relate step's `target`.
    pub target: Option<usize>,
    /// The column of an attach step's `file`.
    pub file: Option<usize>,
    /// A relate step's relation fields: `(field, column index)`.
    pub fields: Vec<(String, usize)>,
    /// The column of a conversion's `assign_to` owner.
    pub assign_to: Option<usize>,
}

/// Opens action step `step`'s source, finds its columns and compiles its mapping (`fields`:
/// the metadata of [`action_metadata_module`], or `None`): `None` with every problem added
/// to `diags`.
pub fn compile_action(
    p: &Pipeline,
    step: &ActionStep,
    fields: Option<&ModuleFields>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(RowReader, Mapper, ActionColumns)> {
    let problem = |diags: &mut Vec<Diagnostic>, span, message: String, hint: Option<String>| {
        diags.push(Diagnostic::at(
            &p.path,
            &p.text,
            span,
            format!("step {:?}: {message}", step.name),
            hint,
        ));
    };
    let reader = match zcrm_readers::open(&step.source, &step.source_options) {
        Ok(r) => r,
        Err(e) => {
            problem(diags, step.spans.source.clone(), e.to_string(), None);
            return None;
        }
    };
    let headers = reader.headers().to_vec();
    let before = diags.len();
    let column = |diags: &mut Vec<Diagnostic>, what: &str, name: &str| {
        let i = headers.iter().position(|h| h == name);
        if i.is_none() {
            let hint = match zcrm_mapping::did_you_mean(name, headers.iter().map(String::as_str)) {
                Some(s) => format!("did you mean the column `{s}`?"),
                None => format!("the source's columns are: {}", headers.join(", ")),
            };
            problem(
                diags,
                step.spans.step.clone().into(),
                format!(
                    "{what} reads the column `{name}`, which {} does not have",
                    step.source.display()
                ),
                Some(hint),
            );
        }
        i
    };
    let record = column(diags, "`record`", step.record.column());
    let mut cols = ActionColumns {
        record: record.unwrap_or(0),
        target: None,
        file: None,
        fields: Vec::new(),
        assign_to: None,
    };
    let mut spec = MapSpec::default();
    match &step.kind {
        ActionKind::Delete => {}
        ActionKind::Attach { file, .. } => cols.file = column(diags, "`file`", file),
        ActionKind::Relate { target, fields: rel, .. } => {
            cols.target = column(diags, "`target`", target.column());
            for (field, col) in rel {
                if let Some(i) = column(diags, &format!("`{field}`"), col) {
                    cols.fields.push((field.clone(), i));
                }
            }
        }
        ActionKind::Convert { potential, assign_to, .. } => {
            if let Some(a) = assign_to {
                cols.assign_to = column(diags, "`assign_to`", a);
            }
            spec = potential.clone();
        }
    }
    let empty = ModuleFields { module: step.module.clone(), sections: Vec::new() };
    let opts = CompileOptions {
        require_mandatory: !spec.entries.is_empty(),
        picklist: zcrm_mapping::PicklistMode::Strict,
        key: step.key.clone().map(|k| (k, step.spans.key.clone())),
        lookup_steps: p.lookup_targets(),
        excel_serials: reader.kind() == SourceKind::Xlsx,
    };
    let mapper = match Mapper::compile(&spec, fields.unwrap_or(&empty), &headers, &opts) {
        Ok(m) => Some(m),
        Err(errors) => {
            for e in errors {
                let span = e.span.or_else(|| step.spans.step.clone().into());
                problem(diags, span, e.message, e.hint);
            }
            None
        }
    };
    if diags.len() > before {
        return None;
    }
    Some((reader, mapper?, cols))
}

/// The problems of an action step's mapped row that can be known before the run: an empty
/// record (or target) cell, a record id column that is not an id, a file to attach that is
/// missing, empty, too big or of a refused type. Each with a short kind for summaries.
pub fn offline_problems(
    step: &ActionStep,
    cols: &ActionColumns,
    base: &Path,
    r: &zcrm_mapping::MappedRow,
) -> Vec<(String, &'static str)> {
    use crate::model::RecordRef;
    let mut errors = Vec::new();
    let mut id_in = |rf: &RecordRef, i: Option<usize>, what: &str| {
        let text = i.map(|i| r.source.get(i).trim()).unwrap_or_default();
        if text.is_empty() {
            errors.push((format!("{}: empty: the row names no {what}", rf.column()), "empty"));
        } else if matches!(rf, RecordRef::Column(_)) && text.parse::<u64>().is_err() {
            errors.push((
                format!("{}: {text:?} is not a record id (digits only)", rf.column()),
                "not a record id",
            ));
        }
    };
    id_in(&step.record, Some(cols.record), "record");
    match &step.kind {
        ActionKind::Relate { target, .. } => id_in(target, cols.target, "target"),
        ActionKind::Attach { file, photo } => {
            let text = cols.file.map(|i| r.source.get(i).trim()).unwrap_or_default();
            if text.is_empty() {
                errors.push((format!("{file}: empty: the row names no file"), "empty"));
            } else if let Err(e) = check_attachment(&base.join(text), file, *photo) {
                errors.push((e, "file refused"));
            }
        }
        ActionKind::Delete | ActionKind::Convert { .. } => {}
    }
    errors
}

/// Checks an action step's rows offline (`zcrm validate`): the mapping, record ids given in a
/// column, and files to attach (they exist, within the size limit, of a type the CRM takes).
/// Lookups to other steps are checked when the step runs (their records do not exist yet).
/// Writes the step's reject file.
pub fn check_action(
    step: &ActionStep,
    reader: RowReader,
    mapper: &Mapper,
    cols: &ActionColumns,
) -> Result<crate::StepSummary, crate::ValidateError> {
    let base = step.source.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut writer = zcrm_mapping::RejectWriter::create(&step.rejects, reader.headers())?;
    let (mut read, mut valid) = (0u64, 0u64);
    let mut reasons: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    zcrm_mapping::map_blocks(
        reader.blocks(),
        mapper,
        true,
        |chunk| -> Result<(), crate::ValidateError> {
            read += chunk.rows_read as u64;
            for r in &chunk.rejected {
                writer.write(r)?;
                for p in &r.problems {
                    *reasons.entry(p.summary_key()).or_default() += 1;
                }
            }
            for r in &chunk.rows {
                let errors = offline_problems(step, cols, &base, r);
                if errors.is_empty() {
                    valid += 1;
                    continue;
                }
                let text: Vec<&str> = errors.iter().map(|(e, _)| e.as_str()).collect();
                let cells = (0..r.source.len()).map(|i| r.source.get(i));
                writer.write_parts(cells, r.pos.row, r.pos.line, &text.join(" | "))?;
                for (e, kind) in &errors {
                    let field = e.split(':').next().unwrap_or_default();
                    *reasons.entry(format!("{field}: {kind}")).or_default() += 1;
                }
            }
            Ok(())
        },
    )?;
    let rejected = writer.finish()?;
    let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(crate::StepSummary {
        name: step.name.clone(),
        module: step.module.clone(),
        source: step.source.clone(),
        rows_read: read,
        valid,
        rejected,
        reasons,
        warnings: Vec::new(),
        rejects: step.rejects.clone(),
        lines: None,
    })
}
