//! XLSX rows through calamine's streaming cell reader (never the whole-sheet range): cells
//! arrive in document order and rows are assembled here, gaps filled with empty cells.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use calamine::{DataRef, Reader, Xlsx};

use crate::block::{BlockBuilder, FLUSH_BYTES};
use crate::excel::{SerialDay, push_number, render_number, serial_day};
use crate::numfmt::{Shows, shows};
use crate::xlsx_gate::{Failure, Gate};
use crate::xlsx_scan::{Limits, count, size};
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

/// How a sheet's cells become text: the sheet's name (for problems), the workbook's date
/// system and what each cell style's number format shows of a date.
struct Render {
    sheet: String,
    date1904: bool,
    shows: Vec<Shows>,
}

impl Render {
    /// Appends the text of the cell at `(r, c)` with style `style` to `out`; returns a problem
    /// (naming the sheet and cell) when the cell holds an Excel error or a date that does not
    /// exist.
    fn cell(
        &self,
        value: &DataRef<'_>,
        style: usize,
        (r, c): (u32, u32),
        out: &mut String,
    ) -> Option<String> {
        use std::fmt::Write;
        let problem = match value {
            DataRef::Int(i) => {
                let _ = write!(out, "{i}");
                None
            }
            DataRef::Float(f) => {
                push_number(*f, out);
                None
            }
            DataRef::String(s) => {
                out.push_str(s);
                None
            }
            DataRef::SharedString(s) => {
                out.push_str(s);
                None
            }
            DataRef::Bool(b) => {
                out.push_str(if *b { "true" } else { "false" });
                None
            }
            DataRef::DateTime(dt) if dt.is_datetime() => {
                let shows = self.shows.get(style).copied().unwrap_or_default();
                self.date(dt.as_f64(), shows, out)
            }
            DataRef::DateTime(dt) => {
                push_number(dt.as_f64(), out);
                None
            }
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                out.push_str(s);
                None
            }
            DataRef::Error(e) => {
                let _ = write!(out, "{e}");
                Some(format!("the cell holds the Excel error {e}"))
            }
            DataRef::Empty => None,
        };
        problem.map(|p| format!("{}: {p}", cell_ref(&self.sheet, r, c)))
    }

    /// A date-formatted serial as its format shows it: `yyyy-mm-dd hh:mm:ss` when the format
    /// shows a date and a time (midnight included), `yyyy-mm-dd` for a date alone,
    /// `hh:mm:ss` for a time of day alone; a format that shows neither (one calamine knows as
    /// a date but zcrm cannot read) falls back to the value: a date, with the time when it
    /// is not midnight. A day that does not exist is rendered as the number, with a problem.
    fn date(&self, serial: f64, shows: Shows, out: &mut String) -> Option<String> {
        use std::fmt::Write;
        let day = serial_day(serial, self.date1904);
        let (y, m, d, secs) = match day {
            SerialDay::Day(y, m, d, secs) => (y, m, d, secs),
            _ if shows.time && !shows.date && serial >= 0.0 && serial.is_finite() => {
                // A time of day alone: the day does not matter.
                let ms = (serial.fract() * 86_400_000.0).round() as u32;
                (0, 0, 0, ms / 1000 % 86_400)
            }
            SerialDay::Phantom(shown) => {
                push_number(serial, out);
                return Some(format!(
                    "the cell shows {shown}, a day that does not exist (serial {}: Excel counts 1900 as a leap year); enter the date meant",
                    render_number(serial)
                ));
            }
            SerialDay::OutOfRange => {
                push_number(serial, out);
                let first = if self.date1904 { "1904-01-01" } else { "1900-01-01" };
                let what = if serial < 0.0 { "a negative date" } else { "a date out of range" };
                return Some(format!(
                    "the cell holds {what} (serial {}), which Excel shows as ####: dates run from {first} to 9999-12-31",
                    render_number(serial)
                ));
            }
        };
        let (h, mi, se) = (secs / 3600, secs / 60 % 60, secs % 60);
        let (date, time) =
            if shows.date || shows.time { (shows.date, shows.time) } else { (true, secs != 0) };
        if date {
            let _ = write!(out, "{y:04}-{m:02}-{d:02}");
        }
        if date && time {
            out.push(' ');
        }
        if time {
            let _ = write!(out, "{h:02}:{mi:02}:{se:02}");
        }
        None
    }
}

