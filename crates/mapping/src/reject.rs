//! The reject file (README): the source columns as read, then `_row`, `_line`, `_errors`.
//! Other stages (server-side rejects) append to the same file through this writer. Every cell,
//! the header's too, goes through the formula guard ([`zcrm_protocol::formula_guard`]).

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use zcrm_protocol::formula_guard::guard;

use crate::RejectedRow;

/// A reject file that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("reject file {path}: {message}")]
pub struct RejectWriterError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// Writes reject rows; the header is written when the file is new or empty.
pub struct RejectWriter {
    path: PathBuf,
    out: csv::Writer<BufWriter<File>>,
    width: usize,
    rows: u64,
}

impl std::fmt::Debug for RejectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectWriter").field("path", &self.path).field("rows", &self.rows).finish()
    }
}

impl RejectWriter {
    fn open(path: &Path, headers: &[String], append: bool) -> Result<Self, RejectWriterError> {
        let e =
            |m: std::io::Error| RejectWriterError { path: path.to_owned(), message: m.to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(e)?;
        }
        let file = if append {
            OpenOptions::new().create(true).append(true).open(path)
        } else {
            File::create(path)
        }
        .map_err(e)?;
        let empty = file.metadata().map_err(e)?.len() == 0;
        let mut w = Self {
            path: path.to_owned(),
            out: csv::WriterBuilder::new().flexible(false).from_writer(BufWriter::new(file)),
            width: headers.len(),
            rows: 0,
        };
        if empty {
            let header = headers.iter().map(String::as_str).chain(["_row", "_line", "_errors"]);
            let header: Vec<Cow<'_, str>> = header.map(guard).collect();
            w.out.write_record(header.iter().map(|c| c.as_bytes())).map_err(|x| w.err(x))?;
        }
        Ok(w)
    }

    /// Creates (or truncates) the reject file of a source with `headers`.
    pub fn create(path: &Path, headers: &[String]) -> Result<Self, RejectWriterError> {
        Self::open(path, headers, false)
    }

    /// Opens an existing reject file to append to (creates it with its header if missing).
    pub fn append(path: &Path, headers: &[String]) -> Result<Self, RejectWriterError> {
        Self::open(path, headers, true)
    }

    fn err(&self, e: impl std::fmt::Display) -> RejectWriterError {
        RejectWriterError { path: self.path.clone(), message: e.to_string() }
    }

    /// Writes one rejected row (cells padded or cut to the header's width), every cell guarded.
    pub fn write_parts<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
        row: u64,
        line: u64,
        errors: &str,
    ) -> Result<(), RejectWriterError> {
        let (r, l) = (row.to_string(), line.to_string());
        let padded = cells.into_iter().chain(std::iter::repeat("")).take(self.width);
        let mut record: Vec<Cow<'_, str>> = padded.map(guard).collect();
        record.extend([r.as_str(), l.as_str(), errors].map(guard));
        self.out.write_record(record.iter().map(|c| c.as_bytes())).map_err(|e| self.err(e))?;
        self.rows += 1;
        Ok(())
    }

    /// Writes a row rejected by the mapping.
    pub fn write(&mut self, r: &RejectedRow) -> Result<(), RejectWriterError> {
        self.write_parts(r.source.iter(), r.pos.row, r.pos.line, &r.errors_text())
    }

    /// Rows written by this writer.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes everything to the file.
    pub fn finish(mut self) -> Result<u64, RejectWriterError> {
        self.out.flush().map_err(|e| self.err(e))?;
        Ok(self.rows)
    }
}
