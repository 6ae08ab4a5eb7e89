//! The durable store: one SQLite database under `--data` in WAL mode, one transaction per API
//! call. Records, relations, files, photos, call counters, admin-created tokens and the clock
//! offset all live here, so a restart sees every acknowledged write and nothing else.

pub mod checkpoint;
pub mod counters;
pub mod credits;
pub mod files;
pub mod items;
pub mod records;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

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
CREATE INDEX IF NOT EXISTS records_deleted ON records(module, deleted_at, id) WHERE state = 1;
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
CREATE TABLE IF NOT EXISTS credits(at INTEGER NOT NULL, cost INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS credits_at ON credits(at);
";

/// How hard each commit is pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: every commit survives the process being killed
    /// (the WAL is in the OS page cache); an OS crash may lose the last commits.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before the call is answered.
    Full,
}

impl std::str::FromStr for Durability {
    type Err = String;

    /// `normal` or `full` (any case).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            other => Err(format!("durability {other:?}: expected normal or full")),
        }
    }
}

/// The SQLite connection, one caller at a time, and the thread that checkpoints its log.
#[derive(Debug)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    checkpointer: Option<checkpoint::Checkpointer>,
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
        Self::open_with(dir, durability, checkpoint::CATCH_UP_FRAMES)
    }

    /// [`Store::open`] with the log size (frames) past which checkpoints catch up under the lock.
    fn open_with(dir: &Path, durability: Durability, catch_up: i64) -> Result<Self, EmulatorError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| EmulatorError::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join("emulator.sqlite3");
        let conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Checkpoints run on their own thread (see `checkpoint`), never inside a call's commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        items::migrate(&conn)?;
        register_functions(&conn)?;
        let conn = Arc::new(Mutex::new(conn));
        let checkpointer = checkpoint::Checkpointer::start(path, Arc::clone(&conn), catch_up);
        if checkpointer.is_none() {
            // Without the thread, SQLite's own checkpoint keeps the log bounded.
            Self::lock_conn(&conn).pragma_update(None, "wal_autocheckpoint", 1000)?;
        }
        Ok(Self { conn, checkpointer })
    }

    fn lock_conn(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-done (SQLite rolls
        // back an unfinished transaction when it is dropped), so a poisoned lock is usable.
        conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        Self::lock_conn(&self.conn)
    }

    fn committed(&self) {
        if let Some(c) = &self.checkpointer {
            c.nudge();
        }
    }

    /// Runs `f` in one immediate transaction; commits unless `f` fails.
    pub fn write<R, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.write_or_undo(|tx| f(tx).map(Undo::Keep), |_| Ok(()))
    }

    /// Like [`Store::write`], but `f` may ask for its writes to be undone
    /// ([`Undo::RollBack`]): then they are rolled back and `redo` runs in a second transaction,
    /// under the same lock (nothing else can come between). Cheaper than a savepoint when undoing
    /// is rare: a savepoint journals every page the transaction touches.
    pub fn write_or_undo<R, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<Undo<R>, E>,
        redo: impl FnOnce(&Transaction<'_>) -> Result<(), E>,
    ) -> Result<R, E> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = match f(&tx)? {
            Undo::Keep(out) => {
                tx.commit()?;
                out
            }
            Undo::RollBack(out) => {
                tx.rollback()?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                redo(&tx)?;
                tx.commit()?;
                out
            }
        };
        drop(conn);
        self.committed();
        Ok(out)
    }

    /// Runs `f` with the connection (reads outside a call).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        let conn = self.lock();
        f(&conn)
    }
}

/// What [`Store::write_or_undo`]'s first part asks for.
#[derive(Debug)]
pub enum Undo<R> {
    /// Commit its writes.
    Keep(R),
    /// Roll its writes back (and run the second part).
    RollBack(R),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    fn insert_batch(store: &Store, from: i64, n: i64) {
        store
            .write(|tx| -> rusqlite::Result<()> {
                for i in from..from + n {
                    tx.execute(
                        "INSERT INTO records(id, module, owner, created_at, modified_at, data) VALUES(?1, 'Leads', 1, 0, 0, ?2)",
                        params![i, "x".repeat(1000)],
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }

    /// The request connection never checkpoints; the thread copies the log into the database
    /// file, and a log past the catch-up size starts over instead of growing with the writes.
    #[test]
    fn checkpoints_happen_off_the_request_path_and_the_log_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("emulator.sqlite3");
        let wal = dir.path().join("emulator.sqlite3-wal");
        // 256 frames = 1 MiB of log.
        let store = Store::open_with(dir.path(), Durability::Normal, 256).unwrap();
        let before = file_len(&db);
        let mut max_wal = 0;
        // 40 MB of records in 400 commits.
        for b in 0..400 {
            insert_batch(&store, b * 100, 100);
            max_wal = max_wal.max(file_len(&wal));
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while file_len(&db) < before + 20_000_000 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(file_len(&db) >= before + 20_000_000, "the records reached the database file");
        assert!(max_wal < 20_000_000, "the log started over: at most {max_wal} bytes");
        let count: i64 =
            store.read(|c| c.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))).unwrap();
        assert_eq!(count, 40_000);
        drop(store);
        // Reopened: everything is there.
        let store = Store::open(dir.path(), Durability::Normal).unwrap();
        let count: i64 =
            store.read(|c| c.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))).unwrap();
        assert_eq!(count, 40_000);
    }

