//! CSV rows: header row, delimiter and quote options, UTF-8 (BOM or not), Windows-1252 and
//! Latin-1. Invalid UTF-8 is a problem of its row naming the byte offset; a multi-line quoted
//! record keeps the line where it starts.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::lines::LineTracker;
use crate::{Cells, ReadError, Row, RowPos};

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

/// A CSV file being read row by row.
pub(crate) struct CsvSource {
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read + Send>>,
    encoding: Encoding,
    record: ByteRecord,
    width: usize,
    rows: u64,
    bom: u64,
    lines: LineTracker,
    /// Byte offset (after any BOM) where the current record's first cell starts.
    start: u64,
}

fn strip_bom(mut file: File) -> std::io::Result<(Box<dyn Read + Send>, u64)> {
    let mut head = [0u8; 3];
    let mut n = 0;
    while n < 3 {
        let got = file.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    if n == 3 && head == [0xEF, 0xBB, 0xBF] {
        return Ok((Box::new(BufReader::with_capacity(1 << 16, file)), 3));
    }
    let prefix = Cursor::new(head[..n].to_vec());
    Ok((Box::new(prefix.chain(BufReader::with_capacity(1 << 16, file))), 0))
}

impl CsvSource {
    /// Opens `path` and reads up to and including the header; returns the header cells.
    pub(crate) fn open(path: &Path, opts: &CsvOptions) -> Result<(Self, Vec<String>), ReadError> {
        let io = |source| ReadError::Io { path: path.to_owned(), source };
        let file = File::open(path).map_err(io)?;
        let (input, bom) = strip_bom(file).map_err(io)?;
        let lines = LineTracker::default();
        let input: Box<dyn Read + Send> = Box::new(lines.wrap(input));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(opts.delimiter)
            .quote(opts.quote)
            .from_reader(input);
        let mut src = Self {
            path: path.to_owned(),
            reader,
            encoding: opts.encoding,
            record: ByteRecord::new(),
            width: 0,
            rows: 0,
            bom,
            lines,
            start: 0,
        };
        let header_row = opts.header_row.max(1);
        for _ in 0..header_row {
            if !src.read_record()? {
                return Err(ReadError::NoHeader { path: path.to_owned(), header_row });
            }
            src.locate();
        }
        let (cells, problem) = src.decode();
        if let Some(p) = problem {
            return Err(ReadError::BadHeader { path: path.to_owned(), message: p });
        }
        let header = cells.to_vec();
        src.width = header.len();
        Ok((src, header))
    }

    /// Reads the next record; returns false at the end.
    fn read_record(&mut self) -> Result<bool, ReadError> {
        let more = self.reader.read_byte_record(&mut self.record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            match e.into_kind() {
                csv::ErrorKind::Io(source) => ReadError::Io { path: self.path.clone(), source },
                other => {
                    ReadError::Csv { path: self.path.clone(), line, message: format!("{other:?}") }
                }
            }
        })?;
        Ok(more)
    }

    /// The current record's first byte and its 1-based line.
    fn locate(&mut self) -> (u64, u64) {
        let from = self.record.position().map_or(0, csv::Position::byte);
        let (start, line) = self.lines.record_start(from);
        self.start = start;
        (start, line)
    }

    /// Decodes the current record into cells, with a problem for bad bytes.
    fn decode(&self) -> (Cells, Option<String>) {
        let rec = &self.record;
        let mut cells = Cells::with_capacity(rec.len(), rec.as_slice().len());
        let mut problem = None;
        match self.encoding {
            Encoding::Utf8 if std::str::from_utf8(rec.as_slice()).is_ok() => {
                // Fast path: the whole record is valid UTF-8, so every field is.
                for field in rec.iter() {
                    cells.push(std::str::from_utf8(field).unwrap_or_default());
                }
            }
            Encoding::Utf8 => {
                for (i, field) in rec.iter().enumerate() {
                    match std::str::from_utf8(field) {
                        Ok(s) => cells.push(s),
                        Err(e) => {
                            let at = e.valid_up_to();
                            let start = self.start + self.bom;
                            let byte = field.get(at).copied().unwrap_or(0);
                            problem.get_or_insert_with(|| {
                                format!(
                                    "invalid UTF-8 byte 0x{byte:02X} in cell {} at byte {at} of the cell (the record starts at byte offset {start}); set encoding = \"windows-1252\" if the file is not UTF-8",
                                    i + 1
                                )
                            });
                            cells.push(&String::from_utf8_lossy(field));
                        }
                    }
                }
            }
            Encoding::Windows1252 => {
                for field in rec.iter() {
                    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(field);
                    cells.push(&text);
                }
            }
            Encoding::Latin1 => {
                for field in rec.iter() {
                    cells.push_chars(field.iter().map(|&b| char::from(b)));
                }
            }
        }
        (cells, problem)
    }

    /// Up to `max` more rows; an empty vector at the end of the file.
    pub(crate) fn next_rows(&mut self, max: usize) -> Result<Vec<Row>, ReadError> {
        let mut rows = Vec::with_capacity(max);
        while rows.len() < max && self.read_record()? {
            let (_, line) = self.locate();
            // A line with nothing on it is not a record.
            if self.record.len() == 1 && self.record.as_slice().is_empty() {
                continue;
            }
            self.rows += 1;
            let (mut cells, mut problem) = self.decode();
            let n = cells.len();
            if n != self.width {
                let msg = if n > self.width {
                    let extra: Vec<&str> = cells.iter().skip(self.width).collect();
                    format!(
                        "the row has {n} cells but the header has {} columns (extra cells: {:?})",
                        self.width, extra
                    )
                } else {
                    format!("the row has {n} cells but the header has {} columns", self.width)
                };
                problem = Some(problem.map_or(msg.clone(), |p| format!("{p}; {msg}")));
                cells.truncate(self.width);
                while cells.len() < self.width {
                    cells.push("");
                }
            }
            rows.push(Row { pos: RowPos { row: self.rows, line }, cells, problem });
        }
        Ok(rows)
    }
}
