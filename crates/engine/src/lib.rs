//! A pipeline run as a library, between the configuration (`zcrm-pipeline`) and the front end
//! (the `zcrm` binary, which keeps the command line, bars, tables and exit codes).
//!
//! - [`prepare`] loads a pipeline and gets everything ready before anything is sent: the
//!   connection, the journal, each import step's source opened and its mapping compiled once
//!   against its module's metadata; every problem of every step is reported together.
//! - [`execute`] runs the prepared steps one at a time, telling an [`Observer`] what happens
//!   (the binary draws bars and log lines from it).
//! - [`plan`] counts what a run would send and spend, without sending anything; [`validate`]
//!   checks every row locally and writes the reject files; [`undo`] deletes what the runs
//!   created.
//!
//! A new step kind is a module here (its preparation in [`prepare`], its execution in
//! [`execute`]); a new wire dialect lives behind the client's API seam and needs nothing here.

mod action;
mod error;
mod execute;
mod export;
mod import;
mod method;
mod observer;
mod owners;
mod plan;
mod prepare;
mod state;
mod undo;
mod validate;

pub use action::CompiledAction;
pub use error::EngineError;
pub use execute::{RunOptions, RunResult, StepSummary, Stop, execute};
pub use export::{
    BULK_READ_BREAK_EVEN, ExportChoice, attachments_note, choose as choose_export, export_module,
};
pub use method::{MethodChoice, choose};
pub use observer::{ExportObserver, ImportObserver, Observer, Silent};
pub use plan::{Plan, PlannedStep, plan};
pub use prepare::{CompiledImport, JournalAccess, Prepared, PreparedStep, prepare};
pub use state::{bulk_dir, consumer, journal_path};
pub use undo::{UndoPlan, UndoResult, UndoStep, undo};
pub use validate::validate;
