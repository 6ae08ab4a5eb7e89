//! `POST /crm/bulk/{v}/read`: the query checked into a plan (stored as the job's request), its
//! criteria (compiled again by the runner to match records), and `GET /crm/bulk/{v}/read/{id}`.
//!
//! - `query.module` (`{"api_name"}` or a string) is mandatory (`MANDATORY_NOT_FOUND`), an
//!   unknown one is `MODULE_NOT_SUPPORTED`; `cvid` is `CVID_NOT_SUPPORTED`.
//! - `query.fields`: api names (empty or absent: every field); `id` is always the first
//!   column; an unknown or dotted name is `FIELD_NOT_SUPPORTED`.
//! - `query.criteria`: `{"group_operator":"and"|"or","group":[…]}` or one
//!   `{"field":{"api_name"},"comparator","value"}`, at most 25 conditions
//!   (`CRITERIA_LIMIT_EXCEEDED`); anything else is `INVALID_CRITERIA`. Comparators:
//!   `equal`, `not_equal`, `in`, `not_in` (any type); `greater_than`, `greater_equal`,
//!   `less_than`, `less_equal`, `between`, `not_between` (numbers, dates, date-times, `id`);
//!   `contains`, `not_contains`, `starts_with`, `ends_with` (text). Date-times are
//!   `yyyy-MM-ddTHH:mm:ss±HH:mm`, dates `yyyy-MM-dd`; `${EMPTY}` is the empty value.
//! - `query.page` (from 1) picks rows `(page-1)·P+1 … page·P` of the matching records in id
//!   order (P = 200,000); `query.page_token` (alone: the module, fields and criteria are the
//!   token's) continues after the last row of the job that answered it. An unknown token is
//!   `INVALID_DATA`, one older than 24 hours `EXPIRED_VALUE`.
//! - `file_type` must be `csv` (or absent); a body not declared `application/json` is 415.

use std::cmp::Ordering;

use axum::http::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use super::created_by;
use super::jobs::{self, Job, states};
use crate::rest::errors::{Answer, RestError};
use crate::rest::filter::{self, Kind, Val};
use crate::rest::json::{self as rjson, epoch_out};
use crate::schema::{FieldDef, ModuleDef};
use crate::state::State;
use crate::store::records::Rec;

/// Conditions a criteria may hold.
pub const MAX_CONDITIONS: usize = 25;
/// How long a page token lives, seconds.
pub const TOKEN_SECS: i64 = 86_400;

fn bad(code: &'static str, message: &str, details: Value) -> RestError {
    RestError::bad(code, message, details)
}

fn invalid_criteria(details: Value) -> RestError {
    bad("INVALID_CRITERIA", "the criteria given is invalid", details)
}

/// A column of the result: the record id or a field.
#[derive(Debug, Clone, Copy)]
pub enum Column<'d> {
    /// `id`.
    Id,
    /// A field.
    Field(&'d FieldDef),
}

/// The columns of `fields` (api names; empty: every field), `id` first.
pub fn columns<'d>(def: &'d ModuleDef, fields: &[String]) -> Result<Vec<Column<'d>>, RestError> {
    let mut out = vec![Column::Id];
    if fields.is_empty() {
        out.extend(rjson::fields(def).map(Column::Field));
        return Ok(out);
    }
    let mut seen: Vec<&str> = Vec::new();
    for name in fields {
        if name == "id" || seen.contains(&name.as_str()) {
            continue;
        }
        let f = rjson::fields(def).find(|f| f.api_name == *name).ok_or_else(|| {
            bad("FIELD_NOT_SUPPORTED", "the field is not supported", json!({"api_name": name}))
        })?;
        seen.push(name);
        out.push(Column::Field(f));
    }
    Ok(out)
}

/// The api name of a column.
pub fn column_name(c: &Column<'_>) -> String {
    match c {
        Column::Id => "id".to_owned(),
        Column::Field(f) => f.api_name.clone(),
    }
}

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `equal`.
    Equal,
    /// `not_equal`.
    NotEqual,
    /// `in`.
    In,
    /// `not_in`.
    NotIn,
    /// `greater_than`.
    Greater,
    /// `greater_equal`.
    GreaterEqual,
    /// `less_than`.
    Less,
    /// `less_equal`.
    LessEqual,
    /// `between` (inclusive).
    Between,
    /// `not_between`.
    NotBetween,
    /// `contains`.
    Contains,
    /// `not_contains`.
    NotContains,
    /// `starts_with`.
    StartsWith,
    /// `ends_with`.
    EndsWith,
}

