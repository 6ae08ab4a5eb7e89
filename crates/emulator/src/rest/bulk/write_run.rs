//! Running a Bulk Write job: the CSV's data rows, in input order, each turned into the v8 JSON
//! record of its mappings (`cells`) and written through the record API's own code
//! (`rest::write`: the same checks, per-record errors and store writes as `POST /{module}`,
//! `PUT /{module}`). Rows are written [`CHUNK_ROWS`] to a store transaction that also stores
//! each row's outcome and moves the job's progress (`next_row`): a restart resumes after the
//! last committed row, so no row is ever written twice. The result ZIP is built from the
//! outcomes once every row is done.
//!
//! Per row, in order: the row's cells (an empty cell takes the mapping's `default_value`; with
//! `ignore_empty` an empty cell is left out, else it is sent as `null`), lookups with `find_by`
//! resolved in their module, then by operation —
//! - insert: a `find_by` match skips the row (`DUPLICATE_DATA-{find_by}`), else the record is
//!   inserted;
//! - update: a blank key skips (`MANDATORY_NOT_FOUND-{find_by}`), no match skips
//!   (`RESOURCE_NOT_FOUND-{find_by}`), else the oldest match is updated;
//! - upsert: the oldest match is updated, else the record is inserted.
//!
//! Before an insert every missing mandatory field is named at once (`MANDATORY_NOT_FOUND-A,B`),
//! unresolved lookups give `INVALID_DATA-{field}`; otherwise the record write's one error is
//! `{code}-{api_name}` (or just `{code}` when it names no field).

use std::collections::HashMap;
use std::io::Write;

use axum::http::HeaderMap;
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::jobs::{self, Job, RowResult};
use super::{BulkError, cells, write_plan};
use crate::rest::errors::RestError;
use crate::rest::json::{self as rjson, ignored_on_input, is_blank};
use crate::rest::router::Cx;
use crate::schema::{FieldDef, ModuleDef};
use crate::state::State;
use crate::store::records::{self, Rec};

/// Rows written per store transaction.
pub const CHUNK_ROWS: usize = 100;
/// Mapped columns repeated in the result file (Zoho: the first three).
pub const RESULT_COLUMNS: usize = 3;

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Every row done; the result ZIP is written.
    Done,
    /// The job fails with `{code, message, details}` (nothing of it was written, except
    /// `INTERNAL_ERROR`).
    Failed(Value),
    /// The test hook `bulk_halt_after_rows` stopped the worker.
    Halted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Update,
    Upsert,
}

struct Mapping<'d> {
    name: String,
    field: Option<&'d FieldDef>,
    index: Option<usize>,
    format: Option<String>,
    find_by: Option<String>,
    default: Option<String>,
}

struct Plan<'d> {
    op: Op,
    def: &'d ModuleDef,
    find_by: Option<String>,
    ignore_empty: bool,
    maps: Vec<Mapping<'d>>,
}

fn plan<'d>(st: &'d State, v: &Value) -> Option<Plan<'d>> {
    let def = crate::rest::module(st, v["module"].as_str()?)?;
    let op = match v["operation"].as_str()? {
        "insert" => Op::Insert,
        "update" => Op::Update,
        _ => Op::Upsert,
    };
    let maps = v["field_mappings"]
        .as_array()?
        .iter()
        .map(|m| {
            let name = m["api_name"].as_str().unwrap_or_default().to_owned();
            Mapping {
                field: rjson::fields(def).find(|f| f.api_name == name),
                name,
                index: m["index"].as_u64().and_then(|i| usize::try_from(i).ok()),
                format: m["format"].as_str().map(str::to_owned),
                find_by: m["find_by"].as_str().map(str::to_owned),
                default: m["default_value"].as_str().map(str::to_owned),
            }
        })
        .collect();
    Some(Plan {
        op,
        def,
        find_by: v["find_by"].as_str().map(str::to_owned),
        ignore_empty: v["ignore_empty"].as_bool().unwrap_or(false),
        maps,
    })
}

fn failed(code: &str, message: &str, details: Value) -> Ended {
    Ended::Failed(json!({"code": code, "message": message, "details": details}))
}

/// Data rows of the job's CSV (the header excluded).
fn count_rows(path: &std::path::Path) -> Result<u64, BulkError> {
    write_plan::with_csv(path, |r, _| {
        let mut rec = csv::ByteRecord::new();
        let mut n = 0u64;
        if r.read_byte_record(&mut rec)? {
            while r.read_byte_record(&mut rec)? {
                n += 1;
            }
        }
        Ok(n)
    })
}

