//! Rows, their positions, and the chunks readers hand out.

use std::path::PathBuf;
use std::sync::Arc;

use crate::Cells;

/// Where a row came from, as the reject file reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowPos {
    /// 1-based data record number (`_row`; the header is not counted).
    pub row: u64,
    /// CSV: the file line where the record starts; XLSX: the 1-based sheet row (`_line`).
    pub line: u64,
}

/// One source row: its cells as read (aligned with the header) and what went wrong reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Position in the source.
    pub pos: RowPos,
    /// The cells, as many as the header has columns.
    pub cells: Cells,
    /// A problem found while reading (bad bytes, ragged row): the row must be rejected with it.
    pub problem: Option<String>,
}

/// The file (and sheet) a chunk was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// The file.
    pub path: PathBuf,
    /// The sheet, for XLSX.
    pub sheet: Option<String>,
}

/// A bounded run of consecutive rows, in source order.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// 0-based sequence number of the chunk in the source.
    pub seq: u64,
    /// Where the rows come from.
    pub source: Arc<SourceInfo>,
    /// The rows.
    pub rows: Vec<Row>,
}
