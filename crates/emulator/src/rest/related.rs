//! `GET|PUT /{module}/{id}/{related_list}` and `DELETE …/{related_list}[/{related_id}]`, over
//! the relations the XML face's updateRelatedRecords writes: a related list is named by the
//! related module's v8 name (`Leads`, `Contacts`, `Price_Books`, `Deals`); a relation made from
//! either side is seen from both; relation fields go in by v8 name (`Member_Status`) and are
//! stored under the XML face's label (`Member Status`).

use std::collections::HashSet;

use axum::http::StatusCode;
use rusqlite::Transaction;
use serde_json::{Map, Value, json};
use zcrm_protocol::rest_limits::{MAX_PAGE_RECORDS, MAX_PER_PAGE, MAX_WRITE_RECORDS};

use super::actions::parent;
use super::errors::{Answer, RestError, record_error};
use super::json::{self, epoch_out};
use super::paging::{Cursor, TOKEN_SECS, fnv};
use super::records::{number_param, requested};
use super::router::Cx;
use crate::schema::{LookupTarget, ModuleDef};
use crate::store::records::{self, LIVE};

/// 400 `INVALID_DATA` for a related list the org does not have (the third path segment).
pub fn invalid_list() -> RestError {
    RestError::bad(
        "INVALID_DATA",
        "the related list name given seems to be invalid",
        json!({"resource_path_index": 2}),
    )
}

/// The XML face's label of a relation field's v8 name: `_` becomes a space.
pub fn relation_label(api_name: &str) -> String {
    api_name.replace('_', " ")
}

/// Per-item results: 200 when all succeeded, 207 for a mix, 400 when all failed (CD-9).
pub fn batch(results: Vec<Value>) -> Answer {
    let ok = results.iter().filter(|r| r["status"] == "success").count();
    let status = if ok == results.len() {
        StatusCode::OK
    } else if ok == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::MULTI_STATUS
    };
    Answer::with(status, json!({ "data": results }))
}

fn bad_related(id: &Value, path: String) -> Value {
    record_error(
        "INVALID_DATA",
        "the related id given seems to be invalid",
        json!({"id": id, "json_path": path}),
    )
}

fn id_text(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// `GET /{module}/{id}/{related_list}`: the list module's records related to the record
/// (through either face, from either side) or pointing at it through a lookup, by id
/// ascending; `fields`, `page`, `per_page` and `page_token` as lists have them (CD-15, CD-16).
pub fn list(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
    list: &ModuleDef,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let (only, field_set) = requested(cx, list, cx.fields_optional)?;
    let per_page = number_param(cx, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
    let token = cx.param("page_token");
    if token.is_some() && cx.param("page").is_some() {
        return Err(RestError::bad(
            "AMBIGUITY_DURING_PROCESSING",
            "page and page_token cannot be given together",
            json!({"param_names": ["page", "page_token"]}),
        ));
    }
    let page = number_param(cx, "page", 1, 1, u32::MAX)?;
    let binding = fnv(format!(
        "related|{}|{}|{}|{}",
        def.api_name,
        rec.id,
        list.api_name,
        field_set.join(",")
    )
    .as_bytes());
    let (after, served, created) = match token {
        Some(t) => {
            let c = Cursor::decode(t)
                .filter(|c| c.binding == binding)
                .ok_or_else(|| RestError::invalid_param("page_token"))?;
            if cx.now - c.created > TOKEN_SECS {
                return Err(RestError::bad(
                    "EXPIRED_VALUE",
                    "the page_token has expired",
                    json!({"param_name": "page_token"}),
                ));
            }
            (Some(c.id), c.served, c.created)
        }
        None => {
            if u64::from(page) * u64::from(per_page) > u64::from(MAX_PAGE_RECORDS) {
                return Err(RestError::bad(
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "the page and per_page reach past the 2000th record; use page_token",
                    json!({"limit": MAX_PAGE_RECORDS}),
                ));
            }
            (None, (page - 1) * per_page, cx.now)
        }
    };
    let parent_module = def.module;
    let links: Vec<&str> = list
        .fields
        .iter()
        .filter(|f| {
            matches!(&f.lookup, Some((LookupTarget::Module(m), _)) if *m == parent_module)
                || matches!(&f.lookup, Some((LookupTarget::Any, _)))
        })
        .filter_map(|f| f.id_column())
        .collect();
    let related: HashSet<u64> =
        records::related_either_way(tx, &def.module.api_name(), rec.id, &list.module.api_name())?
            .into_iter()
            .collect();
    let id_text = rec.id.to_string();
    let mut skip = if after.is_some() { 0 } else { served };
    let mut rows = Vec::with_capacity(per_page as usize + 1);
    records::scan(tx, &list.module.api_name(), &[LIVE], false, &mut |r| {
        if after.is_some_and(|a| r.id <= a) {
            return true;
        }
        if !(related.contains(&r.id) || links.iter().any(|l| r.get(l) == Some(id_text.as_str()))) {
            return true;
        }
        if skip > 0 {
            skip -= 1;
            return true;
        }
        rows.push(r);
        rows.len() <= per_page as usize
    })?;
    let more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);
    if rows.is_empty() {
        return Ok(Answer::empty(StatusCode::NO_CONTENT));
    }
    let count = rows.len();
    let (next, expiry) = match rows.last().filter(|_| more) {
        Some(last) => {
            let c = Cursor {
                binding,
                key: 0,
                id: last.id,
                served: served + u32::try_from(count).unwrap_or(0),
                created,
            };
            (Value::String(c.encode()), Value::String(epoch_out(cx.st, created + TOKEN_SECS)))
        }
        None => (Value::Null, Value::Null),
    };
    let data: Vec<Value> =
        rows.iter().map(|r| json::record(cx.st, list, r, only.as_deref())).collect();
    Ok(Answer::ok(json!({
        "data": data,
        "info": {
            "per_page": per_page,
            "count": count,
            "page": served / per_page + 1,
            "more_records": more,
            "next_page_token": next,
            "previous_page_token": null,
            "page_token_expiry": expiry,
        },
    })))
}

/// The relation fields of an item, under the XML face's labels; `Err` names a value that is
/// not text, a number or a boolean.
fn relation_fields(obj: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (k, v) in obj {
        if k == "id" || k.starts_with('$') {
            continue;
        }
        let text = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(k.clone()),
        };
        out.push((relation_label(k), text));
    }
    Ok(out)
}

