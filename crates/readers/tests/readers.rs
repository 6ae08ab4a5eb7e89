//! CSV and XLSX sources with the awkward cases: BOM, CRLF, quoted newlines, legacy encodings,
//! bad bytes, ragged rows, sheets, gaps, identifier-like numbers, dates, booleans, chunking.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use zcrm_readers::{Encoding, Row, SheetRef, SourceOptions, open};

fn rows(path: &Path, opts: &SourceOptions) -> (Vec<String>, Vec<Row>) {
    let r = open(path, opts).unwrap();
    let headers = r.headers().to_vec();
    let rows = r.flat_map(|c| c.unwrap().rows).collect();
    (headers, rows)
}

fn cells(r: &Row) -> Vec<String> {
    r.cells.to_vec()
}

#[test]
fn csv_bom_crlf_and_multiline_cells_keep_the_start_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, b"\xEF\xBB\xBFid,note\r\n1,\"two\r\nlines\"\r\n\r\n2,plain\r\n").unwrap();
    let (h, rows) = rows(&p, &SourceOptions::default());
    assert_eq!(h, ["id", "note"], "the BOM is not part of the first column's name");
    assert_eq!(rows.len(), 2);
    assert_eq!(cells(&rows[0]), ["1", "two\r\nlines"]);
    assert_eq!((rows[0].pos.row, rows[0].pos.line), (1, 2));
    assert_eq!((rows[1].pos.row, rows[1].pos.line), (2, 5), "blank line skipped, line kept");
    assert!(rows.iter().all(|r| r.problem.is_none()));
}

#[test]
fn windows_1252_and_latin_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, b"name;price\nCaf\xE9;\x80 5\n").unwrap();
    let mut o = SourceOptions::default();
    o.csv.delimiter = b';';
    o.csv.encoding = Encoding::Windows1252;
    let (_, r) = rows(&p, &o);
    assert_eq!(cells(&r[0]), ["Café", "€ 5"]);
    o.csv.encoding = Encoding::Latin1;
    let (_, r) = rows(&p, &o);
    assert_eq!(cells(&r[0]), ["Café", "\u{80} 5"]);
}

#[test]
fn invalid_utf8_is_a_problem_of_its_row_with_the_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, b"a,b\nok,fine\nCaf\xE9,x\nlast,row\n").unwrap();
    let (_, r) = rows(&p, &SourceOptions::default());
    assert_eq!(r.len(), 3, "no row lost");
    let bad = r[1].problem.as_deref().unwrap();
    assert!(bad.contains("0xE9") && bad.contains("byte offset 12"), "{bad}");
    assert_eq!(cells(&r[1]), ["Caf\u{FFFD}", "x"]);
    assert!(r[0].problem.is_none() && r[2].problem.is_none());
}

#[test]
fn ragged_rows_are_padded_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, "a,b,c\n1,2\n1,2,3,4\n").unwrap();
    let (_, r) = rows(&p, &SourceOptions::default());
    assert_eq!(cells(&r[0]), ["1", "2", ""]);
    assert!(r[0].problem.as_deref().unwrap().contains("2 cells"));
    assert_eq!(cells(&r[1]), ["1", "2", "3"]);
    assert!(r[1].problem.as_deref().unwrap().contains("\"4\""));
}

#[test]
fn header_row_skips_a_preamble_and_duplicate_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    std::fs::write(&p, "exported 2024-01-01\nx,y\n1,2\n").unwrap();
    let mut o = SourceOptions::default();
    o.csv.header_row = 2;
    let (h, r) = rows(&p, &o);
    assert_eq!(h, ["x", "y"]);
    assert_eq!((r[0].pos.row, r[0].pos.line), (1, 3));
    std::fs::write(&p, "x,x\n1,2\n").unwrap();
    let e = open(&p, &SourceOptions::default()).unwrap_err().to_string();
    assert!(e.contains("repeats the name"), "{e}");
}