/// Runs (or resumes) a write job; `stopping` is asked between transactions.
pub fn run(st: &State, job: &Job, stopping: &dyn Fn() -> bool) -> Result<Ended, BulkError> {
    let Some(plan) = plan(st, &job.request) else {
        return Ok(failed("INTERNAL_ERROR", "the job's module is gone", json!({})));
    };
    if job.fail {
        return Ok(failed(
            "INTERNAL_ERROR",
            "the job failed (injected fault bulk_fail)",
            json!({}),
        ));
    }
    let file_id = job.request["file_id"].as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let path = jobs::upload_path(st, file_id);
    let total = match count_rows(&path) {
        Ok(n) => n,
        Err(_) => {
            return Ok(failed("INVALID_FILE_FORMAT", "the CSV could not be read", json!({})));
        }
    };
    if total > write_plan::MAX_ROWS {
        return Ok(failed(
            "LIMIT_EXCEEDED",
            "the file has more than 25000 records",
            json!({"limit": write_plan::MAX_ROWS, "rows": total}),
        ));
    }
    if job.total != total {
        st.store.write(|tx| jobs::set_total(tx, job.id, total))?;
    }
    let halt = st.cfg.bulk_halt_after_rows;
    let mut done = job.next_row;
    let halted = write_plan::with_csv(&path, |r, _| {
        let mut rec = csv::ByteRecord::new();
        r.read_byte_record(&mut rec)?;
        for _ in 0..done {
            r.read_byte_record(&mut rec)?;
        }
        loop {
            if let Some(h) = halt
                && done >= h
            {
                return Ok(true);
            }
            if stopping() {
                return Err(BulkError::Stopped);
            }
            let room = halt.map_or(CHUNK_ROWS, |h| CHUNK_ROWS.min((h - done) as usize));
            let mut chunk: Vec<Vec<String>> = Vec::with_capacity(room);
            while chunk.len() < room && r.read_byte_record(&mut rec)? {
                chunk.push(rec.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect());
            }
            if chunk.is_empty() {
                return Ok(false);
            }
            let first = done;
            let n = chunk.len() as u64;
            st.store.write(|tx| -> Result<(), BulkError> {
                let now = st.clock.now().as_second();
                for (k, cells) in chunk.iter().enumerate() {
                    let out = row(st, tx, &plan, cells, now)
                        .map_err(|_| BulkError::Sql(rusqlite::Error::InvalidQuery))?;
                    jobs::add_row(tx, job.id, first + k as u64, &out)?;
                }
                Ok(())
            })?;
            done += n;
        }
    });
    match halted {
        Ok(true) => return Ok(Ended::Halted),
        Ok(false) => {}
        Err(BulkError::Stopped) => return Err(BulkError::Stopped),
        Err(BulkError::Sql(rusqlite::Error::InvalidQuery)) => {
            return Ok(failed("INTERNAL_ERROR", "a row could not be written", json!({})));
        }
        Err(e) => return Err(e),
    }
    result_zip(st, job, &plan, &path)?;
    Ok(Ended::Done)
}

/// The first listed mapping of the find_by column's text, and the oldest live record it
/// matches.
fn find(
    st: &State,
    tx: &Connection,
    def: &ModuleDef,
    by: &str,
    key: &str,
) -> Result<Option<Rec>, RestError> {
    let module = def.module.api_name();
    if by == "id" {
        return match key.trim().parse::<u64>() {
            Ok(id) => Ok(records::get_live(tx, Some(&module), id)?),
            Err(_) => Ok(None),
        };
    }
    let Some(f) = rjson::fields(def).find(|f| f.api_name == by) else { return Ok(None) };
    let v = cells::value(st, f, key, None);
    let Ok(pairs) = rjson::input(st, tx, f, &v) else { return Ok(None) };
    let Some((_, text)) = pairs.first() else { return Ok(None) };
    if def.duplicate_field() == Some(f.label.as_str()) {
        Ok(records::find_dup(tx, &module, &text.trim().to_lowercase())?)
    } else {
        Ok(records::find_by_value(tx, &module, &f.label, text, None)?)
    }
}

fn skipped(groups: &[(&str, Vec<String>)]) -> RowResult {
    let errors = groups
        .iter()
        .filter(|(_, cols)| !cols.is_empty())
        .map(|(code, cols)| format!("{code}-{}", cols.join(",")))
        .collect::<Vec<_>>()
        .join(":");
    RowResult { status: "SKIPPED", record_id: None, errors }
}

