//! XLSX rows through calamine's streaming cell reader (never the whole-sheet range): cells
//! arrive in document order and rows are assembled here, gaps filled with empty cells.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use calamine::{DataRef, Reader, Xlsx, open_workbook};

use crate::block::{BlockBuilder, FLUSH_BYTES};
use crate::excel::{excel_serial_to_date, push_number};
use crate::{RawBlock, ReadError, RowPos, SourceInfo};

/// Which sheet of a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetRef {
    /// By name.
    Name(String),
    /// By 1-based position.
    Index(usize),
}

/// How to read an XLSX file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XlsxOptions {
    /// The sheet (default: the first).
    pub sheet: Option<SheetRef>,
    /// 1-based sheet row of the header (default: the first row that has a cell).
    pub header_row: Option<u64>,
}

/// Appends one cell's text to `out`; returns a problem when the cell holds an Excel error.
fn render(value: &DataRef<'_>, out: &mut String) -> Option<String> {
    use std::fmt::Write;
    match value {
        DataRef::Int(i) => {
            let _ = write!(out, "{i}");
        }
        DataRef::Float(f) => push_number(*f, out),
        DataRef::String(s) => out.push_str(s),
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        DataRef::DateTime(dt) if dt.is_datetime() => match excel_serial_to_date(dt.as_f64()) {
            Some((y, m, d, 0)) => {
                let _ = write!(out, "{y:04}-{m:02}-{d:02}");
            }
            Some((y, m, d, s)) => {
                let (h, mi, se) = (s / 3600, s / 60 % 60, s % 60);
                let _ = write!(out, "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{se:02}");
            }
            None => push_number(dt.as_f64(), out),
        },
        DataRef::DateTime(dt) => push_number(dt.as_f64(), out),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => out.push_str(s),
        DataRef::Error(e) => {
            let _ = write!(out, "{e}");
            return Some(format!("the cell holds the Excel error {e}"));
        }
        DataRef::Empty => {}
    }
    None
}

