//! Hostile workbooks: a shared-strings bomb, one cell of a gigabyte, one row of 71 million
//! cells. Each is made on the fly (under 2 MB; nothing large is committed) and read in a child
//! process, which must fail with an error naming the sheet, the row and the limit, its peak
//! memory (VmHWM) under 500 MB.
//!
//! The workbooks come from the project's generator (`zcrm_gen::hostile`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use zcrm_gen::hostile::{self, Bomb, MAIN, Part, sheet};
use zcrm_readers::{SourceOptions, open};

fn workbook(path: &Path, sheet: Part<'_>, strings: Option<Part<'_>>) {
    hostile::workbook(path, sheet, strings).unwrap();
}

fn workbook_with<'a>(
    path: &Path,
    sheet: Part<'a>,
    strings: Option<Part<'a>>,
    before: Vec<(&'a str, Part<'a>)>,
    after: Vec<(&'a str, Part<'a>)>,
) {
    hostile::workbook_with(path, sheet, strings, before, after).unwrap();
}

/// Runs this test binary's `child_reads_a_workbook` on `path` in a child process (its
/// address space capped at 4 GB, so that a regression fails instead of exhausting the
/// machine): its error, or `None` when it read every row, and its peak memory in bytes.
fn read_in_child(path: &Path) -> (Option<String>, u64) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4000000 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args(["--exact", "child_reads_a_workbook", "--nocapture", "--test-threads=1"])
        .env("ZCRM_READERS_BOMB", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| {
        stdout.lines().find_map(|l| Some(l.split_once(key)?.1)).map(str::to_owned).unwrap_or_else(
            || {
                panic!(
                    "the child printed no {key:?} ({}): {stdout}\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )
            },
        )
    };
    let hwm: u64 = line("VmHWM:").trim().trim_end_matches("kB").trim().parse().unwrap();
    let result = line("RESULT:");
    let error = result.strip_prefix(" error: ").map(str::to_owned);
    (error, hwm * 1024)
}

/// The child's side of [`read_in_child`]: reads the workbook named by the environment and
/// prints the outcome and its peak memory; nothing when run as an ordinary test.
#[test]
fn child_reads_a_workbook() {
    let Some(path) = std::env::var_os("ZCRM_READERS_BOMB") else { return };
    let result = match open(Path::new(&path), &SourceOptions::default()) {
        Err(e) => format!("error: {e}"),
        Ok(r) => {
            let mut outcome = "read".to_owned();
            for chunk in r {
                if let Err(e) = chunk {
                    outcome = format!("error: {e}");
                    break;
                }
            }
            outcome
        }
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    println!("RESULT: {result}");
    println!("{hwm}");
}

const MAX_PEAK: u64 = 500 << 20;

/// 2 MB at most on disk; `what` the bomb is, for the messages.
fn small(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    assert!(len < 2 << 20, "{} is {len} bytes", path.display());
}

/// 40 million empty shared strings (`<si/>`, 200 MB of XML from a 200 KB file): refused
/// when the table passes 16,777,216 strings, before calamine loads it.
#[test]
fn a_shared_strings_bomb_is_refused_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("strings.xlsx");
    hostile::write_bomb(&p, Bomb::SharedStrings).unwrap();
    small(&p);
    let (err, peak) = read_in_child(&p);
    let err = err.expect("an error");
    assert!(
        err.contains("the shared-strings table (xl/sharedStrings.xml) holds more than 16,777,216 strings, the most zcrm reads; no row was read"),
        "{err}"
    );
    assert!(peak < MAX_PEAK, "peak memory {} MB", peak >> 20);
}

/// A shared-strings table that declares a trillion strings (calamine reserves room for them
/// before reading one): refused by its declaration.
#[test]
fn a_shared_strings_table_declaring_a_trillion_strings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("count.xlsx");
    let sst = format!(
        r#"<?xml version="1.0"?><sst xmlns="{MAIN}" count="1" uniqueCount="1000000000000"><si><t>x</t></si></sst>"#
    );
    let s = sheet("");
    workbook(&p, Part::Stored(&s), Some(Part::Stored(&sst)));
    let (err, peak) = read_in_child(&p);
    let err = err.expect("an error");
    assert!(
        err.contains("the shared-strings table (xl/sharedStrings.xml) declares 1000000000000 strings, more than the 16,777,216 zcrm reads; no row was read"),
        "{err}"
    );
    assert!(peak < MAX_PEAK, "peak memory {} MB", peak >> 20);
}

