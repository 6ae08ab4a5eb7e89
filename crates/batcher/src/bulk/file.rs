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

/// A chunk being written.
pub struct ChunkWriter {
    path: PathBuf,
    tmp: PathBuf,
    zip: zip::ZipWriter<BufWriter<File>>,
    rows: usize,
    bytes: u64,
    line: Vec<u8>,
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
        let mut w = Self { path: path.to_owned(), tmp, zip, rows: 0, bytes: 0, line: Vec::new() };
        w.write_record(header.iter().map(String::as_str))?;
        w.rows = 0;
        Ok(w)
    }

    /// Appends one row.
    pub fn push<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), BatchError> {
        self.write_record(cells)?;
        self.rows += 1;
        Ok(())
    }

    fn write_record<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), BatchError> {
        self.line.clear();
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            quote(&mut self.line, c);
        }
        self.line.extend_from_slice(b"\r\n");
        self.zip.write_all(&self.line).map_err(io(&self.tmp))?;
        self.bytes += self.line.len() as u64;
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

/// Appends `cell` as a CSV field: quoted when it holds a comma, a quote or a line break, or
/// starts or ends with a space; quotes doubled.
fn quote(out: &mut Vec<u8>, cell: &str) {
    let needs = !cell.is_empty()
        && (cell.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
            || cell.starts_with(' ')
            || cell.ends_with(' '));
    if !needs {
        out.extend_from_slice(cell.as_bytes());
        return;
    }
    out.push(b'"');
    for b in cell.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// The bytes a row of `cells` takes in the CSV (for [`ChunkWriter::full`]).
pub fn row_bytes<'a>(cells: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut v = Vec::new();
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            v.push(b',');
        }
        quote(&mut v, c);
    }
    v.len() as u64 + 2
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
        w.push(["O\"Neil, Jr", "two\nlines"]).unwrap();
        w.push(["", " padded "]).unwrap();
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
        assert!(!w.full(2, 10));
        w.push(["a"]).unwrap();
        w.push(["b"]).unwrap();
        assert!(w.full(2, 10));
        assert!(!w.full(3, 10));
        assert!(
            w.full(3, MAX_CSV_BYTES),
            "a row that would pass the byte limit starts a new chunk"
        );
        assert_eq!(row_bytes(["a,b", "c"]), 9);
    }
}
