//! `zcrm test`: the pipeline's `[[tests]]`, run offline. Each test's row goes through its
//! step's mapping, compiled against the module's metadata (the caller's `Metadata`: the state
//! dir's cache, or a schema file), exactly as a run maps a source row; the mapped values or
//! the reject reasons are compared with what the test expects.

use std::collections::HashMap;
use std::sync::Arc;

use zcrm_mapping::{CompileOptions, FieldSource, MappedValue, Mapper};
use zcrm_protocol::{Direction, ModuleFields};
use zcrm_readers::{Chunk, Row, RowPos, SourceInfo};

use crate::validate::{Metadata, ValidateError};
use crate::{Diagnostic, Diagnostics, ImportStep, Pipeline, PipelineTest};

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// Its step.
    pub step: String,
    /// What did not match, one line each (`Field: expected "a", got "b"`); empty: passed.
    pub failures: Vec<String>,
}

/// The columns a step's map reads (columns and template placeholders), and its key.
fn columns(step: &ImportStep) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |c: &str| {
        if !out.iter().any(|x| x == c) {
            out.push(c.to_owned());
        }
    };
    for e in &step.map.entries {
        match &e.spec.source {
            FieldSource::Column(c) => add(c),
            FieldSource::Template(t) => {
                let mut rest = t.as_str();
                while let Some(i) = rest.find('{') {
                    rest = &rest[i + 1..];
                    if rest.starts_with('{') {
                        rest = &rest[1..];
                        continue;
                    }
                    if let Some(j) = rest.find('}') {
                        add(&rest[..j]);
                        rest = &rest[j + 1..];
                    }
                }
            }
            FieldSource::Value(_) => {}
        }
    }
    if let Some(k) = &step.key {
        add(k);
    }
    out
}

/// A mapped value as a test compares it: the value's text as the CRM shows it (dates
/// `yyyy-MM-dd`), a lookup as `step:key`, an owner as `owner:<e-mail or name>`.
fn shown(v: &MappedValue) -> String {
    match v {
        MappedValue::Value(v) => {
            v.to_text(Direction::Output).map(|c| c.into_owned()).unwrap_or_default()
        }
        MappedValue::Lookup { step, key } => format!("{step}:{key}"),
        MappedValue::Owner { user } => format!("owner:{user}"),
    }
}

fn run_one(
    t: &PipelineTest,
    step: &ImportStep,
    fields: &ModuleFields,
) -> Result<Vec<String>, Vec<String>> {
    let mut headers = columns(step);
    for (c, _) in &t.input {
        if !headers.contains(c) {
            headers.push(c.clone());
        }
    }
    let opts = CompileOptions {
        require_mandatory: step.mode.needs_mandatory(),
        picklist: step.picklist,
        key: step.key.clone().map(|k| (k, None)),
        // Lookups are not resolved offline: any step name passes.
        lookup_steps: step.map.entries.iter().filter_map(|e| e.spec.lookup.clone()).collect(),
        excel_serials: false,
    };
    let mapper = Mapper::compile(&step.map, fields, &headers, &opts)
        .map_err(|errs| errs.into_iter().map(|e| e.message).collect::<Vec<_>>())?;
    let input: HashMap<&str, &str> =
        t.input.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cells = headers.iter().map(|h| input.get(h.as_str()).copied().unwrap_or("")).collect();
    let chunk = Chunk {
        seq: 0,
        source: Arc::new(SourceInfo { path: step.source.clone(), sheet: None }),
        rows: vec![Row { pos: RowPos { row: 1, line: 2 }, cells, problem: None }],
    };
    let out = mapper.map_chunk(chunk, true);
    let mut failures = Vec::new();
    match (out.rows.first(), out.rejected.first()) {
        (Some(row), _) => {
            for want in &t.reject {
                failures.push(format!("expected a reject ({want:?}), but the row is valid"));
            }
            for (field, want) in &t.expect {
                let label = fields.field(field).map_or(field.as_str(), |f| f.label.as_str());
                let got = row
                    .fields
                    .iter()
                    .find(|(l, _)| &**l == label || &**l == field)
                    .map(|(_, v)| shown(v))
                    .unwrap_or_default();
                if &got != want {
                    failures.push(format!("{field}: expected {want:?}, got {got:?}"));
                }
            }
        }
        (None, Some(rej)) => {
            let reasons = rej.errors_text();
            for want in &t.reject {
                if !reasons.contains(want.as_str()) {
                    failures.push(format!(
                        "reject: expected a reason containing {want:?}, got {reasons:?}"
                    ));
                }
            }
            if !t.expect.is_empty() {
                failures.push(format!("the row is rejected: {reasons}"));
            }
        }
        (None, None) => failures.push("the mapping gave no row".to_owned()),
    }
    Ok(failures)
}

/// Runs the tests of `p` (those of the steps named in `only`, or all) against the modules'
/// metadata from `meta`. A mapping that does not compile is a pipeline problem (`Spec`).
pub fn run_tests(
    p: &Pipeline,
    only: &[String],
    meta: &mut dyn Metadata,
) -> Result<Vec<TestOutcome>, ValidateError> {
    let mut fields: HashMap<String, ModuleFields> = HashMap::new();
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for t in p.tests.iter().filter(|t| only.is_empty() || only.contains(&t.step)) {
        let Some(step) = p.imports().find(|s| s.name == t.step) else { continue };
        if !fields.contains_key(&step.module) {
            let f = meta.fields(&step.module).map_err(|source| ValidateError::Metadata {
                module: step.module.clone(),
                source,
            })?;
            fields.insert(step.module.clone(), f);
        }
        let Some(f) = fields.get(&step.module) else { continue };
        match run_one(t, step, f) {
            Ok(failures) => {
                out.push(TestOutcome { name: t.name.clone(), step: t.step.clone(), failures })
            }
            Err(problems) => {
                for m in problems {
                    diags.push(Diagnostic::at(
                        &p.path,
                        &p.text,
                        Some(t.span.clone()),
                        format!("test {:?} (step {:?}): {m}", t.name, t.step),
                        None,
                    ));
                }
            }
        }
    }
    if !diags.is_empty() {
        return Err(ValidateError::Spec(Diagnostics(diags)));
    }
    Ok(out)
}
