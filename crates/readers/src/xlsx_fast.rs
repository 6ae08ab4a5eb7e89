//! A fast path for reading an XLSX sheet: the sheet's XML is scanned for its few elements
//! (`row`, `c`, `v`, `is`, `t`, `f`) straight from the decompressed bytes, instead of going
//! through calamine's general XML event reader, which costs about a microsecond a cell.
//!
//! What a cell means follows calamine's cell reader exactly (a test compares the two on
//! workbooks with every kind of cell): shared and inline strings (rich text runs joined,
//! phonetic runs skipped, `xml:space`, entities, `_xHHHH_` escapes), numbers whose style is a
//! date or time format, booleans, errors, ISO dates, formula results. The workbook's
//! relationships, shared strings and styles are read here too; anything this module does not
//! expect there (another XML encoding, a missing part) makes the reader use calamine instead.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

/// What a number's style makes of it (calamine's `CellFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fmt {
    /// A plain number.
    Other,
    /// A date or date-time.
    DateTime,
    /// A duration.
    TimeDelta,
}

/// A cell's value, as calamine's `DataRef` would hold it.
#[derive(Debug)]
pub(crate) enum Value<'a> {
    Empty,
    Number(f64, Fmt),
    Text(Cow<'a, str>),
    Bool(bool),
    Error(String),
}

/// The parts of the workbook a sheet's cells need.
#[derive(Debug)]
pub(crate) struct Meta {
    /// The sheet's part in the archive.
    pub(crate) sheet_path: String,
    strings: Vec<String>,
    formats: Vec<Fmt>,
}

/// A problem that stops the fast path (the caller reports it as calamine would).
#[derive(Debug)]
pub(crate) struct Bad(pub(crate) String);

type Zip = zip::ZipArchive<std::io::BufReader<std::fs::File>>;

/// The archive entry named `path`, case-insensitively as calamine looks it up.
fn entry_name(zip: &Zip, path: &str) -> Option<String> {
    let want = path.trim_start_matches('/').replace('\\', "/").to_ascii_lowercase();
    zip.file_names()
        .filter_map(Result::ok)
        .find(|n| n.to_ascii_lowercase().replace('\\', "/") == want)
        .map(|n| n.into_owned())
}

/// Reads a whole (small) part of the archive.
fn read_part(zip: &mut Zip, path: &str) -> Option<Vec<u8>> {
    let name = entry_name(zip, path)?;
    let mut f = zip.by_name(&name).ok()?;
    let mut v = Vec::new();
    f.read_to_end(&mut v).ok()?;
    Some(v)
}

impl Meta {
    /// Reads what sheet `name` needs; `None` when anything is unexpected.
    pub(crate) fn load(zip: &mut Zip, name: &str) -> Option<Meta> {
        // The workbook part, from the package relationships.
        let mut workbook = "xl/workbook.xml".to_owned();
        if let Some(rels) = read_part(zip, "_rels/.rels") {
            let mut x = Xml::new(&rels)?;
            while let Some(t) = x.next() {
                if let Tok::Start { name: b"Relationship", attrs, .. } = t
                    && attr(attrs, b"Type").is_some_and(|v| v.ends_with("/officeDocument"))
                    && let Some(target) = attr(attrs, b"Target")
                {
                    workbook = target.trim_start_matches('/').to_owned();
                }
            }
        }
        let (dir, file) = match workbook.rsplit_once('/') {
            Some((d, f)) => (format!("{d}/"), f.to_owned()),
            None => (String::new(), workbook.clone()),
        };
        let mut targets = HashMap::new();
        let rels = read_part(zip, &format!("{dir}_rels/{file}.rels"))?;
        let mut x = Xml::new(&rels)?;
        while let Some(t) = x.next() {
            if let Tok::Start { name: b"Relationship", attrs, .. } = t
                && let (Some(id), Some(target)) = (attr(attrs, b"Id"), attr(attrs, b"Target"))
            {
                let path = match target.strip_prefix('/') {
                    Some(abs) => abs.to_owned(),
                    None => format!("{dir}{target}"),
                };
                targets.insert(id.into_owned(), path);
            }
        }
        let wb = read_part(zip, &workbook)?;
        let mut x = Xml::new(&wb)?;
        let mut sheet_path = None;
        while let Some(t) = x.next() {
            if let Tok::Start { name: b"sheet", attrs, .. } = t
                && attr(attrs, b"name").is_some_and(|n| n == name)
            {
                let id = attr(attrs, b"r:id")?;
                sheet_path = Some(targets.get(id.as_ref())?.clone());
            }
        }
        let sheet_path = entry_name(zip, &sheet_path?)?;
        // The sheet must be UTF-8 too (its declaration is in its first bytes).
        let mut head = Vec::new();
        zip.by_name(&sheet_path).ok()?.take(256).read_to_end(&mut head).ok()?;
        if !utf8_declared(&head) {
            return None;
        }
        let strings = match read_part(zip, &format!("{dir}sharedStrings.xml")) {
            Some(sst) => shared_strings(&sst)?,
            None => Vec::new(),
        };
        let formats = match read_part(zip, &format!("{dir}styles.xml")) {
            Some(s) => styles(&s)?,
            None => Vec::new(),
        };
        Some(Meta { sheet_path, strings, formats })
    }
}

