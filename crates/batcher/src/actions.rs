//! The journal of action steps (delete, attach, relate, convert): one entry per source row,
//! written as *sending* (durably) before its call and settled after, so a rerun skips what is
//! done and reconciles what was in flight when the process died.

use rusqlite::{OptionalExtension, params};
use zcrm_protocol::RecordId;

use crate::error::BatchError;
use crate::journal::Journal;
use crate::row::RejectedRow;

/// What an action did, as the journal keeps it (and the success file shows it).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ActionResult {
    /// What happened (`deleted`, `attached`, `photo set`, `related`, `converted`).
    pub action: String,
    /// The record the row acted on.
    pub record: Option<u64>,
    /// The attachment created, or the related record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// A conversion's contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<u64>,
    /// A conversion's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<u64>,
    /// A conversion's potential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub potential: Option<u64>,
    /// Something the user should know (e.g. the ids of a conversion whose answer was lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An action sent whose outcome was never recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInFlight {
    /// Source row.
    pub row: u64,
    /// The record it acted on.
    pub record: RecordId,
    /// The related record (relate) or nothing.
    pub target: Option<RecordId>,
    /// When it left, epoch seconds.
    pub sent_at: i64,
}

/// A row about to be sent: `(row, line, key, record, target)`.
pub type ActionSending = (u64, u64, Option<String>, RecordId, Option<RecordId>);

/// A settled action row: `(row, key, result)`.
pub type ActionDone = (u64, Option<String>, ActionResult);

/// Counts of an action step's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ActionCounts {
    /// Rows whose action is done.
    pub done: u64,
    /// Rows the server refused.
    pub rejected: u64,
    /// Rows sent whose outcome is unknown (settled by the next run).
    pub in_flight: u64,
}