/// One inline-string cell of a gigabyte (a 1 MB file): refused at 1 MiB of the cell, naming
/// the sheet, the row and the cell.
#[test]
fn a_one_gigabyte_cell_is_refused_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cell.xlsx");
    hostile::write_bomb(&p, Bomb::HugeCell).unwrap();
    small(&p);
    let (err, peak) = read_in_child(&p);
    let err = err.expect("an error");
    assert!(
        err.contains(r#"cell.xlsx, sheet "Data", sheet row 2: cell B2 holds more than 1 MiB of XML, the most a cell may hold (Excel's own limit is 32,767 characters); no row was read"#),
        "{err}"
    );
    assert!(peak < MAX_PEAK, "peak memory {} MB", peak >> 20);
}

/// One row of 71 million empty cells (a 300 KB file): refused at its 16,385th cell.
#[test]
fn a_row_of_71_million_cells_is_refused_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("row.xlsx");
    hostile::write_bomb(&p, Bomb::HugeRow).unwrap();
    small(&p);
    let (err, peak) = read_in_child(&p);
    let err = err.expect("an error");
    assert!(
        err.contains(r#"row.xlsx, sheet "Data", sheet row 2: the row holds more than 16,384 cells, the most a row may hold (Excel's 16,384 columns); no row was read"#),
        "{err}"
    );
    assert!(peak < MAX_PEAK, "peak memory {} MB", peak >> 20);
}

/// Only the parts calamine reads are checked: images holding 2 MiB without a `<` (which the
/// check would take for an XML text too long) do not stop the workbook, wherever they lie.
#[test]
fn parts_calamine_does_not_read_are_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("images.xlsx");
    let s = sheet(r#"<row r="2"><c r="A2" t="inlineStr"><is><t>fine</t></is></c></row>"#);
    let image = || Part::Bomb { head: "\u{89}PNG", body: "\0\0\0\0", times: 1 << 19, tail: "" };
    workbook_with(
        &p,
        Part::Stored(&s),
        None,
        vec![("xl/media/image1.png", image())],
        vec![("xl/media/image2.png", image())],
    );
    let r = open(&p, &SourceOptions::default()).unwrap();
    let rows: Vec<Vec<String>> =
        r.flat_map(|c| c.unwrap().rows).map(|row| row.cells.to_vec()).collect();
    assert_eq!(rows, [vec!["fine".to_owned()]]);
}

/// The generator's workbooks are real ones: without a bomb in them they read whole.
#[test]
fn the_generator_writes_workbooks_calamine_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fine.xlsx");
    let head = sheet(r#"<row r="2"><c r="A2" t="s"><v>0</v></c></row><row r="3">"#);
    let (head, tail) = head.split_once("</sheetData>").unwrap();
    let tail = format!("</row></sheetData>{tail}");
    let rows = Part::Bomb { head, body: r#"<c t="s"><v>1</v></c>"#, times: 3, tail: &tail };
    let sst = format!(r#"<sst xmlns="{MAIN}">"#);
    let strings = Part::Bomb { head: &sst, body: "<si><t>x</t></si>", times: 2, tail: "</sst>" };
    workbook(&p, rows, Some(strings));
    let mut o = SourceOptions::default();
    o.xlsx.header_row = Some(1);
    let r = open(&p, &o).unwrap();
    let rows: Vec<Vec<String>> =
        r.flat_map(|c| c.unwrap().rows).map(|row| row.cells.to_vec()).collect();
    assert_eq!(rows, [vec!["x".to_owned()], vec!["x".to_owned()]]);
    let (err, _) = read_in_child(&p);
    assert_eq!(err, None);
}
