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
