//! `[[tests]]`: each names an import step, gives one row (`input`) and says what the mapping
//! must make of it (`expect`, or `reject`). Checked here like steps: every problem at its place.

use toml::Spanned;

use super::Ctx;
use crate::model::{PipelineTest, Step};
use crate::raw::RawPipeline;

fn text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The pipeline's tests, each checked against its step.
pub(super) fn tests(cx: &mut Ctx<'_>, raw: &RawPipeline, steps: &[Step]) -> Vec<PipelineTest> {
    let imports: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Import(i) => Some(i.name.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (n, t) in raw.tests.iter().enumerate() {
        let span = t.span();
        let r = t.get_ref();
        let name =
            r.name.as_ref().map_or_else(|| format!("test {}", n + 1), |s| s.get_ref().clone());
        let Some(step) = &r.step else {
            cx.error(
                Some(span.start..span.start + 1),
                format!("test {name:?} names no `step`"),
                Some("add step = \"<an import step>\"".to_owned()),
            );
            continue;
        };
        if !imports.contains(&step.get_ref().as_str()) {
            let hint = zcrm_mapping::did_you_mean(step.get_ref(), imports.iter().copied())
                .map_or_else(
                    || format!("tests name an import step: {}", imports.join(", ")),
                    |s| format!("did you mean {s:?}?"),
                );
            cx.error(
                Some(step.span()),
                format!("test {name:?}: {:?} is not an import step", step.get_ref()),
                Some(hint),
            );
            continue;
        }
        let mut input = Vec::new();
        if let Some(i) = &r.input {
            for (k, v) in i.get_ref() {
                match text(v) {
                    Some(v) => input.push((k.clone(), v)),
                    None => cx.error(
                        Some(i.span()),
                        format!("test {name:?}: the input column {k:?} must be a string"),
                        None,
                    ),
                }
            }
        }
        let mut expect = Vec::new();
        if let Some(e) = &r.expect {
            for (k, v) in &e.get_ref().entries {
                match text(v.get_ref()) {
                    Some(t) => expect.push((k.get_ref().clone(), t)),
                    None => cx.error(
                        Some(v.span()),
                        format!(
                            "test {name:?}: the expected value of {:?} must be a string",
                            k.get_ref()
                        ),
                        None,
                    ),
                }
            }
        }
        let reject: Vec<String> = match r.reject.as_ref().map(Spanned::get_ref) {
            None => Vec::new(),
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_str) => {
                a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            Some(_) => {
                let at = r.reject.as_ref().map(Spanned::span);
                cx.error(at, format!("test {name:?}: `reject` is a text or a list of texts"), None);
                Vec::new()
            }
        };
        if expect.is_empty() && reject.is_empty() {
            cx.error(
                Some(span.start..span.start + 1),
                format!("test {name:?} expects nothing"),
                Some("add [tests.expect] (field = value) or reject = \"reason\"".to_owned()),
            );
            continue;
        }
        out.push(PipelineTest { name, step: step.get_ref().clone(), input, expect, reject, span });
    }
    out
}