fn shared_strings(xml: &[u8]) -> Option<Vec<String>> {
    let mut x = Xml::new(xml)?;
    let mut out = Vec::new();
    while let Some(t) = x.next() {
        if let Tok::Start { name: b"si", empty, .. } = t {
            let mut text = String::new();
            if !empty {
                rich_text(&mut x, b"si", &mut text).ok()?;
            }
            out.push(text);
        }
    }
    Some(out)
}

fn styles(xml: &[u8]) -> Option<Vec<Fmt>> {
    let mut x = Xml::new(xml)?;
    let mut custom: HashMap<String, String> = HashMap::new();
    let mut formats = Vec::new();
    let mut in_xfs = false;
    while let Some(t) = x.next() {
        match t {
            Tok::Start { name: b"numFmt", attrs, .. } => {
                if let (Some(id), Some(code)) =
                    (attr(attrs, b"numFmtId"), attr(attrs, b"formatCode"))
                {
                    custom.insert(id.into_owned(), code.into_owned());
                }
            }
            Tok::Start { name: b"cellXfs", empty: false, .. } => in_xfs = true,
            Tok::End { name: b"cellXfs" } => in_xfs = false,
            Tok::Start { name: b"xf", attrs, .. } if in_xfs => {
                formats.push(match attr(attrs, b"numFmtId") {
                    None => Fmt::Other,
                    Some(id) => match custom.get(id.as_ref()) {
                        Some(code) => custom_format(code),
                        None => builtin_format(&id),
                    },
                });
            }
            _ => {}
        }
    }
    Some(formats)
}

/// calamine's `builtin_format_by_id`.
fn builtin_format(id: &str) -> Fmt {
    match id {
        "14" | "15" | "16" | "17" | "18" | "19" | "20" | "21" | "22" | "45" | "47" => Fmt::DateTime,
        "27" | "28" | "29" | "30" | "31" | "32" | "33" | "34" | "35" | "36" => Fmt::DateTime,
        "50" | "51" | "52" | "53" | "54" | "55" | "56" | "57" | "58" => Fmt::DateTime,
        "46" => Fmt::TimeDelta,
        _ => Fmt::Other,
    }
}