impl Journal {
    pub(crate) fn create_action_table(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS actions (
                 step TEXT NOT NULL, row INTEGER NOT NULL, line INTEGER NOT NULL, key TEXT,
                 state TEXT NOT NULL, record INTEGER NOT NULL, target INTEGER, sent_at INTEGER NOT NULL,
                 result TEXT, code TEXT, message TEXT, source TEXT,
                 PRIMARY KEY (step, row));",
        )
    }

    /// Records that rows are about to be sent (one transaction, durable before the call):
    /// `(row, line, key, record, target)`.
    pub fn begin_actions(
        &mut self,
        step: &str,
        rows: &[ActionSending],
        sent_at: i64,
    ) -> Result<(), BatchError> {
        self.conn.execute_batch("PRAGMA synchronous=FULL")?;
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO actions (step, row, line, key, state, record, target, sent_at)
                 VALUES (?1, ?2, ?3, ?4, 'sending', ?5, ?6, ?7)",
            )?;
            for (row, line, key, record, target) in rows {
                st.execute(params![
                    step,
                    *row as i64,
                    *line as i64,
                    key,
                    record.0 as i64,
                    target.map(|t| t.0 as i64),
                    sent_at
                ])?;
            }
        }
        tx.commit()?;
        self.conn.execute_batch("PRAGMA synchronous=NORMAL")?;
        Ok(())
    }

    /// Records rows' actions as done.
    pub fn settle_actions(
        &mut self,
        step: &str,
        done: &[(u64, ActionResult)],
    ) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "UPDATE actions SET state = 'done', result = ?3 WHERE step = ?1 AND row = ?2",
            )?;
            for (row, result) in done {
                let json = serde_json::to_string(result).unwrap_or_default();
                st.execute(params![step, *row as i64, json])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records rows the server refused (their source cells kept for the reject file).
    pub fn refuse_actions(
        &mut self,
        step: &str,
        rows: &[(u64, Vec<String>)],
        code: &str,
        message: &str,
    ) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "UPDATE actions SET state = 'rejected', code = ?3, message = ?4, source = ?5
                 WHERE step = ?1 AND row = ?2",
            )?;
            for (row, source) in rows {
                let json = serde_json::to_string(source).unwrap_or_default();
                st.execute(params![step, *row as i64, code, message, json])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets rows whose call is known not to have been applied (a transport failure before
    /// anything reached the server, or a reconciliation that found nothing): sent again.
    pub fn forget_actions(&mut self, step: &str, rows: &[u64]) -> Result<(), BatchError> {
        self.delete_step_rows("DELETE FROM actions WHERE step = ?1 AND row = ?2", step, rows)
    }

    /// The state of a row: `sending`, `done`, `rejected`, or `None` when not yet sent.
    pub fn action_state(&self, step: &str, row: u64) -> Result<Option<String>, BatchError> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM actions WHERE step = ?1 AND row = ?2")?
            .query_row(params![step, row as i64], |r| r.get::<_, String>(0))
            .optional()?)
    }

    /// Rows sent but never settled, in row order.
    pub fn actions_in_flight(&self, step: &str) -> Result<Vec<ActionInFlight>, BatchError> {
        let mut st = self.conn.prepare(
            "SELECT row, record, target, sent_at FROM actions WHERE step = ?1 AND state = 'sending' ORDER BY row",
        )?;
        let rows = st.query_map(params![step], |r| {
            Ok(ActionInFlight {
                row: r.get::<_, i64>(0)? as u64,
                record: RecordId(r.get::<_, i64>(1)? as u64),
                target: r.get::<_, Option<i64>>(2)?.map(|t| RecordId(t as u64)),
                sent_at: r.get(3)?,
            })
        })?;
        rows.map(|r| r.map_err(BatchError::from)).collect()
    }

    /// Settled rows with what they did, in row order.
    pub fn actions_done(&self, step: &str) -> Result<Vec<ActionDone>, BatchError> {
        let mut st = self.conn.prepare(
            "SELECT row, key, result FROM actions WHERE step = ?1 AND state = 'done' ORDER BY row",
        )?;
        let rows = st.query_map(params![step], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (row, key, result) = r?;
            let result = result.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
            out.push((row, key, result));
        }
        Ok(out)
    }

    /// Rows the server refused, for the reject file.
    pub fn action_rejects(&self, step: &str) -> Result<Vec<RejectedRow>, BatchError> {
        crate::journal::refused_rows(&self.conn, crate::journal::RefusedIn::Actions, step)
    }

    /// When each settled row's call was sent, epoch seconds, by row.
    pub fn action_sent_times(
        &self,
        step: &str,
    ) -> Result<std::collections::HashMap<u64, i64>, BatchError> {
        let mut st = self
            .conn
            .prepare("SELECT row, sent_at FROM actions WHERE step = ?1 AND state = 'done'")?;
        let rows = st.query_map(params![step], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?;
        rows.map(|r| r.map_err(BatchError::from)).collect()
    }

    /// The record conversion step `step` made in `module` (Contacts, Accounts, Potentials) from
    /// the row whose key is `key`.
    pub(crate) fn converted_id_for_key(
        &self,
        step: &str,
        module: &str,
        key: &str,
    ) -> Result<crate::journal::KeyIds, BatchError> {
        use crate::journal::KeyIds;
        let mut st = self.conn.prepare_cached(
            "SELECT row, result FROM actions WHERE step = ?1 AND key = ?2 AND state = 'done' ORDER BY row",
        )?;
        let rows = st.query_map(params![step, key], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<String>>(1)?))
        })?;
        let mut found: Vec<(u64, RecordId)> = Vec::new();
        for r in rows {
            let (row, result) = r?;
            let result: ActionResult =
                result.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
            let id = match module {
                "Contacts" => result.contact,
                "Accounts" => result.account,
                _ => result.potential,
            };
            if let Some(id) = id.map(RecordId)
                && !found.iter().any(|(_, seen)| *seen == id)
            {
                found.push((row, id));
            }
        }
        Ok(match found.as_slice() {
            [] => KeyIds::None,
            [(_, id)] => KeyIds::One(*id),
            _ => KeyIds::Several(found),
        })
    }

    /// Counts of an action step's rows.
    pub fn action_counts(&self, step: &str) -> Result<ActionCounts, BatchError> {
        let mut c = ActionCounts::default();
        let mut st = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM actions WHERE step = ?1 GROUP BY state")?;
        for r in st.query_map(params![step], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })? {
            let (state, n) = r?;
            match state.as_str() {
                "done" => c.done = n,
                "rejected" => c.rejected = n,
                _ => c.in_flight += n,
            }
        }
        Ok(c)
    }

    /// Forgets everything about action step `step` (`--restart`, or an undo).
    pub fn reset_actions(&mut self, step: &str) -> Result<(), BatchError> {
        self.conn.execute("DELETE FROM actions WHERE step = ?1", params![step])?;
        Ok(())
    }
}