fn cmp_of(s: &str) -> Option<Cmp> {
    Some(match s {
        "equal" => Cmp::Equal,
        "not_equal" => Cmp::NotEqual,
        "in" => Cmp::In,
        "not_in" => Cmp::NotIn,
        "greater_than" => Cmp::Greater,
        "greater_equal" => Cmp::GreaterEqual,
        "less_than" => Cmp::Less,
        "less_equal" => Cmp::LessEqual,
        "between" => Cmp::Between,
        "not_between" => Cmp::NotBetween,
        "contains" => Cmp::Contains,
        "not_contains" => Cmp::NotContains,
        "starts_with" => Cmp::StartsWith,
        "ends_with" => Cmp::EndsWith,
        _ => return None,
    })
}

/// A compiled criteria.
#[derive(Debug, Clone)]
pub enum Criteria<'d> {
    /// A group: all (`and`) or any (`or`) of its items.
    Group(bool, Vec<Criteria<'d>>),
    /// One condition: the field (`None`: `id`), comparator, operands (`None`: `${EMPTY}`).
    Cond(Option<&'d FieldDef>, Cmp, Vec<Option<Val>>),
}

fn count(v: &Value) -> usize {
    match v.get("group").and_then(Value::as_array) {
        Some(items) => items.iter().map(count).sum(),
        None => 1,
    }
}

fn operand_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn compile_one<'d>(def: &'d ModuleDef, v: &Value) -> Result<Criteria<'d>, RestError> {
    if let Some(items) = v.get("group") {
        let items = items
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| invalid_criteria(json!({"api_name": "group"})))?;
        let op = v.get("group_operator").and_then(Value::as_str).unwrap_or("and");
        let and = match op.to_ascii_lowercase().as_str() {
            "and" => true,
            "or" => false,
            _ => return Err(invalid_criteria(json!({"api_name": "group_operator"}))),
        };
        let list = items.iter().map(|i| compile_one(def, i)).collect::<Result<Vec<_>, _>>()?;
        return Ok(Criteria::Group(and, list));
    }
    let name = v
        .get("field")
        .and_then(|f| f.get("api_name").or(Some(f)))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_criteria(json!({"api_name": "field"})))?;
    let field = if name == "id" {
        None
    } else {
        Some(
            rjson::fields(def)
                .find(|f| f.api_name == name)
                .ok_or_else(|| invalid_criteria(json!({"api_name": name})))?,
        )
    };
    let kind = field.map_or(Kind::Id, filter::kind);
    let cmp = v.get("comparator").and_then(Value::as_str).and_then(cmp_of).ok_or_else(|| {
        invalid_criteria(json!({"api_name": name, "comparator": v.get("comparator")}))
    })?;
    let allowed = match cmp {
        Cmp::Equal | Cmp::NotEqual | Cmp::In | Cmp::NotIn => true,
        Cmp::Greater
        | Cmp::GreaterEqual
        | Cmp::Less
        | Cmp::LessEqual
        | Cmp::Between
        | Cmp::NotBetween => filter::ordered(kind),
        Cmp::Contains | Cmp::NotContains | Cmp::StartsWith | Cmp::EndsWith => kind == Kind::Text,
    };
    if !allowed {
        return Err(invalid_criteria(json!({"api_name": name, "comparator": v["comparator"]})));
    }
    let raw = v.get("value").ok_or_else(|| invalid_criteria(json!({"api_name": name})))?;
    let list: Vec<&Value> = match (cmp, raw) {
        (Cmp::In | Cmp::NotIn, Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        (Cmp::Between | Cmp::NotBetween, Value::Array(a)) if a.len() == 2 => a.iter().collect(),
        (Cmp::In | Cmp::NotIn | Cmp::Between | Cmp::NotBetween, _) => {
            return Err(invalid_criteria(json!({"api_name": name})));
        }
        (_, Value::Array(a)) if a.len() == 1 => vec![&a[0]],
        (_, other) => vec![other],
    };
    let mut vals = Vec::with_capacity(list.len());
    for item in list {
        let text = operand_text(item).ok_or_else(|| invalid_criteria(json!({"api_name": name})))?;
        if text == "${EMPTY}" {
            vals.push(None);
            continue;
        }
        let val = filter::operand(kind, &text)
            .ok_or_else(|| invalid_criteria(json!({"api_name": name, "value": text})))?;
        vals.push(Some(val));
    }
    Ok(Criteria::Cond(field, cmp, vals))
}

/// Compiles a criteria for `def`.
pub fn compile<'d>(def: &'d ModuleDef, v: &Value) -> Result<Criteria<'d>, RestError> {
    if count(v) > MAX_CONDITIONS {
        return Err(bad(
            "CRITERIA_LIMIT_EXCEEDED",
            "the criteria has more than 25 conditions",
            json!({"limit": MAX_CONDITIONS}),
        ));
    }
    compile_one(def, v)
}

