//! The import journal: per step, per payload and per row, in SQLite under the state dir.
//!
//! A payload is written here as *in flight* (with its xmlData and the time it left) in a
//! committed transaction before it is sent; its outcome is recorded in one transaction after.
//! A crash in between leaves an in-flight payload that the next run reconciles before sending
//! anything else. The in-flight record is committed with `synchronous=FULL` (it survives a
//! power cut: a payload is never sent without a durable trace); outcomes are committed with
//! `NORMAL` (they survive a killed process; after a power cut the payload is reconciled again).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use zcrm_protocol::RecordId;

use crate::error::BatchError;
use crate::row::{Action, RejectedRow};

/// The journal of one pipeline.
pub struct Journal {
    pub(crate) conn: Connection,
    /// The exclusive lock of a run ([`Journal::open_exclusive`]); the kernel releases it when
    /// the process ends, however it ends.
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Journal")
    }
}

/// A key several rows of a step carry into different records, and those rows.
pub type RepeatedKey = (String, Vec<u64>);

/// What a source key of a step maps to in the CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyIds {
    /// No row with that key is in the CRM.
    None,
    /// One record.
    One(RecordId),
    /// Several records: `(first source row, record)` for each, in source order.
    Several(Vec<(u64, RecordId)>),
}

/// A payload that was sent but whose outcome was never recorded.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// The payload's sequence number in its step.
    pub seq: i64,
    /// The xmlData that was sent.
    pub xml_data: String,
    /// When it left, in the org's time (`yyyy-MM-dd HH:mm:ss`).
    pub sent_at: String,
    /// `(row no inside the payload, source row)`.
    pub rows: Vec<(u32, u64)>,
    /// Per row (in the order of `rows`), the values it sent in their comparable form
    /// (`fingerprint::canonical`), as `(field label, value)`: what reconciliation compares
    /// with the CRM's records. `None` for rows journalled without them (journals written
    /// before they were kept): reconciliation then reads the values back from `xml_data`.
    pub sent: Vec<Option<SentValues>>,
    /// Whether the payload was an insert (else an idempotent update/upsert).
    pub insert: bool,
}

/// The values a row sent, `(field label, comparable form)`, in the order they were sent.
pub type SentValues = Vec<(String, String)>;

/// Counts of a step's rows in the journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepCounts {
    /// Rows created.
    pub created: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows matched to an existing record.
    pub matched: u64,
    /// Rows the server refused.
    pub rejected: u64,
    /// Rows in payloads whose outcome is unknown.
    pub in_flight: u64,
    /// Write payloads recorded as done.
    pub payloads: u64,
}

