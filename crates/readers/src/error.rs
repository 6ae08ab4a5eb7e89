//! Errors that stop reading a source (a bad row is not one of them: see `Row::problem`).

use std::path::PathBuf;

/// A source that cannot be read at all, or stopped being readable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSV structure is broken beyond one row.
    #[error("{path}: line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line where reading stopped.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// The workbook cannot be read.
    #[error("{path}: {message}")]
    Xlsx {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The sheet's XML is damaged part-way: the rows before the damage were handed on, the
    /// row it is in (or after) and the rest were not read.
    #[error(
        "{path}, sheet {sheet:?}: the sheet is damaged {}: rows from sheet row {row} on were not read ({message})",
        after.as_deref().map_or_else(|| "before its first cell".to_owned(), |c| format!("after cell {c}"))
    )]
    XlsxDamaged {
        /// The file.
        path: PathBuf,
        /// The sheet.
        sheet: String,
        /// The first sheet row (1-based) not read.
        row: u64,
        /// The last cell read whole (`Y1499`), if any.
        after: Option<String>,
        /// What calamine reported.
        message: String,
    },
    /// The workbook passes one of the limits that keep the reader's memory flat (what a
    /// cell, a row, the shared-strings table or one part may hold): nothing of it was read,
    /// or, when the limit is met part-way through the sheet, no row from that one on.
    #[error(
        "{path}{}{}: {message}",
        sheet.as_deref().map_or_else(String::new, |s| format!(", sheet {s:?}")),
        row.map_or_else(String::new, |r| format!(", sheet row {r}"))
    )]
    XlsxLimit {
        /// The file.
        path: PathBuf,
        /// The sheet, when the limit is met in it.
        sheet: Option<String>,
        /// The 1-based sheet row, when the limit is met in a row.
        row: Option<u64>,
        /// What passes which limit, and what was not read.
        message: String,
    },
    /// The sheet does not exist.
    #[error("{path}: no sheet {wanted} (sheets: {})", available.join(", "))]
    NoSheet {
        /// The file.
        path: PathBuf,
        /// The sheet asked for.
        wanted: String,
        /// The sheets the workbook has.
        available: Vec<String>,
    },
    /// The file has no header row.
    #[error("{path}: no header row (the file is empty before row {header_row})")]
    NoHeader {
        /// The file.
        path: PathBuf,
        /// The header row asked for.
        header_row: u64,
    },
    /// The header is unusable (an empty or repeated column name).
    #[error("{path}: header: {message}")]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file type is not CSV or XLSX.
    #[error("{path}: unsupported source type (expected .csv, .txt, .tsv or .xlsx)")]
    Unsupported {
        /// The file.
        path: PathBuf,
    },
    /// The reader thread ended without reporting.
    #[error("{path}: the reader stopped unexpectedly")]
    Stopped {
        /// The file.
        path: PathBuf,
    },
    /// Decoding or mapping a block of rows failed unexpectedly (its worker thread panicked):
    /// the blocks before it were handed on, its rows and the rest were not.
    #[error(
        "{path}{}: the rows{} were not processed: {cause}",
        sheet.as_deref().map_or_else(String::new, |s| format!(", sheet {s:?}")),
        row.map_or_else(String::new, |r| format!(" from row {r} on"))
    )]
    Worker {
        /// The file.
        path: PathBuf,
        /// The sheet, for XLSX.
        sheet: Option<String>,
        /// The block's first row (1-based data record number).
        row: Option<u64>,
        /// What the worker reported.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
}