fn lower(v: &Val) -> Option<String> {
    match v {
        Val::Text(t) => Some(t.to_lowercase()),
        _ => None,
    }
}

impl Criteria<'_> {
    /// Whether `rec` matches.
    pub fn matches(&self, st: &State, rec: &Rec) -> bool {
        match self {
            Self::Group(true, items) => items.iter().all(|c| c.matches(st, rec)),
            Self::Group(false, items) => items.iter().any(|c| c.matches(st, rec)),
            Self::Cond(field, cmp, vals) => {
                let values: Vec<Val> = match field {
                    None => vec![Val::Num(rust_decimal::Decimal::from(rec.id))],
                    Some(f) if filter::is_multi(f) => filter::stored(f, rec)
                        .map(|t| filter::items(t).map(|s| Val::Text(s.to_owned())).collect())
                        .unwrap_or_default(),
                    Some(f) => filter::record_val(st, f, rec).into_iter().collect(),
                };
                cond(*cmp, &values, vals)
            }
        }
    }
}

fn eq(values: &[Val], operand: &Option<Val>) -> bool {
    match operand {
        None => values.is_empty(),
        Some(o) => values.iter().any(|v| v.same(o)),
    }
}

fn order(values: &[Val], operand: &Option<Val>, ok: fn(Ordering) -> bool) -> bool {
    match (values.first(), operand) {
        (Some(v), Some(o)) => v.cmp_to(o).is_some_and(ok),
        _ => false,
    }
}

fn text_op(values: &[Val], operand: &Option<Val>, f: fn(&str, &str) -> bool) -> bool {
    let Some(o) = operand.as_ref().and_then(lower) else { return values.is_empty() };
    values.iter().filter_map(lower).any(|v| f(&v, &o))
}

fn cond(cmp: Cmp, values: &[Val], vals: &[Option<Val>]) -> bool {
    let first = vals.first().cloned().flatten();
    let first = &first;
    match cmp {
        Cmp::Equal => eq(values, first),
        Cmp::NotEqual => !eq(values, first),
        Cmp::In => vals.iter().any(|o| eq(values, o)),
        Cmp::NotIn => !vals.iter().any(|o| eq(values, o)),
        Cmp::Greater => order(values, first, Ordering::is_gt),
        Cmp::GreaterEqual => order(values, first, Ordering::is_ge),
        Cmp::Less => order(values, first, Ordering::is_lt),
        Cmp::LessEqual => order(values, first, Ordering::is_le),
        Cmp::Between | Cmp::NotBetween => {
            let hi = vals.get(1).cloned().flatten();
            let inside =
                order(values, first, Ordering::is_ge) && order(values, &hi, Ordering::is_le);
            if cmp == Cmp::Between { inside } else { !values.is_empty() && !inside }
        }
        Cmp::Contains => text_op(values, first, |v, o| v.contains(o)),
        Cmp::NotContains => !text_op(values, first, |v, o| v.contains(o)),
        Cmp::StartsWith => text_op(values, first, |v, o| v.starts_with(o)),
        Cmp::EndsWith => text_op(values, first, |v, o| v.ends_with(o)),
    }
}

/// The part of a plan a page token carries: module, fields, criteria.
fn base(module: &str, fields: &[String], criteria: &Value) -> Value {
    json!({"module": module, "fields": fields, "criteria": criteria})
}

