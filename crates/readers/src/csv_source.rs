//! CSV rows: header row, delimiter and quote options, UTF-8 (BOM or not), Windows-1252 and
//! Latin-1. Invalid UTF-8 is a problem of its row naming the byte offset; a multi-line quoted
//! record keeps the line where it starts.
//!
//! The file is read straight into a block's buffer and split there (`split.rs`): cells are
//! spans of the bytes as read, so the reader thread neither copies nor decodes them, and as it
//! sees every line break it knows each record's first byte and line exactly.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::block::{
    BlockBuilder, FLUSH_BYTES, MAX_RECORD_BYTES, RawBlock, cell_bytes, decode_cell, utf8_problem,
};
use crate::split::{MAX_QUOTED_BYTES, Span, Split, Splitter};
use crate::{ReadError, RowPos, SourceInfo};

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark (the default).
    #[default]
    Utf8,
    /// Windows-1252 (what Excel on Windows writes as "CSV").
    Windows1252,
    /// ISO-8859-1: every byte is the code point of the same number.
    Latin1,
}

impl Encoding {
    /// Parses `utf-8`, `windows-1252` (or `cp1252`), `latin-1` (or `iso-8859-1`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "windows-1252" | "cp1252" => Some(Self::Windows1252),
            "latin-1" | "latin1" | "iso-8859-1" => Some(Self::Latin1),
            _ => None,
        }
    }
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field delimiter (default `,`).
    pub delimiter: u8,
    /// Quote character (default `"`).
    pub quote: u8,
    /// Text encoding.
    pub encoding: Encoding,
    /// 1-based record number of the header (default 1); records before it are skipped.
    pub header_row: u64,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self { delimiter: b',', quote: b'"', encoding: Encoding::Utf8, header_row: 1 }
    }
}

/// Bytes read from the file at a time.
const READ_BYTES: usize = 256 << 10;

/// A CSV file being read record by record.
pub(crate) struct CsvSource {
    path: PathBuf,
    file: File,
    split: Splitter,
    encoding: Encoding,
    /// Bytes read and not yet handed on in a block; records are split in place.
    buf: Vec<u8>,
    /// Where the next record (or the line breaks before it) starts in `buf`.
    at: usize,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    /// Line feeds before `buf[at]`.
    lines: u64,
    width: usize,
    rows: u64,
    /// The current record's cells.
    cells: Vec<Span>,
    block: BlockBuilder,
    seq: u64,
    /// Bytes to read at a time (smaller in tests).
    read_bytes: usize,
    /// An error met after rows of the current block: reported once they are handed on.
    failed: Option<ReadError>,
}

/// One record split into `CsvSource::cells`.
struct Record {
    /// Byte offset in the file of its first byte.
    start: u64,
    /// 1-based line of its first byte.
    line: u64,
    /// Line feeds inside it (in quoted cells).
    inner: u64,
    /// Its length in bytes.
    len: usize,
}

impl CsvSource {
    /// Opens `path` and reads up to and including the header; returns the header cells.
    pub(crate) fn open(path: &Path, opts: &CsvOptions) -> Result<(Self, Vec<String>), ReadError> {
        Self::open_with(path, opts, READ_BYTES)
    }