#[test]
fn chunks_are_bounded_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.csv");
    let mut s = String::from("n\n");
    for i in 1..=2500 {
        s.push_str(&format!("{i}\n"));
    }
    std::fs::write(&p, s).unwrap();
    let o = SourceOptions { chunk_rows: 1000, ..Default::default() };
    let chunks: Vec<_> = open(&p, &o).unwrap().map(Result::unwrap).collect();
    assert_eq!(chunks.iter().map(|c| c.rows.len()).collect::<Vec<_>>(), [1000, 1000, 500]);
    assert_eq!(chunks.iter().map(|c| c.seq).collect::<Vec<_>>(), [0, 1, 2]);
    let all: Vec<u64> = chunks.iter().flat_map(|c| c.rows.iter().map(|r| r.pos.row)).collect();
    assert_eq!(all, (1..=2500).collect::<Vec<u64>>());
}

fn workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let first = wb.add_worksheet();
    first.set_name("Notes").unwrap();
    first.write_string(0, 0, "ignore me").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("Accounts").unwrap();
    for (i, h) in ["name", "phone", "zip", "since", "active", "revenue"].iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string(1, 0, "Acme").unwrap();
    ws.write_number(1, 1, 14155550123.0).unwrap();
    ws.write_number(1, 2, 2139.0).unwrap();
    let d = ExcelDateTime::from_ymd(2024, 3, 31).unwrap();
    ws.write_datetime_with_format(1, 3, &d, &date).unwrap();
    ws.write_boolean(1, 4, true).unwrap();
    ws.write_number(1, 5, 1234.5).unwrap();
    // Row 3 empty (a gap), row 4 with holes.
    ws.write_string(3, 0, "Globex").unwrap();
    ws.write_number(3, 3, 45382.0).unwrap();
    ws.write_string(3, 7, "stray").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn xlsx_by_name_and_index_with_gaps_numbers_dates_and_booleans() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.xlsx");
    workbook(&p);
    let mut o = SourceOptions::default();
    o.xlsx.sheet = Some(SheetRef::Name("Accounts".into()));
    let (h, r) = rows(&p, &o);
    assert_eq!(h, ["name", "phone", "zip", "since", "active", "revenue"]);
    assert_eq!(r.len(), 2, "the empty sheet row is not a record");
    assert_eq!(cells(&r[0]), ["Acme", "14155550123", "2139", "2024-03-31", "true", "1234.5"]);
    assert_eq!((r[0].pos.row, r[0].pos.line), (1, 2));
    assert_eq!(cells(&r[1]), ["Globex", "", "", "45382", "", ""]);
    assert_eq!((r[1].pos.row, r[1].pos.line), (2, 4));
    assert!(r[1].problem.as_deref().unwrap().contains("H4=\"stray\""));
    o.xlsx.sheet = Some(SheetRef::Index(2));
    assert_eq!(rows(&p, &o).1.len(), 2);
    o.xlsx.sheet = Some(SheetRef::Name("Nope".into()));
    let e = open(&p, &o).unwrap_err().to_string();
    assert!(e.contains("Notes, Accounts"), "{e}");
    o.xlsx.sheet = None;
    let (h, r) = rows(&p, &o);
    assert_eq!((h.len(), r.len()), (1, 0), "the first sheet by default");
}

/// The data rows of a date table (label, cell, expected): each cell's text, its row's
/// problem, and what the table says zcrm must read.
fn check_date_table(path: &Path) {
    let (h, r) = rows(path, &SourceOptions::default());
    assert_eq!(h, ["label", "cell", "expected"], "{}", path.display());
    assert!(r.len() >= 5, "{}", path.display());
    let mut wrong = Vec::new();
    for row in &r {
        let (label, cell, expected) = (row.cells.get(0), row.cells.get(1), row.cells.get(2));
        let at = format!("row {} ({label})", row.pos.line);
        let problem = row.problem.as_deref().unwrap_or("");
        match expected.strip_prefix("problem: ") {
            Some(what) => {
                let cell_ref = format!("Dates!B{}", row.pos.line);
                if !problem.contains(what) || !problem.contains(&cell_ref) {
                    wrong.push(format!("{at}: read {cell:?}, problem {problem:?}"));
                }
            }
            None if cell != expected || row.problem.is_some() => {
                wrong.push(format!("{at}: read {cell:?} (problem {problem:?}), not {expected:?}"));
            }
            None => {}
        }
    }
    assert!(wrong.is_empty(), "{}:\n{}", path.display(), wrong.join("\n"));
}

