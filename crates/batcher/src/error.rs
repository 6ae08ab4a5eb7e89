//! Import failures that stop a step (row-level problems are rejects, not errors).

/// Why an import step stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The day's budget share is spent; a rerun resumes. Carries how many rows are left.
    #[error("stopped: {source}; {rows_left} row(s) left for the next run")]
    Budget {
        /// The budget error (with the reset time).
        source: zcrm_client::BudgetExhausted,
        /// Rows not yet in the CRM or the reject file.
        rows_left: u64,
    },
    /// The CRM or the network failed in a way a rerun may fix.
    #[error(transparent)]
    Client(zcrm_client::ClientError),
    /// The server failed every one of the step's last write calls (5xx, dropped or cut-short
    /// answers): the step stops instead of spending the day's budget on a broken server.
    /// Everything sent is reconciled and journalled; a rerun resumes.
    #[error(
        "the CRM failed {failures} write calls in a row (the last: {last}); stopped to spare the budget — what was sent is reconciled, rerun when the CRM answers again"
    )]
    ServerFailing {
        /// Consecutive failed write calls.
        failures: u32,
        /// What the last failure said.
        last: String,
    },
    /// Another process is running this pipeline (it holds the journal's lock); nothing was
    /// read or sent.
    #[error(
        "another zcrm run of this pipeline is in progress (it holds {}): nothing was sent; wait for it to finish",
        journal.display()
    )]
    Locked {
        /// The journal file.
        journal: std::path::PathBuf,
    },
    /// A report (the success file) could not be written; the journal still holds every
    /// outcome, and a rerun writes the report again.
    #[error("writing {}", path.display())]
    Report {
        /// The report.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The journal's database failed.
    #[error("the journal failed")]
    Journal(#[from] rusqlite::Error),
    /// A journal file (the database or its lock) could not be made owner-only or opened.
    #[error("the journal's files")]
    JournalFile(#[from] zcrm_client::owner_only::StateFileError),
    /// The journal's lock file could not be locked (other than being held).
    #[error("locking {}", path.display())]
    Lock {
        /// The lock file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The xmlData the journal kept for an in-flight payload does not decode.
    #[error("the xmlData the journal kept for payload {seq} of step {step}")]
    StoredPayload {
        /// The step.
        step: String,
        /// The payload.
        seq: i64,
        /// Why.
        #[source]
        source: zcrm_protocol::DecodeError,
    },
    /// A payload could not be encoded.
    #[error("encoding a payload")]
    Encode(#[source] zcrm_protocol::EncodeError),
    /// The write senders stopped, or answered for a payload not in flight: a defect of zcrm.
    #[error("internal: {0}")]
    Internal(String),
    /// A Bulk Write job's creation was sent but its answer lost, and the server cannot list
    /// its jobs to say whether it exists: creating it again could import its rows twice.
    #[error(
        "step {step}: a Bulk Write job may have been created from uploaded file {file_id} at {sent_at} (its answer was lost) and the server cannot list its jobs to say whether it exists; zcrm will not create it a second time, and the step stops here until that job is settled by hand (see the org's Bulk Write jobs)"
    )]
    BulkJobUnknown {
        /// The step.
        step: String,
        /// The uploaded file the job was created from.
        file_id: String,
        /// When the creation was sent.
        sent_at: String,
    },
    /// A Bulk Write file (the ZIP sent, or the result read back) could not be written or read.
    #[error("Bulk Write file {}", path.display())]
    BulkFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server answered in a form the call did not ask for.
    #[error("{0}")]
    Unexpected(String),
}
