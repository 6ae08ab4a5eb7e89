//! Hostile workbooks for tests: XLSX files of a few hundred KB that decompress to gigabytes
//! (a shared-strings bomb, one cell of a gigabyte, one row of 71 million cells). They are made
//! on the fly in milliseconds, so nothing large is ever committed.
//!
//! A bomb's deflate stream is one compressed copy of its repeated text, repeated: a segment
//! ended by a sync flush is byte-aligned and refers only to itself, so copies of it are valid
//! deflate, whatever the size uncompressed.

use std::io::Write as _;
use std::path::Path;

use flate2::{Compress, Compression, FlushCompress};

use crate::GenError;

/// A zip entry: stored text, or `head + body × times + tail` deflated.
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    /// Stored as is.
    Stored(&'a str),
    /// The text `head`, then `body` repeated `times`, then `tail`.
    Bomb {
        /// Before the repeated text.
        head: &'a str,
        /// The repeated text.
        body: &'a str,
        /// How many times `body` is repeated.
        times: u64,
        /// After the repeated text.
        tail: &'a str,
    },
}

/// The three bombs of the hostile-input suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bomb {
    /// 40 million empty shared strings (200 MB of XML).
    SharedStrings,
    /// One inline-string cell of a gigabyte, in sheet row 2, cell B2.
    HugeCell,
    /// One row (sheet row 2) of 71 million empty cells.
    HugeRow,
}

/// The SpreadsheetML namespace.
pub const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

fn invalid(what: impl Into<String>) -> GenError {
    GenError::Io(std::io::Error::other(what.into()))
}

/// `input` deflated on its own, ending byte-aligned (or final with `last`).
fn segment(input: &[u8], last: bool) -> Result<Vec<u8>, GenError> {
    let mut c = Compress::new(Compression::best(), false);
    // Deflate never grows its input by more than a few bytes a block.
    let mut out = Vec::with_capacity(input.len() + 1024);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    c.compress_vec(input, &mut out, flush).map_err(|e| invalid(e.to_string()))?;
    if c.total_in() as usize != input.len() || out.len() >= out.capacity() {
        return Err(invalid("a deflate segment was not flushed whole"));
    }
    Ok(out)
}

/// The crc of `text` repeated `times`.
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

/// One entry's method, crc, uncompressed size and data.
fn entry(part: &Part<'_>) -> Result<(u16, u32, u64, Vec<u8>), GenError> {
    Ok(match *part {
        Part::Stored(text) => {
            (0, crc32fast::hash(text.as_bytes()), text.len() as u64, text.as_bytes().to_vec())
        }
        Part::Bomb { head, body, times, tail } => {
            let mut crc = crc32fast::Hasher::new();
            crc.update(head.as_bytes());
            crc.combine(&crc_times(body.as_bytes(), times));
            let mut t = crc32fast::Hasher::new();
            t.update(tail.as_bytes());
            crc.combine(&t);
            // Copies of a segment of 64 KiB of the body, then the rest of the body.
            let per = ((64 << 10) / body.len().max(1) as u64).max(1);
            let one = segment(body.repeat(per as usize).as_bytes(), false)?;
            let mut data = segment(head.as_bytes(), false)?;
            for _ in 0..times / per {
                data.extend_from_slice(&one);
            }
            data.extend(segment(body.repeat((times % per) as usize).as_bytes(), false)?);
            data.extend(segment(tail.as_bytes(), true)?);
            let size = (head.len() + tail.len()) as u64 + body.len() as u64 * times;
            (8, crc.finalize(), size, data)
        }
    })
}

/// A zip archive of `parts`, written by hand (stored or deflated entries, no zip64).
pub fn zip(parts: &[(&str, Part<'_>)]) -> Result<Vec<u8>, GenError> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let u32_of = |n: u64| u32::try_from(n).map_err(|_| invalid("no zip64 here"));
    for (name, part) in parts {
        let (method, crc, size, data) = entry(part)?;
        let offset = u32_of(out.len() as u64)?;
        let mut fields = Vec::new();
        fields.extend_from_slice(&20u16.to_le_bytes()); // version needed
        fields.extend_from_slice(&0u16.to_le_bytes()); // flags
        fields.extend_from_slice(&method.to_le_bytes());
        fields.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
        fields.extend_from_slice(&crc.to_le_bytes());
        fields.extend_from_slice(&u32_of(data.len() as u64)?.to_le_bytes());
        fields.extend_from_slice(&u32_of(size)?.to_le_bytes());
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
    let cd_offset = u32_of(out.len() as u64)?;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&u32_of(central.len() as u64)?.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

/// Writes a workbook with one sheet, `Data`: `before` entries, the sheet, the shared strings
/// (if any), then `after` entries.
pub fn workbook_with<'a>(
    path: &Path,
    sheet: Part<'a>,
    strings: Option<Part<'a>>,
    before: Vec<(&'a str, Part<'a>)>,
    after: Vec<(&'a str, Part<'a>)>,
) -> Result<(), GenError> {
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
    let bytes = zip(&parts)?;
    std::fs::File::create(path)?.write_all(&bytes)?;
    Ok(())
}

/// Writes a workbook with one sheet, `Data`, and the given sheet and shared strings.
pub fn workbook(path: &Path, sheet: Part<'_>, strings: Option<Part<'_>>) -> Result<(), GenError> {
    workbook_with(path, sheet, strings, Vec::new(), Vec::new())
}

/// A sheet of a header row `a` and the given XML after it.
pub fn sheet(rows: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>{rows}</sheetData></worksheet>"#
    )
}

/// Writes `bomb` to `path` (under 2 MB on disk).
pub fn write_bomb(path: &Path, bomb: Bomb) -> Result<(), GenError> {
    match bomb {
        Bomb::SharedStrings => {
            let head = format!(r#"<?xml version="1.0"?><sst xmlns="{MAIN}">"#);
            let strings =
                Part::Bomb { head: &head, body: "<si/>", times: 40_000_000, tail: "</sst>" };
            workbook(path, Part::Stored(&sheet("")), Some(strings))
        }
        Bomb::HugeCell => {
            let s = sheet(r#"<row r="2"><c r="B2" t="inlineStr"><is><t>"#);
            let (head, tail) = s.split_once("</sheetData>").unwrap_or((&s, ""));
            let tail = format!("</t></is></c></row></sheetData>{tail}");
            let body = "xxxxxxxxxxxxxxxx";
            workbook(path, Part::Bomb { head, body, times: 1 << 26, tail: &tail }, None)
        }
        Bomb::HugeRow => {
            let s = sheet(r#"<row r="2">"#);
            let (head, tail) = s.split_once("</sheetData>").unwrap_or((&s, ""));
            let tail = format!("</row></sheetData>{tail}");
            workbook(path, Part::Bomb { head, body: "<c/>", times: 71_000_000, tail: &tail }, None)
        }
    }
}
