//! `POST /{module}` insert, `PUT /{module}[/{id}]` update, `POST /{module}/upsert` (CD-5 ..
//! CD-13, CD-26): the whole call is checked first (CD-10), then each record in order, its
//! problems as one per-record error (mandatory fields, then values, then unique fields), and
//! every accepted record is written in the call's one transaction.

use std::cell::Cell;
use std::collections::HashMap;

use axum::http::StatusCode;
use rusqlite::Transaction;
use serde_json::{Map, Value, json};
use zcrm_protocol::Method;
use zcrm_protocol::rest_limits::MAX_WRITE_RECORDS;

use super::errors::{self, Answer, RestError, record_error};
use super::json::{self, Refusal, data_type, epoch_out, ignored_on_input, is_blank};
use super::router::Cx;
use crate::api::{Call, validate, write as xml_write};
use crate::schema::{FieldDef, ModuleDef};
use crate::store::records::{self, Rec};

/// `trigger` values Zoho knows (§3.4).
const TRIGGERS: [&str; 5] = ["workflow", "approval", "blueprint", "pathfinder", "orchestration"];

/// What a write call does with each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Insert,
    Update,
    Upsert,
}

/// The `data` items of a body (CD-10's whole-call errors).
pub(super) fn body_items<'a>(cx: &'a Cx<'_>, limit: u32) -> Result<&'a Vec<Value>, RestError> {
    if cx.body_unreadable {
        return Err(RestError::bad("INVALID_DATA", "body is not a valid JSON", json!({})));
    }
    let data = cx
        .body
        .and_then(|b| b.get("data"))
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            RestError::bad(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({"api_name": "data"}),
            )
        })?;
    if data.len() > limit as usize {
        return Err(RestError::bad(
            "LIMIT_EXCEEDED",
            "the number of records exceeds the limit",
            json!({"limit": limit}),
        ));
    }
    Ok(data)
}

/// The records of a write body (CD-10).
fn body_records<'a>(cx: &'a Cx<'_>) -> Result<&'a Vec<Value>, RestError> {
    let data = body_items(cx, MAX_WRITE_RECORDS)?;
    if let Some(trigger) = cx.body.and_then(|b| b.get("trigger")) {
        let ok = trigger
            .as_array()
            .is_some_and(|a| a.iter().all(|t| t.as_str().is_some_and(|t| TRIGGERS.contains(&t))));
        if !ok {
            return Err(RestError::bad(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": "trigger", "json_path": "$.trigger"}),
            ));
        }
    }
    Ok(data)
}

fn user_ref(cx: &Cx<'_>, id: u64) -> Value {
    let name = cx.st.schema.user(id).map(|u| u.name.clone());
    json!({"name": name, "id": id.to_string()})
}

fn owner_of(rec: &Rec, label: &str) -> Option<u64> {
    rec.get(label).and_then(|v| v.parse().ok())
}

/// The SUCCESS item of a written record.
fn success(cx: &Cx<'_>, rec: &Rec, message: &str) -> Value {
    let by = |col: &str| user_ref(cx, owner_of(rec, col).unwrap_or(rec.owner));
    json!({
        "code": "SUCCESS",
        "details": {
            "Modified_Time": epoch_out(cx.st, rec.modified_at),
            "Modified_By": by("MODIFIEDBY"),
            "Created_Time": epoch_out(cx.st, rec.created_at),
            "id": rec.id.to_string(),
            "Created_By": by("SMCREATORID"),
            "$approval_state": "approved",
        },
        "message": message,
        "status": "success",
    })
}

