//! Running a Bulk Read job: the module's live records in id order, filtered by the criteria,
//! the job's page of them streamed as CSV into `DATA/bulk/results/{job}.zip` (one entry
//! `{job}.csv`, deflated) through a read-only connection of its own (the WAL lets it read a
//! consistent snapshot while the API keeps writing); memory does not grow with the module.
//!
//! The CSV (UTF-8, no BOM, `,`, RFC 4180 quoting): the header is the api names, `id` first;
//! values are the v8 JSON values as text: date-times `yyyy-MM-ddTHH:mm:ss±HH:mm` (org offset),
//! dates `yyyy-MM-dd`, booleans `true`/`false`, numbers as JSON writes them, multi-select items
//! joined by `;`, lookups and owners their record or user id, empty values empty.

use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

use super::BulkError;
use super::jobs::{self, Job};
use super::read_plan::{self, Column, Criteria};
use crate::rest::json as rjson;
use crate::state::State;
use crate::store::records::{self, Rec};

/// How a read job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// The page is written: its result (`page`, `count`, `more_records`, `next_page_token`)
    /// and the token to store (`token`, `after_id`) when more records follow.
    Done {
        /// The job's `result` (without `per_page` and `download_url`).
        result: Value,
        /// The next page's token and the last id of this page.
        next: Option<(String, u64)>,
    },
    /// The job fails with `{code, message}`.
    Failed(Value),
}

/// A value as CSV text.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        Value::Object(o) => o.get("id").map(cell).unwrap_or_default(),
    }
}

fn token_of(job: u64, last: u64) -> String {
    format!("{job:x}{:016x}", last ^ 0x5bd1_e995_5bd1_e995)
}

/// Runs a read job; `stopping` is asked every thousand records.
pub fn run(st: &State, job: &Job, stopping: &dyn Fn() -> bool) -> Result<Ended, BulkError> {
    if job.fail {
        return Ok(Ended::Failed(
            json!({"code": "INTERNAL_ERROR", "message": "the job failed (injected fault bulk_fail)"}),
        ));
    }
    let plan = &job.request;
    let Some(def) = plan["module"].as_str().and_then(|m| crate::rest::module(st, m)) else {
        return Ok(Ended::Failed(
            json!({"code": "INTERNAL_ERROR", "message": "the module is gone"}),
        ));
    };
    let fields: Vec<String> = plan["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let Ok(cols) = read_plan::columns(def, &fields) else {
        return Ok(Ended::Failed(json!({"code": "INTERNAL_ERROR", "message": "a field is gone"})));
    };
    let criteria: Option<Criteria<'_>> = match &plan["criteria"] {
        Value::Null => None,
        c => match read_plan::compile(def, c) {
            Ok(c) => Some(c),
            Err(_) => {
                return Ok(Ended::Failed(
                    json!({"code": "INTERNAL_ERROR", "message": "the criteria no longer apply"}),
                ));
            }
        },
    };
    let per_page = u64::from(st.cfg.bulk_read_page.max(1));
    let page = plan["page"].as_u64().unwrap_or(1).max(1);
    let after = plan["after_id"].as_u64();
    let mut skip = if after.is_some() { 0 } else { (page - 1).saturating_mul(per_page) };

    let final_path = jobs::result_path(st, job.id);
    if let Some(dir) = final_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = final_path.with_extension("zip.part");
    let conn = Connection::open_with_flags(
        st.cfg.data_dir.join("emulator.sqlite3"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(&tmp)?));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    zip.start_file(format!("{}.csv", job.id), opts)?;
    let mut count = 0u64;
    let mut more = false;
    let mut last = after.unwrap_or(0);
    let mut seen = 0u64;
    let mut failure: Option<BulkError> = None;
    {
        let mut out = csv::Writer::from_writer(&mut zip);
        out.write_record(cols.iter().map(read_plan::column_name))?;
        let module = def.module.api_name();
        let mut row: Vec<String> = Vec::with_capacity(cols.len());
        let mut visit = |rec: Rec| -> bool {
            seen += 1;
            if seen % 1000 == 0 && stopping() {
                failure = Some(BulkError::Stopped);
                return false;
            }
            if after.is_some_and(|a| rec.id <= a) {
                return true;
            }
            if criteria.as_ref().is_some_and(|c| !c.matches(st, &rec)) {
                return true;
            }
            if skip > 0 {
                skip -= 1;
                return true;
            }
            if count == per_page {
                more = true;
                return false;
            }
            row.clear();
            for c in &cols {
                row.push(match c {
                    Column::Id => rec.id.to_string(),
                    Column::Field(f) => cell(&rjson::value(st, f, &rec)),
                });
            }
            if let Err(e) = out.write_record(&row) {
                failure = Some(e.into());
                return false;
            }
            count += 1;
            last = rec.id;
            true
        };
        records::scan(&conn, &module, &[records::LIVE], false, &mut visit)?;
        out.flush()?;
    }
    if let Some(e) = failure {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let mut inner = zip.finish()?;
    std::io::Write::flush(&mut inner)?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, &final_path)?;
    let next = more.then(|| (token_of(job.id, last), last));
    Ok(Ended::Done {
        result: json!({
            "page": page,
            "count": count,
            "more_records": more,
            "next_page_token": next.as_ref().map(|(t, _)| t.clone()),
        }),
        next,
    })
}

/// Commits a finished read job: its result and, when more records follow, the next page's
/// token (the same query, after the page's last id, the next page number).
pub fn complete(
    conn: &Connection,
    job: &Job,
    result: &Value,
    next: Option<&(String, u64)>,
    now: i64,
) -> rusqlite::Result<()> {
    if let Some((token, last)) = next {
        let page = job.request["page"].as_u64().unwrap_or(1) + 1;
        jobs::add_token(conn, token, &read_plan::plan_base(&job.request), *last, page, now)?;
    }
    let count = result["count"].as_u64().unwrap_or(0);
    jobs::complete_read(conn, job.id, count, result)
}