    /// [`CsvSource::open`] reading `read_bytes` at a time.
    pub(crate) fn open_with(
        path: &Path,
        opts: &CsvOptions,
        read_bytes: usize,
    ) -> Result<(Self, Vec<String>), ReadError> {
        let io = |source| ReadError::Io { path: path.to_owned(), source };
        let file = File::open(path).map_err(io)?;
        let mut src = Self {
            path: path.to_owned(),
            file,
            split: Splitter::new(opts.delimiter, opts.quote),
            encoding: opts.encoding,
            buf: Vec::with_capacity(read_bytes),
            at: 0,
            buf_offset: 0,
            eof: false,
            lines: 0,
            width: 0,
            rows: 0,
            cells: Vec::with_capacity(64),
            block: BlockBuilder::new(0, 0),
            seq: 0,
            read_bytes: read_bytes.max(1),
            failed: None,
        };
        // A UTF-8 byte-order mark is not part of the first column's name (nor is a second
        // one: the csv crate's parser drops one more, and this reader keeps its behaviour).
        for _ in 0..2 {
            while src.buf.len() < src.at + 3 && !src.eof {
                src.fill()?;
            }
            if src.buf.get(src.at..).is_some_and(|b| b.starts_with(b"\xEF\xBB\xBF")) {
                src.at += 3;
            } else {
                break;
            }
        }
        let header_row = opts.header_row.max(1);
        let mut header = None;
        for _ in 0..header_row {
            header = src.next_record()?;
            if header.is_none() {
                return Err(ReadError::NoHeader { path: path.to_owned(), header_row });
            }
        }
        let Some(rec) = header else {
            return Err(ReadError::NoHeader { path: path.to_owned(), header_row });
        };
        let mut names = Vec::with_capacity(src.cells.len());
        for (i, &span) in src.cells.iter().enumerate() {
            let cell = cell_bytes(&src.buf, &src.block.side, span);
            match src.encoding {
                Encoding::Utf8 => match std::str::from_utf8(cell) {
                    Ok(s) => names.push(s.to_owned()),
                    Err(e) => {
                        return Err(ReadError::BadHeader {
                            path: path.to_owned(),
                            message: utf8_problem(i, cell, &e, rec.start),
                        });
                    }
                },
                enc => names.push(decode_cell(cell, enc).into_owned()),
            }
        }
        src.width = names.len();
        src.block = BlockBuilder::new(src.width, 0);
        Ok((src, names))
    }