/// A record's validated changes, or its one error; `updating` names the record an update
/// writes (`None`: an insert).
fn changes(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    call: &Call<'_>,
    def: &ModuleDef,
    i: usize,
    obj: &Map<String, Value>,
    updating: Option<u64>,
) -> Result<Result<validate::Changes, Value>, RestError> {
    let inserting = updating.is_none();
    let path = |f: &str| format!("$.data[{i}].{f}");
    for f in json::fields(def).filter(|f| f.required && !ignored_on_input(f)) {
        let v = obj.get(&f.api_name);
        let missing = if inserting { is_blank(v) } else { v.is_some() && is_blank(v) };
        if missing {
            return Ok(Err(errors::mandatory(&f.api_name, &path(&f.api_name))));
        }
    }
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(obj.len() + 2);
    let mut uniques: Vec<(&FieldDef, String)> = Vec::new();
    for (k, v) in obj {
        if k.starts_with('$') || k == "id" {
            continue;
        }
        let Some(f) = json::fields(def).find(|f| f.api_name == *k) else { continue };
        if ignored_on_input(f) {
            continue;
        }
        match json::input(cx.st, tx, f, v) {
            Ok(p) => {
                if f.unique
                    && let Some((_, text)) = p.first().filter(|(_, t)| !t.trim().is_empty())
                {
                    uniques.push((f, text.clone()));
                }
                pairs.extend(p);
            }
            Err(Refusal::Type) => return Ok(Err(errors::invalid_type(k, &path(k), data_type(f)))),
            Err(Refusal::TooLong(max)) => return Ok(Err(errors::too_long(k, &path(k), max))),
            Err(Refusal::Missing(id)) => {
                return Ok(Err(record_error(
                    "INVALID_DATA",
                    "invalid data",
                    json!({"api_name": k, "json_path": path(k), "expected_data_type": data_type(f), "id": id}),
                )));
            }
        }
    }
    let module = def.module.api_name();
    for (f, text) in uniques {
        if let Some(dup) = records::find_by_value(tx, &module, &f.label, &text, updating)? {
            return Ok(Err(duplicate(cx, def, f, &path(&f.api_name), &dup)));
        }
    }
    Ok(validate::row(call, tx, def, &pairs)
        .map_err(|e| record_error("INVALID_DATA", "invalid data", json!({"message": e.message}))))
}

fn duplicate(cx: &Cx<'_>, def: &ModuleDef, f: &FieldDef, path: &str, dup: &Rec) -> Value {
    let owner = cx.st.schema.user(dup.owner);
    record_error(
        "DUPLICATE_DATA",
        "duplicate data",
        json!({
            "api_name": f.api_name,
            "json_path": path,
            "duplicate_record": {
                "id": dup.id.to_string(),
                "Owner": {
                    "name": owner.map(|u| u.name.clone()),
                    "id": dup.owner.to_string(),
                    "zuid": owner.map(|u| (u.id % 100_000_000).to_string()),
                },
                "module": {"api_name": def.api_name, "id": null},
            },
            "more_records": false,
        }),
    )
}

/// The call the XML face's validation and record writing expect.
pub(super) fn xml_call<'a>(
    cx: &'a Cx<'_>,
    def: &'a ModuleDef,
    params: &'a HashMap<String, String>,
) -> Call<'a> {
    Call {
        st: cx.st,
        method: Method::InsertRecords,
        module_name: "",
        module: Some(def),
        params,
        upload: None,
        uri: "",
        user: cx.st.schema.admin(),
        now: cx.now,
        xml_data: Cell::new(None),
    }
}

/// The answer of per-record results: `ok_status` when all succeeded, 207 for a mix, 400 when
/// every record failed (CD-9).
fn batch(results: Vec<Value>, ok_status: StatusCode) -> Answer {
    let ok = results.iter().filter(|r| r["status"] == "success").count();
    let status = if ok == results.len() {
        ok_status
    } else if ok == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::MULTI_STATUS
    };
    Answer::with(status, json!({ "data": results }))
}

fn insert_one(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    call: &Call<'_>,
    def: &ModuleDef,
    i: usize,
    obj: &Map<String, Value>,
) -> Result<Result<Rec, Value>, RestError> {
    let mut ch = match changes(cx, tx, call, def, i, obj, None)? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let items = match super::items::input(tx, def, i, obj) {
        Ok(items) => items,
        Err(e) => return Ok(Err(e)),
    };
    if items.is_some() {
        xml_write::items_replace_text(&mut ch);
    }
    match xml_write::create(call, tx, def, &ch, items) {
        Ok(Ok(rec)) => Ok(Ok(rec)),
        Ok(Err(e)) => {
            Ok(Err(record_error("INVALID_DATA", "invalid data", json!({"message": e.message}))))
        }
        Err(_) => Err(RestError::internal()),
    }
}

