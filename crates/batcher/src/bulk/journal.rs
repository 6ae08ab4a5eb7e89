//! The journal of Bulk Write jobs: one entry per chunk, moved through its phases — `chunked`
//! (its rows journalled, its ZIP on disk) → `uploaded` (the server's `file_id`) → `creating`
//! (the create call is about to leave) → `created` (the job's id) → `done` (every row's
//! outcome recorded) — each phase committed before the call that depends on it, so a run
//! killed at any moment finds the job again and never creates it twice.
//!
//! A chunk's rows are in the `rows` table with state `bulk` (known to every run, so neither
//! method sends them again), their position in the CSV in `no` and the job in `payload`, their
//! source columns kept for the reject file.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::BatchError;
use crate::journal::{Journal, RowOutcome};

/// A job's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Rows journalled and the ZIP sealed; not uploaded yet.
    Chunked,
    /// Uploaded: the file id is known.
    Uploaded,
    /// The create call was (about to be) sent; the job's id is not known.
    Creating,
    /// Created: the job's id is known.
    Created,
    /// Every row's outcome is recorded.
    Done,
}

impl Phase {
    /// The phase's word in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chunked => "chunked",
            Self::Uploaded => "uploaded",
            Self::Creating => "creating",
            Self::Created => "created",
            Self::Done => "done",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "uploaded" => Self::Uploaded,
            "creating" => Self::Creating,
            "created" => Self::Created,
            "done" => Self::Done,
            _ => Self::Chunked,
        }
    }
}

/// A job the journal knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJobEntry {
    /// Its number in the step.
    pub seq: i64,
    /// Its phase.
    pub phase: Phase,
    /// `insert`, `update` or `upsert`.
    pub operation: String,
    /// The ZIP.
    pub zip: String,
    /// The columns it was written with (JSON of `[api_name, format, find_by]`).
    pub columns: String,
    /// Rows in its CSV.
    pub rows: u64,
    /// The uploaded file's id.
    pub file_id: Option<String>,
    /// The job's id.
    pub job_id: Option<String>,
    /// When the create call left (RFC 3339).
    pub sent_at: Option<String>,
}

/// What the user found about a job whose creation answer was lost ([`Phase::Creating`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The CRM holds a Bulk Write job created from the file: its id (the next run polls it
    /// and reads its result).
    Created(String),
    /// The CRM holds no job created from the file (the next run creates it).
    NotCreated,
}

/// A row of a chunk: `(position in the CSV, source row, line, key, source columns)`.
pub type ChunkRow = (u32, u64, u64, Option<String>, Vec<String>);