    /// Reads more of the file onto the end of `buf`.
    fn fill(&mut self) -> Result<(), ReadError> {
        let before = self.buf.len();
        let mut take = (&mut self.file).take(self.read_bytes as u64);
        loop {
            match take.read_to_end(&mut self.buf) {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ReadError::Io { path: self.path.clone(), source }),
            }
        }
        self.eof = self.buf.len() == before;
        self.split.reset();
        Ok(())
    }

    /// Splits the next record into `cells`; `None` at the end of the file.
    fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        loop {
            // Line breaks before a record (the previous one's terminator, blank lines).
            let rest = self.buf.get(self.at..).unwrap_or_default();
            let n = rest.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            self.lines += rest.iter().take(n).filter(|&&b| b == b'\n').count() as u64;
            self.at += n;
            if self.at == self.buf.len() {
                if self.eof {
                    return Ok(None);
                }
                self.fill()?;
                continue;
            }
            self.cells.clear();
            let side = self.block.side.len();
            let mut inner = 0;
            match self.split.record(
                &self.buf,
                self.at,
                self.eof,
                &mut self.cells,
                &mut self.block.side,
                &mut inner,
            ) {
                Split::Record(end) => {
                    let rec = Record {
                        start: self.buf_offset + self.at as u64,
                        line: self.lines + 1,
                        inner,
                        len: end - self.at,
                    };
                    self.lines += inner;
                    self.at = end;
                    return Ok(Some(rec));
                }
                Split::More => {
                    self.block.side.truncate(side);
                    if self.buf.len() - self.at > MAX_RECORD_BYTES {
                        return Err(ReadError::Csv {
                            path: self.path.clone(),
                            line: self.lines + 1,
                            message: format!(
                                "a record of more than {} MiB (is the quote character right?)",
                                MAX_RECORD_BYTES >> 20
                            ),
                        });
                    }
                    self.fill()?;
                }
                Split::Unclosed(quote) => {
                    self.block.side.truncate(side);
                    let line = self.line_of(quote);
                    let after = self.lines + 1 + self.newlines(self.at, self.buf.len()) - line;
                    return Err(self.quote_error(
                        quote,
                        format!(
                            "the quote that opens a cell here is never closed: the file ends inside the cell, {after} line(s) further on"
                        ),
                    ));
                }
                Split::TooLong(quote) => {
                    self.block.side.truncate(side);
                    return Err(self.quote_error(
                        quote,
                        format!(
                            "the quoted cell that opens here runs past {} MiB, the most a quoted cell may hold: is its closing quote missing?",
                            MAX_QUOTED_BYTES >> 20
                        ),
                    ));
                }
            }
        }
    }

    /// Line feeds in `buf[from..to]`.
    fn newlines(&self, from: usize, to: usize) -> u64 {
        self.buf.get(from..to).unwrap_or_default().iter().filter(|&&b| b == b'\n').count() as u64
    }

    /// The 1-based line of `buf[pos]`, `pos` in the record that starts at `at`.
    fn line_of(&self, pos: usize) -> u64 {
        self.lines + 1 + self.newlines(self.at, pos)
    }

    /// The error of a quoted cell opened at `buf[quote]` that cannot be read.
    fn quote_error(&self, quote: usize, what: String) -> ReadError {
        let record = self.lines + 1;
        let line = self.line_of(quote);
        let start = if line == record {
            String::new()
        } else {
            format!(" (in the record that starts on line {record})")
        };
        ReadError::Csv {
            path: self.path.clone(),
            line,
            message: format!("{what}{start}; the rows from this record on were not read"),
        }
    }

    /// Up to `max` more rows as one block; `None` at the end of the file.
    pub(crate) fn next_block(
        &mut self,
        max: usize,
        source: &Arc<SourceInfo>,
    ) -> Result<Option<RawBlock>, ReadError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        while self.block.len() < max && self.at + self.block.side.len() < FLUSH_BYTES {
            let rec = match self.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                // The rows before the error are handed on first.
                Err(e) if self.block.len() > 0 => {
                    self.failed = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            };
            // A line with nothing on it is not a record.
            if self.cells.len() == 1 && self.cells.first().is_some_and(|&(a, b)| a == b) {
                continue;
            }
            self.rows += 1;
            let stray = self.split.stray.map(|(cell, quote)| {
                format!(
                    "cell {}: text follows the closing quote on line {}: a quote inside a quoted cell must be doubled (\"\"), or this quote closes one opened on an earlier line",
                    cell + 1,
                    rec.line + self.newlines(self.at - rec.len, quote)
                )
            });
            self.block.push_record(
                RowPos { row: self.rows, line: rec.line },
                rec.start,
                rec.inner,
                stray,
                &self.buf,
                &self.cells,
                self.encoding,
            );
        }
        if self.block.len() == 0 {
            return Ok(None);
        }
        // The bytes after the last record go on to the next block's buffer.
        let mut next = Vec::with_capacity(self.buf.capacity().max(self.read_bytes));
        next.extend_from_slice(self.buf.get(self.at..).unwrap_or_default());
        let mut data = std::mem::replace(&mut self.buf, next);
        data.truncate(self.at);
        self.buf_offset += self.at as u64;
        self.at = 0;
        self.split.reset();
        let b = self.block.take_bytes(self.seq, source, data, self.encoding);
        self.seq += 1;
        Ok(Some(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What csv-core (the csv crate's parser) makes of `input`: each record's cells, its
    /// first byte and line, blank records dropped as the reader drops them.
    fn oracle(input: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, u64, u64)> {
        let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut out = Vec::new();
        let mut at = 0usize;
        // The reader this one replaces dropped one byte-order mark, and csv-core one more.
        if input.starts_with(b"\xEF\xBB\xBF") {
            at += 3;
        }
        let mut rec = vec![0u8; input.len() + 1];
        let mut ends = vec![0usize; input.len() + 2];
        loop {
            let mut start = at;
            while input.get(start).is_some_and(|&b| b == b'\r' || b == b'\n') {
                start += 1;
            }
            let line = 1 + input.iter().take(start).filter(|&&b| b == b'\n').count() as u64;
            let rest = input.get(at..).unwrap_or_default();
            let (res, nin, _, nend) = rdr.read_record(rest, &mut rec, &mut ends);
            at += nin;
            let (res, nend) = if res == csv_core::ReadRecordResult::InputEmpty {
                let (r, _, _, n2) = rdr.read_record(&[], &mut rec, &mut ends[nend..]);
                (r, nend + n2)
            } else {
                (res, nend)
            };
            match res {
                csv_core::ReadRecordResult::Record => {
                    let mut cells = Vec::new();
                    let mut from = 0;
                    for &e in &ends[..nend] {
                        cells.push(rec[from..e].to_vec());
                        from = e;
                    }
                    // The header is taken whatever it holds.
                    if out.is_empty() || !(cells.len() == 1 && cells[0].is_empty()) {
                        out.push((cells, start as u64, line));
                    }
                }
                csv_core::ReadRecordResult::End => return out,
                other => panic!("{other:?}"),
            }
        }
    }

    type Records = Vec<(Vec<Vec<u8>>, u64, u64)>;

    /// The records this reader splits `input` into, and the error that stopped it.
    fn split_all(input: &[u8], delimiter: u8, read: usize) -> (Records, Option<String>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        // A header of one cell that the oracle also sees as its first record.
        std::fs::write(&p, input).unwrap();
        let opts = CsvOptions { delimiter, ..CsvOptions::default() };
        let mut out = Vec::new();
        let (mut src, header) = match CsvSource::open_with(&p, &opts, read) {
            Ok(x) => x,
            Err(ReadError::NoHeader { .. }) => return (out, None),
            Err(e) => return (out, Some(e.to_string())),
        };
        let first = src.block.len();
        assert_eq!(first, 0);
        let header_rec = header.iter().map(|h| h.as_bytes().to_vec()).collect::<Vec<_>>();
        out.push((header_rec, 0, 0));
        // Every data record with as many cells as it has: a header as wide as the widest.
        src.width = 64;
        src.block = BlockBuilder::new(64, 0);
        let source = Arc::new(SourceInfo { path: p.clone(), sheet: None });
        loop {
            let b = match src.next_block(3, &source) {
                Ok(Some(b)) => b,
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e.to_string())),
            };
            for (pos, start, problem, cells) in b.raw_rows() {
                let n = problem
                    .and_then(|p| p.split("has ").nth(1)?.split(' ').next()?.parse().ok())
                    .unwrap_or(64);
                out.push((cells.into_iter().take(n).collect(), start, pos.line));
            }
        }
    }

    /// `got` (this reader's records) against `want` (csv-core's).
    fn same(got: &Records, want: &Records) -> Result<(), TestCaseError> {
        if want.is_empty() {
            prop_assert!(got.is_empty());
        } else {
            // The header: cells only (its position is not reported).
            let text = |r: &Records| -> Vec<String> {
                r[0].0.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect()
            };
            prop_assert_eq!(text(got), text(want));
            prop_assert_eq!(&got[1..], &want[1..]);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn splits_like_csv_core(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(&b"a"[..]), Just(&b"bc"[..]), Just(&b","[..]), Just(&b";"[..]),
                    Just(&b"\""[..]), Just(&b"\"\""[..]), Just(&b"\r"[..]), Just(&b"\n"[..]),
                    Just(&b"\r\n"[..]), Just(&b"\xC3\xA9"[..]), Just(&b"\xE9"[..]),
                    Just(&b"\xEF\xBB\xBF"[..]), Just(&b" "[..]),
                ],
                0..80,
            ),
            read in prop_oneof![1usize..9, Just(1usize << 16)],
            semicolon in any::<bool>(),
        ) {
            let input: Vec<u8> = parts.concat();
            let d = if semicolon { b';' } else { b',' };
            let want = oracle(&input, d);
            // A header with bad bytes is refused (tested elsewhere).
            if want.first().is_some_and(|h| h.0.iter().any(|c| std::str::from_utf8(c).is_err())) {
                return Ok(());
            }
            let (got, err) = split_all(&input, d, read);
            let Some(err) = err else { return same(&got, &want) };
            // Where csv-core runs a quote that is never closed to the end of the input, this
            // reader stops with an error: with a closing quote appended both agree, and the
            // records read before the error are all but that last one (none when it is
            // blank once closed: `""` alone is no record).
            prop_assert!(err.contains("never closed"), "{}", err);
            let mut closed = input.clone();
            closed.push(b'"');
            let want = oracle(&closed, d);
            if want.first().is_some_and(|h| h.0.iter().any(|c| std::str::from_utf8(c).is_err())) {
                return Ok(());
            }
            let (all, none) = split_all(&closed, d, read);
            prop_assert_eq!(none, None);
            same(&all, &want)?;
            prop_assert!(all.starts_with(&got) && all.len() <= got.len() + 1, "{:?} {:?}", got, all);
        }
    }
}
