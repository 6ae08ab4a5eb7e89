//! Sources of rows for imports: CSV (split in place with the csv crate's grammar; UTF-8 with or
//! without BOM, Windows-1252 or Latin-1) and XLSX (calamine's streaming cell reader), read on
//! their own thread into bounded blocks of rows ([`RawBlock`], decoded into a [`Block`] by the
//! consumer) or [`Chunk`]s of owned [`Row`]s, each row carrying its position in the source.
//!
//! Memory does not grow with the file: at most a few chunks are in flight at any time, and
//! every part of a workbook is checked against limits (a cell, a row, the shared strings, one
//! part) before calamine, which has none, reads it.
//! Bad bytes or ragged rows are problems of that row ([`Row::problem`]), never a crash and
//! never a lost row.

mod block;
mod cells;
mod csv_source;
mod error;
mod excel;
mod numfmt;
mod open;
mod row;
mod split;
mod xlsx_gate;
mod xlsx_scan;
mod xlsx_source;

pub use block::{Block, RawBlock, RowRef};
pub use cells::Cells;
pub use csv_source::{CsvOptions, Encoding};
pub use error::ReadError;
pub use excel::{excel_serial_to_date, render_number};
pub use open::{Blocks, RowReader, SourceKind, SourceOptions, open};
pub use row::{Chunk, Row, RowPos, SourceInfo};
pub use xlsx_source::{SheetRef, XlsxOptions};

/// Rows per chunk unless a caller asks for another size.
pub const DEFAULT_CHUNK_ROWS: usize = 2048;
/// Chunks the reader thread may hold ready before it waits for the consumer.
pub const CHANNEL_CHUNKS: usize = 4;
