//! The heart of a migration: valid rows packed into full `version=4` payloads in source order,
//! every payload and row recorded in a journal before and after it is sent, in-doubt payloads
//! reconciled before anything else is sent, upserts planned for the fewest calls, and lookups
//! between steps resolved through the journal. Nothing is lost or sent twice.

pub mod actions;
pub mod bulk;
mod error;
pub mod fingerprint;
pub mod import;
pub mod journal;
pub mod plan;
pub mod reconcile;
pub mod report;
pub mod row;
pub mod source;
pub mod window;

pub use actions::{ActionCounts, ActionInFlight, ActionResult};
pub use bulk::{BulkSettings, Poll, run_bulk_import};
pub use error::BatchError;
pub use import::{
    ImportStep, MatchStrategy, Mode, StepReport, run_import, run_import_with_progress,
};
pub use journal::{Journal, KeyIds, SentValues, StepCounts};
pub use row::{Action, FieldInput, LineInput, PendingRow, RejectedRow};