impl Journal {
    /// Creates the table of Bulk Write jobs.
    pub(crate) fn create_bulk_table(conn: &Connection) -> Result<(), rusqlite::Error> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS bulk_jobs (
                 step TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,
                 operation TEXT NOT NULL, zip TEXT NOT NULL, columns TEXT NOT NULL,
                 rows INTEGER NOT NULL, file_id TEXT, job_id TEXT, sent_at TEXT, result TEXT,
                 PRIMARY KEY (step, seq));",
        )
    }

    /// Journals a sealed chunk and its rows, durably, before anything is uploaded; its number.
    pub fn begin_bulk_job(
        &mut self,
        step: &str,
        operation: &str,
        zip: &str,
        columns: &str,
        rows: &[ChunkRow],
    ) -> Result<i64, BatchError> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = self.conn.transaction()?;
        let seq: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM bulk_jobs WHERE step = ?1")?
            .query_row(params![step], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO bulk_jobs (step, seq, state, operation, zip, columns, rows) VALUES (?1, ?2, 'chunked', ?3, ?4, ?5, ?6)",
        )?
        .execute(params![step, seq, operation, zip, columns, rows.len() as i64])?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO rows (step, row, line, key, payload, no, state, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'bulk', ?7)",
            )?;
            for (no, row, line, key, source) in rows {
                let src = serde_json::to_string(source)
                    .map_err(|e| BatchError::Internal(format!("encoding a source row: {e}")))?;
                st.execute(params![step, *row as i64, *line as i64, key, seq, no, src])?;
            }
        }
        tx.commit()?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(seq)
    }

    /// Moves job `seq` to `phase`, with the value that phase learnt (the file id of
    /// `Uploaded`, the send time of `Creating`, the job id of `Created`). `Creating` is
    /// committed durably: it must be on disk before the create call leaves.
    pub fn set_bulk_phase(
        &mut self,
        step: &str,
        seq: i64,
        phase: Phase,
        value: &str,
    ) -> Result<(), BatchError> {
        let column = match phase {
            Phase::Uploaded => "file_id",
            Phase::Creating => "sent_at",
            Phase::Created => "job_id",
            Phase::Chunked | Phase::Done => "result",
        };
        let durable = phase == Phase::Creating;
        if durable {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        self.conn.execute(
            &format!("UPDATE bulk_jobs SET state = ?3, {column} = ?4 WHERE step = ?1 AND seq = ?2"),
            params![step, seq, phase.as_str(), value],
        )?;
        if durable {
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        Ok(())
    }

    /// Jobs of `step` not done yet, oldest first.
    pub fn open_bulk_jobs(&self, step: &str) -> Result<Vec<BulkJobEntry>, BatchError> {
        let mut st = self.conn.prepare(
            "SELECT seq, state, operation, zip, columns, rows, file_id, job_id, sent_at FROM bulk_jobs
             WHERE step = ?1 AND state != 'done' ORDER BY seq",
        )?;
        let jobs = st
            .query_map(params![step], |r| {
                Ok(BulkJobEntry {
                    seq: r.get(0)?,
                    phase: Phase::parse(&r.get::<_, String>(1)?),
                    operation: r.get(2)?,
                    zip: r.get(3)?,
                    columns: r.get(4)?,
                    rows: r.get::<_, i64>(5)? as u64,
                    file_id: r.get(6)?,
                    job_id: r.get(7)?,
                    sent_at: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(jobs)
    }

    /// Settles `step`'s job whose creation answer was lost (the one in [`Phase::Creating`]):
    /// moves it to `created` with the job's id, or back to `uploaded`. The job settled, or
    /// `None` when the step has no such job.
    pub fn settle_bulk_job(
        &mut self,
        step: &str,
        settlement: &Settlement,
    ) -> Result<Option<BulkJobEntry>, BatchError> {
        let Some(mut job) =
            self.open_bulk_jobs(step)?.into_iter().find(|j| j.phase == Phase::Creating)
        else {
            return Ok(None);
        };
        match settlement {
            Settlement::Created(id) => {
                self.set_bulk_phase(step, job.seq, Phase::Created, id)?;
                job.phase = Phase::Created;
                job.job_id = Some(id.clone());
            }
            Settlement::NotCreated => {
                let file_id = job.file_id.clone().unwrap_or_default();
                self.set_bulk_phase(step, job.seq, Phase::Uploaded, &file_id)?;
                job.phase = Phase::Uploaded;
            }
        }
        Ok(Some(job))
    }

    /// Bulk Write jobs of `step` created (or maybe created) on the server, done or not.
    pub fn bulk_jobs_created(&self, step: &str) -> Result<u64, BatchError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM bulk_jobs WHERE step = ?1 AND state IN ('creating', 'created', 'done')",
            params![step],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Whether `step` has a Bulk Write job not done yet.
    pub fn has_open_bulk_jobs(&self, step: &str) -> Result<bool, BatchError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM bulk_jobs WHERE step = ?1 AND state != 'done' LIMIT 1",
                params![step],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The rows of job `seq`: `(position in the CSV, source row, source columns)`, in CSV order.
    pub fn bulk_rows(
        &self,
        step: &str,
        seq: i64,
    ) -> Result<Vec<(u32, u64, Vec<String>)>, BatchError> {
        let mut st = self.conn.prepare(
            "SELECT no, row, COALESCE(source, '[]') FROM rows WHERE step = ?1 AND payload = ?2 AND state = 'bulk' ORDER BY no",
        )?;
        let rows = st
            .query_map(params![step, seq], |r| {
                Ok((r.get::<_, u32>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, String>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(no, row, src)| (no, row, serde_json::from_str(&src).unwrap_or_default()))
            .collect())
    }

    /// Records job `seq`'s outcome for every row, and the job as done, in one transaction.
    pub fn complete_bulk_job(
        &mut self,
        step: &str,
        seq: i64,
        outcome: &[RowOutcome],
        summary: &str,
    ) -> Result<(), BatchError> {
        let tx = self.conn.transaction()?;
        crate::journal::record_outcomes(&tx, step, outcome, crate::journal::Pending::Bulk)?;
        tx.execute(
            "UPDATE bulk_jobs SET state = 'done', result = ?3 WHERE step = ?1 AND seq = ?2",
            params![step, seq, summary],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn journal_with_a_lost_create() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        let rows: Vec<ChunkRow> = vec![(0, 1, 2, Some("a".into()), vec!["a".into()])];
        let seq = j.begin_bulk_job("s", "insert", "c.zip", "[]", &rows).unwrap();
        j.set_bulk_phase("s", seq, Phase::Uploaded, "77").unwrap();
        j.set_bulk_phase("s", seq, Phase::Creating, "2026-01-01T00:00:00Z").unwrap();
        (dir, j)
    }

    #[test]
    fn a_lost_create_is_settled_with_the_jobs_id_or_back_to_uploaded_and_only_once() {
        let (_d, mut j) = journal_with_a_lost_create();
        let job = j.settle_bulk_job("s", &Settlement::Created("900".into())).unwrap().unwrap();
        assert_eq!((job.phase, job.job_id.as_deref()), (Phase::Created, Some("900")));
        let open = j.open_bulk_jobs("s").unwrap();
        assert_eq!((open[0].phase, open[0].job_id.as_deref()), (Phase::Created, Some("900")));
        // Nothing waits any more.
        assert_eq!(j.settle_bulk_job("s", &Settlement::NotCreated).unwrap(), None);

        let (_d, mut j) = journal_with_a_lost_create();
        j.settle_bulk_job("s", &Settlement::NotCreated).unwrap().unwrap();
        let open = j.open_bulk_jobs("s").unwrap();
        assert_eq!((open[0].phase, open[0].file_id.as_deref()), (Phase::Uploaded, Some("77")));
        assert_eq!(j.settle_bulk_job("other", &Settlement::NotCreated).unwrap(), None);
    }
}