/// calamine's `detect_custom_number_format` (MIT, Johann Tuffe and contributors).
fn custom_format(format: &str) -> Fmt {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            ('_' | '\\' | '*', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return Fmt::Other,
            ('[', ..) => brackets += 1,
            (']', .., 1) if hms => return Fmt::TimeDelta,
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => return Fmt::DateTime,
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => {
                return Fmt::DateTime;
            }
            _ => {
                if !(hms && s.eq_ignore_ascii_case(&prev)) {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    Fmt::Other
}

/// One piece of XML.
#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    /// `<name attrs>` (`empty` for `<name attrs/>`); the name without its prefix.
    Start { name: &'a [u8], attrs: &'a [u8], empty: bool },
    /// `</name>`.
    End { name: &'a [u8] },
    /// Character data (entities not resolved).
    Text(&'a [u8]),
    /// The content of a CDATA section.
    CData(&'a [u8]),
}

/// An XML tokenizer over a complete, UTF-8 document in memory.
struct Xml<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Xml<'a> {
    /// `None` when the document declares an encoding other than UTF-8.
    fn new(data: &'a [u8]) -> Option<Self> {
        if !utf8_declared(data) {
            return None;
        }
        let at = if data.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        Some(Self { data, at })
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let rest = self.data.get(self.at..)?;
        let (raw, used) = token(rest, true)?;
        self.at += used;
        Some(raw.view(rest))
    }
}

/// Whether the XML declaration at the start of `data`, if any, names UTF-8.
fn utf8_declared(data: &[u8]) -> bool {
    let head = data.get(..data.len().min(200)).unwrap_or_default();
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return false;
    }
    let Some(end) = head.windows(2).position(|w| w == b"?>") else { return true };
    let decl = String::from_utf8_lossy(head.get(..end).unwrap_or_default()).to_ascii_lowercase();
    match decl.find("encoding") {
        None => true,
        Some(i) => {
            let rest = decl.get(i..).unwrap_or_default();
            rest.contains("utf-8") || rest.contains("utf8")
        }
    }
}

/// A token as ranges of the bytes it was read from (see [`Raw::view`]).
#[derive(Debug, Clone, Copy)]
enum Raw {
    Start { name: (usize, usize), attrs: (usize, usize), empty: bool },
    End { name: (usize, usize) },
    Text((usize, usize)),
    CData((usize, usize)),
}

impl Raw {
    fn view(self, d: &[u8]) -> Tok<'_> {
        let at = |(a, b): (usize, usize)| d.get(a..b).unwrap_or_default();
        match self {
            Raw::Start { name, attrs, empty } => {
                Tok::Start { name: at(name), attrs: at(attrs), empty }
            }
            Raw::End { name } => Tok::End { name: at(name) },
            Raw::Text(r) => Tok::Text(at(r)),
            Raw::CData(r) => Tok::CData(at(r)),
        }
    }
}

/// The local part of the name at `a..b` of `d`, as a range.
fn local_range(d: &[u8], a: usize, b: usize) -> (usize, usize) {
    match d.get(a..b).and_then(|n| n.iter().rposition(|&c| c == b':')) {
        Some(i) => (a + i + 1, b),
        None => (a, b),
    }
}

/// The next token of `data` and the bytes it takes; `None` when `data` ends inside it (or
/// is empty), unless `eof` (then an unfinished tag is dropped and `None` too).
fn token(data: &[u8], eof: bool) -> Option<(Raw, usize)> {
    let first = *data.first()?;
    if first != b'<' {
        return match memchr::memchr(b'<', data) {
            Some(e) => Some((Raw::Text((0, e)), e)),
            None if eof => Some((Raw::Text((0, data.len())), data.len())),
            None => None,
        };
    }
    let rest = data.get(1..)?;
    if rest.starts_with(b"![CDATA[") {
        let e = memchr::memmem::find(rest.get(8..)?, b"]]>")?;
        return Some((Raw::CData((9, 9 + e)), 1 + 8 + e + 3));
    }
    if rest.starts_with(b"!--") {
        let e = memchr::memmem::find(rest.get(3..)?, b"-->")?;
        return Some((Raw::Text((0, 0)), 1 + 3 + e + 3));
    }
    if rest.starts_with(b"?") || rest.starts_with(b"!") {
        let e = memchr::memchr(b'>', rest)?;
        return Some((Raw::Text((0, 0)), 1 + e + 1));
    }
    // A tag: its `>` is the first one outside quoted attribute values (tags are short: a
    // plain loop beats searching for each quote).
    let mut quote = 0u8;
    let mut end = None;
    for (i, &b) in rest.iter().enumerate() {
        if quote != 0 {
            if b == quote {
                quote = 0;
            }
        } else if b == b'>' {
            end = Some(i);
            break;
        } else if b == b'"' || b == b'\'' {
            quote = b;
        }
    }
    let end = end?;
    // Offsets in `data`: the tag's inside is 1..1 + end.
    let used = 1 + end + 1;
    let (mut a, mut b) = (1, 1 + end);
    if data.get(a) == Some(&b'/') {
        a += 1;
        let n = data.get(a..b)?.iter().position(u8::is_ascii_whitespace).map_or(b, |p| a + p);
        return Some((Raw::End { name: local_range(data, a, n) }, used));
    }
    let empty = b > a && data.get(b - 1) == Some(&b'/');
    if empty {
        b -= 1;
    }
    let n = data.get(a..b)?.iter().position(u8::is_ascii_whitespace).map_or(b, |p| a + p);
    Some((Raw::Start { name: local_range(data, a, n), attrs: (n, b), empty }, used))
}

/// The value of attribute `key` (its full name), entities resolved.
fn attr<'a>(attrs: &'a [u8], key: &[u8]) -> Option<Cow<'a, str>> {
    raw_attr(attrs, key).map(|v| unescape_entities(&String::from_utf8_lossy(v)).into_owned().into())
}

