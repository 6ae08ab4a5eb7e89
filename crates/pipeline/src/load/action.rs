//! Action steps (`delete`, `attach`, `relate`, `convert`): one call per source row, checked
//! here like an import step (every problem at once, each with its place in the file).

use std::ops::Range;

use toml::Spanned;
use zcrm_mapping::MapSpec;
use zcrm_protocol::Module;

use super::{Ctx, module, not_for, source_options};
use crate::convert::map_spec;
use crate::files::Role;
use crate::model::{ActionKind, ActionStep, ImportSpans, RecordRef};
use crate::raw::RawStep;

/// The modules whose records take a photo.
const PHOTO_MODULES: [&str; 2] = ["Leads", "Contacts"];

/// Reads `{ column = "c" }` or `{ lookup = "step", column = "c" }`.
fn record_ref(
    cx: &mut Ctx<'_>,
    key: &str,
    v: &Spanned<toml::Value>,
    imports: &[String],
) -> Option<RecordRef> {
    let span = v.span();
    let example =
        format!("{key} = {{ lookup = \"step\", column = \"key\" }} or {{ column = \"crm_id\" }}");
    let Some(t) = v.get_ref().as_table() else {
        cx.error(Some(span), format!("`{key}` must be a table"), Some(example));
        return None;
    };
    let (mut column, mut lookup) = (None, None);
    let mut ok = true;
    for (k, val) in t {
        match (k.as_str(), val.as_str()) {
            ("column", Some(c)) if !c.trim().is_empty() => column = Some(c.to_owned()),
            ("lookup", Some(s)) => lookup = Some(s.to_owned()),
            ("column" | "lookup", _) => {
                cx.error(
                    Some(span.clone()),
                    format!("`{k}` of `{key}` must be a non-empty string"),
                    None,
                );
                ok = false;
            }
            (other, _) => {
                cx.error(
                    Some(span.clone()),
                    format!("unknown key `{other}` in `{key}`"),
                    Some(example.clone()),
                );
                ok = false;
            }
        }
    }
    let Some(column) = column else {
        if ok {
            cx.error(Some(span), format!("`{key}` names no `column`"), Some(example));
        }
        return None;
    };
    match lookup {
        None => ok.then_some(RecordRef::Column(column)),
        Some(step) if imports.contains(&step) => ok.then_some(RecordRef::Lookup { step, column }),
        Some(step) => {
            super::unknown_lookup(cx, key, &step, imports, span);
            None
        }
    }
}

fn required<'a, T>(
    cx: &mut Ctx<'_>,
    v: &'a Option<Spanned<T>>,
    key: &str,
    what: &str,
    at: Range<usize>,
    hint: &str,
) -> Option<&'a Spanned<T>> {
    if v.is_none() {
        cx.error(Some(at), format!("{what} has no `{key}`"), Some(hint.to_owned()));
    }
    v.as_ref()
}

/// `assign_to = { owner = "column" }`.
fn assign_to(cx: &mut Ctx<'_>, v: &Spanned<toml::Value>) -> Option<String> {
    let owner = v.get_ref().as_table().and_then(|t| {
        (t.len() == 1).then(|| t.get("owner").and_then(toml::Value::as_str)).flatten()
    });
    if owner.is_none() {
        cx.error(
            Some(v.span()),
            "`assign_to` is { owner = \"column\" }: the column holds a user's e-mail or full name",
            None,
        );
    }
    owner.map(str::to_owned)
}

