//! Hostile workbooks: a shared-strings bomb, one cell of a gigabyte, one row of 71 million
//! cells. Each is made on the fly (under 2 MB; nothing large is committed) and read in a child
//! process, which must fail with an error naming the sheet, the row and the limit, its peak
//! memory (VmHWM) under 500 MB.
//!
//! A bomb's deflate stream is one compressed copy of its repeated text, repeated: a segment
//! ended by a sync flush is byte-aligned and refers only to itself, so copies of it are valid
//! deflate, and the generator costs milliseconds whatever the size uncompressed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use flate2::{Compress, Compression, FlushCompress};
use zcrm_readers::{SourceOptions, open};

/// A zip entry: stored text, or `head + body × times + tail` deflated.
enum Part<'a> {
    Stored(&'a str),
    Bomb { head: &'a str, body: &'a str, times: u64, tail: &'a str },
}

/// `input` deflated on its own, ending byte-aligned (or final with `last`).
fn segment(input: &[u8], last: bool) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    // Deflate never grows its input by more than a few bytes a block.
    let mut out = Vec::with_capacity(input.len() + 1024);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    c.compress_vec(input, &mut out, flush).unwrap();
    assert_eq!(c.total_in() as usize, input.len());
    assert!(out.len() < out.capacity(), "the segment was flushed whole");
    out
}

/// The crc and length of `text` repeated `times`.
fn crc_times(text: &[u8], times: u64) -> crc32fast::Hasher {
    let mut pow = crc32fast::Hasher::new();
    pow.update(text);
    let mut acc = crc32fast::Hasher::new();
    let mut n = times;
    while n > 0 {
        if n & 1 == 1 {
            acc.combine(&pow);
        }
        let twice = pow.clone();
        pow.combine(&twice);
        n >>= 1;
    }
    acc
}

/// A zip archive of `parts`, written by hand (stored or deflated entries, no zip64).
fn zip(parts: &[(&str, Part<'_>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, part) in parts {
        let (method, crc, size, data): (u16, u32, u64, Vec<u8>) = match part {
            Part::Stored(text) => {
                (0, crc32fast::hash(text.as_bytes()), text.len() as u64, text.as_bytes().to_vec())
            }
            Part::Bomb { head, body, times, tail } => {
                let mut crc = crc32fast::Hasher::new();
                crc.update(head.as_bytes());
                crc.combine(&crc_times(body.as_bytes(), *times));
                let mut t = crc32fast::Hasher::new();
                t.update(tail.as_bytes());
                crc.combine(&t);
                // Copies of a segment of 64 KiB of the body, then the rest of the body.
                let per = (64 << 10) / body.len().max(1) as u64;
                let chunk = body.repeat(per as usize);
                let mut data = segment(head.as_bytes(), false);
                let one = segment(chunk.as_bytes(), false);
                for _ in 0..times / per {
                    data.extend_from_slice(&one);
                }
                data.extend(segment(body.repeat((times % per) as usize).as_bytes(), false));
                data.extend(segment(tail.as_bytes(), true));
                let size = (head.len() + tail.len()) as u64 + body.len() as u64 * times;
                (8, crc.finalize(), size, data)
            }
        };
        assert!(size < u64::from(u32::MAX), "no zip64 here");
        let offset = out.len() as u32;
        let mut fields = Vec::new();
        fields.extend_from_slice(&20u16.to_le_bytes()); // version needed
        fields.extend_from_slice(&0u16.to_le_bytes()); // flags
        fields.extend_from_slice(&method.to_le_bytes());
        fields.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
        fields.extend_from_slice(&crc.to_le_bytes());
        fields.extend_from_slice(&(data.len() as u32).to_le_bytes());
        fields.extend_from_slice(&(size as u32).to_le_bytes());
        fields.extend_from_slice(&(name.len() as u16).to_le_bytes());
        fields.extend_from_slice(&0u16.to_le_bytes()); // extra
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&fields);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        central.extend_from_slice(&fields);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

/// A workbook with one sheet, `Data`, and the given sheet and shared strings.
fn workbook(path: &Path, sheet: Part<'_>, strings: Option<Part<'_>>) {
    workbook_with(path, sheet, strings, Vec::new(), Vec::new());
}

/// [`workbook`] with more entries before the sheet and after everything.
fn workbook_with<'a>(
    path: &Path,
    sheet: Part<'a>,
    strings: Option<Part<'a>>,
    before: Vec<(&'a str, Part<'a>)>,
    after: Vec<(&'a str, Part<'a>)>,
) {
    let rels = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let types = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;
    let book = format!(
        r#"<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let book_rels = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut parts = vec![
        ("[Content_Types].xml", Part::Stored(types)),
        ("_rels/.rels", Part::Stored(rels)),
        ("xl/workbook.xml", Part::Stored(&book)),
        ("xl/_rels/workbook.xml.rels", Part::Stored(book_rels)),
    ];
    parts.extend(before);
    parts.push(("xl/worksheets/sheet1.xml", sheet));
    if let Some(s) = strings {
        parts.push(("xl/sharedStrings.xml", s));
    }
    parts.extend(after);
    let bytes = zip(&parts);
    std::fs::File::create(path).unwrap().write_all(&bytes).unwrap();
}

/// A sheet of a header row `a` and the given XML after it.
fn sheet(rows: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>{rows}</sheetData></worksheet>"#
    )
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
    let head = format!(r#"<?xml version="1.0"?><sst xmlns="{MAIN}">"#);
    let body = "<si/>";
    let strings = Part::Bomb { head: &head, body, times: 40_000_000, tail: "</sst>" };
    let s = sheet("");
    workbook(&p, Part::Stored(&s), Some(strings));
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
    let head = sheet(r#"<row r="2"><c r="B2" t="inlineStr"><is><t>"#);
    let (head, tail) = head.split_once("</sheetData>").unwrap();
    let tail = format!("</t></is></c></row></sheetData>{tail}");
    let cell = Part::Bomb { head, body: "xxxxxxxxxxxxxxxx", times: 1 << 26, tail: &tail };
    workbook(&p, cell, None);
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
    let head = sheet(r#"<row r="2">"#);
    let (head, tail) = head.split_once("</sheetData>").unwrap();
    let tail = format!("</row></sheetData>{tail}");
    let row = Part::Bomb { head, body: "<c/>", times: 71_000_000, tail: &tail };
    workbook(&p, row, None);
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
