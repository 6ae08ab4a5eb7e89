//! Why a run, a plan or a preparation stopped. Every cause is kept whole (`#[source]`), so the
//! front end can walk the chain to decide an exit code and print each reason once.

use std::path::PathBuf;

use zcrm_batcher::BatchError;
use zcrm_client::ClientError;
use zcrm_connect::ConnectError;
use zcrm_mapping::RejectWriterError;
use zcrm_pipeline::{Diagnostics, LoadError};
use zcrm_readers::ReadError;
use zcrm_writers::ExportError;

/// A run that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The pipeline file cannot be read or is wrong.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A step was asked for by name that the pipeline does not have.
    #[error("{}: no step named {name:?}", path.display())]
    UnknownStep {
        /// The pipeline file.
        path: PathBuf,
        /// The name asked for.
        name: String,
    },
    /// Mapping or source problems of the steps, all of them, found before anything was sent.
    #[error("{}: nothing was sent", path.display())]
    Invalid {
        /// The pipeline file.
        path: PathBuf,
        /// Every problem, placed in the file.
        #[source]
        source: Diagnostics,
    },
    /// `zcrm plan` refuses an export step's criteria or view: the filtered read cannot do
    /// what paging the module would (see `export::filter_refusal`).
    #[error("step {step:?}: {reason}")]
    ExportRefused {
        /// The step.
        step: String,
        /// Why, with the figures.
        reason: String,
    },
    /// The connection could not be made.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The CRM, the network, the budget ledger or the metadata cache.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The journal or the batcher outside a step's sending (opening, resetting, reports).
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// A reject file could not be created or finished.
    #[error(transparent)]
    Reject(#[from] RejectWriterError),
    /// A source could not be read.
    #[error(transparent)]
    Read(Box<ReadError>),
    /// A step's module metadata could not be had.
    #[error("step {step}")]
    Metadata {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// A step's source could not be fingerprinted (read whole before the first send).
    #[error("step {step}: reading {}", path.display())]
    Fingerprint {
        /// The step.
        step: String,
        /// The source.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A rejected row could not be written to its reject file: the step stopped.
    #[error(
        "step {step}: a rejected row could not be written to its reject file, so the step stopped (the journal keeps every outcome; rerun to finish the step and rewrite the reports)"
    )]
    RejectStopped {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: RejectWriterError,
    },
    /// A source failed part-way: the rows before were sent, a rerun resumes.
    #[error(
        "step {step}: reading {} stopped after {rows} rows (the rows before were sent; rerun to resume)",
        path.display()
    )]
    SourceStopped {
        /// The step.
        step: String,
        /// The source.
        path: PathBuf,
        /// Rows read before it failed.
        rows: u64,
        /// Why.
        #[source]
        source: Box<ReadError>,
    },
    /// The org's users (for owners by e-mail or name) could not be read.
    #[error("step {step}: reading the org's users (for its owners)")]
    Users {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// An import step's line items could not be read, indexed or reported.
    #[error("step {step}: line items")]
    Lines {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: Box<zcrm_pipeline::lines::LineError>,
    },
    /// An import step's sending failed.
    #[error("step {step}")]
    Import {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: BatchError,
    },
    /// An action step's call failed in a way a rerun may fix (the network, the CRM).
    #[error("step {step}")]
    Action {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// An action's answer was lost three times in a row: the row stays in flight, and the next
    /// run settles it before anything else.
    #[error(
        "step {step}: the answers to row {row}'s call were lost three times in a row; stopped (rerun: the row is settled first)"
    )]
    ActionInDoubt {
        /// The step.
        step: String,
        /// The source row.
        row: u64,
    },
    /// A report file (success file) could not be written.
    #[error("writing {}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An export step failed.
    #[error("step {step}")]
    Export {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: ExportError,
    },
    /// An undo found a payload whose outcome was never recorded.
    #[error(
        "step {step}: {payloads} payload(s) were sent by a run that did not record their outcome; run the pipeline again to settle them before undoing it"
    )]
    UndoInFlight {
        /// The step.
        step: String,
        /// In-flight payloads.
        payloads: usize,
    },
    /// A record could not be deleted.
    #[error("undo {step}: deleting record {id}")]
    Undo {
        /// The step.
        step: String,
        /// The record.
        id: zcrm_protocol::RecordId,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// `validate` could not finish.
    #[error(transparent)]
    Validate(#[from] zcrm_pipeline::ValidateError),
    /// An ad hoc export failed.
    #[error(transparent)]
    ExportModule(#[from] ExportError),
}

impl From<ReadError> for EngineError {
    fn from(e: ReadError) -> Self {
        Self::Read(Box::new(e))
    }
}