/// A cell as Excel names it: `Data!C5`, `'My Sheet'!C5`.
fn cell_ref(sheet: &str, r: u32, c: u32) -> String {
    let plain = !sheet.is_empty()
        && sheet.chars().all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.')
        && !sheet.starts_with(|ch: char| ch.is_ascii_digit());
    let col = column_name(c);
    let row = u64::from(r) + 1;
    if plain {
        format!("{sheet}!{col}{row}")
    } else {
        format!("'{}'!{col}{row}", sheet.replace('\'', "''"))
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

/// Columns of a sheet (A to XFD).
const MAX_COLUMNS: u32 = 16_384;

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
    read_sheet_within(path, opts, &Limits::default(), chunk_rows, header, tx);
}

/// The limit a part of the workbook passed, if that is why calamine failed with `e` (calamine
/// passes over some parts it cannot read, such as the theme: a limit met there is no error).
fn limit_error(
    path: &Path,
    failure: &Failure,
    e: &dyn std::fmt::Display,
    sheet: Option<&str>,
    tail: &str,
) -> Option<ReadError> {
    let limit = failure.lock().ok()?.take()?;
    if !e.to_string().contains(&limit.message) {
        return None;
    }
    Some(ReadError::XlsxLimit {
        path: path.to_owned(),
        sheet: sheet.map(str::to_owned),
        row: limit.row,
        message: format!("{}; {tail}", limit.message),
    })
}

/// [`read_sheet`] within `limits`.
pub(crate) fn read_sheet_within(
    path: &Path,
    opts: &XlsxOptions,
    limits: &Limits,
    chunk_rows: usize,
    header: HeaderTx,
    tx: SyncSender<Result<RawBlock, ReadError>>,
) {
    let xerr = |e: &dyn std::fmt::Display| ReadError::Xlsx {
        path: path.to_owned(),
        message: e.to_string(),
    };
    const NOTHING: &str = "no row was read";
    let (gate, failure) = match Gate::open(path, *limits) {
        Ok(g) => g,
        Err(source) => {
            let _ = header.send(Err(ReadError::Io { path: path.to_owned(), source }));
            return;
        }
    };
    let mut wb: Xlsx<Gate> = match Xlsx::new(gate) {
        Ok(wb) => wb,
        Err(e) => {
            let err = limit_error(path, &failure, &e, None, NOTHING).unwrap_or_else(|| xerr(&e));
            let _ = header.send(Err(err));
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
    let sheet = Sheet {
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
    let date1904 = wb.has_1904_epoch();
    let mut rows = Rows {
        sheet,
        pending: Pending::default(),
        started: false,
        last: None,
        render: Render { sheet: name.clone(), date1904, shows: Vec::new() },
        limits: *limits,
    };
    let mut reader = match wb.worksheet_cells_reader(&name) {
        Ok(r) => r,
        Err(e) => {
            let err = limit_error(path, &failure, &e, Some(&name), NOTHING);
            rows.fail(err.unwrap_or_else(|| xerr(&e)));
            return;
        }
    };
    rows.render.shows = reader
        .styles()
        .iter()
        .map(|st| st.number_format.as_ref().map(|n| shows(&n.format_code)).unwrap_or_default())
        .collect();
    loop {
        let cell = match reader.next_cell_with_style_id() {
            Ok(c) => c,
            Err(e) => {
                let first = rows.first_unread();
                let tail = format!("rows from sheet row {first} on were not read");
                match limit_error(path, &failure, &e, Some(&name), &tail) {
                    Some(err) => rows.stop(err),
                    None => rows.damaged(e.to_string()),
                }
                return;
            }
        };
        let Some((cell, style)) = cell else { break };
        let (r, c) = cell.get_position();
        if !rows.cell(r, c, cell.get_value(), style) {
            return;
        }
    }
    rows.end();
}

/// Cells gathered into sheet rows, then into the header or blocks of data rows.
struct Rows<'a> {
    sheet: Sheet<'a>,
    pending: Pending,
    started: bool,
    /// The position of the last cell read.
    last: Option<(u32, u32)>,
    render: Render,
    limits: Limits,
}

impl Rows<'_> {
    /// Adds the cell at `(r, c)` holding `value` with style `style` (an Excel error or a day
    /// that does not exist becomes a problem of its row); false when reading must stop.
    fn cell(&mut self, r: u32, c: u32, value: &DataRef<'_>, style: usize) -> bool {
        if self.started && self.pending.sheet_row != r {
            if !self.sheet.finish(&mut self.pending) {
                return false;
            }
            self.pending.clear(r);
        } else if !self.started {
            self.pending.clear(r);
            self.started = true;
        }
        self.last = Some((r, c));
        let l = &self.limits;
        let over = if c >= MAX_COLUMNS {
            Some(format!(
                "cell {}{} lies beyond column XFD, the last of a sheet",
                column_name(c),
                u64::from(r) + 1
            ))
        } else if self.pending.cells.len() as u64 >= l.row_cells {
            Some(format!(
                "the row holds more than {} cells, the most a row may hold (Excel's {} columns)",
                count(l.row_cells),
                count(u64::from(MAX_COLUMNS))
            ))
        } else {
            None
        };
        if let Some(message) = over {
            self.limit(message);
            return false;
        }
        let from = self.pending.text.len();
        if let Some(problem) = self.render.cell(value, style, (r, c), &mut self.pending.text) {
            self.pending.problems.push(problem);
        }
        self.pending.cells.push((c, from, self.pending.text.len()));
        if self.pending.text.len() as u64 > self.limits.row_text_bytes {
            let message = format!(
                "the row holds more than {} of text, the most a row may hold",
                size(self.limits.row_text_bytes)
            );
            self.limit(message);
            return false;
        }
        true
    }

    /// The first sheet row (1-based) not handed on: the row being assembled.
    fn first_unread(&self) -> u64 {
        if self.started { u64::from(self.pending.sheet_row) + 1 } else { 1 }
    }

    /// The row being assembled passes a limit: the rows before it are handed on, then the
    /// error naming the row.
    fn limit(&mut self, message: String) {
        let row = self.first_unread();
        let err = ReadError::XlsxLimit {
            path: self.sheet.path.to_owned(),
            sheet: Some(self.sheet.name.to_owned()),
            row: Some(row),
            message: format!("{message}; rows from sheet row {row} on were not read"),
        };
        self.stop_in_place(err);
    }

    /// The end of the sheet: the last row, a missing header, the last block.
    fn end(mut self) {
        if self.started && !self.sheet.finish(&mut self.pending) {
            return;
        }
        let s = &mut self.sheet;
        if let Some(h) = s.header.take() {
            let _ = h.send(Err(ReadError::NoHeader {
                path: s.path.to_owned(),
                header_row: s.opts.header_row.unwrap_or(1),
            }));
            return;
        }
        if s.block.len() > 0 {
            let b = s.block.take_text(s.seq, &s.source);
            let _ = s.tx.send(Ok(b));
        }
    }

    /// The sheet's XML broke part-way. The rows finished before it are handed on; the row
    /// being read is not (cells of it may be missing), and the error names it and the last
    /// cell read.
    fn damaged(self, message: String) {
        let s = &self.sheet;
        let err = ReadError::XlsxDamaged {
            path: s.path.to_owned(),
            sheet: s.name.to_owned(),
            row: self.first_unread(),
            after: self.last.map(|(r, c)| format!("{}{}", column_name(c), r + 1)),
            message,
        };
        self.stop(err);
    }

    /// Reading stops with `err` after the rows finished before are handed on.
    fn stop(mut self, err: ReadError) {
        self.stop_in_place(err);
    }

    /// [`Rows::stop`] without giving up the rows (the caller returns false and drops them).
    fn stop_in_place(&mut self, err: ReadError) {
        let s = &mut self.sheet;
        if s.header.is_none() && s.block.len() > 0 {
            let b = s.block.take_text(s.seq, &s.source);
            s.seq += 1;
            if s.tx.send(Ok(b)).is_err() {
                return;
            }
        }
        match s.header.take() {
            Some(h) => drop(h.send(Err(err))),
            None => drop(s.tx.send(Err(err))),
        }
    }

    /// Reading failed: the error goes where the consumer waits (header or rows).
    fn fail(mut self, err: ReadError) {
        match self.sheet.header.take() {
            Some(h) => drop(h.send(Err(err))),
            None => drop(self.sheet.tx.send(Err(err))),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    use std::sync::mpsc::sync_channel;

    type Read = (Vec<String>, Vec<crate::block::RawRow>);

    fn read(path: &Path, opts: &XlsxOptions) -> Result<Read, String> {
        let (htx, hrx) = sync_channel(1);
        let (tx, rx) = sync_channel(1000);
        read_sheet(path, opts, 7, htx, tx);
        let (headers, _) = hrx.recv().map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        let mut rows = Vec::new();
        for b in rx.iter() {
            rows.extend(b.map_err(|e| e.to_string())?.raw_rows());
        }
        Ok((headers, rows))
    }

    /// A copy of the workbook at `src` whose sheet XML went through `edit`.
    fn rewrite_sheets(src: &Path, dst: &Path, edit: impl Fn(&str) -> String) {
        use std::io::{Read as _, Write as _};
        let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
        let mut zout = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
        for i in 0..zin.len() {
            let mut f = zin.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            if name.starts_with("xl/worksheets/") {
                bytes = edit(&String::from_utf8(bytes).unwrap()).into_bytes();
            }
            zout.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            zout.write_all(&bytes).unwrap();
        }
        zout.finish().unwrap();
    }

    /// A sheet whose XML breaks in the first cell of sheet row `bad` (1-based): the rows
    /// finished before are delivered, then an error naming the sheet, the last cell read and
    /// the first row not read.
    #[test]
    fn a_sheet_damaged_part_way_delivers_the_rows_before_and_names_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.xlsx");
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Data").unwrap();
        for (c, h) in ["a", "b", "c"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..=20u32 {
            ws.write_string(r, 0, format!("row {}", r + 1)).unwrap();
            ws.write_number(r, 1, f64::from(r)).unwrap();
            ws.write_string(r, 2, "x").unwrap();
        }
        wb.save(&good).unwrap();
        for bad in [12u32, 1] {
            let damaged = dir.path().join(format!("damaged{bad}.xlsx"));
            rewrite_sheets(&good, &damaged, |xml| {
                let at = xml.find(&format!("<c r=\"A{bad}\"")).unwrap();
                let end = at + xml[at..].find("</c>").unwrap();
                format!("{}</x>{}", &xml[..end], &xml[end + 4..])
            });
            let (htx, hrx) = sync_channel(1);
            let (tx, rx) = sync_channel(1000);
            read_sheet(&damaged, &XlsxOptions::default(), 7, htx, tx);
            let header = hrx.recv().unwrap();
            if bad == 1 {
                let e = header.unwrap_err().to_string();
                assert!(
                    e.contains("sheet \"Data\": the sheet is damaged before its first cell"),
                    "{e}"
                );
                assert!(e.contains("rows from sheet row 1 on were not read"), "{e}");
                continue;
            }
            assert_eq!(header.unwrap().0, ["a", "b", "c"]);
            let mut rows = Vec::new();
            let mut error = None;
            for b in rx.iter() {
                match b {
                    Ok(b) => rows.extend(b.raw_rows()),
                    Err(e) => error = Some(e.to_string()),
                }
            }
            let firsts: Vec<String> =
                rows.iter().map(|r| String::from_utf8_lossy(&r.3[0]).into_owned()).collect();
            let expected: Vec<String> = (2..bad - 1).map(|r| format!("row {r}")).collect();
            assert_eq!(firsts, expected, "the rows finished before the damage, in order");
            let e = error.unwrap();
            assert!(
                e.contains("damaged12.xlsx, sheet \"Data\": the sheet is damaged after cell C11"),
                "{e}"
            );
            assert!(e.contains("rows from sheet row 11 on were not read"), "{e}");
        }
    }

    /// The rows read within `limits` before an error, the header's error or the rows' one.
    fn read_within(path: &Path, limits: &Limits) -> (Vec<String>, String) {
        let (htx, hrx) = sync_channel(1);
        let (tx, rx) = sync_channel(1000);
        read_sheet_within(path, &XlsxOptions::default(), limits, 7, htx, tx);
        if let Err(e) = hrx.recv().unwrap() {
            return (Vec::new(), e.to_string());
        }
        let mut firsts = Vec::new();
        for b in rx.iter() {
            match b {
                Ok(b) => firsts.extend(
                    b.raw_rows().into_iter().map(|r| String::from_utf8_lossy(&r.3[0]).into_owned()),
                ),
                Err(e) => return (firsts, e.to_string()),
            }
        }
        (firsts, String::new())
    }

    /// A sheet of 300 rows whose row 12 holds 300 bytes of text (one shared string twice).
    fn long_row(path: &Path) {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Data").unwrap();
        ws.write_string(0, 0, "a").unwrap();
        ws.write_string(0, 1, "b").unwrap();
        for r in 1..300u32 {
            ws.write_string(r, 0, format!("row {}", r + 1)).unwrap();
            let b = if r == 11 { "z".repeat(150) } else { "y".to_owned() };
            ws.write_string(r, 1, &b).unwrap();
            if r == 11 {
                ws.write_string(r, 2, &b).unwrap();
            }
        }
        wb.save(path).unwrap();
    }

    /// Limits met in the sheet: a row's text (the rows before it are handed on), the sheet's
    /// size uncompressed (a zip that understates it is refused too), a cell beyond column
    /// XFD; each error names the sheet, the row and the limit.
    #[test]
    fn limits_met_in_the_sheet_name_the_sheet_row_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("long.xlsx");
        long_row(&p);
        let defaults = Limits::default();
        let (rows, err) = read_within(&p, &defaults);
        assert_eq!((rows.len(), err.as_str()), (299, ""));

        let limits = Limits { row_text_bytes: 200, ..defaults };
        let (rows, err) = read_within(&p, &limits);
        let before: Vec<String> = (2..12).map(|r| format!("row {r}")).collect();
        assert_eq!(rows, before);
        assert!(
            err.ends_with(r#"long.xlsx, sheet "Data", sheet row 12: the row holds more than 200 bytes of text, the most a row may hold; rows from sheet row 12 on were not read"#),
            "{err}"
        );

        // Above the theme's 7 KB, below the sheet's size.
        let limits = Limits { part_bytes: 16 << 10, ..defaults };
        let (rows, err) = read_within(&p, &limits);
        assert!(rows.is_empty());
        assert!(
            err.contains(r#"long.xlsx, sheet "Data": xl/worksheets/sheet1.xml declares "#),
            "{err}"
        );
        assert!(
            err.ends_with(
                "more than the 16 KiB zcrm reads of one part of a workbook; no row was read"
            ),
            "{err}"
        );

        // The same sheet, its sizes in the zip rewritten to say 100 bytes.
        let lying = dir.path().join("lying.xlsx");
        let mut bytes = std::fs::read(&p).unwrap();
        let name = b"xl/worksheets/sheet1.xml";
        let mut at = 0;
        while let Some(k) = bytes[at..].windows(name.len()).position(|w| w == name) {
            let pos = at + k;
            let (sig, size) = if bytes[pos - 46..].starts_with(b"PK\x01\x02") {
                (pos - 46, pos - 46 + 24)
            } else {
                (pos - 30, pos - 30 + 22)
            };
            assert!(bytes[sig..].starts_with(b"PK"), "a header before the name");
            bytes[size..size + 4].copy_from_slice(&100u32.to_le_bytes());
            at = pos + name.len();
        }
        std::fs::write(&lying, bytes).unwrap();
        // The zip crate stops at the declared size: the sheet is refused, by calamine.
        let (rows, err) = read_within(&lying, &limits);
        assert!(rows.is_empty());
        assert!(err.contains("File is larger than its declared uncompressed size"), "{err}");

        let far = dir.path().join("far.xlsx");
        rewrite_sheets(&p, &far, |xml| {
            xml.replacen(
                "</row>",
                r#"<c r="XFD1" t="inlineStr"><is><t>far</t></is></c><c t="inlineStr"><is><t>beyond</t></is></c></row>"#,
                1,
            )
        });
        let (rows, err) = read_within(&far, &defaults);
        assert!(rows.is_empty());
        assert!(
            err.ends_with(r#"far.xlsx, sheet "Data", sheet row 1: cell XFE1 lies beyond column XFD, the last of a sheet; rows from sheet row 1 on were not read"#),
            "{err}"
        );
    }

    fn workbook(path: &Path, constant_memory: bool) {
        let mut wb = Workbook::new();
        let ws = if constant_memory {
            wb.add_worksheet_with_constant_memory().unwrap()
        } else {
            wb.add_worksheet()
        };
        ws.set_name("Data").unwrap();
        let heads = ["text", "number", "date", "flag", "formula", "more", "rich"];
        for (i, h) in heads.iter().enumerate() {
            ws.write_string(0, i as u16, *h).unwrap();
        }
        let strings = [
            "plain",
            "  padded  ",
            "two\nlines",
            "crlf\r\nline",
            "<&>\"'",
            "_x000D_ literal",
            "Café ü 🚀",
            "",
            "tab\tend",
        ];
        let ymd = Format::new().set_num_format("yyyy-mm-dd");
        let dmy_hm = Format::new().set_num_format("dd/mm/yyyy hh:mm");
        let dur = Format::new().set_num_format("[h]:mm:ss");
        let builtin = Format::new().set_num_format_index(14);
        let two = Format::new().set_num_format("0.00");
        let quoted = Format::new().set_num_format("\"d\"0");
        let bold = Format::new().set_bold();
        let mut row = 1u32;
        for (k, s) in strings.iter().enumerate() {
            ws.write_string(row, 0, *s).unwrap();
            let n = [0.0, 1.5, -3.0, 14155550123.0, 1e20, 0.1, 2139.0, 45382.25, 12.0][k];
            ws.write_number(row, 1, n).unwrap();
            let d = ExcelDateTime::from_ymd(2024, 3, (k + 1) as u8).unwrap();
            let fmt = [&ymd, &dmy_hm, &dur, &builtin, &two, &quoted, &ymd, &dmy_hm, &dur][k];
            ws.write_datetime_with_format(row, 2, &d, fmt).unwrap();
            ws.write_boolean(row, 3, k % 2 == 0).unwrap();
            let f = Formula::new("=1+1")
                .set_result(["2", "x", "TRUE", "3.5", "", "#N/A", "7", "a&b", "0"][k]);
            ws.write_formula(row, 4, f).unwrap();
            if k % 3 == 0 {
                ws.write_blank(row, 5, &bold).unwrap();
            } else {
                ws.write_number_with_format(row, 5, 45000.5 + k as f64, &dmy_hm).unwrap();
            }
            let segs = [(&bold, "Bold "), (&Format::default(), "and plain")];
            ws.write_rich_string(row, 6, &segs).unwrap();
            row += 1;
        }
        // A gap, a row with holes and a cell beyond the header.
        ws.write_string(row + 1, 0, "after a gap").unwrap();
        ws.write_number(row + 1, 3, 1.0).unwrap();
        ws.write_string(row + 1, 9, "stray").unwrap();
        wb.save(path).unwrap();
    }

    /// Every kind of cell, in both of rust_xlsxwriter's layouts, with the header found on
    /// its row or later: text as written, numbers without a spurious `.0`, date formats as
    /// dates (date-time formats with the time), a duration format as a number, booleans, formula results, rich text joined,
    /// gaps filled and a cell beyond the header reported.
    #[test]
    fn cells_of_every_kind_read_through_calamine() {
        let dir = tempfile::tempdir().unwrap();
        for constant_memory in [false, true] {
            let p = dir.path().join(format!("w{constant_memory}.xlsx"));
            workbook(&p, constant_memory);
            for header_row in [None, Some(1), Some(3)] {
                let opts = XlsxOptions { sheet: None, header_row };
                let read = read(&p, &opts);
                assert!(read.is_ok(), "constant memory {constant_memory}, header {header_row:?}");
                if header_row != Some(3) {
                    let rows = read.unwrap().1;
                    assert_eq!(rows.len(), 10);
                    let text = |r: usize| -> Vec<String> {
                        rows[r].3.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect()
                    };
                    assert_eq!(
                        text(0),
                        ["plain", "0", "2024-03-01", "true", "2", "", "Bold and plain"]
                    );
                    // A date-time format shows the time, midnight included.
                    assert_eq!(text(1)[..3], ["  padded  ", "1.5", "2024-03-02 00:00:00"]);
                    assert_eq!(text(2)[2], "45354", "a duration format: a number");
                    assert_eq!(text(4)[0], "<&>\"'");
                    assert_eq!(text(6)[0], "Café ü 🚀");
                    assert!(rows[9].2.as_deref().unwrap().contains("J12=\"stray\""));
                }
            }
        }
    }
}