/// The fixtures openpyxl wrote (`tests/fixtures/make_dates.py`): the number format, not the
/// fraction, says date or date-time; the 1904 date system; serials 0 and 60 (days Excel shows
/// but that do not exist) reject their row; a float just short of midnight stays on its day.
#[test]
fn xlsx_dates_from_openpyxl_follow_the_number_format_and_the_date_system() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    check_date_table(&dir.join("openpyxl_dates.xlsx"));
    check_date_table(&dir.join("openpyxl_dates_1904.xlsx"));
}

/// A date table as rust_xlsxwriter writes it; with `date1904` the workbook is switched to
/// the 1904 date system afterwards (rust_xlsxwriter cannot write it).
fn xlsxwriter_dates(path: &Path, date1904: bool) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let ymd_hms = "yyyy-mm-dd hh:mm:ss";
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Dates").unwrap();
    for (c, h) in ["label", "cell", "expected"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows: Vec<(&str, f64, &str, &str)> = if date1904 {
        vec![
            ("serial 45000", 45000.0, "yyyy-mm-dd", "2027-03-16"),
            ("serial 0", 0.0, "yyyy-mm-dd", "1904-01-01"),
            ("serial 60", 60.0, "yyyy-mm-dd", "1904-03-01"),
            ("midnight", 44113.0, ymd_hms, "2024-10-10 00:00:00"),
            ("float error", 45000.99999999, ymd_hms, "2027-03-16 23:59:59"),
        ]
    } else {
        vec![
            ("midnight", 45575.0, ymd_hms, "2024-10-10 00:00:00"),
            ("minutes", 45575.0, "dd/mm/yyyy hh:mm", "2024-10-10 00:00:00"),
            ("date, time in the value", 45575.5, "yyyy-mm-dd", "2024-10-10"),
            ("time of day", 0.25, "h:mm:ss", "06:00:00"),
            ("float error", 45000.99999999, ymd_hms, "2023-03-15 23:59:59"),
            ("serial 60", 60.0, "yyyy-mm-dd", "problem: 1900-02-29"),
            ("serial 61", 61.0, "yyyy-mm-dd", "1900-03-01"),
            ("serial 0", 0.0, ymd_hms, "problem: 1900-01-00"),
        ]
    };
    let mut r = 1u32;
    for (label, serial, fmt, expected) in rows {
        ws.write_string(r, 0, label).unwrap();
        let f = Format::new().set_num_format(fmt);
        ws.write_number_with_format(r, 1, serial, &f).unwrap();
        ws.write_string(r, 2, expected).unwrap();
        r += 1;
    }
    if !date1904 {
        let f = Format::new().set_num_format(ymd_hms);
        let d = ExcelDateTime::from_ymd(2024, 10, 10).unwrap();
        ws.write_string(r, 0, "a date-time written as one").unwrap();
        ws.write_datetime_with_format(r, 1, &d, &f).unwrap();
        ws.write_string(r, 2, "2024-10-10 00:00:00").unwrap();
    }
    if !date1904 {
        wb.save(path).unwrap();
        return;
    }
    let bytes = wb.save_to_buffer().unwrap();
    use std::io::{Read as _, Write as _};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == "xl/workbook.xml" {
            let xml = String::from_utf8(data).unwrap();
            assert!(xml.contains("<workbookPr "), "{xml}");
            data = xml.replacen("<workbookPr ", "<workbookPr date1904=\"1\" ", 1).into_bytes();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zout.write_all(&data).unwrap();
    }
    zout.finish().unwrap();
}

/// The same rules on workbooks rust_xlsxwriter wrote.
#[test]
fn xlsx_dates_from_rust_xlsxwriter_follow_the_number_format_and_the_date_system() {
    let dir = tempfile::tempdir().unwrap();
    for date1904 in [false, true] {
        let p = dir.path().join(format!("dates{date1904}.xlsx"));
        xlsxwriter_dates(&p, date1904);
        check_date_table(&p);
    }
}

