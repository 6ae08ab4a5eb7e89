//! `DELETE /{module}?ids=` and `DELETE /{module}/{id}`, and `GET /{module}/deleted` (CD-14).

use axum::http::StatusCode;
use rusqlite::Transaction;
use serde_json::{Value, json};
use zcrm_protocol::rest_limits::{MAX_PER_PAGE, MAX_WRITE_RECORDS};

use super::errors::{Answer, RestError, record_error};
use super::json::epoch_out;
use super::records::{if_modified_since, number_param};
use super::router::Cx;
use crate::api::validate::display_name;
use crate::schema::ModuleDef;
use crate::store::records;

/// Days a deleted record stays in the recycle bin, then listed as `permanent` for
/// [`PERMANENT_DAYS`] more.
pub const RECYCLE_DAYS: i64 = 60;
/// Days a permanently deleted record stays listed.
pub const PERMANENT_DAYS: i64 = 120;

/// `DELETE /{module}?ids=a,b` or `DELETE /{module}/{id}`.
pub fn delete(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    path_id: Option<&str>,
) -> Result<Answer, RestError> {
    let ids = target_ids(cx, path_id)?;
    let module = def.module.api_name();
    let mut results = Vec::with_capacity(ids.len());
    for text in ids {
        let done = match text.parse::<u64>() {
            Ok(id) => records::set_state(tx, &module, id, records::DELETED, cx.now)?,
            Err(_) => false,
        };
        results.push(if done {
            json!({"code": "SUCCESS", "details": {"id": text}, "message": "record deleted", "status": "success"})
        } else {
            record_error("INVALID_DATA", "record not deleted", json!({"id": text}))
        });
    }
    let ok = results.iter().filter(|r| r["status"] == "success").count();
    let status = if ok == results.len() {
        StatusCode::OK
    } else if ok == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok(Answer::with(status, json!({ "data": results })))
}

/// `GET /{module}/deleted?type=all|recycle|permanent&page&per_page`, newest deletion first.
pub fn deleted(cx: &Cx<'_>, tx: &Transaction<'_>, def: &ModuleDef) -> Result<Answer, RestError> {
    let day = 86_400;
    let recycle_from = cx.now - RECYCLE_DAYS * day;
    let listed_from = cx.now - (RECYCLE_DAYS + PERMANENT_DAYS) * day;
    let (after, until) = match cx.param("type") {
        None | Some("all") => (listed_from, cx.now),
        Some("recycle") => (recycle_from, cx.now),
        Some("permanent") => (listed_from, recycle_from),
        Some(_) => {
            return Err(RestError::bad(
                "PATTERN_NOT_MATCHED",
                "Please check whether the input values are correct",
                json!({"param_name": "type"}),
            ));
        }
    };
    let per_page = number_param(cx, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
    let page = number_param(cx, "page", 1, 1, u32::MAX)?;
    let since = if_modified_since(cx)?;
    let offset = (page - 1).saturating_mul(per_page);
    let module = def.module.api_name();
    let mut rows = records::deleted_list(tx, &module, after, until, since, offset, per_page + 1)?;
    let more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);
    if rows.is_empty() {
        return Ok(Answer::empty(StatusCode::NO_CONTENT));
    }
    let admin = cx.st.schema.admin();
    let data: Vec<Value> = rows
        .iter()
        .map(|(rec, at)| {
            let creator = rec
                .get("SMCREATORID")
                .and_then(|v| v.parse::<u64>().ok())
                .and_then(|id| cx.st.schema.user(id))
                .unwrap_or(admin);
            json!({
                "deleted_by": {"name": admin.name, "id": admin.id.to_string()},
                "id": rec.id.to_string(),
                "display_name": display_name(Some(def), rec),
                "type": if *at > recycle_from { "recycle" } else { "permanent" },
                "created_by": {"name": creator.name, "id": creator.id.to_string()},
                "deleted_time": epoch_out(cx.st, *at),
            })
        })
        .collect();
    let count = data.len();
    Ok(Answer::ok(json!({
        "data": data,
        "info": {"per_page": per_page, "count": count, "page": page, "more_records": more},
    })))
}

/// The ids a delete names: the path's one, else `?ids=a,b,c` (at least one, at most
/// [`MAX_WRITE_RECORDS`]).
pub(super) fn target_ids<'a>(
    cx: &'a Cx<'_>,
    path_id: Option<&'a str>,
) -> Result<Vec<&'a str>, RestError> {
    let ids: Vec<&str> = match path_id {
        Some(id) => vec![id],
        None => cx
            .param("ids")
            .ok_or_else(|| RestError::missing_param("ids"))?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
    };
    if ids.is_empty() {
        return Err(RestError::missing_param("ids"));
    }
    if ids.len() > MAX_WRITE_RECORDS as usize {
        return Err(RestError::bad(
            "LIMIT_EXCEEDED",
            "the number of records exceeds the limit",
            json!({"limit": MAX_WRITE_RECORDS}),
        ));
    }
    Ok(ids)
}
