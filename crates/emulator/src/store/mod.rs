//! The durable store: one SQLite database under `--data` in WAL mode, one transaction per API
//! call. Records, relations, files, photos, call counters, admin-created tokens and the clock
//! offset all live here, so a restart sees every acknowledged write and nothing else.

pub mod counters;
pub mod files;
pub mod items;
pub mod records;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::error::EmulatorError;

/// The first id handed out (records, attachments).
pub const FIRST_ID: u64 = 900_000_000_000_001;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    owner INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    deleted_at INTEGER,
    dupkey TEXT,
    data TEXT NOT NULL,
    items TEXT
);
CREATE INDEX IF NOT EXISTS records_list ON records(module, state, id);
CREATE INDEX IF NOT EXISTS records_modified ON records(module, state, modified_at, id);
CREATE INDEX IF NOT EXISTS records_created ON records(module, state, created_at, id);
CREATE INDEX IF NOT EXISTS records_dup ON records(module, state, dupkey);
CREATE INDEX IF NOT EXISTS records_deleted ON records(module, state, deleted_at, id);
CREATE TABLE IF NOT EXISTS relations(
    parent_module TEXT NOT NULL,
    parent_id INTEGER NOT NULL,
    child_module TEXT NOT NULL,
    child_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY(parent_id, child_module, child_id)
);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    url TEXT,
    content BLOB,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS photos(
    record_id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    name TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS calls(
    day TEXT NOT NULL,
    method TEXT NOT NULL,
    module TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY(day, method, module)
);
CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
";

/// How hard each commit is pushed to disk.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: every commit survives the process being killed
    /// (the WAL is in the OS page cache); an OS crash may lose the last commits.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before the call is answered.
    Full,
}

/// The SQLite connection, one caller at a time.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

/// `zf(data, label)`: the value of `label` in a record's data, for ORDER BY on any field.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "zf",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let data: String = ctx.get(0)?;
            let label: String = ctx.get(1)?;
            Ok(records::field_of(&data, &label).map(str::to_owned))
        },
    )?;
    conn.create_scalar_function(
        "zfn",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let data: String = ctx.get(0)?;
            let label: String = ctx.get(1)?;
            Ok(records::field_of(&data, &label).and_then(|v| v.trim().parse::<f64>().ok()))
        },
    )
}

impl Store {
    /// Opens (or creates) `dir/emulator.sqlite3`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self, EmulatorError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| EmulatorError::io(format!("creating {}", dir.display()), e))?;
        let conn = Connection::open(dir.join("emulator.sqlite3"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        items::migrate(&conn)?;
        register_functions(&conn)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-done (SQLite rolls
        // back an unfinished transaction when it is dropped), so a poisoned lock is usable.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in one immediate transaction; commits unless `f` fails.
    pub fn write<R, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` with the connection (reads outside a call).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        let conn = self.lock();
        f(&conn)
    }
}

/// A value of the `meta` table.
pub fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Sets a value of the `meta` table.
pub fn meta_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// The next id (records and attachments share one sequence).
pub fn next_id(conn: &Connection) -> rusqlite::Result<u64> {
    let current =
        meta_get(conn, "next_id")?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(FIRST_ID);
    meta_set(conn, "next_id", &(current + 1).to_string())?;
    Ok(current)
}

/// Tokens created through the admin surface.
pub fn stored_tokens(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare("SELECT token FROM tokens")?;
    let rows = st.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// Stores a token.
pub fn add_token(conn: &Connection, token: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO tokens(token, created_at) VALUES(?1, ?2)",
        params![token, now],
    )?;
    Ok(())
}