/// The rows of a CSV source up to the first error, and that error.
fn rows_until_error(path: &Path) -> (Vec<Row>, Option<String>) {
    let mut out = Vec::new();
    for chunk in open(path, &SourceOptions::default()).unwrap() {
        match chunk {
            Ok(c) => out.extend(c.rows),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
    (out, None)
}

/// A quote opened on row 3 of 10 and never closed: the two rows before it are read, then an
/// error names the file and the line where the quote opened; no row swallows the others.
#[test]
fn csv_unterminated_quote_names_the_line_where_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("open-quote.csv");
    let mut s = String::from("id,name,note\n");
    for i in 1..=10 {
        if i == 3 {
            s.push_str("3,\"Acme, unclosed,note\n");
        } else {
            s.push_str(&format!("{i},name {i},plain\n"));
        }
    }
    std::fs::write(&p, s).unwrap();
    let (rows, err) = rows_until_error(&p);
    let merged: Vec<String> = rows
        .iter()
        .filter(|r| r.cells.iter().any(|c| c.contains("name 4")))
        .map(cells)
        .map(|c| c.join("|"))
        .collect();
    assert!(merged.is_empty(), "rows swallowed into a cell: {merged:?}");
    assert_eq!(rows.iter().map(|r| r.pos.row).collect::<Vec<_>>(), [1, 2]);
    let err = err.expect("an error for the unclosed quote");
    assert!(err.contains("open-quote.csv: line 4:"), "{err}");
    assert!(err.contains("never closed"), "{err}");
}

/// A quote that is never closed in a long file is stopped at the limit of a quoted cell
/// (1 MiB), even when a later quote would close it; a big multi-line cell within the limit
/// is read whole.
#[test]
fn csv_quoted_cell_past_the_limit_names_the_line_where_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("long.csv");
    let mut s = String::from("id,name,note\n1,a,b\n2,\"unclosed,x\n");
    for i in 3..30_000 {
        s.push_str(&format!("{i},name {i},some plain text to fill the line\n"));
    }
    s.push_str("30000,\"quoted\",x\n");
    std::fs::write(&p, s).unwrap();
    let (rows, err) = rows_until_error(&p);
    assert_eq!(rows.len(), 1, "{:?}", rows.iter().map(|r| r.pos).collect::<Vec<_>>());
    let err = err.expect("an error for the runaway quote");
    assert!(err.contains("long.csv: line 3:"), "{err}");
    assert!(err.contains("1 MiB"), "{err}");

    let big = "many lines of a long note\n".repeat(20_000);
    std::fs::write(&p, format!("id,note\n1,\"{big}\"\n2,after\n")).unwrap();
    let (rows, err) = rows_until_error(&p);
    assert_eq!(err, None);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].cells.get(1), big);
    assert_eq!((rows[1].pos.row, rows[1].pos.line), (2, 20_003));
}

/// A quote left open on row 2 that a later row's quote closes: the merged record is rejected,
/// saying where the stray quote is and which lines the record spans; the rows after it read
/// normally. A quote inside a quoted cell that is not doubled rejects its row too.
#[test]
fn csv_quote_closed_by_a_later_row_rejects_the_merged_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pair.csv");
    std::fs::write(
        &p,
        "id,name,note\n1,a,b\n2,\"x,y\n3,a,b\n4,\"q\",z\n5,\"The 5\" screen\",c\n6,a,b\n",
    )
    .unwrap();
    let (rows, err) = rows_until_error(&p);
    assert_eq!(err, None);
    let ids: Vec<&str> = rows.iter().map(|r| r.cells.get(0)).collect();
    assert_eq!(ids, ["1", "2", "5", "6"]);
    let merged = rows[1].problem.as_deref().expect("the merged record is rejected");
    assert!(merged.contains("line 5") && merged.contains("lines 3 to 5"), "{merged}");
    let inner = rows[2].problem.as_deref().expect("an undoubled quote rejects its row");
    assert!(inner.contains("cell 2") && inner.contains("line 6"), "{inner}");
    assert!(rows[0].problem.is_none() && rows[3].problem.is_none());
}