impl Journal {
    /// Opens (or creates) the journal file.
    pub fn open(path: &Path) -> Result<Self, BatchError> {
        // Owner-only, the -wal and -shm files SQLite adds included.
        zcrm_client::owner_only::prepare_sqlite(path)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(60))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS payloads (
                 step TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, kind TEXT NOT NULL,
                 rows INTEGER NOT NULL, sent_at TEXT NOT NULL, xml_data TEXT, result TEXT,
                 PRIMARY KEY (step, seq));
             CREATE TABLE IF NOT EXISTS rows (
                 step TEXT NOT NULL, row INTEGER NOT NULL, line INTEGER NOT NULL, key TEXT,
                 payload INTEGER, no INTEGER, state TEXT NOT NULL, crm_id INTEGER,
                 code TEXT, message TEXT, source TEXT,
                 PRIMARY KEY (step, row));
             CREATE INDEX IF NOT EXISTS rows_by_key ON rows (step, key);
             CREATE TABLE IF NOT EXISTS sources (step TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS rows_by_id ON rows (crm_id);",
        )?;
        // Journals from before rows kept the values they sent gain the column (NULL: those
        // rows are reconciled from the payload's text, as before).
        let has_sent: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('rows') WHERE name = 'sent'")?
            .exists([])?;
        if !has_sent {
            conn.execute_batch("ALTER TABLE rows ADD COLUMN sent TEXT")?;
        }
        Self::create_action_table(&conn)?;
        Self::create_bulk_table(&conn)?;
        Ok(Self { conn, _lock: None })
    }

    /// Opens the journal for a run that writes through it: takes an exclusive OS lock on
    /// `<journal>.lock` first, so a second run of the same pipeline stops at once with
    /// [`BatchError::Locked`] instead of importing the same rows again. The lock is the
    /// kernel's (`flock`): a killed run never leaves a stale one.
    pub fn open_exclusive(path: &Path) -> Result<Self, BatchError> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = std::path::PathBuf::from(lock_path);
        let lock = zcrm_client::owner_only::open(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(BatchError::Locked { journal: path.to_owned() });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(BatchError::Lock { path: lock_path, source: e });
            }
        }
        let mut journal = Self::open(path)?;
        journal._lock = Some(lock);
        Ok(journal)
    }

    /// Records the fingerprint of the step's source (see [`crate::source`]); when it differs
    /// from the last run's and nothing is in flight, the step starts over (a recurring sync
    /// with a new file). A journal from before content fingerprints holds `legacy` (size and
    /// modification time): when that still matches, the fingerprint is upgraded in place and
    /// the step resumes. Returns whether the journal of the step was reset.
    pub fn check_source(
        &mut self,
        step: &str,
        fingerprint: &str,
        legacy: Option<&str>,
    ) -> Result<bool, BatchError> {
        let old = self.source_fingerprint(step)?;
        // A Bulk Write job not done counts as in flight: its rows are on their way.
        let in_flight: i64 = self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM payloads WHERE step = ?1 AND state = 'in_flight')
                  + (SELECT COUNT(*) FROM bulk_jobs WHERE step = ?1 AND state != 'done')",
            params![step],
            |r| r.get(0),
        )?;
        let same = |o: &str| {
            o == fingerprint || (!o.starts_with(crate::source::CONTENT_PREFIX) && legacy == Some(o))
        };
        let reset = old.as_deref().is_some_and(|o| !same(o)) && in_flight == 0;
        if reset {
            self.reset_step(step)?;
        }
        if in_flight == 0 || old.is_none() || old.as_deref().is_some_and(same) {
            self.conn.execute(
                "INSERT INTO sources (step, fingerprint) VALUES (?1, ?2)
                 ON CONFLICT (step) DO UPDATE SET fingerprint = excluded.fingerprint",
                params![step, fingerprint],
            )?;
        }
        Ok(reset)
    }

    /// The fingerprint of the source the step's journal belongs to, if a run recorded one.
    pub fn source_fingerprint(&self, step: &str) -> Result<Option<String>, BatchError> {
        Ok(self
            .conn
            .query_row("SELECT fingerprint FROM sources WHERE step = ?1", params![step], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Forgets everything about `step` (`--restart`).
    pub fn reset_step(&mut self, step: &str) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM rows WHERE step = ?1", params![step])?;
        tx.execute("DELETE FROM payloads WHERE step = ?1", params![step])?;
        tx.execute("DELETE FROM actions WHERE step = ?1", params![step])?;
        tx.execute("DELETE FROM bulk_jobs WHERE step = ?1", params![step])?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets source rows `rows` of `step` (their records were deleted by an undo): a later
    /// run imports them again.
    pub fn forget_rows(&mut self, step: &str, rows: &[u64]) -> Result<(), BatchError> {
        self.delete_step_rows("DELETE FROM rows WHERE step = ?1 AND row = ?2", step, rows)
    }

    /// Runs `sql` (`?1` the step, `?2` a row) for each of `rows`, in one transaction.
    pub(crate) fn delete_step_rows(
        &mut self,
        sql: &str,
        step: &str,
        rows: &[u64],
    ) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(sql)?;
            for row in rows {
                st.execute(params![step, *row as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether source row `row` of `step` is finished (in the CRM, or refused by the server), or
    /// part of an in-flight payload.
    pub fn row_state(&self, step: &str, row: u64) -> Result<Option<String>, BatchError> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM rows WHERE step = ?1 AND row = ?2")?
            .query_row(params![step, row as i64], |r| r.get::<_, String>(0))
            .optional()?)
    }

    /// The CRM record source row `row` of `step` became, if it is in the CRM.
    pub fn crm_id_of(&self, step: &str, row: u64) -> Result<Option<RecordId>, BatchError> {
        Ok(self
            .conn
            .prepare_cached("SELECT crm_id FROM rows WHERE step = ?1 AND row = ?2")?
            .query_row(params![step, row as i64], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
            .map(|v| RecordId(v as u64)))
    }

    /// Every row number of `step` the journal already holds (finished or in flight).
    pub fn known_rows(&self, step: &str) -> Result<std::collections::HashSet<u64>, BatchError> {
        let mut st = self.conn.prepare("SELECT row FROM rows WHERE step = ?1")?;
        let rows = st.query_map(params![step], |r| r.get::<_, i64>(0))?;
        rows.map(|r| r.map(|v| v as u64).map_err(BatchError::from)).collect()
    }

    /// The CRM record step `step` recorded for source key `key`: none, one, or several when
    /// rows with that key became different records (the key is not unique in its source).
    pub fn id_for_key(&self, step: &str, key: &str) -> Result<KeyIds, BatchError> {
        if let Some((action, module)) = step.split_once(':') {
            return self.converted_id_for_key(action, module, key);
        }
        let mut st = self.conn.prepare_cached(
            "SELECT row, crm_id FROM rows WHERE step = ?1 AND key = ?2 AND crm_id IS NOT NULL ORDER BY row",
        )?;
        let mut found: Vec<(u64, RecordId)> = Vec::new();
        let rows = st.query_map(params![step, key], |r| {
            Ok((r.get::<_, i64>(0)? as u64, RecordId(r.get::<_, i64>(1)? as u64)))
        })?;
        for r in rows {
            let (row, id) = r?;
            if !found.iter().any(|(_, seen)| *seen == id) {
                found.push((row, id));
            }
        }
        Ok(match found.as_slice() {
            [] => KeyIds::None,
            [(_, id)] => KeyIds::One(*id),
            _ => KeyIds::Several(found),
        })
    }

    /// Keys of `step` that more than one of its rows carries into different CRM records, with
    /// those rows (at most `limit` keys, and how many there are in all). Lookups to such a key
    /// are rejected as ambiguous.
    pub fn repeated_keys(
        &self,
        step: &str,
        limit: usize,
    ) -> Result<(u64, Vec<RepeatedKey>), BatchError> {
        let total: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM (SELECT key FROM rows WHERE step = ?1 AND key IS NOT NULL AND crm_id IS NOT NULL
             GROUP BY key HAVING COUNT(DISTINCT crm_id) > 1)",
            params![step],
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare_cached(
            "SELECT key, group_concat(row) FROM (SELECT key, row FROM rows WHERE step = ?1 AND key IN
               (SELECT key FROM rows WHERE step = ?1 AND key IS NOT NULL AND crm_id IS NOT NULL
                GROUP BY key HAVING COUNT(DISTINCT crm_id) > 1 ORDER BY MIN(row) LIMIT ?2)
               AND crm_id IS NOT NULL ORDER BY row)
             GROUP BY key ORDER BY MIN(row)",
        )?;
        let keys = st
            .query_map(params![step, limit as i64], |r| {
                let rows: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    rows.split(',').filter_map(|n| n.parse().ok()).collect(),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((total as u64, keys))
    }

    /// Whether some row of any step already claims CRM Id `id`.
    pub fn id_claimed(&self, id: RecordId) -> Result<bool, BatchError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM rows WHERE crm_id = ?1 LIMIT 1")?
            .query_row(params![id.0 as i64], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Records a payload as in flight, before it is sent. `rows`: `(no, source row, line, key)`.
    pub fn begin_payload(
        &mut self,
        step: &str,
        insert: bool,
        xml_data: &str,
        sent_at: &str,
        rows: &[(u32, u64, u64, Option<String>)],
    ) -> Result<i64, BatchError> {
        self.begin_payload_with_values(step, insert, xml_data, sent_at, rows, &[])
    }

    /// [`Journal::begin_payload`] that also keeps, per row (in the order of `rows`; missing
    /// entries are `None`), the values it sends in their comparable form, so that
    /// reconciliation never has to read the payload's text back.
    pub fn begin_payload_with_values(
        &mut self,
        step: &str,
        insert: bool,
        xml_data: &str,
        sent_at: &str,
        rows: &[(u32, u64, u64, Option<String>)],
        values: &[Option<SentValues>],
    ) -> Result<i64, BatchError> {
        // The one commit that must reach the disk before the payload leaves.
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = self.conn.transaction()?;
        let seq: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM payloads WHERE step = ?1")?
            .query_row(params![step], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO payloads (step, seq, state, kind, rows, sent_at, xml_data) VALUES (?1, ?2, 'in_flight', ?3, ?4, ?5, ?6)",
        )?
        .execute(params![step, seq, if insert { "insert" } else { "idempotent" }, rows.len() as i64, sent_at, xml_data])?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO rows (step, row, line, key, payload, no, state, sent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'in_flight', ?7)",
            )?;
            for (i, (no, row, line, key)) in rows.iter().enumerate() {
                let sent = values
                    .get(i)
                    .and_then(Option::as_ref)
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| BatchError::Internal(format!("encoding sent values: {e}")))?;
                st.execute(params![step, *row as i64, *line as i64, key, seq, no, sent])?;
            }
        }
        tx.commit()?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(seq)
    }

    /// Forgets a payload that was never sent (the budget stopped it before it left).
    pub fn abort_payload(&mut self, step: &str, seq: i64) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM rows WHERE step = ?1 AND payload = ?2 AND state = 'in_flight'",
            params![step, seq],
        )?;
        tx.execute("DELETE FROM payloads WHERE step = ?1 AND seq = ?2", params![step, seq])?;
        tx.commit()?;
        Ok(())
    }

    /// Records a payload's outcome: per source row, the CRM Id and action, or the refusal.
    pub fn complete_payload(
        &mut self,
        step: &str,
        seq: i64,
        outcome: &[RowOutcome],
        summary: &str,
    ) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        record_outcomes(&tx, step, outcome, Pending::Any)?;
        tx.prepare_cached(
            "UPDATE payloads SET state = 'done', xml_data = NULL, result = ?3 WHERE step = ?1 AND seq = ?2",
        )?
        .execute(params![step, seq, summary])?;
        tx.commit()?;
        Ok(())
    }

    /// Payloads of `step` still in flight (sent, outcome unknown).
    pub fn in_flight(&self, step: &str) -> Result<Vec<InFlight>, BatchError> {
        let mut st = self.conn.prepare(
            "SELECT seq, COALESCE(xml_data, ''), sent_at, kind FROM payloads WHERE step = ?1 AND state = 'in_flight' ORDER BY seq",
        )?;
        let heads = st
            .query_map(params![step], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for (seq, xml_data, sent_at, kind) in heads {
            let mut rs = self.conn.prepare_cached("SELECT no, row, sent FROM rows WHERE step = ?1 AND payload = ?2 AND state = 'in_flight' ORDER BY no")?;
            let found = rs
                .query_map(params![step, seq], |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut rows = Vec::with_capacity(found.len());
            let mut sent = Vec::with_capacity(found.len());
            for (no, row, values) in found {
                rows.push((no, row));
                // A value list that does not read back is treated as absent: the row is then
                // reconciled from the payload's text.
                sent.push(values.and_then(|v| serde_json::from_str::<SentValues>(&v).ok()));
            }
            out.push(InFlight { seq, xml_data, sent_at, rows, sent, insert: kind == "insert" });
        }
        Ok(out)
    }

    /// Counts of a step's rows.
    pub fn counts(&self, step: &str) -> Result<StepCounts, BatchError> {
        let mut c = StepCounts::default();
        let mut st =
            self.conn.prepare("SELECT state, COUNT(*) FROM rows WHERE step = ?1 GROUP BY state")?;
        for r in st.query_map(params![step], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })? {
            let (state, n) = r?;
            match state.as_str() {
                "created" => c.created = n,
                "updated" => c.updated = n,
                "matched" => c.matched = n,
                "rejected" => c.rejected = n,
                _ => c.in_flight += n,
            }
        }
        c.payloads = self.conn.query_row(
            "SELECT COUNT(*) FROM payloads WHERE step = ?1 AND state = 'done'",
            params![step],
            |r| r.get::<_, i64>(0),
        )? as u64;
        Ok(c)
    }

    /// Rows of `step` in the CRM: `(row, key, id, action)` in source order.
    pub fn successes(&self, step: &str) -> Result<Vec<Success>, BatchError> {
        let mut st = self.conn.prepare(
            "SELECT row, key, crm_id, state FROM rows WHERE step = ?1 AND crm_id IS NOT NULL ORDER BY row",
        )?;
        let rows = st.query_map(params![step], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (row, key, id, state) = r?;
            out.push((row, key, RecordId(id), Action::parse(&state).unwrap_or(Action::Created)));
        }
        Ok(out)
    }

    /// Rows of `step` the server refused, for the reject file.
    pub fn server_rejects(&self, step: &str) -> Result<Vec<RejectedRow>, BatchError> {
        refused_rows(&self.conn, RefusedIn::Rows, step)
    }
}

/// The journal table a step's refused rows are in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RefusedIn {
    /// `rows`: an import step's.
    Rows,
    /// `actions`: an action step's.
    Actions,
}

