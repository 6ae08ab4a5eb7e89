//! The keys `validate` has seen on the valid rows of the steps that lookups name, so that a
//! lookup to a key no valid row has is rejected by `validate` as the run would reject it (no
//! CRM Id for it). Kept in a private temporary SQLite database on disk (SQLite's own temporary
//! file, deleted when the index is dropped): memory does not grow with the files.

use rusqlite::{Connection, OptionalExtension, params};

/// The keys of the valid rows of the looked-up steps validated so far.
pub(crate) struct LookupKeys {
    conn: Connection,
}

impl LookupKeys {
    /// An empty index on disk.
    pub(crate) fn new() -> Result<Self, rusqlite::Error> {
        let conn = Connection::open("")?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE keys (step TEXT NOT NULL, key TEXT NOT NULL,
                                PRIMARY KEY (step, key)) WITHOUT ROWID;
             BEGIN;",
        )?;
        Ok(Self { conn })
    }

    /// Records that a valid row of `step` has `key`.
    pub(crate) fn add(&self, step: &str, key: &str) -> Result<(), rusqlite::Error> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO keys (step, key) VALUES (?1, ?2)")?
            .execute(params![step, key])?;
        Ok(())
    }

    /// Whether a valid row of `step` has `key`.
    pub(crate) fn has(&self, step: &str, key: &str) -> Result<bool, rusqlite::Error> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM keys WHERE step = ?1 AND key = ?2")?
            .query_row(params![step, key], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keys_are_kept_per_step() {
        let k = LookupKeys::new().unwrap();
        k.add("accounts", "A-1").unwrap();
        k.add("accounts", "A-1").unwrap();
        k.add("contacts", "C-1").unwrap();
        assert!(k.has("accounts", "A-1").unwrap());
        assert!(!k.has("accounts", "C-1").unwrap());
        assert!(!k.has("deals", "A-1").unwrap());
    }
}