/// The raw values of three attributes (full names), in one pass over the tag.
fn attrs3<'a>(attrs: &'a [u8], keys: [&[u8]; 3]) -> [Option<&'a [u8]>; 3] {
    let mut out = [None; 3];
    let mut i = 0;
    let n = attrs.len();
    loop {
        // The name, up to `=`.
        while i < n && attrs.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let name_start = i;
        while i < n && attrs.get(i) != Some(&b'=') {
            i += 1;
        }
        if i >= n {
            return out;
        }
        let name = attrs.get(name_start..i).unwrap_or_default().trim_ascii_end();
        i += 1;
        while i < n && attrs.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let quote = attrs.get(i).copied().unwrap_or(0);
        if quote != b'"' && quote != b'\'' {
            return out;
        }
        let v = i + 1;
        i = v;
        while i < n && attrs.get(i) != Some(&quote) {
            i += 1;
        }
        let value = attrs.get(v..i);
        // Names are compared by length first (the keys are short).
        for (k, slot) in keys.iter().zip(out.iter_mut()) {
            if name.len() == k.len() && name.first() == k.first() && name == *k {
                *slot = value;
            }
        }
        i += 1;
    }
}

/// The raw value of attribute `key`.
fn raw_attr<'a>(attrs: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    loop {
        while attrs.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let eq = i + attrs.get(i..)?.iter().position(|&b| b == b'=')?;
        let name = attrs.get(i..eq)?.trim_ascii();
        let mut v = eq + 1;
        while attrs.get(v).is_some_and(u8::is_ascii_whitespace) {
            v += 1;
        }
        let q = *attrs.get(v)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let close = v + 1 + attrs.get(v + 1..)?.iter().position(|&b| b == q)?;
        if name == key {
            return attrs.get(v + 1..close);
        }
        i = close + 1;
    }
}

/// Resolves `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and character references.
fn unescape_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    push_entities(s, &mut out, false);
    Cow::Owned(out)
}

/// Appends XML character data: entities resolved and, when `eols`, line ends normalized
/// (`\r\n` and `\r` become `\n`) outside the entities, as quick-xml's `xml10_content` does.
fn push_entities(s: &str, out: &mut String, eols: bool) {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        push_eols(rest.get(..i).unwrap_or_default(), out, eols);
        let after = rest.get(i + 1..).unwrap_or_default();
        let Some(semi) = after.find(';') else {
            push_eols(rest.get(i..).unwrap_or_default(), out, eols);
            return;
        };
        let name = after.get(..semi).unwrap_or_default();
        let ch = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            n => n.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix('x') {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse().ok()?,
                };
                char::from_u32(code)
            }),
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(rest.get(i..i + 1 + semi + 1).unwrap_or_default()),
        }
        rest = after.get(semi + 1..).unwrap_or_default();
    }
    push_eols(rest, out, eols);
}