fn update_one(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    call: &Call<'_>,
    def: &ModuleDef,
    i: usize,
    obj: &Map<String, Value>,
    rec: Rec,
) -> Result<Result<Rec, Value>, RestError> {
    let mut ch = match changes(cx, tx, call, def, i, obj, Some(rec.id))? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let items = match super::items::input(tx, def, i, obj) {
        Ok(items) => items,
        Err(e) => return Ok(Err(e)),
    };
    if items.is_some() {
        xml_write::items_replace_text(&mut ch);
    }
    match xml_write::modify(call, tx, def, rec, &ch, items) {
        Ok(Ok(rec)) => Ok(Ok(rec)),
        Ok(Err(e)) => {
            Ok(Err(record_error("INVALID_DATA", "invalid data", json!({"message": e.message}))))
        }
        Err(_) => Err(RestError::internal()),
    }
}

fn not_object(i: usize) -> Value {
    record_error("INVALID_DATA", "invalid data", json!({"json_path": format!("$.data[{i}]")}))
}

/// `POST /{module}`.
pub fn insert(cx: &Cx<'_>, tx: &Transaction<'_>, def: &ModuleDef) -> Result<Answer, RestError> {
    write(cx, tx, def, Kind::Insert, None)
}

/// `PUT /{module}` (ids in the body) or `PUT /{module}/{id}` (one record).
pub fn update(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: Option<&str>,
) -> Result<Answer, RestError> {
    write(cx, tx, def, Kind::Update, id)
}

/// `POST /{module}/upsert`.
pub fn upsert(cx: &Cx<'_>, tx: &Transaction<'_>, def: &ModuleDef) -> Result<Answer, RestError> {
    write(cx, tx, def, Kind::Upsert, None)
}

/// The fields an upsert matches on, in order (CD-12).
fn check_fields<'d>(cx: &Cx<'_>, def: &'d ModuleDef) -> Result<Vec<&'d FieldDef>, RestError> {
    let system = def.duplicate_field().and_then(|l| def.field(l));
    let uniques = json::fields(def).filter(|f| f.unique);
    let Some(given) = cx.body.and_then(|b| b.get("duplicate_check_fields")) else {
        return Ok(system.into_iter().chain(uniques).collect());
    };
    let bad = || {
        RestError::bad(
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": "duplicate_check_fields", "json_path": "$.duplicate_check_fields"}),
        )
    };
    let names = given.as_array().ok_or_else(bad)?;
    let mut out = Vec::new();
    for n in names {
        let n = n.as_str().ok_or_else(bad)?;
        let f = json::fields(def).find(|f| f.api_name == n).ok_or_else(bad)?;
        let allowed = f.unique || system.is_some_and(|s| s.label == f.label);
        if !allowed {
            return Err(bad());
        }
        out.push(f);
    }
    Ok(out)
}

/// The oldest live record matching `obj` on the first check field that matches.
fn find_match<'d>(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &'d ModuleDef,
    checks: &[&'d FieldDef],
    obj: &Map<String, Value>,
) -> Result<Option<(Rec, &'d FieldDef)>, RestError> {
    let module = def.module.api_name();
    let system = def.duplicate_field();
    for f in checks {
        let Some(v) = obj.get(&f.api_name).filter(|v| !is_blank(Some(v))) else { continue };
        let Ok(pairs) = json::input(cx.st, tx, f, v) else { continue };
        let Some((_, text)) = pairs.first() else { continue };
        let found = if system == Some(f.label.as_str()) {
            records::find_dup(tx, &module, &text.trim().to_lowercase())?
        } else {
            records::find_by_value(tx, &module, &f.label, text, None)?
        };
        if let Some(rec) = found {
            return Ok(Some((rec, *f)));
        }
    }
    Ok(None)
}

