//! Pipeline files (README): read in two steps — [`raw`] is what serde read (every unknown
//! key and mistyped value reported and left out, values keep their byte spans), then [`load`]
//! checks it into a typed [`Pipeline`] (and [`load`] the files it names), reporting every
//! problem at once as [`Diagnostic`]s with file, line and column. Also [`validate`] (every
//! source row of every import step read, mapped and checked locally, against module metadata
//! the caller provides through [`Metadata`]). The crate knows no server: connecting, and
//! starting the embedded emulator, belong to the front end.

pub mod action;
mod connection;
mod convert;
pub mod diag;
mod files;
pub mod lines;
mod load;
mod lookup_keys;
pub mod model;
pub mod raw;
pub mod tests;
pub mod validate;

pub use action::{
    ActionColumns, action_metadata_module, check_attachment, compile_action, offline_problems,
};
pub use diag::{Diagnostic, Diagnostics, SourceText};
pub use load::{LoadError, load, load_partial, load_str, unknown_module_hint};
pub use model::{
    ActionKind, ActionStep, Api, ConnectionSpec, ExportColumns, ExportMethod, ExportStep,
    ImportStep, LineItemSpans, LineItems, MaxRejects, Method, Mode, OAuthEnv, OnSchemaChange,
    Pipeline, PipelineTest, RecordRef, Step,
};
pub use tests::{TestOutcome, run_tests};
pub use validate::{
    Metadata, MetadataError, StepSummary, ValidateError, compile_step, load_checked, validate,
};