fn push_eols(s: &str, out: &mut String, eols: bool) {
    if !eols || !s.contains('\r') {
        out.push_str(s);
        return;
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
}

/// calamine's `unescape_xml`: `_xHHHH_` escapes (UTF-16 code units) to characters.
fn unescape_x(s: &str) -> Cow<'_, str> {
    fn unit(b: &[u8], i: usize) -> Option<u16> {
        let e = b.get(i..i + 7)?;
        if e.first() != Some(&b'_') || e.get(1) != Some(&b'x') || e.get(6) != Some(&b'_') {
            return None;
        }
        let hex = e.get(2..6)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
    let b = s.as_bytes();
    let find = |from: usize| -> Option<(usize, u16)> {
        let mut start = from;
        while let Some(off) = s.get(start..)?.find('_') {
            let i = start + off;
            if let Some(u) = unit(b, i) {
                return Some((i, u));
            }
            start = i + 1;
        }
        None
    };
    let Some((mut i, mut u)) = find(0) else { return Cow::Borrowed(s) };
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    loop {
        out.push_str(s.get(copied..i).unwrap_or_default());
        i += 7;
        match u {
            0xD800..=0xDBFF => match unit(b, i) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    let cp = 0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    out.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                    i += 7;
                }
                _ => out.push(char::REPLACEMENT_CHARACTER),
            },
            0xDC00..=0xDFFF => out.push(char::REPLACEMENT_CHARACTER),
            _ => out.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
        copied = i;
        match find(i) {
            Some(next) => (i, u) = next,
            None => break,
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// A source of tokens: a document in memory, or a sheet being decompressed.
trait Tokens {
    fn tok(&mut self) -> Result<Option<Tok<'_>>, Bad>;
}

impl Tokens for Xml<'_> {
    fn tok(&mut self) -> Result<Option<Tok<'_>>, Bad> {
        Ok(self.next())
    }
}

/// calamine's `read_string_with_bufs`: the text of an `<si>` or `<is>` element, read up to
/// its end tag `closing` (rich text runs joined, phonetic runs left out), appended to `out`.
fn rich_text<T: Tokens>(x: &mut T, closing: &[u8], out: &mut String) -> Result<(), Bad> {
    let mut phonetic = false;
    loop {
        let Some(t) = x.tok()? else { return Err(Bad("the XML ends inside a string".into())) };
        match t {
            Tok::Start { name: b"rPh", empty: false, .. } => phonetic = true,
            Tok::End { name } if name == closing => return Ok(()),
            Tok::End { name: b"rPh" } => phonetic = false,
            Tok::Start { name: b"t", attrs, empty } if !phonetic => {
                let preserve = raw_attr(attrs, b"xml:space") == Some(b"preserve");
                let start = out.len();
                if !empty {
                    loop {
                        match x.tok()? {
                            Some(Tok::Text(t)) => push_text(t, out),
                            Some(Tok::CData(t)) => {
                                push_eols(&String::from_utf8_lossy(t), out, true);
                            }
                            Some(Tok::End { name: b"t" }) => break,
                            Some(_) => {}
                            None => return Err(Bad("the XML ends inside a string".into())),
                        }
                    }
                }
                finish_t(out, start, preserve);
            }
            _ => {}
        }
    }
}

/// Appends character data (entities resolved, line ends normalized).
fn push_text(t: &[u8], out: &mut String) {
    match std::str::from_utf8(t) {
        Ok(s) if memchr::memchr2(b'&', b'\r', t).is_none() => out.push_str(s),
        _ => push_entities(&String::from_utf8_lossy(t), out, true),
    }
}

/// The text of one `<t>` element, `out[start..]`: trimmed of ASCII white space unless
/// `xml:space="preserve"`, then `_xHHHH_` escapes resolved.
fn finish_t(out: &mut String, start: usize, preserve: bool) {
    let seg = out.get(start..).unwrap_or_default();
    let white = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t' | b'\r' | b'\n'));
    let bytes = seg.as_bytes();
    let trim = !preserve && (white(bytes.first()) || white(bytes.last()));
    if !trim && memchr::memchr(b'_', bytes).is_none() {
        return;
    }
    let kept = if preserve { seg } else { seg.trim_matches([' ', '\t', '\r', '\n']) };
    if kept.len() == seg.len() && !kept.contains("_x") {
        return;
    }
    let fixed = unescape_x(kept).into_owned();
    out.truncate(start);
    out.push_str(&fixed);
}

/// A sheet's XML, decompressed a block at a time.
pub(crate) struct SheetXml<R> {
    input: R,
    buf: Vec<u8>,
    at: usize,
    eof: bool,
}

/// Bytes decompressed at a time.
const XML_BLOCK: usize = 256 << 10;

impl<R: Read> SheetXml<R> {
    pub(crate) fn new(input: R) -> Self {
        Self { input, buf: Vec::with_capacity(XML_BLOCK * 2), at: 0, eof: false }
    }

    fn fill(&mut self) -> Result<(), Bad> {
        self.buf.drain(..self.at);
        self.at = 0;
        let before = self.buf.len();
        (&mut self.input)
            .take(XML_BLOCK as u64)
            .read_to_end(&mut self.buf)
            .map_err(|e| Bad(e.to_string()))?;
        self.eof = self.buf.len() == before;
        Ok(())
    }
}

impl<R: Read> SheetXml<R> {
    /// The common shapes of a cell's content, `<is><t>TEXT</t></is></c>` and
    /// `<v>TEXT</v></c>`, when one of them is next and whole in the buffer: the text's range
    /// in the buffer and whether it is an inline string (the `</c>` is consumed too).
    fn simple(&mut self) -> Option<(bool, usize, usize)> {
        let rest = self.buf.get(self.at..)?;
        let (inline, open, close): (bool, usize, &[u8]) = if rest.starts_with(b"<is><t>") {
            (true, 7, b"</t></is></c>")
        } else if rest.starts_with(b"<v>") {
            (false, 3, b"</v></c>")
        } else {
            return None;
        };
        let len = memchr::memchr(b'<', rest.get(open..)?)?;
        if !rest.get(open + len..)?.starts_with(close) {
            return None;
        }
        let a = self.at + open;
        self.at += open + len + close.len();
        Some((inline, a, a + len))
    }
}

impl<R: Read> Tokens for SheetXml<R> {
    fn tok(&mut self) -> Result<Option<Tok<'_>>, Bad> {
        loop {
            let rest = self.buf.get(self.at..).unwrap_or_default();
            match token(rest, self.eof) {
                Some((raw, used)) => {
                    let start = self.at;
                    self.at += used;
                    return Ok(Some(raw.view(self.buf.get(start..).unwrap_or_default())));
                }
                None if self.eof => {
                    if rest.is_empty() {
                        return Ok(None);
                    }
                    return Err(Bad("the sheet's XML ends inside a tag".into()));
                }
                None => self.fill()?,
            }
        }
    }
}