/// A `delete`, `attach`, `relate` or `convert` step.
pub(super) fn action_step(
    cx: &mut Ctx<'_>,
    name: String,
    kind: &str,
    m: &Spanned<String>,
    r: &RawStep,
    span: Range<usize>,
    imports: &[String],
) -> Option<ActionStep> {
    let module = module(cx, m);
    let name_span = r.name.as_ref().map(Spanned::span);
    let sp = |x: &Option<Spanned<String>>| x.as_ref().map(Spanned::span);
    not_for(
        cx,
        kind,
        &[
            ("to", r.to.as_ref().map(Spanned::span)),
            ("columns", r.columns.as_ref().map(Spanned::span)),
            ("since", sp(&r.since)),
            ("on_schema_change", sp(&r.on_schema_change)),
            ("criteria", sp(&r.criteria)),
            ("view", sp(&r.view)),
            ("attachments", sp(&r.attachments)),
            ("mode", sp(&r.mode)),
            ("match_on", sp(&r.match_on)),
            ("picklist", sp(&r.picklist)),
            ("on_duplicate", sp(&r.on_duplicate)),
            ("method", sp(&r.method)),
            ("workflow", r.workflow.as_ref().map(Spanned::span)),
            ("approval", r.approval.as_ref().map(Spanned::span)),
        ],
    );
    let only = |cx: &mut Ctx<'_>, key: &str, on: &str, at: Option<Range<usize>>| {
        if kind != on
            && let Some(at) = at
        {
            cx.error(Some(at), format!("`{key}` applies to {on} steps only"), None);
        }
    };
    only(cx, "file", "attach", sp(&r.file));
    only(cx, "photo", "attach", r.photo.as_ref().map(Spanned::span));
    only(cx, "related", "relate", sp(&r.related));
    only(cx, "target", "relate", r.target.as_ref().map(Spanned::span));
    only(cx, "potential", "convert", r.potential.as_ref().map(Spanned::span));
    only(cx, "assign_to", "convert", r.assign_to.as_ref().map(Spanned::span));
    only(cx, "notify", "convert", r.notify.as_ref().map(Spanned::span));
    if kind != "relate"
        && let Some(map) = &r.map
    {
        cx.error(
            Some(map.span()),
            format!("[steps.map] does not apply to {kind} steps"),
            (kind == "convert")
                .then(|| "the potential's fields go in `potential = { ... }`".to_owned()),
        );
    }
    let (source, source_options) = source_options(cx, &name, name_span.clone(), kind, m, r);
    let what = format!("{kind} step {name:?}");
    let record = required(
        cx,
        &r.record,
        "record",
        &what,
        m.span(),
        "add record = { lookup = \"step\", column = \"key\" } or { column = \"crm_id\" }",
    )
    .and_then(|v| record_ref(cx, "record", v, imports));
    let action = match kind {
        "delete" => Some(ActionKind::Delete),
        "attach" => {
            let photo = r.photo.as_ref().is_some_and(|p| *p.get_ref());
            if photo
                && let Some(md) = &module
                && !PHOTO_MODULES.contains(&md.as_str())
            {
                cx.error(
                    Some(m.span()),
                    format!("{md} records have no photo"),
                    Some(format!("photos go on {}", PHOTO_MODULES.join(" and "))),
                );
            }
            required(
                cx,
                &r.file,
                "file",
                &what,
                m.span(),
                "add file = \"column with the file's path\"",
            )
            .map(|f| ActionKind::Attach { file: f.get_ref().clone(), photo })
        }
        "relate" => {
            let related = required(
                cx,
                &r.related,
                "related",
                &what,
                m.span(),
                "add related = \"Leads\" (the module of the records to relate)",
            )
            .and_then(|rel| match rel.get_ref().parse::<Module>() {
                Ok(md) => Some(md.api_name().into_owned()),
                Err(_) => {
                    let hint = super::unknown_module_hint(rel.get_ref());
                    cx.error(
                        Some(rel.span()),
                        format!("unknown module {:?}", rel.get_ref()),
                        Some(hint),
                    );
                    None
                }
            });
            let target = required(
                cx,
                &r.target,
                "target",
                &what,
                m.span(),
                "add target = { lookup = \"step\", column = \"key\" } or { column = \"crm_id\" }",
            )
            .and_then(|v| record_ref(cx, "target", v, imports));
            let mut fields = Vec::new();
            if let Some(map) = &r.map {
                for (k, v) in &map.get_ref().entries {
                    match v.get_ref().as_str() {
                        Some(col) => fields.push((k.get_ref().clone(), col.to_owned())),
                        None => cx.error(
                            Some(v.span()),
                            format!(
                                "relation field `{}` maps a column: \"Field\" = \"column\"",
                                k.get_ref()
                            ),
                            None,
                        ),
                    }
                }
            }
            Some(ActionKind::Relate { related: related?, target: target?, fields })
        }
        "convert" => {
            if let Some(md) = &module
                && md != "Leads"
            {
                cx.error(
                    Some(m.span()),
                    format!("only leads are converted, not {md}"),
                    Some("convert = \"Leads\"".to_owned()),
                );
            }
            let mut potential = MapSpec::default();
            if let Some(p) = &r.potential {
                let (spec, errors) = map_spec(p.get_ref());
                for (msg, hint, at) in errors {
                    cx.error(Some(at), msg, hint);
                }
                potential = spec;
                if potential.entries.iter().any(|e| e.spec.lookup.is_some() || e.spec.owner) {
                    cx.error(
                        Some(p.span()),
                        "the potential's fields map columns (the owner is `assign_to`)",
                        None,
                    );
                }
            }
            let assign_to = r.assign_to.as_ref().and_then(|v| assign_to(cx, v));
            Some(ActionKind::Convert {
                potential,
                assign_to,
                notify: r.notify.as_ref().is_some_and(|n| *n.get_ref()),
            })
        }
        _ => None,
    };
    let (rejects, success) = super::report_paths(cx, &name, r);
    cx.file((&name, name_span.clone()), Role::Rejects, &rejects, sp(&r.rejects));
    cx.file((&name, name_span), Role::Success, &success, sp(&r.success));
    let spans = ImportSpans {
        step: span,
        module: Some(m.span()),
        source: sp(&r.source),
        key: sp(&r.key),
        map: r.map.as_ref().map(Spanned::span),
    };
    Some(ActionStep {
        name,
        module: module?,
        kind: action?,
        source: source?,
        source_options,
        record: record?,
        key: r.key.as_ref().map(|k| k.get_ref().clone()),
        rejects,
        success,
        spans,
    })
}