/// The rows of `step` the server refused, in row order, with the server's code and message as
/// the reject file says them.
pub(crate) fn refused_rows(
    conn: &Connection,
    table: RefusedIn,
    step: &str,
) -> Result<Vec<RejectedRow>, BatchError> {
    let sql = match table {
        RefusedIn::Rows => {
            "SELECT row, line, COALESCE(code, ''), COALESCE(message, ''), COALESCE(source, '[]')
             FROM rows WHERE step = ?1 AND state = 'rejected' ORDER BY row"
        }
        RefusedIn::Actions => {
            "SELECT row, line, COALESCE(code, ''), COALESCE(message, ''), COALESCE(source, '[]')
             FROM actions WHERE step = ?1 AND state = 'rejected' ORDER BY row"
        }
    };
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map(params![step], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            r.get::<_, i64>(1)? as u64,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (row, line, code, message, source) = r?;
        out.push(RejectedRow {
            row,
            line,
            source: serde_json::from_str(&source).unwrap_or_default(),
            errors: vec![crate::report::server_error_text(&code, &message)],
        });
    }
    Ok(out)
}

/// Which rows [`record_outcomes`] may settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Any row of the step (a payload's rows).
    Any,
    /// Rows still waiting for a Bulk Write job (state `bulk`); their kept source cells are
    /// dropped once they are in the CRM.
    Bulk,
}