/// `PUT /{module}/{id}/{related_list}` `{"data":[{"id":"…","Member_Status":"…"}]}`: at most
/// 100 items, each related (or its relation fields updated) on its own: "relation updated", or
/// `INVALID_DATA` for an id that is not a live record of the list's module.
pub fn relate(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
    list: &ModuleDef,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let items = super::write::body_items(cx, MAX_WRITE_RECORDS)?;
    let module = def.module.api_name();
    let other_module = list.module.api_name();
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            results.push(record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"json_path": format!("$.data[{i}]")}),
            ));
            continue;
        };
        let given = obj.get("id").cloned().unwrap_or(Value::Null);
        let other = match id_text(&given) {
            Some(o) => records::get_live(tx, Some(&other_module), o)?,
            None => None,
        };
        let Some(other) = other else {
            results.push(bad_related(&given, format!("$.data[{i}].id")));
            continue;
        };
        let fields = match relation_fields(obj) {
            Ok(f) => f,
            Err(k) => {
                results.push(record_error(
                    "INVALID_DATA",
                    "invalid data",
                    json!({"api_name": k, "json_path": format!("$.data[{i}].{k}")}),
                ));
                continue;
            }
        };
        let data = records::encode(&fields);
        // A relation made from the other side is updated where it is.
        if reverse_only(tx, &module, rec.id, &other_module, other.id)? {
            records::relate(tx, &other_module, other.id, &module, rec.id, &data)?;
        } else {
            records::relate(tx, &module, rec.id, &other_module, other.id, &data)?;
        }
        results.push(json!({
            "code": "SUCCESS",
            "details": {"id": other.id.to_string()},
            "message": "relation updated",
            "status": "success",
        }));
    }
    Ok(batch(results))
}

/// Whether the relation between the two records exists only as other → this.
fn reverse_only(
    tx: &Transaction<'_>,
    module: &str,
    id: u64,
    other_module: &str,
    other: u64,
) -> Result<bool, RestError> {
    let forward = records::related_ids(tx, id, other_module)?.contains(&other);
    let backward = records::related_ids(tx, other, module)?.contains(&id);
    Ok(backward && !forward)
}

/// `DELETE /{module}/{id}/{related_list}/{related_id}` or `…/{related_list}?ids=a,b` (≤ 100):
/// per id "relation removed", or `INVALID_DATA` when the two are not related through a relation
/// (a lookup is a field: it is cleared by updating the record).
pub fn delink(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
    list: &ModuleDef,
    path_id: Option<&str>,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let ids = super::delete::target_ids(cx, path_id)?;
    let module = def.module.api_name();
    let other_module = list.module.api_name();
    let mut results = Vec::with_capacity(ids.len());
    for text in ids {
        let done = match text.parse::<u64>() {
            Ok(other) => records::unrelate(tx, &module, rec.id, &other_module, other)?,
            Err(_) => false,
        };
        results.push(if done {
            json!({"code": "SUCCESS", "details": {"id": text}, "message": "relation removed", "status": "success"})
        } else {
            record_error("INVALID_DATA", "the related id given seems to be invalid", json!({"id": text}))
        });
    }
    Ok(batch(results))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn relation_fields_go_in_by_v8_name_and_are_kept_under_the_xml_label() {
        let obj = json!({"id": "1", "Member_Status": "Sent", "$x": 1, "Count": 3, "Flag": true, "Gone": null});
        let fields = relation_fields(obj.as_object().unwrap()).unwrap();
        let want = [("Member Status", "Sent"), ("Count", "3"), ("Flag", "true"), ("Gone", "")];
        let mut got: Vec<(&str, &str)> =
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        got.sort();
        let mut want = want.to_vec();
        want.sort();
        assert_eq!(got, want);
        let nested = json!({"id": "1", "Member_Status": {"a": 1}});
        assert_eq!(relation_fields(nested.as_object().unwrap()), Err("Member_Status".to_owned()));
    }
}
