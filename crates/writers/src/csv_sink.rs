//! CSV output: a header of field labels, RFC 4180 quoting, UTF-8, and (on by default) a guard
//! against spreadsheet formula injection for every cell ([`zcrm_protocol::formula_guard`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use zcrm_protocol::RecordsPage;
use zcrm_protocol::formula_guard::guard;

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
        let header = cols.iter().map(|c| {
            if guard_formulas { guard(&c.label) } else { Cow::Borrowed(c.label.as_str()) }
        });
        out.write_record(header.collect::<Vec<_>>().iter().map(|c| c.as_bytes()))
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
            for cell in &slots {
                let text = cell_text(*cell).unwrap_or_default();
                if self.guard_formulas {
                    self.record.push_field(&guard(&text));
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
        let buf = out.into_inner().map_err(|e| ExportError::io(file.dest(), e.into_error()))?;
        let handle = buf.into_inner().map_err(|e| ExportError::io(file.dest(), e.into_error()))?;
        file.commit(handle)
    }
}
