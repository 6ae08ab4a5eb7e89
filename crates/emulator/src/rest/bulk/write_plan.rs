//! `POST /crm/bulk/{v}/write`: the request checked against the module and the uploaded file
//! into a plan (stored as the job's request), and `GET /crm/bulk/{v}/write/{id}`: the job's
//! status object (top level, not wrapped in `data`).
//!
//! Checked at creation, in this order (each a 400 with the usual error body, nothing created):
//! `operation` (`MANDATORY_NOT_FOUND` / `INVALID_DATA`), `resource` (`MANDATORY_NOT_FOUND`),
//! the module (`MODULE_NOT_AVAILABLE`), `file_id` (`INVALID_FILE_ID`), the file's CSV
//! (`INVALID_FILE_FORMAT`: no `.csv` entry or no header row), `find_by` (mandatory for update
//! and upsert: `MANDATORY_NOT_FOUND`; it must be `id`, a unique field or the module's
//! duplicate-check field: `INVALID_DATA`), the mappings (more than 200: `HEADER_LIMIT_EXCEEDED`;
//! an unknown or read-only field: `INVALID_FIELD`; an index past the header:
//! `COLUMN_INDEX_NOT_FOUND`; neither index nor default: `MANDATORY_NOT_FOUND`), mandatory fields
//! and the `find_by` column mapped (`MANDATORY_FIELDS_NOT_MAPPED`), the callback
//! (`INVALID_CALLBACK_URL` / `INVALID_CALLBACK_METHOD`).

use std::io::Read;
use std::path::Path;

use axum::http::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use super::jobs::{self, Job, states};
use super::{BulkError, created_by};
use crate::rest::errors::{Answer, RestError};
use crate::rest::json::{self as rjson, epoch_out, ignored_on_input};
use crate::schema::{FieldDef, LookupTarget, ModuleDef};
use crate::state::State;

/// Columns a job may map.
pub const MAX_MAPPED: usize = 200;
/// Data rows a job's CSV may hold.
pub const MAX_ROWS: u64 = 25_000;

fn bad(code: &'static str, message: &str, details: Value) -> RestError {
    RestError::bad(code, message, details)
}

fn mandatory(name: &str) -> RestError {
    bad(
        "MANDATORY_NOT_FOUND",
        &format!("Required key {name} is not available"),
        json!({"api_name": name}),
    )
}

/// The v8 module of a lookup field's target, if it is a module.
pub fn lookup_target<'s>(st: &'s State, f: &FieldDef) -> Option<&'s ModuleDef> {
    match &f.lookup {
        Some((LookupTarget::Module(m), _)) => st.schema.module(&m.api_name()),
        _ => None,
    }
}

/// Whether records of `def` can be matched on `name`: `id`, a unique field or the module's
/// duplicate-check field.
pub fn matchable(def: &ModuleDef, name: &str) -> bool {
    if name == "id" {
        return true;
    }
    let system = def.duplicate_field();
    rjson::fields(def).any(|f| f.api_name == name && (f.unique || system == Some(f.label.as_str())))
}

/// The CSV entry of an uploaded ZIP: its index and name (the first entry ending `.csv`, any
/// case, else the first entry).
pub fn csv_entry(zip: &mut zip::ZipArchive<std::fs::File>) -> Option<(usize, String)> {
    let names: Vec<String> =
        zip.file_names_raw().map(|n| String::from_utf8_lossy(n).into_owned()).collect();
    let pick = names
        .iter()
        .position(|n| n.to_ascii_lowercase().ends_with(".csv"))
        .or(if names.is_empty() { None } else { Some(0) })?;
    Some((pick, names.get(pick)?.clone()))
}

/// The delimiter of a CSV by its first line: the most frequent of `,` `;` `:` `|` outside
/// quotes (`,` when none occurs).
pub fn delimiter(first: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for b in first.iter().take_while(|b| **b != b'\n') {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b':' if !quoted => counts[2] += 1,
            b'|' if !quoted => counts[3] += 1,
            _ => {}
        }
    }
    let best = (0..4).max_by_key(|i| (counts[*i], 4 - i)).unwrap_or(0);
    if counts[best] == 0 { b',' } else { [b',', b';', b':', b'|'][best] }
}

/// Opens the CSV of an uploaded file: `f` gets a reader positioned at the header row.
pub fn with_csv<R>(
    path: &Path,
    f: impl FnOnce(&mut csv::Reader<&mut dyn Read>, &str) -> Result<R, BulkError>,
) -> Result<R, BulkError> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path)?)?;
    let (index, name) = csv_entry(&mut zip).ok_or(zip::result::ZipError::FileNotFound)?;
    let mut head = Vec::with_capacity(4096);
    zip.by_index(index)?.take(64 * 1024).read_to_end(&mut head)?;
    let delim = delimiter(&head);
    let mut entry = zip.by_index(index)?;
    let input: &mut dyn Read = &mut entry;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    f(&mut reader, &name)
}