/// Where the cells of a sheet go: `(row, column, value)`; false stops the reading.
pub(crate) trait CellSink {
    fn cell(&mut self, row: u32, col: u32, value: Value<'_>) -> bool;
}

/// Reads the cells of a sheet in document order (calamine's `XlsxCellReader::next_cell`).
pub(crate) fn read_cells<R: Read>(
    xml: &mut SheetXml<R>,
    meta: &Meta,
    sink: &mut impl CellSink,
) -> Result<(), Bad> {
    // Up to <sheetData>.
    loop {
        match xml.tok()? {
            None => return Err(Bad("the sheet has no sheetData".into())),
            Some(Tok::Start { name: b"sheetData", empty, .. }) => {
                if empty {
                    return Ok(());
                }
                break;
            }
            Some(_) => {}
        }
    }
    let (mut row, mut col) = (0u32, 0u32);
    let mut scratch = String::new();
    loop {
        let Some(t) = xml.tok()? else { return Err(Bad("the sheet's XML ends early".into())) };
        match t {
            Tok::Start { name: b"row", attrs, empty } => {
                if let Some(r) = raw_attr(attrs, b"r") {
                    row = row_number(r)?;
                }
                if empty {
                    row += 1;
                    col = 0;
                }
            }
            Tok::End { name: b"row" } => {
                row += 1;
                col = 0;
            }
            Tok::End { name: b"sheetData" } => return Ok(()),
            Tok::Start { name: b"c", attrs, empty } => {
                let [r, st, t] = attrs3(attrs, [b"r", b"s", b"t"]);
                let pos = match r {
                    Some(r) => {
                        let (r, c) = cell_ref(r)?;
                        col = c;
                        (r, c)
                    }
                    None => (row, col),
                };
                let style = st.map(|s| {
                    std::str::from_utf8(s).ok().and_then(|s| s.parse::<usize>().ok()).unwrap_or(0)
                });
                let kind = Kind::of(t);
                let value = if empty {
                    Value::Empty
                } else if let Some((inline, a, b)) = xml.simple() {
                    let text = xml.buf.get(a..b).unwrap_or_default();
                    if inline {
                        scratch.clear();
                        push_text(text, &mut scratch);
                        finish_t(&mut scratch, 0, false);
                        Value::Text(Cow::Borrowed(scratch.as_str()))
                    } else if matches!(kind, Kind::Inline) {
                        Value::Empty
                    } else {
                        v_value(meta, style, &kind, text)?
                    }
                } else {
                    cell_value(xml, meta, style, kind, &mut scratch)?
                };
                col += 1;
                if !sink.cell(pos.0, pos.1, value) {
                    return Ok(());
                }
            }
            _ => {}
        }
    }
}

/// A row reference (`12`) as a 0-based row.
fn row_number(r: &[u8]) -> Result<u32, Bad> {
    let digits = r.iter().skip_while(|b| b.is_ascii_alphabetic());
    let mut n = 0u32;
    let mut any = false;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(Bad(format!("bad row reference {:?}", String::from_utf8_lossy(r))));
        }
        n = n.checked_mul(10).and_then(|n| n.checked_add(u32::from(b - b'0'))).ok_or_else(
            || Bad(format!("row reference {:?} out of range", String::from_utf8_lossy(r))),
        )?;
        any = true;
    }
    if !any || n == 0 {
        return Err(Bad(format!("bad row reference {:?}", String::from_utf8_lossy(r))));
    }
    Ok(n - 1)
}

