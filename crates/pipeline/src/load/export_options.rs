//! An export step's variants: `on_schema_change`, and `criteria` or `view` (only those
//! records).

use toml::Spanned;
use zcrm_client::RecordFilter;
use zcrm_protocol::params::Criteria;

use super::Ctx;
use crate::model::{ExportMethod, OnSchemaChange};
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