/// The header row of an uploaded file (a UTF-8 BOM dropped) and the CSV's name.
fn header(path: &Path) -> Result<(Vec<String>, String), BulkError> {
    with_csv(path, |r, name| {
        let mut rec = csv::ByteRecord::new();
        if !r.read_byte_record(&mut rec)? {
            return Err(BulkError::Zip(zip::result::ZipError::FileNotFound));
        }
        let cols = rec
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let t = String::from_utf8_lossy(c).trim().to_owned();
                if i == 0 { t.trim_start_matches('\u{feff}').to_owned() } else { t }
            })
            .collect();
        Ok((cols, name.to_owned()))
    })
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The checked mappings: `(api_name, index, format, find_by, default)` as JSON objects.
fn mappings(
    st: &State,
    def: &ModuleDef,
    given: Option<&Value>,
    header: &[String],
) -> Result<Vec<Value>, RestError> {
    let list: Vec<Value> = match given {
        None | Some(Value::Null) => header
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(i, h)| json!({"api_name": h, "index": i}))
            .collect(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(bad("INVALID_DATA", "invalid data", json!({"api_name": "field_mappings"})));
        }
    };
    if list.len() > MAX_MAPPED {
        return Err(bad(
            "HEADER_LIMIT_EXCEEDED",
            "more than 200 fields are mapped",
            json!({"limit": MAX_MAPPED}),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (n, m) in list.iter().enumerate() {
        let path = format!("$.resource[0].field_mappings[{n}]");
        let name = m.get("api_name").and_then(Value::as_str).ok_or_else(|| {
            bad(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({"api_name": "api_name", "json_path": path}),
            )
        })?;
        let field = rjson::fields(def).find(|f| f.api_name == name);
        let ok = name == "id" || field.is_some_and(|f| !ignored_on_input(f));
        if !ok {
            return Err(bad(
                "INVALID_FIELD",
                "the field given is invalid",
                json!({"api_name": name}),
            ));
        }
        let index = match m.get("index") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let i = v.as_u64().ok_or_else(|| {
                    bad(
                        "INVALID_DATA",
                        "invalid data",
                        json!({"api_name": "index", "json_path": path}),
                    )
                })?;
                if i >= header.len() as u64 {
                    return Err(bad(
                        "COLUMN_INDEX_NOT_FOUND",
                        "the column index given is not in the file",
                        json!({"api_name": name, "index": i}),
                    ));
                }
                Some(i)
            }
        };
        let default = m.get("default_value").and_then(|d| d.get("value")).and_then(text_of);
        if index.is_none() && default.is_none() {
            return Err(bad(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({"api_name": "index", "json_path": path}),
            ));
        }
        let lookup_find_by = m.get("find_by").and_then(Value::as_str);
        if let (Some(fb), Some(f)) = (lookup_find_by, field)
            && f.lookup.is_some()
            && fb != "id"
        {
            let known =
                lookup_target(st, f).is_some_and(|t| rjson::fields(t).any(|tf| tf.api_name == fb));
            if !known {
                return Err(bad(
                    "INVALID_FIELD",
                    "the field given is invalid",
                    json!({"api_name": name, "find_by": fb}),
                ));
            }
        }
        out.push(json!({
            "api_name": name,
            "index": index,
            "format": m.get("format").and_then(Value::as_str),
            "find_by": lookup_find_by.filter(|_| field.is_some_and(|f| f.lookup.is_some())),
            "default_value": default,
        }));
    }
    Ok(out)
}

