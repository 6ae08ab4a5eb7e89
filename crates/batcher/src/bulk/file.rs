//! A Bulk Write chunk on disk: the CSV (a header of API names, one row per source row, in
//! source order) deflated straight into a ZIP as rows come, never held in memory, under a
//! temporary name until it is sealed (synced and renamed).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use crate::error::BatchError;

/// Uncompressed CSV bytes a chunk holds at most: deflate never grows text beyond a few bytes per
/// 64 KiB block, so the ZIP stays under the 25 MB upload limit with room for its headers.
pub const MAX_CSV_BYTES: u64 = 24 * 1024 * 1024;

fn io(path: &Path) -> impl Fn(std::io::Error) -> BatchError + '_ {
    move |source| BatchError::BulkFile { path: path.to_owned(), source }
}

fn zip_err(path: &Path) -> impl Fn(zip::result::ZipError) -> BatchError + '_ {
    move |e| BatchError::BulkFile { path: path.to_owned(), source: std::io::Error::other(e) }
}

/// Rows as CSV lines, by the `csv` crate's writer: every field quoted, so that leading and
/// trailing spaces survive whatever reads the file; quotes doubled; lines end with CRLF.
pub struct LineEncoder {
    csv: csv::Writer<Vec<u8>>,
    /// Where the last line starts in the writer's buffer.
    start: usize,
}

/// The buffer a [`LineEncoder`] lets its lines pile up in before it starts a new one.
const LINES_BUFFER: usize = 1 << 20;

impl Default for LineEncoder {
    fn default() -> Self {
        let csv = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        Self { csv, start: 0 }
    }
}

impl LineEncoder {
    /// The line of `cells` (valid until the next call).
    pub fn line<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<&[u8], std::io::Error> {
        if self.csv.get_ref().len() > LINES_BUFFER {
            *self = Self::default();
        }
        self.start = self.csv.get_ref().len();
        self.csv.write_record(cells).map_err(std::io::Error::other)?;
        self.csv.flush()?;
        Ok(&self.csv.get_ref()[self.start..])
    }
}

/// A chunk being written.
pub struct ChunkWriter {
    path: PathBuf,
    tmp: PathBuf,
    zip: zip::ZipWriter<BufWriter<File>>,
    rows: usize,
    bytes: u64,
}

impl ChunkWriter {
    /// Starts the ZIP that will be `path` (written as `path.tmp` until sealed), its CSV named
    /// `csv_name`, with the header `header`.
    pub fn create(path: &Path, csv_name: &str, header: &[String]) -> Result<Self, BatchError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let mut zip = zip::ZipWriter::new(BufWriter::new(file));
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        zip.start_file(csv_name, opts).map_err(zip_err(&tmp))?;
        let mut w = Self { path: path.to_owned(), tmp, zip, rows: 0, bytes: 0 };
        let mut enc = LineEncoder::default();
        let head = enc.line(header.iter().map(String::as_str)).map_err(io(&w.tmp))?;
        w.write_line(head)?;
        Ok(w)
    }

    /// Appends one row, as [`LineEncoder::line`] wrote it.
    pub fn push(&mut self, line: &[u8]) -> Result<(), BatchError> {
        self.write_line(line)?;
        self.rows += 1;
        Ok(())
    }

    fn write_line(&mut self, line: &[u8]) -> Result<(), BatchError> {
        self.zip.write_all(line).map_err(io(&self.tmp))?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    /// Rows written.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether one more row of `next` bytes would pass `max_rows` or [`MAX_CSV_BYTES`].
    pub fn full(&self, max_rows: usize, next: u64) -> bool {
        self.rows >= max_rows || (self.rows > 0 && self.bytes + next > MAX_CSV_BYTES)
    }

    /// Finishes the ZIP, syncs it and gives it its name: the path.
    pub fn seal(self) -> Result<PathBuf, BatchError> {
        let Self { path, tmp, zip, .. } = self;
        let buf = zip.finish().map_err(zip_err(&tmp))?;
        let file = buf.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::io::Read;

    #[test]
    fn the_zip_holds_one_csv_that_reads_back_cell_for_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.zip");
        let header = vec!["Last_Name".to_owned(), "Description".to_owned()];
        let mut w = ChunkWriter::create(&path, "Leads.csv", &header).unwrap();
        let mut enc = LineEncoder::default();
        w.push(enc.line(["O\"Neil, Jr", "two\nlines"]).unwrap()).unwrap();
        w.push(enc.line(["", " padded "]).unwrap()).unwrap();
        assert_eq!(w.rows(), 2);
        assert!(!dir.path().join("c.zip").exists(), "a chunk has no final name before sealing");
        let sealed = w.seal().unwrap();
        assert!(!dir.path().join("c.zip.tmp").exists());
        let mut z = zip::ZipArchive::new(File::open(&sealed).unwrap()).unwrap();
        assert_eq!(z.len(), 1);
        let mut csv = String::new();
        z.by_index(0).unwrap().read_to_string(&mut csv).unwrap();
        let mut r = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
        assert_eq!(r.headers().unwrap(), vec!["Last_Name", "Description"]);
        let rows: Vec<Vec<String>> =
            r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect();
        assert_eq!(rows, vec![vec!["O\"Neil, Jr", "two\nlines"], vec!["", " padded "]]);
    }

    #[test]
    fn a_chunk_is_full_at_its_row_limit_or_near_the_byte_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::create(&dir.path().join("c.zip"), "x.csv", &["A".into()]).unwrap();
        let mut enc = LineEncoder::default();
        assert!(!w.full(2, 10));
        w.push(enc.line(["a"]).unwrap()).unwrap();
        w.push(enc.line(["b"]).unwrap()).unwrap();
        assert!(w.full(2, 10));
        assert!(!w.full(3, 10));
        assert!(
            w.full(3, MAX_CSV_BYTES),
            "a row that would pass the byte limit starts a new chunk"
        );
        assert_eq!(LineEncoder::default().line(["a,b", "c"]).unwrap(), b"\"a,b\",\"c\"\r\n");
    }
}