/// A cell reference (`AB12`) as a 0-based (row, column).
fn cell_ref(r: &[u8]) -> Result<(u32, u32), Bad> {
    let mut col = 0u32;
    let mut n = 0;
    for &b in r.iter().take_while(|b| b.is_ascii_alphabetic()) {
        col = col
            .checked_mul(26)
            .and_then(|c| c.checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1))
            .ok_or_else(|| Bad("column reference out of range".into()))?;
        n += 1;
    }
    if col == 0 {
        return Err(Bad(format!("bad cell reference {:?}", String::from_utf8_lossy(r))));
    }
    Ok((row_number(r.get(n..).unwrap_or_default())?, col - 1))
}

/// The value of a `<c>` element, read up to its end tag.
fn cell_value<'m, R: Read>(
    xml: &mut SheetXml<R>,
    meta: &'m Meta,
    style: Option<usize>,
    kind: Kind,
    scratch: &'m mut String,
) -> Result<Value<'m>, Bad> {
    let mut inline = false;
    let mut value = Value::Empty;
    loop {
        let Some(t) = xml.tok()? else { return Err(Bad("the sheet's XML ends in a cell".into())) };
        match t {
            Tok::End { name: b"c" } => {
                return Ok(if inline {
                    Value::Text(Cow::Borrowed(scratch.as_str()))
                } else {
                    value
                });
            }
            Tok::Start { name: b"is", empty, .. } => {
                scratch.clear();
                if !empty {
                    rich_text(xml, b"is", scratch)?;
                }
                inline = true;
            }
            Tok::Start { name: b"v", empty, .. } => {
                let mut raw = Vec::new();
                if !empty {
                    let mut first = true;
                    loop {
                        match xml.tok()? {
                            Some(Tok::End { name: b"v" }) => break,
                            Some(Tok::Text(t)) => {
                                raw.extend_from_slice(t);
                                first = false;
                            }
                            Some(Tok::CData(t)) if !first || raw.is_empty() => {
                                raw.extend_from_slice(t)
                            }
                            Some(_) => {}
                            None => return Err(Bad("the sheet's XML ends in a value".into())),
                        }
                    }
                }
                inline = false;
                value = match kind {
                    Kind::Inline => Value::Empty,
                    ref k => v_value(meta, style, k, &raw)?,
                };
            }
            Tok::Start { name, empty, .. } => {
                // `<f>` (the formula: its result is in `<v>`) and anything else: skipped.
                if name == b"f" {
                    value = Value::Empty;
                    inline = false;
                }
                if !empty {
                    let name = name.to_vec();
                    skip_to_end(xml, name)?;
                }
            }
            _ => {}
        }
    }
}

