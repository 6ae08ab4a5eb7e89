//! `[steps.line_items]` of an import step: checked into a [`LineItems`] with every problem
//! reported (the module must have line items, the step needs a `key`, the table needs a
//! `source`, a `parent` column and a map; lookups must name import steps). The line file's
//! header (the parent column, the mapped columns) is checked when the step is compiled
//! (`crate::lines::compile_lines`).

use std::ops::Range;
use std::str::FromStr;

use toml::Spanned;
use zcrm_mapping::MapSpec;
use zcrm_protocol::Module;
use zcrm_readers::{SourceKind, SourceOptions};

use super::{Ctx, csv_options};
use crate::convert::map_spec;
use crate::files::Role;
use crate::model::{LineItemSpans, LineItems};
use crate::raw::{RawLineItems, RawStep};

/// The step's `[steps.line_items]`, if it has one: `None` with the problems reported when it
/// cannot be used.
pub(super) fn line_items(
    cx: &mut Ctx<'_>,
    name: &str,
    r: &RawStep,
    rejects: &std::path::Path,
    imports: &[String],
) -> Option<LineItems> {
    let li = r.line_items.as_ref()?;
    let table = li.span();
    let raw: &RawLineItems = li.get_ref();
    let step_at = (name, r.name.as_ref().map(Spanned::span));
    let mut ok = true;
    if let Some(m) = &r.import
        && let Ok(module) = Module::from_str(m.get_ref())
        && !module.has_line_items()
    {
        cx.error(
            Some(table.start..table.start + 1),
            format!("{} records have no line items", module.api_name()),
            Some(
                "[steps.line_items] applies to Quotes, SalesOrders, PurchaseOrders and Invoices"
                    .to_owned(),
            ),
        );
        ok = false;
    }
    if r.key.is_none() {
        cx.error(
            Some(table.start..table.start + 1),
            format!("step {name:?} has line items but no `key`"),
            Some("line items join the step's rows by key: add key = \"<column>\" (e.g. \"quote_no\")".to_owned()),
        );
        ok = false;
    }
    let source = match &raw.source {
        Some(s) => {
            let p = cx.path(s.get_ref());
            cx.file(step_at.clone(), Role::Source, &p, Some(s.span()));
            if SourceKind::of(&p).is_none() {
                cx.error(
                    Some(s.span()),
                    format!("{:?} is not a CSV or XLSX file", s.get_ref()),
                    Some("sources end in .csv, .txt, .tsv or .xlsx".to_owned()),
                );
                ok = false;
            }
            Some(p)
        }
        None => {
            cx.error(
                Some(table.start..table.start + 1),
                "[steps.line_items] has no `source`",
                Some("add source = \"path/to/lines.csv\"".to_owned()),
            );
            None
        }
    };
    let csv = csv_options(cx, raw.delimiter.as_ref(), raw.quote.as_ref(), raw.encoding.as_ref());
    let parent = match &raw.parent {
        Some(p) if !p.get_ref().trim().is_empty() => Some(p.get_ref().clone()),
        Some(p) => {
            cx.error(Some(p.span()), "`parent` names a column of the line file", None);
            None
        }
        None => {
            cx.error(
                Some(table.start..table.start + 1),
                "[steps.line_items] has no `parent`",
                Some("parent names the line file's column holding the parent row's key, e.g. parent = \"quote_no\"".to_owned()),
            );
            None
        }
    };
    let map = match &raw.map {
        Some(m) => {
            let (spec, errors) = map_spec(m.get_ref());
            for (msg, hint, sp) in errors {
                cx.error(Some(sp), msg, hint);
            }
            for e in &spec.entries {
                if let Some(step) = &e.spec.lookup
                    && !imports.iter().any(|i| i == step)
                {
                    unknown_lookup(cx, &e.field, step, e.spec_span.clone(), imports);
                }
                if e.spec.owner {
                    cx.error(
                        Some(e.spec_span.clone()),
                        format!("`{}`: line items have no owner", e.field),
                        None,
                    );
                }
            }
            spec
        }
        None => {
            cx.error(
                Some(table.start..table.start + 1),
                "[steps.line_items] has no [steps.line_items.map]",
                Some("map the item fields to the line file's columns: \"Product Id\" = { lookup = \"products\", column = \"sku\" }, \"Quantity\" = \"qty\"".to_owned()),
            );
            MapSpec::default()
        }
    };
    let file = rejects.file_name().and_then(|f| f.to_str()).unwrap_or("rejects.csv");
    let stem =
        file.strip_suffix(".rejects.csv").or_else(|| file.strip_suffix(".csv")).unwrap_or(file);
    let line_rejects = rejects.with_file_name(format!("{stem}.lines.rejects.csv"));
    cx.file(step_at, Role::Rejects, &line_rejects, None);
    let spans = LineItemSpans {
        table,
        source: raw.source.as_ref().map(Spanned::span),
        parent: raw.parent.as_ref().map(Spanned::span),
        map: raw.map.as_ref().map(Spanned::span),
    };
    let source_options = SourceOptions { csv, ..SourceOptions::default() };
    if !ok {
        return None;
    }
    Some(LineItems {
        source: source?,
        source_options,
        parent: parent?,
        map,
        rejects: line_rejects,
        spans,
    })
}

fn unknown_lookup(cx: &mut Ctx<'_>, field: &str, step: &str, at: Range<usize>, imports: &[String]) {
    let hint = zcrm_mapping::did_you_mean(step, imports.iter().map(String::as_str)).map_or_else(
        || format!("lookups name an import step; the import steps are: {}", imports.join(", ")),
        |s| format!("did you mean {s:?}?"),
    );
    cx.error(
        Some(at),
        format!("`{field}` looks up the step {step:?}, which does not exist"),
        Some(hint),
    );
}