fn column_name(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// Where the header (and the sheet's name) is sent.
type HeaderTx = SyncSender<Result<(Vec<String>, String), ReadError>>;

/// The sheet row being assembled from its cells: their text back to back in one buffer.
#[derive(Default)]
struct Pending {
    sheet_row: u32,
    text: String,
    /// `(column, start, end)` of each cell in `text`, in arrival order.
    cells: Vec<(u32, usize, usize)>,
    problems: Vec<String>,
}

impl Pending {
    fn cell(&self, k: usize) -> (u32, &str) {
        let (c, a, b) = self.cells.get(k).copied().unwrap_or((0, 0, 0));
        (c, self.text.get(a..b).unwrap_or(""))
    }

    fn clear(&mut self, sheet_row: u32) {
        self.sheet_row = sheet_row;
        self.text.clear();
        self.cells.clear();
        self.problems.clear();
    }
}

/// Reads the whole sheet on the calling thread, sending the header first through `header`
/// and then blocks of `chunk_rows` rows through `tx`.
pub(crate) fn read_sheet(
    path: &Path,
    opts: &XlsxOptions,
    chunk_rows: usize,
    header: HeaderTx,
    tx: SyncSender<Result<RawBlock, ReadError>>,
) {
    let xerr = |e: &dyn std::fmt::Display| ReadError::Xlsx {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut wb: Xlsx<_> = match open_workbook(path) {
        Ok(wb) => wb,
        Err(e) => {
            let _ = header.send(Err(xerr(&e)));
            return;
        }
    };
    let names = wb.sheet_names();
    let name = match &opts.sheet {
        None => names.first().cloned(),
        Some(SheetRef::Name(n)) => names.iter().find(|s| *s == n).cloned(),
        Some(SheetRef::Index(i)) => i.checked_sub(1).and_then(|i| names.get(i)).cloned(),
    };
    let Some(name) = name else {
        let wanted = match &opts.sheet {
            Some(SheetRef::Name(n)) => format!("{n:?}"),
            Some(SheetRef::Index(i)) => format!("number {i}"),
            None => "at all".to_owned(),
        };
        let _ = header.send(Err(ReadError::NoSheet {
            path: path.to_owned(),
            wanted,
            available: names.clone(),
        }));
        return;
    };
    let source = Arc::new(SourceInfo { path: path.to_owned(), sheet: Some(name.clone()) });
    let mut reader = match wb.worksheet_cells_reader(&name) {
        Ok(r) => r,
        Err(e) => {
            let _ = header.send(Err(xerr(&e)));
            return;
        }
    };
    let mut sheet = Sheet {
        path,
        opts,
        name: &name,
        header: Some(header),
        width: 0,
        records: 0,
        seq: 0,
        block: BlockBuilder::new(0, 0),
        chunk_rows,
        source,
        tx,
    };
    let mut pending = Pending::default();
    let mut started = false;
    loop {
        let cell = match reader.next_cell() {
            Ok(c) => c,
            Err(e) => {
                let err = xerr(&e);
                match sheet.header.take() {
                    Some(h) => drop(h.send(Err(err))),
                    None => drop(sheet.tx.send(Err(err))),
                }
                return;
            }
        };
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        if started && pending.sheet_row != r {
            if !sheet.finish(&mut pending) {
                return;
            }
            pending.clear(r);
        } else if !started {
            pending.clear(r);
            started = true;
        }
        let from = pending.text.len();
        if let Some(problem) = render(cell.get_value(), &mut pending.text) {
            pending.problems.push(format!("{}{}: {problem}", column_name(c), r + 1));
        }
        pending.cells.push((c, from, pending.text.len()));
    }
    if started && !sheet.finish(&mut pending) {
        return;
    }
    if let Some(h) = sheet.header.take() {
        let _ = h.send(Err(ReadError::NoHeader {
            path: path.to_owned(),
            header_row: opts.header_row.unwrap_or(1),
        }));
        return;
    }
    if sheet.block.len() > 0 {
        let b = sheet.block.take_text(sheet.seq, &sheet.source);
        let _ = sheet.tx.send(Ok(b));
    }
}

/// The state of a sheet being read: the header until it is found, then the rows.
struct Sheet<'a> {
    path: &'a Path,
    opts: &'a XlsxOptions,
    name: &'a str,
    header: Option<HeaderTx>,
    width: usize,
    records: u64,
    seq: u64,
    block: BlockBuilder,
    chunk_rows: usize,
    source: Arc<SourceInfo>,
    tx: SyncSender<Result<RawBlock, ReadError>>,
}

impl Sheet<'_> {
    /// Turns a finished sheet row into the header or a data row (sending full blocks); false
    /// when the consumer left or the header is missing.
    fn finish(&mut self, p: &mut Pending) -> bool {
        if let Some(htx) = self.header.take() {
            let wanted = self.opts.header_row.map(|r| r.saturating_sub(1));
            if wanted.is_some_and(|w| u64::from(p.sheet_row) < w) {
                self.header = Some(htx);
                return true;
            }
            if wanted.is_some_and(|w| u64::from(p.sheet_row) > w) {
                let _ = htx.send(Err(ReadError::NoHeader {
                    path: self.path.to_owned(),
                    header_row: self.opts.header_row.unwrap_or(1),
                }));
                return false;
            }
            let n = p.cells.iter().map(|(c, _, _)| *c as usize + 1).max().unwrap_or(0);
            let mut names = vec![String::new(); n];
            for k in 0..p.cells.len() {
                let (c, v) = p.cell(k);
                if let Some(slot) = names.get_mut(c as usize) {
                    *slot = v.to_owned();
                }
            }
            while names.last().is_some_and(String::is_empty) {
                names.pop();
            }
            self.width = names.len();
            self.block = BlockBuilder::new(self.width, self.chunk_rows);
            return htx.send(Ok((names, self.name.to_owned()))).is_ok();
        }
        if p.cells.iter().all(|(_, a, b)| a == b) && p.problems.is_empty() {
            return true;
        }
        self.records += 1;
        // Cells normally arrive in column order; sort the rare row that does not.
        if p.cells.windows(2).any(|w| w.first().map(|x| x.0) >= w.get(1).map(|x| x.0)) {
            p.cells.sort_by_key(|(c, _, _)| *c);
        }
        let width = self.width as u32;
        let extra: Vec<String> = (0..p.cells.len())
            .map(|k| p.cell(k))
            .filter(|(c, v)| *c >= width && !v.is_empty())
            .map(|(c, v)| format!("{}{}={v:?}", column_name(c), p.sheet_row + 1))
            .collect();
        if !extra.is_empty() {
            p.problems.push(format!("cells beyond the header's columns: {}", extra.join(", ")));
        }
        let problem = (!p.problems.is_empty()).then(|| p.problems.join("; "));
        let pos = RowPos { row: self.records, line: u64::from(p.sheet_row) + 1 };
        let cells = (0..p.cells.len()).map(|k| {
            let (c, v) = p.cell(k);
            (c as usize, v)
        });
        self.block.push_text_row(pos, cells, problem);
        if self.block.len() >= self.chunk_rows || self.block.text_len() >= FLUSH_BYTES {
            let b = self.block.take_text(self.seq, &self.source);
            self.seq += 1;
            if self.tx.send(Ok(b)).is_err() {
                return false;
            }
        }
        true
    }
}
