//! The bulk APIs' tables: uploaded files, jobs (their request, state, progress and outcome),
//! each written row's result, and Bulk Read page tokens. Uploaded ZIPs and result ZIPs are
//! files under `DATA/bulk/`; the tables only reference them.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::state::State;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bulk_files(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bulk_jobs(
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    request TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    fail INTEGER NOT NULL DEFAULT 0,
    next_row INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result TEXT
);
CREATE TABLE IF NOT EXISTS bulk_write_rows(
    job INTEGER NOT NULL,
    row INTEGER NOT NULL,
    status TEXT NOT NULL,
    record_id INTEGER,
    errors TEXT NOT NULL,
    PRIMARY KEY(job, row)
);
CREATE TABLE IF NOT EXISTS bulk_read_tokens(
    token TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    after_id INTEGER NOT NULL,
    page INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// The first id of uploaded files and bulk jobs (one sequence for both).
const FIRST_ID: i64 = 600_000_000_000_001;

/// Job states (the same words for both kinds, but a failed read job is `FAILURE`).
pub mod states {
    /// Created, waiting for the worker.
    pub const ADDED: &str = "ADDED";
    /// Being run.
    pub const IN_PROGRESS: &str = "IN PROGRESS";
    /// Done; its result can be downloaded.
    pub const COMPLETED: &str = "COMPLETED";
    /// A write job that failed (nothing of it was written).
    pub const FAILED: &str = "FAILED";
    /// A read job that failed.
    pub const FAILURE: &str = "FAILURE";
}

/// Which API a job belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bulk Write.
    Write,
    /// Bulk Read.
    Read,
}

impl Kind {
    /// `write` or `read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Read => "read",
        }
    }
}

/// A stored job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: u64,
    /// Write or read.
    pub kind: Kind,
    /// One of [`states`].
    pub state: String,
    /// The checked request (a write plan or a read plan, JSON).
    pub request: Value,
    /// Created, epoch seconds (org clock).
    pub created_at: i64,
    /// Whether the `bulk_fail` fault hit it.
    pub fail: bool,
    /// Write: data rows already written (0-based index of the next row).
    pub next_row: u64,
    /// Write: data rows of the CSV (0 until counted). Read: rows of the page.
    pub total: u64,
    /// Write: rows that created a record.
    pub added: u64,
    /// Write: rows that updated a record.
    pub updated: u64,
    /// Write: rows skipped.
    pub skipped: u64,
    /// A failed job's `{code, message}`.
    pub error: Option<Value>,
    /// A completed read job's `{page, count, more_records, next_page_token}`.
    pub result: Option<Value>,
}

/// Creates the tables (once per start).
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// `DATA/bulk/`.
pub fn dir(st: &State) -> PathBuf {
    st.cfg.data_dir.join("bulk")
}

/// Where an uploaded file lives.
pub fn upload_path(st: &State, file_id: u64) -> PathBuf {
    dir(st).join("uploads").join(format!("{file_id}.zip"))
}

/// Where a job's result ZIP lives.
pub fn result_path(st: &State, job: u64) -> PathBuf {
    dir(st).join("results").join(format!("{job}.zip"))
}

/// The next id of the bulk sequence.
pub fn next_id(conn: &Connection) -> rusqlite::Result<u64> {
    let cur = crate::store::meta_get(conn, "bulk_next_id")?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(FIRST_ID);
    crate::store::meta_set(conn, "bulk_next_id", &(cur + 1).to_string())?;
    Ok(u64::try_from(cur).unwrap_or(0))
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Records an uploaded file.
pub fn add_file(
    conn: &Connection,
    id: u64,
    name: &str,
    size: u64,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO bulk_files(id, name, size, created_at) VALUES(?1, ?2, ?3, ?4)",
        params![i(id), name, i(size), now],
    )?;
    Ok(())
}

/// Whether an uploaded file exists.
pub fn file_exists(conn: &Connection, id: u64) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS(SELECT 1 FROM bulk_files WHERE id = ?1)", [i(id)], |r| r.get(0))
}

/// Creates a job in state `ADDED`.
pub fn add_job(
    conn: &Connection,
    id: u64,
    kind: Kind,
    request: &Value,
    now: i64,
    fail: bool,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO bulk_jobs(id, kind, state, request, created_at, fail) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        params![i(id), kind.as_str(), states::ADDED, request.to_string(), now, fail],
    )?;
    Ok(())
}

const JOB_COLUMNS: &str = "id, kind, state, request, created_at, fail, next_row, total, added, updated, skipped, error, result";

fn job_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let kind: String = r.get(1)?;
    let request: String = r.get(3)?;
    let error: Option<String> = r.get(11)?;
    let result: Option<String> = r.get(12)?;
    Ok(Job {
        id: u(r.get(0)?),
        kind: if kind == "read" { Kind::Read } else { Kind::Write },
        state: r.get(2)?,
        request: serde_json::from_str(&request).unwrap_or(Value::Null),
        created_at: r.get(4)?,
        fail: r.get(5)?,
        next_row: u(r.get(6)?),
        total: u(r.get(7)?),
        added: u(r.get(8)?),
        updated: u(r.get(9)?),
        skipped: u(r.get(10)?),
        error: error.and_then(|e| serde_json::from_str(&e).ok()),
        result: result.and_then(|e| serde_json::from_str(&e).ok()),
    })
}