/// One row: its record built, matched and written; its outcome.
fn row(
    st: &State,
    tx: &rusqlite::Transaction<'_>,
    plan: &Plan<'_>,
    cells_of_row: &[String],
    now: i64,
) -> Result<RowResult, RestError> {
    let mut obj = Map::new();
    let mut key: Option<String> = None;
    let mut invalid: Vec<String> = Vec::new();
    for m in &plan.maps {
        let cell = m.index.and_then(|i| cells_of_row.get(i)).filter(|c| !c.trim().is_empty());
        let text = cell.cloned().or_else(|| m.default.clone());
        if plan.find_by.as_deref() == Some(m.name.as_str()) {
            key = text.clone().filter(|t| !t.trim().is_empty());
        }
        let Some(f) = m.field else { continue };
        let Some(t) = text else {
            if !plan.ignore_empty {
                obj.insert(m.name.clone(), Value::Null);
            }
            continue;
        };
        let value = match (&m.find_by, write_plan::lookup_target(st, f)) {
            (Some(fb), Some(target)) if fb != "id" => match find(st, tx, target, fb, &t)? {
                Some(rec) => json!({"id": rec.id.to_string()}),
                None => {
                    invalid.push(m.name.clone());
                    continue;
                }
            },
            _ => cells::value(st, f, &t, m.format.as_deref()),
        };
        obj.insert(m.name.clone(), value);
    }
    let by = plan.find_by.as_deref().unwrap_or("id");
    let matched = match &key {
        Some(k) if plan.find_by.is_some() => find(st, tx, plan.def, by, k)?,
        _ => None,
    };
    let target = match plan.op {
        Op::Insert if matched.is_some() => {
            return Ok(skipped(&[("DUPLICATE_DATA", vec![by.to_owned()])]));
        }
        Op::Insert => None,
        Op::Update if key.is_none() => {
            return Ok(skipped(&[("MANDATORY_NOT_FOUND", vec![by.to_owned()])]));
        }
        Op::Update if matched.is_none() => {
            return Ok(skipped(&[("RESOURCE_NOT_FOUND", vec![by.to_owned()])]));
        }
        Op::Update | Op::Upsert => matched,
    };
    if target.is_none() {
        let missing: Vec<String> = rjson::fields(plan.def)
            .filter(|f| f.required && !ignored_on_input(f))
            .filter(|f| is_blank(obj.get(&f.api_name)) && !invalid.contains(&f.api_name))
            .map(|f| f.api_name.clone())
            .collect();
        if !missing.is_empty() || !invalid.is_empty() {
            return Ok(skipped(&[("MANDATORY_NOT_FOUND", missing), ("INVALID_DATA", invalid)]));
        }
    } else if !invalid.is_empty() {
        return Ok(skipped(&[("INVALID_DATA", invalid)]));
    }
    if let Some(rec) = &target {
        obj.insert("id".to_owned(), json!(rec.id.to_string()));
    }
    let body = json!({"data": [Value::Object(obj)]});
    let query = HashMap::new();
    let headers = HeaderMap::new();
    let cx = Cx {
        st,
        query: &query,
        headers: &headers,
        body: Some(&body),
        body_unreadable: false,
        now,
        fields_optional: false,
        form: None,
    };
    let answer = match &target {
        None => crate::rest::write::insert(&cx, tx, plan.def)?,
        Some(_) => crate::rest::write::update(&cx, tx, plan.def, None)?,
    };
    let item = answer.body.as_ref().map(|b| b["data"][0].clone()).unwrap_or(Value::Null);
    if item["status"] == "success" {
        let id = item["details"]["id"].as_str().and_then(|s| s.parse::<u64>().ok());
        let status = if target.is_some() { "UPDATED" } else { "ADDED" };
        return Ok(RowResult { status, record_id: id, errors: String::new() });
    }
    let code = item["code"].as_str().unwrap_or("INVALID_DATA");
    let errors = match item["details"]["api_name"].as_str() {
        Some(col) => format!("{code}-{col}"),
        None => code.to_owned(),
    };
    Ok(RowResult { status: "SKIPPED", record_id: None, errors })
}

/// Writes `DATA/bulk/results/{job}.zip`: one CSV `{Module}.csv` with the first
/// [`RESULT_COLUMNS`] mapped columns (header: their api names, values as uploaded), then
/// `STATUS`, `RECORD_ID`, `ERRORS`, one line per data row in input order.
fn result_zip(
    st: &State,
    job: &Job,
    plan: &Plan<'_>,
    upload: &std::path::Path,
) -> Result<(), BulkError> {
    let final_path = jobs::result_path(st, job.id);
    if let Some(dir) = final_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = final_path.with_extension("zip.part");
    let cols: Vec<(String, usize)> = plan
        .maps
        .iter()
        .filter_map(|m| m.index.map(|i| (m.name.clone(), i)))
        .take(RESULT_COLUMNS)
        .collect();
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(&tmp)?));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(format!("{}.csv", plan.def.api_name), opts)?;
    {
        let mut out = csv::Writer::from_writer(&mut zip);
        let mut head: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        head.extend(["STATUS", "RECORD_ID", "ERRORS"]);
        out.write_record(&head)?;
        write_plan::with_csv(upload, |r, _| {
            let mut rec = csv::ByteRecord::new();
            r.read_byte_record(&mut rec)?;
            st.store.read(|c| {
                jobs::rows(c, job.id, &mut |_, res| {
                    let has = r.read_byte_record(&mut rec).map_err(std::io::Error::other)?;
                    let mut line: Vec<String> = cols
                        .iter()
                        .map(|(_, i)| {
                            rec.get(*i)
                                .filter(|_| has)
                                .map(|c| String::from_utf8_lossy(c).into_owned())
                                .unwrap_or_default()
                        })
                        .collect();
                    line.push(res.status.to_owned());
                    line.push(res.record_id.map(|i| i.to_string()).unwrap_or_default());
                    line.push(res.errors);
                    out.write_record(&line).map_err(std::io::Error::other)
                })
            })
        })?;
        out.flush()?;
    }
    let mut inner = zip.finish()?;
    inner.flush()?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, &final_path)?;
    Ok(())
}