/// Records each row's outcome in `tx`: in the CRM with its Id and action, refused by the server
/// (with the source cells for the reject file), or forgotten (not applied: sent again).
pub(crate) fn record_outcomes(
    tx: &rusqlite::Transaction<'_>,
    step: &str,
    outcome: &[RowOutcome],
    pending: Pending,
) -> Result<(), BatchError> {
    let (only, done_sql) = match pending {
        Pending::Any => {
            ("", "UPDATE rows SET state = ?3, crm_id = ?4 WHERE step = ?1 AND row = ?2")
        }
        Pending::Bulk => (
            " AND state = 'bulk'",
            "UPDATE rows SET state = ?3, crm_id = ?4, source = NULL WHERE step = ?1 AND row = ?2 AND state = 'bulk'",
        ),
    };
    let mut done = tx.prepare_cached(done_sql)?;
    let mut refused = tx.prepare_cached(&format!(
        "UPDATE rows SET state = 'rejected', code = ?3, message = ?4, source = ?5 WHERE step = ?1 AND row = ?2{only}"
    ))?;
    let mut unsent =
        tx.prepare_cached(&format!("DELETE FROM rows WHERE step = ?1 AND row = ?2{only}"))?;
    for o in outcome {
        match o {
            RowOutcome::Done { row, id, action } => {
                done.execute(params![step, *row as i64, action.as_str(), id.0 as i64])?;
            }
            RowOutcome::Refused { row, code, message, source } => {
                let src = serde_json::to_string(source).unwrap_or_default();
                refused.execute(params![step, *row as i64, code, message, src])?;
            }
            RowOutcome::NotApplied { row } => {
                unsent.execute(params![step, *row as i64])?;
            }
        }
    }
    Ok(())
}

/// A row in the CRM: `(source row, key, CRM Id, action)`.
pub type Success = (u64, Option<String>, RecordId, Action);

/// The recorded outcome of one row of a payload.
#[derive(Debug, Clone)]
pub enum RowOutcome {
    /// In the CRM with this Id.
    Done {
        /// Source row.
        row: u64,
        /// CRM Id.
        id: RecordId,
        /// What happened.
        action: Action,
    },
    /// The server refused the row.
    Refused {
        /// Source row.
        row: u64,
        /// API code.
        code: String,
        /// Server message.
        message: String,
        /// The source columns, for the reject file.
        source: Vec<String>,
    },
    /// The row did not reach the CRM (reconciliation found no record): it will be sent again.
    NotApplied {
        /// Source row.
        row: u64,
    },
}