fn skip_to_end<R: Read>(xml: &mut SheetXml<R>, name: Vec<u8>) -> Result<(), Bad> {
    let mut depth = 0u32;
    loop {
        match xml.tok()? {
            None => return Err(Bad("the sheet's XML ends early".into())),
            Some(Tok::Start { name: n, empty: false, .. }) if n == name.as_slice() => depth += 1,
            Some(Tok::End { name: n }) if n == name.as_slice() => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            Some(_) => {}
        }
    }
}

/// A cell's `t` attribute.
#[derive(Debug)]
enum Kind {
    None,
    N,
    S,
    B,
    E,
    D,
    Str,
    Inline,
    Other(String),
}

impl Kind {
    fn of(t: Option<&[u8]>) -> Kind {
        match t {
            None => Kind::None,
            Some(b"n") => Kind::N,
            Some(b"s") => Kind::S,
            Some(b"b") => Kind::B,
            Some(b"e") => Kind::E,
            Some(b"d") => Kind::D,
            Some(b"str") => Kind::Str,
            Some(b"inlineStr" | b"is") => Kind::Inline,
            Some(other) => Kind::Other(String::from_utf8_lossy(other).into_owned()),
        }
    }
}

/// calamine's `read_v`: a `<v>` value by the cell's type and style.
fn v_value<'m>(
    meta: &'m Meta,
    style: Option<usize>,
    kind: &Kind,
    raw: &[u8],
) -> Result<Value<'m>, Bad> {
    let text = String::from_utf8_lossy(raw);
    let fmt = match style {
        Some(id) => meta.formats.get(id).copied(),
        None => Some(Fmt::Other),
    };
    Ok(match kind {
        Kind::S => {
            if text.is_empty() {
                return Ok(Value::Empty);
            }
            let idx = text.parse::<usize>().unwrap_or(0);
            let s = meta
                .strings
                .get(idx)
                .ok_or_else(|| Bad("Cell string index not found in shared strings table".into()))?;
            Value::Text(Cow::Borrowed(s))
        }
        Kind::B => {
            let v = text.trim();
            if v.is_empty() {
                Value::Empty
            } else if v == "0" || v.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else if v == "1" || v.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else {
                return Err(Bad(format!("unrecognized boolean cell value {text:?}")));
            }
        }
        Kind::E => Value::Error(text.into_owned()),
        Kind::D => {
            let mut s = String::new();
            push_entities(&text, &mut s, true);
            Value::Text(Cow::Owned(s))
        }
        Kind::Str | Kind::Inline => {
            let mut s = String::new();
            push_entities(&text, &mut s, true);
            Value::Text(Cow::Owned(unescape_x(&s).into_owned()))
        }
        Kind::N | Kind::None => {
            if text.is_empty() {
                return Ok(Value::Empty);
            }
            match text.parse::<f64>() {
                Ok(n) => Value::Number(n, fmt.unwrap_or(Fmt::Other)),
                Err(_) if matches!(kind, Kind::None) => Value::Text(Cow::Owned(text.into_owned())),
                Err(e) => return Err(Bad(e.to_string())),
            }
        }
        Kind::Other(t) => return Err(Bad(format!("unknown cell type t={t:?}"))),
    })
}
