//! CSV output: a header of field labels, RFC 4180 quoting, UTF-8, and (on by default) a guard
//! against spreadsheet formula injection for text cells.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use zcrm_protocol::RecordsPage;

use crate::ExportError;
use crate::atomic::AtomicFile;
use crate::columns::ExportColumn;
use crate::sink::{Sink, cell_text, label_map, place};

/// Writes CSV.
pub struct CsvSink {
    out: csv::Writer<BufWriter<File>>,
    file: AtomicFile,
    cols: Vec<ExportColumn>,
    guard_formulas: bool,
    record: csv::StringRecord,
}

/// Whether a text cell would be read as a formula by a spreadsheet: it starts with one of
/// OWASP's trigger characters and is not merely number-like (a phone number such as
/// `+1 415 555 0100` or an amount such as `-12.50` cannot call anything, and is kept as is).
pub fn looks_like_formula(s: &str) -> bool {
    let number_like = s.chars().all(|c| c.is_ascii_digit() || " +-().,/".contains(c));
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number_like
}

impl CsvSink {
    /// Creates the file (under a temporary name) and writes the header.
    pub fn create(
        dest: &Path,
        cols: Vec<ExportColumn>,
        guard_formulas: bool,
    ) -> Result<Self, ExportError> {
        let (file, handle) = AtomicFile::create(dest)?;
        let mut out =
            csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(256 * 1024, handle));
        out.write_record(cols.iter().map(|c| c.label.as_str()))
            .map_err(|e| ExportError::io(dest, e))?;
        Ok(Self { out, file, cols, guard_formulas, record: csv::StringRecord::new() })
    }
}

impl Sink for CsvSink {
    fn write_page(&mut self, page: &RecordsPage<'_>, keep: &[bool]) -> Result<usize, ExportError> {
        let map = label_map(page, &self.cols);
        let mut slots = Vec::new();
        let mut n = 0;
        for (row, _) in page.rows.iter().zip(keep).filter(|(_, k)| **k) {
            place(row, &map, &mut slots, self.cols.len());
            self.record.clear();
            for (col, cell) in self.cols.iter().zip(&slots) {
                let text = cell_text(*cell).unwrap_or_default();
                if self.guard_formulas && col.kind.is_text() && looks_like_formula(&text) {
                    self.record.push_field(&format!("'{text}"));
                } else {
                    self.record.push_field(&text);
                }
            }
            self.out
                .write_record(&self.record)
                .map_err(|e| ExportError::io(self.file.dest(), e))?;
            n += 1;
        }
        Ok(n)
    }

    fn finish(self: Box<Self>) -> Result<PathBuf, ExportError> {
        let Self { out, file, .. } = *self;
        let buf = out.into_inner().map_err(|e| ExportError::io(file.dest(), e.error()))?;
        let handle = buf.into_inner().map_err(|e| ExportError::io(file.dest(), e.error()))?;
        file.commit(handle)
    }
}