/// `POST /crm/bulk/{v}/write`: 201 with the job's id, or the request's first problem.
pub fn create(
    st: &State,
    tx: &Connection,
    body: &Value,
    version: &str,
    now: i64,
) -> Result<Answer, RestError> {
    let op = body.get("operation").ok_or_else(|| mandatory("operation"))?;
    let op = op
        .as_str()
        .filter(|o| matches!(*o, "insert" | "update" | "upsert"))
        .ok_or_else(|| bad("INVALID_DATA", "invalid data", json!({"api_name": "operation"})))?;
    let res = body
        .get("resource")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| mandatory("resource"))?;
    let module_name = res
        .get("module")
        .and_then(|m| m.get("api_name").or(Some(m)))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let def = crate::rest::module(st, module_name).ok_or_else(|| {
        bad("MODULE_NOT_AVAILABLE", "the module is not available", json!({"api_name": module_name}))
    })?;
    let file_text = res.get("file_id").and_then(text_of).unwrap_or_default();
    let file_id = file_text.trim().parse::<u64>().ok();
    let file_id = match file_id {
        Some(id) if jobs::file_exists(tx, id)? => id,
        _ => {
            return Err(bad(
                "INVALID_FILE_ID",
                "the file id given is invalid",
                json!({"file_id": file_text}),
            ));
        }
    };
    let (header, file_name) = header(&jobs::upload_path(st, file_id)).map_err(|_| {
        bad(
            "INVALID_FILE_FORMAT",
            "the file holds no CSV with a header row",
            json!({"file_id": file_text}),
        )
    })?;
    let find_by = res
        .get("find_by")
        .or_else(|| body.get("find_by"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if op != "insert" && find_by.is_none() {
        return Err(mandatory("find_by"));
    }
    if let Some(fb) = find_by
        && !matchable(def, fb)
    {
        return Err(bad(
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": "find_by", "value": fb}),
        ));
    }
    let maps = mappings(st, def, res.get("field_mappings"), &header)?;
    let mapped = |name: &str, with_index: bool| {
        maps.iter().any(|m| m["api_name"] == name && (!with_index || m["index"].is_u64()))
    };
    let mut missing: Vec<String> = Vec::new();
    if op != "update" {
        for f in rjson::fields(def).filter(|f| f.required && !ignored_on_input(f)) {
            if !mapped(&f.api_name, false) {
                missing.push(f.api_name.clone());
            }
        }
    }
    if let Some(fb) = find_by
        && !mapped(fb, true)
    {
        missing.push(fb.to_owned());
    }
    if !missing.is_empty() {
        return Err(bad(
            "MANDATORY_FIELDS_NOT_MAPPED",
            "mandatory fields are not mapped",
            json!({"api_names": missing}),
        ));
    }
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
    let ignore_empty = body.get("ignore_empty").and_then(Value::as_bool).unwrap_or(false);
    let plan = json!({
        "operation": op,
        "module": def.api_name,
        "file_id": file_id.to_string(),
        "file_name": file_name,
        "find_by": find_by,
        "ignore_empty": ignore_empty,
        "field_mappings": maps,
        "callback": callback,
        "version": version,
    });
    let id = jobs::next_id(tx)?;
    let fail = st.faults.draw_bulk_fail();
    jobs::add_job(tx, id, jobs::Kind::Write, &plan, now, fail)?;
    Ok(Answer::with(
        StatusCode::CREATED,
        json!({
            "status": "success",
            "code": "SUCCESS",
            "message": "success",
            "details": {"id": id.to_string(), "created_by": created_by(st)},
        }),
    ))
}

/// The result download of a completed write job (absolute, on this origin).
pub fn download_url(st: &State, job: u64, version: &str) -> String {
    format!("{}/crm/bulk/{version}/write/{job}/result", st.origin())
}

/// `GET /crm/bulk/{v}/write/{id}`.
pub fn status_json(st: &State, job: &Job, version: &str) -> Value {
    let plan = &job.request;
    let mappings: Vec<Value> = plan["field_mappings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let mut o = serde_json::Map::new();
                    for k in ["api_name", "index", "format", "find_by"] {
                        if !m[k].is_null() {
                            o.insert(k.to_owned(), m[k].clone());
                        }
                    }
                    if let Some(d) = m["default_value"].as_str() {
                        o.insert("default_value".to_owned(), json!({"value": d}));
                    }
                    Value::Object(o)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut resource = json!({
        "status": job.state,
        "type": "data",
        "code": if job.state == states::FAILED { Value::Null } else { json!("SUCCESS") },
        "module": {"api_name": plan["module"], "id": null},
        "file_id": plan["file_id"],
        "find_by": plan["find_by"],
        "field_mappings": mappings,
        "file": {
            "status": job.state,
            "name": plan["file_name"],
            "added_count": job.added,
            "skipped_count": job.skipped,
            "updated_count": job.updated,
            "total_count": job.total,
        },
    });
    let mut out = json!({
        "status": job.state,
        "character_encoding": "UTF-8",
        "id": job.id.to_string(),
        "operation": plan["operation"],
        "created_time": epoch_out(st, job.created_at),
        "created_by": created_by(st),
        "ignore_empty": plan["ignore_empty"],
    });
    if !plan["callback"].is_null() {
        out["callback"] = plan["callback"].clone();
    }
    if job.state == states::COMPLETED {
        out["result"] = json!({"download_url": download_url(st, job.id, version)});
    } else if job.state == states::FAILED {
        let e = job
            .error
            .clone()
            .unwrap_or_else(|| json!({"code": "INTERNAL_ERROR", "message": "the job failed"}));
        resource["code"] = e["code"].clone();
        resource["message"] = e["message"].clone();
        out["result"] = json!({"error_message": {
            "status": "error",
            "code": e["code"],
            "message": e["message"],
            "details": e.get("details").cloned().unwrap_or_else(|| json!({})),
        }});
    }
    out["resource"] = json!([resource]);
    out
}