    /// A first part that asks to be undone leaves nothing; the second part's writes stay.
    #[test]
    fn write_or_undo_rolls_back_and_redoes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Durability::Normal).unwrap();
        // (first part writes a=, asks to undo?, second part would write b=) → (a, b) after.
        let cases =
            [(("1", true), "2", (None, Some("2"))), (("3", false), "4", (Some("3"), Some("2")))];
        for ((a, undo), b, want) in cases {
            let out = store
                .write_or_undo(
                    |tx| -> rusqlite::Result<Undo<bool>> {
                        meta_set(tx, "a", a)?;
                        Ok(if undo { Undo::RollBack(undo) } else { Undo::Keep(undo) })
                    },
                    |tx| meta_set(tx, "b", b),
                )
                .unwrap();
            assert_eq!(out, undo);
            store.read(|c| {
                assert_eq!(meta_get(c, "a").unwrap().as_deref(), want.0);
                assert_eq!(meta_get(c, "b").unwrap().as_deref(), want.1);
            });
        }
    }

    fn query_plan(store: &Store, sql: &str) -> String {
        store.read(|c| {
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = st.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        })
    }

    fn has_index(store: &Store, name: &str) -> bool {
        store.read(|c| {
            c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
                > 0
        })
    }

    fn rec(id: u64, email: &str) -> records::Rec {
        records::Rec {
            id,
            module: "Leads".to_owned(),
            owner: 1,
            created_at: 0,
            modified_at: 0,
            fields: vec![("Email".to_owned(), email.to_owned())],
            line_items: Vec::new(),
        }
    }

    /// Inserts do not keep a duplicate-check index until a duplicate check asks for one; a
    /// check made in a call that is rolled back leaves no index; then the index serves the
    /// lookup, and deleted records are listed through their own partial index.
    #[test]
    fn the_duplicate_check_index_is_made_by_the_first_check() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Durability::Normal).unwrap();
        store
            .write(|tx| -> rusqlite::Result<()> {
                for (id, key) in [(1, "a@x.com"), (2, "b@x.com"), (3, "a@x.com")] {
                    records::insert(tx, &rec(id, key), Some(key))?;
                }
                Ok(())
            })
            .unwrap();
        assert!(!has_index(&store, "records_dup"));
        let undone = store
            .write_or_undo(
                |tx| -> rusqlite::Result<Undo<Option<u64>>> {
                    Ok(Undo::RollBack(records::find_dup(tx, "Leads", "a@x.com")?.map(|r| r.id)))
                },
                |_| Ok(()),
            )
            .unwrap();
        assert_eq!(undone, Some(1), "the oldest live duplicate");
        assert!(!has_index(&store, "records_dup"), "rolled back with its call");
        let found = store
            .write(|tx| -> rusqlite::Result<_> {
                records::set_state(tx, "Leads", 1, records::DELETED, 5)?;
                Ok(records::find_dup(tx, "Leads", "a@x.com")?.map(|r| r.id))
            })
            .unwrap();
        assert_eq!(found, Some(3), "a deleted record is no duplicate");
        assert!(has_index(&store, "records_dup"));
        let plan = query_plan(
            &store,
            "SELECT id FROM records WHERE module = 'Leads' AND state = 0 AND dupkey = 'a@x.com' ORDER BY id LIMIT 1",
        );
        assert!(plan.contains("records_dup"), "{plan}");
        let plan = query_plan(
            &store,
            "SELECT id FROM records WHERE module = 'Leads' AND state = 1 AND (NULL IS NULL OR deleted_at >= NULL) ORDER BY deleted_at, id",
        );
        assert!(plan.contains("records_deleted") && !plan.contains("TEMP B-TREE"), "{plan}");
        let deleted = store.read(|c| records::deleted_ids(c, "Leads", None, 0, 10)).unwrap();
        assert_eq!(deleted, vec![1]);
    }
}