/// A job by id.
pub fn job(conn: &Connection, id: u64) -> rusqlite::Result<Option<Job>> {
    conn.query_row(&format!("SELECT {JOB_COLUMNS} FROM bulk_jobs WHERE id = ?1"), [i(id)], job_of)
        .optional()
}

/// Every job, oldest first.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Job>> {
    let mut st = conn.prepare(&format!("SELECT {JOB_COLUMNS} FROM bulk_jobs ORDER BY id"))?;
    let rows = st.query_map([], job_of)?;
    rows.collect()
}

/// The oldest job not yet finished (`ADDED` or `IN PROGRESS`).
pub fn next_pending(conn: &Connection) -> rusqlite::Result<Option<Job>> {
    conn.query_row(
        &format!(
            "SELECT {JOB_COLUMNS} FROM bulk_jobs WHERE state IN ('{}', '{}') ORDER BY id LIMIT 1",
            states::ADDED,
            states::IN_PROGRESS
        ),
        [],
        job_of,
    )
    .optional()
}

/// Sets a job's state.
pub fn set_state(conn: &Connection, id: u64, state: &str) -> rusqlite::Result<()> {
    conn.execute("UPDATE bulk_jobs SET state = ?2 WHERE id = ?1", params![i(id), state])?;
    Ok(())
}

/// Fails a job with `{code, message}`.
pub fn fail(conn: &Connection, id: u64, state: &str, error: &Value) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE bulk_jobs SET state = ?2, error = ?3 WHERE id = ?1",
        params![i(id), state, error.to_string()],
    )?;
    Ok(())
}

/// Sets a write job's row count.
pub fn set_total(conn: &Connection, id: u64, total: u64) -> rusqlite::Result<()> {
    conn.execute("UPDATE bulk_jobs SET total = ?2 WHERE id = ?1", params![i(id), i(total)])?;
    Ok(())
}

/// One written row's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// `ADDED`, `UPDATED` or `SKIPPED`.
    pub status: &'static str,
    /// The record written.
    pub record_id: Option<u64>,
    /// `CODE-col1,col2:CODE-col3`, empty when none.
    pub errors: String,
}

/// Stores a row's outcome and moves the job's progress past it (in the transaction that wrote
/// the row's record).
pub fn add_row(conn: &Connection, job: u64, row: u64, r: &RowResult) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO bulk_write_rows(job, row, status, record_id, errors) VALUES(?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![i(job), i(row), r.status, r.record_id.map(i), r.errors])?;
    let col = match r.status {
        "ADDED" => "added",
        "UPDATED" => "updated",
        _ => "skipped",
    };
    conn.prepare_cached(&format!(
        "UPDATE bulk_jobs SET next_row = ?2, {col} = {col} + 1 WHERE id = ?1"
    ))?
    .execute(params![i(job), i(row + 1)])?;
    Ok(())
}

/// Visits a write job's row outcomes in input order.
pub fn rows(
    conn: &Connection,
    job: u64,
    f: &mut dyn FnMut(u64, RowResult) -> std::io::Result<()>,
) -> Result<(), super::BulkError> {
    let mut st = conn.prepare(
        "SELECT row, status, record_id, errors FROM bulk_write_rows WHERE job = ?1 ORDER BY row",
    )?;
    let mut q = st.query([i(job)])?;
    while let Some(r) = q.next()? {
        let status: String = r.get(1)?;
        let status = match status.as_str() {
            "ADDED" => "ADDED",
            "UPDATED" => "UPDATED",
            _ => "SKIPPED",
        };
        let rec: Option<i64> = r.get(2)?;
        f(u(r.get(0)?), RowResult { status, record_id: rec.map(u), errors: r.get(3)? })?;
    }
    Ok(())
}

/// Marks a read job completed with its result.
pub fn complete_read(
    conn: &Connection,
    id: u64,
    count: u64,
    result: &Value,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE bulk_jobs SET state = ?2, total = ?3, result = ?4 WHERE id = ?1",
        params![i(id), states::COMPLETED, i(count), result.to_string()],
    )?;
    Ok(())
}

/// Stores a Bulk Read page token: the query it continues, the last id of the page before and
/// the page number it starts.
pub fn add_token(
    conn: &Connection,
    token: &str,
    query: &Value,
    after_id: u64,
    page: u64,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO bulk_read_tokens(token, query, after_id, page, created_at) VALUES(?1, ?2, ?3, ?4, ?5)",
        params![token, query.to_string(), i(after_id), i(page), now],
    )?;
    Ok(())
}

/// A page token: `(query, after_id, page, created_at)`.
pub fn token(conn: &Connection, token: &str) -> rusqlite::Result<Option<(Value, u64, u64, i64)>> {
    conn.query_row(
        "SELECT query, after_id, page, created_at FROM bulk_read_tokens WHERE token = ?1",
        [token],
        |r| {
            let q: String = r.get(0)?;
            Ok((
                serde_json::from_str(&q).unwrap_or(Value::Null),
                u(r.get(1)?),
                u(r.get(2)?),
                r.get(3)?,
            ))
        },
    )
    .optional()
}
