//! An export step's variants: `on_schema_change`, and `criteria` or `view` (only those
//! records).

use toml::Spanned;
use zcrm_client::RecordFilter;
use zcrm_protocol::params::Criteria;

use super::Ctx;
use crate::files::Role;
use crate::model::{Api, ExportMethod, OnSchemaChange};
use crate::raw::RawStep;

/// `on_schema_change = "evolve" | "fail"` (absent: evolve).
pub(super) fn on_schema_change(cx: &mut Ctx<'_>, r: &RawStep) -> OnSchemaChange {
    let Some(v) = &r.on_schema_change else { return OnSchemaChange::default() };
    match v.get_ref().trim().to_ascii_lowercase().as_str() {
        "evolve" => OnSchemaChange::Evolve,
        "fail" => OnSchemaChange::Fail,
        other => {
            cx.error(
                Some(v.span()),
                format!("on_schema_change {other:?} is not a choice"),
                Some("use \"evolve\" (new parts carry the new columns) or \"fail\" (stop and name the fields)".to_owned()),
            );
            OnSchemaChange::default()
        }
    }
}

/// `criteria` or `view` (not both, and not with Bulk Read).
pub(super) fn filter(
    cx: &mut Ctx<'_>,
    r: &RawStep,
    method: Option<ExportMethod>,
) -> Option<RecordFilter> {
    let filter = match (&r.criteria, &r.view) {
        (Some(c), Some(v)) => {
            cx.error(
                Some(v.span()),
                "an export step takes `criteria` or `view`, not both",
                Some(format!("put the view's conditions into criteria = {:?}", c.get_ref())),
            );
            return None;
        }
        (Some(c), None) => match Criteria::parse(c.get_ref()) {
            Ok(parsed) => Some((RecordFilter::Criteria(parsed), c.span())),
            Err(e) => {
                cx.error(
                    Some(c.span()),
                    format!("criteria {:?}: {e}", c.get_ref()),
                    Some("write (Field Label:value), value* for \"starts with\", joined with AND or OR: \"((Lead Source:Web)AND(Lead Status:New))\"".to_owned()),
                );
                return None;
            }
        },
        (None, Some(v)) if v.get_ref().trim().is_empty() => {
            cx.error(
                Some(v.span()),
                "view is empty",
                Some("name a custom view: view = \"All Open Leads\"".to_owned()),
            );
            return None;
        }
        (None, Some(v)) => Some((RecordFilter::View(v.get_ref().trim().to_owned()), v.span())),
        (None, None) => None,
    };
    let (filter, span) = filter?;
    if method == Some(ExportMethod::Bulk) {
        let at = r.method.as_ref().map_or(span, Spanned::span);
        cx.error(
            Some(at),
            "method = \"bulk\" cannot read a criteria or a view: they are read page by page",
            Some("remove `method`".to_owned()),
        );
    }
    Some(filter)
}

/// `attachments = "DIR"`: a folder (resolved against the pipeline file's folder) that only the
/// v8 dialect can fill.
pub(super) fn attachments(
    cx: &mut Ctx<'_>,
    r: &RawStep,
    step: (&str, Option<std::ops::Range<usize>>),
) -> Option<std::path::PathBuf> {
    let a = r.attachments.as_ref()?;
    if a.get_ref().trim().is_empty() {
        cx.error(
            Some(a.span()),
            "attachments is empty",
            Some("name a folder: attachments = \"out/attachments\"".to_owned()),
        );
        return None;
    }
    if cx.api != Api::V8 {
        cx.error(
            Some(a.span()),
            "attachments needs api = \"v8\": the XML API has no call that lists a record's attachments, so they cannot be exported",
            Some("remove `attachments`, or set api = \"v8\" in [connection]".to_owned()),
        );
        return None;
    }
    let dir = cx.path(a.get_ref().trim());
    cx.file(step, Role::AttachmentsFolder, &dir, Some(a.span()));
    Some(dir)
}