/// `POST /crm/bulk/{v}/read`: 201 `ADDED_SUCCESSFULLY`, or the query's first problem.
pub fn create(
    st: &State,
    tx: &Connection,
    body: &Value,
    version: &str,
    now: i64,
) -> Result<Answer, RestError> {
    let query = body.get("query").filter(|q| q.is_object()).ok_or_else(|| {
        bad("MANDATORY_NOT_FOUND", "required field not found", json!({"api_name": "query"}))
    })?;
    match body.get("file_type").and_then(Value::as_str) {
        None | Some("csv") => {}
        Some(_) => {
            return Err(bad("INVALID_DATA", "invalid data", json!({"api_name": "file_type"})));
        }
    }
    if query.get("cvid").is_some_and(|c| !c.is_null()) {
        return Err(bad(
            "CVID_NOT_SUPPORTED",
            "custom views are not supported",
            json!({"api_name": "cvid"}),
        ));
    }
    let (plan_base, after_id, page) = match query.get("page_token").and_then(Value::as_str) {
        Some(tok) => {
            let (q, after, page, at) = jobs::token(tx, tok)?.ok_or_else(|| {
                bad("INVALID_DATA", "invalid data", json!({"api_name": "page_token"}))
            })?;
            if now - at > TOKEN_SECS {
                return Err(bad(
                    "EXPIRED_VALUE",
                    "the page token has expired",
                    json!({"api_name": "page_token"}),
                ));
            }
            (q, Some(after), page)
        }
        None => {
            let name = query
                .get("module")
                .and_then(|m| m.get("api_name").or(Some(m)))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    bad(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        json!({"api_name": "module"}),
                    )
                })?;
            let def = crate::rest::module(st, name).ok_or_else(|| {
                bad(
                    "MODULE_NOT_SUPPORTED",
                    "the module is not supported",
                    json!({"api_name": name}),
                )
            })?;
            let fields: Vec<String> = match query.get("fields") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|f| {
                        f.as_str().map(str::to_owned).ok_or_else(|| {
                            bad(
                                "FIELD_NOT_SUPPORTED",
                                "the field is not supported",
                                json!({"api_name": f}),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(bad("INVALID_DATA", "invalid data", json!({"api_name": "fields"})));
                }
            };
            columns(def, &fields)?;
            let criteria = query.get("criteria").cloned().unwrap_or(Value::Null);
            if !criteria.is_null() {
                compile(def, &criteria)?;
            }
            let page = match query.get("page") {
                None | Some(Value::Null) => 1,
                Some(p) => p
                    .as_u64()
                    .or_else(|| p.as_str().and_then(|s| s.parse().ok()))
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| {
                        bad("INVALID_DATA", "invalid data", json!({"api_name": "page"}))
                    })?,
            };
            (base(&def.api_name, &fields, &criteria), None, page)
        }
    };
    let callback = match body.get("callback") {
        None | Some(Value::Null) => Value::Null,
        Some(cb) => {
            let url = cb.get("url").and_then(Value::as_str).unwrap_or_default();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad("INVALID_CALLBACK_URL", "the callback url is invalid", json!({})));
            }
            let method = cb.get("method").and_then(Value::as_str).unwrap_or("post");
            if !method.eq_ignore_ascii_case("post") {
                return Err(bad(
                    "INVALID_CALLBACK_METHOD",
                    "the callback method is invalid",
                    json!({}),
                ));
            }
            json!({"url": url, "method": "post"})
        }
    };
    let mut plan = plan_base;
    plan["after_id"] = json!(after_id);
    plan["page"] = json!(page);
    plan["version"] = json!(version);
    plan["callback"] = callback;
    plan["query"] = query.clone();
    let id = jobs::next_id(tx)?;
    let fail = st.faults.draw_bulk_fail();
    jobs::add_job(tx, id, jobs::Kind::Read, &plan, now, fail)?;
    Ok(Answer::with(
        StatusCode::CREATED,
        json!({"data": [{
            "status": "success",
            "code": "ADDED_SUCCESSFULLY",
            "message": "Added successfully.",
            "details": {
                "id": id.to_string(),
                "operation": "read",
                "state": states::ADDED,
                "created_by": created_by(st),
                "created_time": epoch_out(st, now),
            },
        }], "info": {}}),
    ))
}

/// The base of a plan (for the token of the next page).
pub fn plan_base(plan: &Value) -> Value {
    json!({"module": plan["module"], "fields": plan["fields"], "criteria": plan["criteria"]})
}

/// One job of `GET /crm/bulk/{v}/read/{id}` (inside `data`).
pub fn status_json(st: &State, job: &Job, version: &str) -> Value {
    let plan = &job.request;
    let mut out = json!({
        "id": job.id.to_string(),
        "operation": "read",
        "state": job.state,
        "query": plan["query"],
        "created_by": created_by(st),
        "created_time": epoch_out(st, job.created_at),
        "file_type": "csv",
    });
    if !plan["callback"].is_null() {
        out["callback"] = plan["callback"].clone();
    }
    if job.state == states::COMPLETED {
        let r = job.result.clone().unwrap_or(Value::Null);
        out["result"] = json!({
            "page": r["page"],
            "per_page": st.cfg.bulk_read_page,
            "count": r["count"],
            "download_url": format!("/crm/bulk/{version}/read/{}/result", job.id),
            "more_records": r["more_records"],
            "next_page_token": r["next_page_token"],
        });
    } else if job.state == states::FAILURE {
        let e = job
            .error
            .clone()
            .unwrap_or_else(|| json!({"code": "INTERNAL_ERROR", "message": "the job failed"}));
        out["result"] = json!({"error_message": {
            "status": "error",
            "code": e["code"],
            "message": e["message"],
            "details": e.get("details").cloned().unwrap_or_else(|| json!({})),
        }});
    }
    out
}
