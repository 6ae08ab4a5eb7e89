//! Opening a source by its extension and reading it on a thread of its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use crate::csv_source::CsvSource;
use crate::xlsx_source::read_sheet;
use crate::{
    CHANNEL_CHUNKS, Chunk, CsvOptions, DEFAULT_CHUNK_ROWS, RawBlock, ReadError, SourceInfo,
    XlsxOptions,
};

/// The kind of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Delimited text.
    Csv,
    /// An Office Open XML workbook.
    Xlsx,
}

impl SourceKind {
    /// The kind of `path`, from its extension.
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(Self::Csv),
            "xlsx" | "xlsm" => Some(Self::Xlsx),
            _ => None,
        }
    }
}

/// Everything a source may be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOptions {
    /// CSV options (ignored for XLSX).
    pub csv: CsvOptions,
    /// XLSX options (ignored for CSV).
    pub xlsx: XlsxOptions,
    /// Rows per chunk.
    pub chunk_rows: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            csv: CsvOptions::default(),
            xlsx: XlsxOptions::default(),
            chunk_rows: DEFAULT_CHUNK_ROWS,
        }
    }
}

/// An open source: its header, and its rows in chunks, read on a thread.
///
/// As an iterator it hands out [`Chunk`]s of owned rows; [`RowReader::blocks`] hands out the
/// reader thread's [`RawBlock`]s instead, for consumers that decode them on their own threads
/// (see `zcrm_mapping::map_blocks`). At most [`CHANNEL_CHUNKS`] chunks wait for the consumer;
/// dropping the reader stops the thread.
pub struct RowReader {
    headers: Vec<String>,
    kind: SourceKind,
    source: Arc<SourceInfo>,
    rx: Option<Receiver<Result<RawBlock, ReadError>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RowReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReader").field("source", &self.source).finish_non_exhaustive()
    }
}

fn check_header(path: &Path, headers: &[String]) -> Result<(), ReadError> {
    let mut seen = std::collections::HashSet::new();
    for (i, h) in headers.iter().enumerate() {
        if !h.is_empty() && !seen.insert(h.as_str()) {
            return Err(ReadError::BadHeader {
                path: path.to_owned(),
                message: format!("column {} repeats the name {h:?}", i + 1),
            });
        }
    }
    Ok(())
}

/// Opens `path` (CSV or XLSX by extension) and reads its header.
pub fn open(path: &Path, opts: &SourceOptions) -> Result<RowReader, ReadError> {
    let kind =
        SourceKind::of(path).ok_or_else(|| ReadError::Unsupported { path: path.to_owned() })?;
    let chunk_rows = opts.chunk_rows.max(1);
    let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
    match kind {
        SourceKind::Csv => {
            let (mut src, headers) = CsvSource::open(path, &opts.csv)?;
            check_header(path, &headers)?;
            let source = Arc::new(SourceInfo { path: path.to_owned(), sheet: None });
            let info = source.clone();
            let thread = std::thread::Builder::new()
                .name("zcrm-csv-reader".into())
                .spawn(move || {
                    loop {
                        match src.next_block(chunk_rows, &info) {
                            Ok(None) => return,
                            Ok(Some(block)) => {
                                if tx.send(Ok(block)).is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                })
                .map_err(|source| ReadError::Io { path: path.to_owned(), source })?;
            Ok(RowReader { headers, kind, source, rx: Some(rx), thread: Some(thread) })
        }
        SourceKind::Xlsx => {
            let (htx, hrx) = sync_channel(1);
            let owned: PathBuf = path.to_owned();
            let xopts = opts.xlsx.clone();
            let thread = std::thread::Builder::new()
                .name("zcrm-xlsx-reader".into())
                .spawn(move || read_sheet(&owned, &xopts, chunk_rows, htx, tx))
                .map_err(|source| ReadError::Io { path: path.to_owned(), source })?;
            let (headers, sheet) =
                hrx.recv().map_err(|_| ReadError::Stopped { path: path.to_owned() })??;
            check_header(path, &headers)?;
            let source = Arc::new(SourceInfo { path: path.to_owned(), sheet: Some(sheet) });
            Ok(RowReader { headers, kind, source, rx: Some(rx), thread: Some(thread) })
        }
    }
}

impl RowReader {
    /// The header row's column names, as read.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// CSV or XLSX.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The file (and sheet).
    pub fn source(&self) -> &Arc<SourceInfo> {
        &self.source
    }
}

impl RowReader {
    /// The next block as the reader thread cut it (not decoded yet).
    pub fn next_block(&mut self) -> Option<Result<RawBlock, ReadError>> {
        let got = self.rx.as_ref()?.recv().ok();
        if got.is_none() {
            self.rx = None;
            if let Some(t) = self.thread.take()
                && t.join().is_err()
            {
                return Some(Err(ReadError::Stopped { path: self.source.path.clone() }));
            }
        }
        got
    }

    /// The rest of the source as raw blocks (decode each with [`RawBlock::decode`]).
    pub fn blocks(self) -> Blocks {
        Blocks(self)
    }
}

/// The blocks of a [`RowReader`] (see [`RowReader::blocks`]).
#[derive(Debug)]
pub struct Blocks(RowReader);

impl Blocks {
    /// The header row's column names, as read.
    pub fn headers(&self) -> &[String] {
        self.0.headers()
    }
}

impl Iterator for Blocks {
    type Item = Result<RawBlock, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_block()
    }
}

impl Iterator for RowReader {
    type Item = Result<Chunk, ReadError>;

    /// The next chunk of owned rows (decoded on the calling thread).
    fn next(&mut self) -> Option<Self::Item> {
        self.next_block().map(|b| b.map(|b| b.decode().into_chunk()))
    }
}

impl Drop for RowReader {
    fn drop(&mut self) {
        // Closing the channel first makes a blocked reader thread give up.
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
