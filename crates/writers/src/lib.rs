//! Whole-module exports to typed Parquet and CSV: paged getRecords (200 a call), an Arrow schema
//! from `getFields`, incremental runs with a watermark and deleted ids, and files that appear
//! only when complete.

mod atomic;
pub mod attachments;
pub mod columns;
pub mod convert;
pub mod csv_sink;
mod deleted;
mod error;
pub mod export;
mod fetch;
mod filter;
pub mod options;
pub mod pages;
pub mod parquet_sink;
pub mod schema_change;
pub mod sink;
pub mod watermark;

pub use attachments::AttachmentsSummary;
pub use error::ExportError;
pub use export::{
    ExportSpec, ExportSummary, OutputFormat, Progress, ReadMethod, Since, export, parse_since,
};
pub use options::{ExportOptions, OnSchemaChange, RecordFilter};
pub use parquet_sink::Codec;
