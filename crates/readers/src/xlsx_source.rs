//! XLSX rows through calamine's streaming cell reader (never the whole-sheet range): cells
//! arrive in document order and rows are assembled here, gaps filled with empty cells.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use calamine::{DataRef, Reader, Xlsx, open_workbook};

use crate::excel::{excel_serial_to_date, render_number};
use crate::{Cells, Chunk, ReadError, Row, RowPos, SourceInfo};

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

/// Renders one cell; returns the text and a problem when the cell holds an Excel error.
fn render(value: &DataRef<'_>) -> (String, Option<String>) {
    match value {
        DataRef::Int(i) => (i.to_string(), None),
        DataRef::Float(f) => (render_number(*f), None),
        DataRef::String(s) => (s.clone(), None),
        DataRef::SharedString(s) => ((*s).to_owned(), None),
        DataRef::Bool(b) => ((if *b { "true" } else { "false" }).to_owned(), None),
        DataRef::DateTime(dt) if dt.is_datetime() => match excel_serial_to_date(dt.as_f64()) {
            Some((y, m, d, 0)) => (format!("{y:04}-{m:02}-{d:02}"), None),
            Some((y, m, d, s)) => (
                format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
                None,
            ),
            None => (render_number(dt.as_f64()), None),
        },
        DataRef::DateTime(dt) => (render_number(dt.as_f64()), None),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => (s.clone(), None),
        DataRef::Error(e) => (e.to_string(), Some(format!("the cell holds the Excel error {e}"))),
        DataRef::Empty => (String::new(), None),
    }
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

/// A row being assembled from its cells.
struct Pending {
    sheet_row: u32,
    cells: Vec<(u32, String)>,
    problems: Vec<String>,
}

/// Reads the whole sheet on the calling thread, sending the header first through `header`
/// and then chunks of `chunk_rows` rows through `tx`.
pub(crate) fn read_sheet(
    path: &Path,
    opts: &XlsxOptions,
    chunk_rows: usize,
    header: HeaderTx,
    tx: SyncSender<Result<Chunk, ReadError>>,
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
    let mut header_tx = Some(header);
    let mut width = 0usize;
    let mut records = 0u64;
    let mut seq = 0u64;
    let mut rows: Vec<Row> = Vec::with_capacity(chunk_rows);
    let mut pending: Option<Pending> = None;

    // Turns a finished sheet row into the header or a data row; false when the consumer left.
    let finish = |p: Pending,
                  header_tx: &mut Option<HeaderTx>,
                  width: &mut usize,
                  records: &mut u64,
                  rows: &mut Vec<Row>|
     -> bool {
        if let Some(htx) = header_tx.take() {
            let wanted = opts.header_row.map(|r| r.saturating_sub(1));
            if wanted.is_some_and(|w| u64::from(p.sheet_row) < w) {
                *header_tx = Some(htx);
                return true;
            }
            if wanted.is_some_and(|w| u64::from(p.sheet_row) > w) {
                let _ = htx.send(Err(ReadError::NoHeader {
                    path: path.to_owned(),
                    header_row: opts.header_row.unwrap_or(1),
                }));
                return false;
            }
            let n = p.cells.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0);
            let mut names = vec![String::new(); n];
            for (c, v) in p.cells {
                names[c as usize] = v;
            }
            while names.last().is_some_and(String::is_empty) {
                names.pop();
            }
            *width = names.len();
            return htx.send(Ok((names, name.clone()))).is_ok();
        }
        if p.cells.iter().all(|(_, v)| v.is_empty()) && p.problems.is_empty() {
            return true;
        }
        *records += 1;
        let mut cells = Cells::with_capacity(*width, 64);
        let mut problems = p.problems;
        let mut it = p.cells.into_iter().peekable();
        for col in 0..*width as u32 {
            match it.peek() {
                Some((c, _)) if *c == col => {
                    let (_, v) = it.next().unwrap_or_default();
                    cells.push(&v);
                }
                _ => cells.push(""),
            }
        }
        let extra: Vec<String> = it
            .filter(|(_, v)| !v.is_empty())
            .map(|(c, v)| format!("{}{}={v:?}", column_name(c), p.sheet_row + 1))
            .collect();
        if !extra.is_empty() {
            problems.push(format!("cells beyond the header's columns: {}", extra.join(", ")));
        }
        rows.push(Row {
            pos: RowPos { row: *records, line: u64::from(p.sheet_row) + 1 },
            cells,
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        });
        true
    };

    loop {
        let cell = match reader.next_cell() {
            Ok(c) => c,
            Err(e) => {
                let err = xerr(&e);
                match header_tx.take() {
                    Some(h) => drop(h.send(Err(err))),
                    None => drop(tx.send(Err(err))),
                }
                return;
            }
        };
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        let (text, problem) = render(cell.get_value());
        if pending.as_ref().is_some_and(|p| p.sheet_row != r)
            && let Some(p) = pending.take()
        {
            if !finish(p, &mut header_tx, &mut width, &mut records, &mut rows) {
                return;
            }
            if rows.len() >= chunk_rows {
                let chunk = Chunk { seq, source: source.clone(), rows: std::mem::take(&mut rows) };
                seq += 1;
                if tx.send(Ok(chunk)).is_err() {
                    return;
                }
                rows.reserve(chunk_rows);
            }
        }
        let p = pending.get_or_insert_with(|| Pending {
            sheet_row: r,
            cells: Vec::new(),
            problems: Vec::new(),
        });
        if let Some(problem) = problem {
            p.problems.push(format!("{}{}: {problem}", column_name(c), r + 1));
        }
        p.cells.push((c, text));
    }
    if let Some(p) = pending.take()
        && !finish(p, &mut header_tx, &mut width, &mut records, &mut rows)
    {
        return;
    }
    if let Some(h) = header_tx.take() {
        let _ = h.send(Err(ReadError::NoHeader {
            path: path.to_owned(),
            header_row: opts.header_row.unwrap_or(1),
        }));
        return;
    }
    if !rows.is_empty() {
        let _ = tx.send(Ok(Chunk { seq, source, rows }));
    }
}