fn id_of(v: Option<&Value>) -> Option<Result<u64, String>> {
    match v? {
        Value::String(s) => Some(s.trim().parse::<u64>().map_err(|_| s.clone())),
        Value::Number(n) => Some(n.as_u64().ok_or_else(|| n.to_string())),
        other => Some(Err(other.to_string())),
    }
}

fn bad_id(i: usize, id: &str) -> Value {
    record_error(
        "INVALID_DATA",
        "the id given seems to be invalid",
        json!({"api_name": "id", "json_path": format!("$.data[{i}].id"), "id": id}),
    )
}

fn write(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    kind: Kind,
    path_id: Option<&str>,
) -> Result<Answer, RestError> {
    let data = body_records(cx)?;
    let checks = if kind == Kind::Upsert { check_fields(cx, def)? } else { Vec::new() };
    let module = def.module.api_name();
    if kind == Kind::Update
        && let Some(since) = if_unmodified_since(cx)?
    {
        for (i, item) in data.iter().enumerate() {
            let id = if i == 0 && path_id.is_some() {
                path_id.and_then(|p| p.trim().parse::<u64>().ok())
            } else {
                id_of(item.get("id")).and_then(Result::ok)
            };
            if let Some(id) = id
                && let Some(rec) = records::get_live(tx, Some(&module), id)?
                && rec.modified_at > since
            {
                return Err(RestError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "ALREADY_MODIFIED",
                    "the record was modified after the given time",
                ));
            }
        }
    }
    let params = HashMap::new();
    let call = xml_call(cx, def, &params);
    let mut results = Vec::with_capacity(data.len());
    for (i, item) in data.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            results.push(not_object(i));
            continue;
        };
        let result = match kind {
            Kind::Insert => {
                insert_one(cx, tx, &call, def, i, obj)?.map(|rec| success(cx, &rec, "record added"))
            }
            Kind::Update => {
                let given = if i == 0 && path_id.is_some() {
                    path_id.map(|p| p.trim().parse::<u64>().map_err(|_| p.to_owned()))
                } else {
                    id_of(obj.get("id"))
                };
                match given {
                    None => Err(errors::mandatory("id", &format!("$.data[{i}].id"))),
                    Some(Err(text)) => Err(bad_id(i, &text)),
                    Some(Ok(id)) => match records::get_live(tx, Some(&module), id)? {
                        None => Err(bad_id(i, &id.to_string())),
                        Some(rec) => update_one(cx, tx, &call, def, i, obj, rec)?
                            .map(|rec| success(cx, &rec, "record updated")),
                    },
                }
            }
            Kind::Upsert => match find_match(cx, tx, def, &checks, obj)? {
                Some((rec, f)) => update_one(cx, tx, &call, def, i, obj, rec)?.map(|rec| {
                    let mut v = success(cx, &rec, "record updated");
                    v["duplicate_field"] = json!(f.api_name);
                    v["action"] = json!("update");
                    v
                }),
                None => insert_one(cx, tx, &call, def, i, obj)?.map(|rec| {
                    let mut v = success(cx, &rec, "record added");
                    v["duplicate_field"] = Value::Null;
                    v["action"] = json!("insert");
                    v
                }),
            },
        };
        results.push(result.unwrap_or_else(|e| e));
    }
    let ok_status = if kind == Kind::Insert { StatusCode::CREATED } else { StatusCode::OK };
    Ok(batch(results, ok_status))
}

/// `If-Unmodified-Since` as epoch seconds (the same form as `If-Modified-Since`).
fn if_unmodified_since(cx: &Cx<'_>) -> Result<Option<i64>, RestError> {
    let Some(v) = cx.headers.get("If-Unmodified-Since") else { return Ok(None) };
    let text = v.to_str().unwrap_or_default().trim();
    json::parse_iso(text, true).map(|ts| Some(ts.as_second())).ok_or_else(|| {
        RestError::bad(
            "INVALID_DATA",
            "invalid data",
            json!({"header_name": "If-Unmodified-Since"}),
        )
    })
}
