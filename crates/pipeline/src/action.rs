//! Preparing an action step (delete, attach, relate, convert): its manifest opened, the
//! columns it reads found (every missing one reported with the nearest), and the mapping of
//! what it sends compiled (a conversion's potential against the Potentials metadata; the
//! other kinds send no mapped fields, so their mapping only checks the key).

use zcrm_mapping::{CompileOptions, MapSpec, Mapper};
use zcrm_protocol::ModuleFields;
use zcrm_readers::{RowReader, SourceKind};

use crate::model::{ActionKind, ActionStep};
use crate::{Diagnostic, Pipeline};

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
