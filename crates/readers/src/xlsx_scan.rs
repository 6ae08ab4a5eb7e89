//! A streaming check of one workbook part (its XML as decompressed) against the limits that
//! keep the reader's memory flat, before calamine reads a byte of it: calamine holds whole
//! XML tokens, the whole shared-strings table and the styles, and has no limits of its own.
//!
//! The check is a lexer, not a parser: it finds tags, text runs, comments, CDATA sections and
//! declarations the way quick-xml (calamine's parser) splits them, measures each, and follows
//! the few elements that matter (`sheetData`, `row`, `c`, `sst`, `si`). It never holds more
//! than the first bytes of one tag.

use std::fmt;

/// The most a workbook may make the reader hold. The defaults are far above any real
/// workbook (Excel's own limits are 32,767 characters a cell and 16,384 columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Bytes of one cell's XML (`<c>`…`</c>`, or a shared string's `<si>`…`</si>`), and of
    /// any one tag, text run, comment or declaration.
    pub(crate) cell_bytes: u64,
    /// Cells in one row.
    pub(crate) row_cells: u64,
    /// Bytes of one row's text as read (shared strings resolved).
    pub(crate) row_text_bytes: u64,
    /// Strings in the shared-strings table.
    pub(crate) shared_strings: u64,
    /// Bytes of the shared strings' XML.
    pub(crate) shared_strings_bytes: u64,
    /// Bytes of one part, uncompressed (a sheet, the shared strings, the styles).
    pub(crate) part_bytes: u64,
    /// Elements of a part outside the sheet's cells and the shared strings (the styles, the
    /// workbook, relationships).
    pub(crate) other_elements: u64,
    /// Bytes of a part outside the sheet's cells and the shared strings.
    pub(crate) other_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cell_bytes: 1 << 20,
            row_cells: 16_384,
            row_text_bytes: 64 << 20,
            shared_strings: 16 << 20,
            shared_strings_bytes: 512 << 20,
            part_bytes: 8 << 30,
            other_elements: 1 << 20,
            other_bytes: 256 << 20,
        }
    }
}

/// A part that passes a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LimitError {
    /// The part's name in the archive (`xl/worksheets/sheet1.xml`).
    pub(crate) part: String,
    /// The 1-based sheet row, when the limit is met in a sheet's rows.
    pub(crate) row: Option<u64>,
    /// What passes which limit.
    pub(crate) message: String,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `n` bytes as the README writes limits: `1 MiB`, `8 GiB`, or bytes.
pub(crate) fn size(n: u64) -> String {
    match n {
        _ if n >= 1 << 30 && n.is_multiple_of(1 << 30) => format!("{} GiB", n >> 30),
        _ if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{} MiB", n >> 20),
        _ if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{} KiB", n >> 10),
        _ => format!("{} bytes", count(n)),
    }
}

/// `n` with thousands separators.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes of a tag kept to read its name and `r` attribute.
const TAG_KEEP: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Just after `<`.
    Lt,
    /// A start or end tag.
    Tag,
    /// After `<!`, before it is known to be a comment, CDATA or a declaration.
    Bang,
    Comment,
    CData,
    /// A processing instruction (`<?xml ...?>`).
    Pi,
    /// `<!DOCTYPE ...>` and the like.
    Decl,
}

/// The check of one part, fed its bytes in order.
pub(crate) struct Scan<'a> {
    limits: &'a Limits,
    part: &'a str,
    /// Bytes fed before the current chunk.
    off: u64,
    state: State,
    /// Where the current token (text run, tag, comment, ...) starts.
    tok_start: u64,
    /// The first bytes of the current tag (after `<`), or of what follows `<!`.
    tag: Vec<u8>,
    /// The last byte of the current tag that is not white space.
    tag_last: u8,
    /// The quote open in a tag or declaration, or 0.
    quote: u8,
    /// `[` depth in a declaration.
    depth: u32,
    /// The last bytes of a comment, CDATA section or processing instruction.
    tail: [u8; 2],
    in_sheet_data: bool,
    sheet_data_start: u64,
    /// Bytes of the `sheetData` elements closed so far.
    sheet_data_bytes: u64,
    /// Where the open `<si>` starts.
    si_start: Option<u64>,
    strings: u64,
    /// Bytes of the `<si>` elements closed so far.
    strings_bytes: u64,
    /// Where the open `<c>` starts.
    cell: Option<u64>,
    /// The reference of the last `<c>` (`B3`), or empty.
    cell_ref: Vec<u8>,
    /// The current sheet row (1-based; 0 before the first).
    row: u64,
    row_cells: u64,
    elements: u64,
}

impl<'a> Scan<'a> {
    /// A check of the part named `part`.
    pub(crate) fn new(limits: &'a Limits, part: &'a str) -> Self {
        Self {
            limits,
            part,
            off: 0,
            state: State::Text,
            tok_start: 0,
            tag: Vec::with_capacity(TAG_KEEP),
            tag_last: 0,
            quote: 0,
            depth: 0,
            tail: [0; 2],
            in_sheet_data: false,
            sheet_data_start: 0,
            sheet_data_bytes: 0,
            si_start: None,
            strings: 0,
            strings_bytes: 0,
            cell: None,
            cell_ref: Vec::with_capacity(16),
            row: 0,
            row_cells: 0,
            elements: 0,
        }
    }

    fn fail(&self, in_row: bool, message: String) -> LimitError {
        LimitError {
            part: self.part.to_owned(),
            row: (in_row && self.row > 0).then_some(self.row),
            message,
        }
    }

    /// The next bytes of the part.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<(), LimitError> {
        let mut i = 0;
        while let Some(rest) = chunk.get(i..).filter(|r| !r.is_empty()) {
            let at = self.off + i as u64;
            match self.state {
                State::Text => match memchr::memchr(b'<', rest) {
                    None => i = chunk.len(),
                    Some(k) => {
                        self.token_end(at + k as u64)?;
                        self.tok_start = at + k as u64;
                        self.state = State::Lt;
                        i += k + 1;
                    }
                },
                State::Lt => {
                    self.tag.clear();
                    self.tag_last = 0;
                    self.quote = 0;
                    self.tail = [0; 2];
                    self.depth = 0;
                    match rest.first().copied().unwrap_or(0) {
                        b'!' => self.state = State::Bang,
                        b'?' => self.state = State::Pi,
                        _ => {
                            self.state = State::Tag;
                            continue;
                        }
                    }
                    i += 1;
                }
                State::Tag => {
                    let end = if self.quote == 0 {
                        memchr::memchr3(b'>', b'"', b'\'', rest)
                    } else {
                        memchr::memchr(self.quote, rest)
                    };
                    let Some(k) = end else {
                        self.keep(rest);
                        i = chunk.len();
                        continue;
                    };
                    let (seen, b) = (rest.get(..k).unwrap_or_default(), rest.get(k).copied());
                    self.keep(seen);
                    i += k + 1;
                    match b {
                        Some(b'>') if self.quote == 0 => {
                            self.token_end(at + k as u64 + 1)?;
                            self.tag_done(at + k as u64 + 1)?;
                            self.text_from(at + k as u64 + 1);
                        }
                        Some(q) => {
                            self.quote = if self.quote == 0 { q } else { 0 };
                            self.keep(&[q]);
                        }
                        None => {}
                    }
                }
                State::Bang => {
                    let b = rest.first().copied().unwrap_or(0);
                    self.tag.push(b);
                    i += 1;
                    let seen = self.tag.as_slice();
                    if seen == b"--" {
                        self.state = State::Comment;
                    } else if seen == b"[CDATA[" {
                        self.state = State::CData;
                    } else if !b"--".starts_with(seen) && !b"[CDATA[".starts_with(seen) {
                        self.state = State::Decl;
                        i -= 1;
                    }
                }
                State::Comment | State::CData | State::Pi => match memchr::memchr(b'>', rest) {
                    None => {
                        self.push_tail(rest);
                        i = chunk.len();
                    }
                    Some(k) => {
                        self.push_tail(rest.get(..k).unwrap_or_default());
                        i += k + 1;
                        let done = match self.state {
                            State::Comment => self.tail == *b"--",
                            State::CData => self.tail == *b"]]",
                            _ => self.tail[1] == b'?',
                        };
                        if done {
                            self.token_end(at + k as u64 + 1)?;
                            self.text_from(at + k as u64 + 1);
                        } else {
                            self.push_tail(b">");
                        }
                    }
                },
                State::Decl => {
                    let b = rest.first().copied().unwrap_or(0);
                    i += 1;
                    match b {
                        _ if self.quote != 0 && b == self.quote => self.quote = 0,
                        _ if self.quote != 0 => {}
                        b'"' | b'\'' => self.quote = b,
                        b'[' => self.depth += 1,
                        b']' => self.depth = self.depth.saturating_sub(1),
                        b'>' if self.depth == 0 => {
                            self.token_end(at + 1)?;
                            self.text_from(at + 1);
                        }
                        _ => {}
                    }
                }
            }
        }
        self.off += chunk.len() as u64;
        self.check_open()
    }

    /// The end of the part.
    pub(crate) fn finish(&mut self) -> Result<(), LimitError> {
        self.check_open()
    }

    /// Text starts at `at`.
    fn text_from(&mut self, at: u64) {
        self.state = State::Text;
        self.tok_start = at;
    }

    /// Keeps the first bytes of a tag and its last byte that is not white space.
    fn keep(&mut self, bytes: &[u8]) {
        let room = TAG_KEEP.saturating_sub(self.tag.len()).min(bytes.len());
        self.tag.extend_from_slice(bytes.get(..room).unwrap_or_default());
        if let Some(&b) = bytes.iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.tag_last = b;
        }
    }

    /// Follows the last two bytes of a comment, CDATA section or instruction.
    fn push_tail(&mut self, bytes: &[u8]) {
        match bytes {
            [.., a, b] => self.tail = [*a, *b],
            [b] => self.tail = [self.tail[1], *b],
            [] => {}
        }
    }

    /// The kind of the current token.
    fn what(&self) -> &'static str {
        match self.state {
            State::Text => "text",
            State::Lt | State::Tag => "tag",
            State::Comment | State::CData => "comment or CDATA section",
            State::Pi => "processing instruction",
            State::Bang | State::Decl => "declaration",
        }
    }

    /// A token that ends at `end` (exclusive): one too long inside a cell or shared string
    /// is that cell or string too long.
    fn token_end(&self, end: u64) -> Result<(), LimitError> {
        let len = end.saturating_sub(self.tok_start);
        if len <= self.limits.cell_bytes {
            return Ok(());
        }
        if self.cell.is_some() {
            return Err(self.cell_error());
        }
        if self.si_start.is_some() {
            return Err(self.string_error());
        }
        Err(self.fail(
            self.in_sheet_data,
            format!(
                "{} holds an XML {} of more than {} at byte {}, more than a cell may hold (Excel's own limit is 32,767 characters a cell)",
                self.part,
                self.what(),
                size(self.limits.cell_bytes),
                count(self.tok_start)
            ),
        ))
    }

    /// The limits that grow while a token or element is open, checked at the end of a chunk.
    fn check_open(&self) -> Result<(), LimitError> {
        let l = self.limits;
        if let Some(start) = self.cell
            && self.off - start > l.cell_bytes
        {
            return Err(self.cell_error());
        }
        if let Some(start) = self.si_start {
            if self.off - start > l.cell_bytes {
                return Err(self.string_error());
            }
            if self.strings_bytes + (self.off - start) > l.shared_strings_bytes {
                return Err(self.strings_bytes_error());
            }
        }
        self.token_end(self.off)?;
        let open_data = if self.in_sheet_data { self.off - self.sheet_data_start } else { 0 };
        let open_si = self.si_start.map_or(0, |s| self.off - s);
        let other = self
            .off
            .saturating_sub(self.sheet_data_bytes + self.strings_bytes + open_data + open_si);
        if other > l.other_bytes {
            return Err(self.fail(
                false,
                format!(
                    "{} holds more than {} outside the cells and shared strings (styles, relationships, ...), the most zcrm reads",
                    self.part,
                    size(l.other_bytes)
                ),
            ));
        }
        Ok(())
    }

    fn cell_error(&self) -> LimitError {
        let r = String::from_utf8_lossy(&self.cell_ref);
        let which = if r.is_empty() { "a cell".to_owned() } else { format!("cell {r}") };
        self.fail(
            true,
            format!(
                "{which} holds more than {} of XML, the most a cell may hold (Excel's own limit is 32,767 characters)",
                size(self.limits.cell_bytes)
            ),
        )
    }

    fn string_error(&self) -> LimitError {
        self.fail(
            false,
            format!(
                "shared string number {} in {} holds more than {} of XML, the most a cell may hold (Excel's own limit is 32,767 characters)",
                count(self.strings),
                self.part,
                size(self.limits.cell_bytes)
            ),
        )
    }

    fn strings_bytes_error(&self) -> LimitError {
        self.fail(
            false,
            format!(
                "the shared-strings table ({}) holds more than {} of strings, the most zcrm reads",
                self.part,
                size(self.limits.shared_strings_bytes)
            ),
        )
    }

    /// A tag ends just before `end`: follows the elements that matter.
    fn tag_done(&mut self, end: u64) -> Result<(), LimitError> {
        let tag = std::mem::take(&mut self.tag);
        let result = self.element(&tag, end);
        self.tag = tag;
        result
    }

    fn element(&mut self, tag: &[u8], end: u64) -> Result<(), LimitError> {
        let l = self.limits;
        let closing = tag.first() == Some(&b'/');
        let name_start = usize::from(closing);
        let name_len = tag
            .iter()
            .skip(name_start)
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(tag.len() - name_start);
        let name = tag.get(name_start..name_start + name_len).unwrap_or_default();
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        let empty = !closing && self.tag_last == b'/';
        match (local, closing) {
            (b"sheetData", false) if !empty => {
                self.in_sheet_data = true;
                self.sheet_data_start = self.tok_start;
            }
            (b"sheetData", true) if self.in_sheet_data => {
                self.in_sheet_data = false;
                self.sheet_data_bytes += end - self.sheet_data_start;
            }
            (b"row", false) => {
                self.row = match attr(tag, b"r") {
                    Some(r) => row_number(r).ok_or_else(|| {
                        let r = String::from_utf8_lossy(r);
                        self.fail(
                            false,
                            format!(
                                "row number {r:?} is outside the sheet (its last row is 1,048,576)"
                            ),
                        )
                    })?,
                    None => self.row + 1,
                };
                self.row_cells = 0;
            }
            (b"c", false) if self.in_sheet_data => {
                self.row_cells += 1;
                if self.row_cells > l.row_cells {
                    return Err(self.fail(
                        true,
                        format!(
                            "the row holds more than {} cells, the most a row may hold (Excel's {} columns)",
                            count(l.row_cells),
                            count(l.row_cells)
                        ),
                    ));
                }
                let r = attr(tag, b"r").unwrap_or_default();
                if !r.is_empty() && !cell_in_sheet(r) {
                    let r = String::from_utf8_lossy(r);
                    return Err(self.fail(
                        true,
                        format!(
                            "cell reference {r:?} is outside the sheet (its last cell is XFD1048576)"
                        ),
                    ));
                }
                self.cell_ref.clear();
                self.cell_ref.extend_from_slice(r);
                if !empty {
                    self.cell = Some(self.tok_start);
                }
            }
            (b"c", true) => {
                if let Some(start) = self.cell.take()
                    && end - start > l.cell_bytes
                {
                    return Err(self.cell_error());
                }
            }
            (b"sst", false) => {
                // calamine reserves room for the count the table declares.
                let declared = attr(tag, b"uniqueCount")
                    .and_then(|n| std::str::from_utf8(n).ok()?.trim().parse::<u128>().ok());
                if let Some(n) = declared.filter(|&n| n > u128::from(l.shared_strings)) {
                    return Err(self.fail(
                        false,
                        format!(
                            "the shared-strings table ({}) declares {n} strings, more than the {} zcrm reads",
                            self.part,
                            count(l.shared_strings)
                        ),
                    ));
                }
                self.elements += 1;
            }
            (b"si", false) if self.si_start.is_none() => {
                self.strings += 1;
                if self.strings > l.shared_strings {
                    return Err(self.fail(
                        false,
                        format!(
                            "the shared-strings table ({}) holds more than {} strings, the most zcrm reads",
                            self.part,
                            count(l.shared_strings)
                        ),
                    ));
                }
                if !empty {
                    self.si_start = Some(self.tok_start);
                }
            }
            (b"si", true) => {
                if let Some(start) = self.si_start.take() {
                    if end - start > l.cell_bytes {
                        self.si_start = Some(start);
                        return Err(self.string_error());
                    }
                    self.strings_bytes += end - start;
                    if self.strings_bytes > l.shared_strings_bytes {
                        return Err(self.strings_bytes_error());
                    }
                }
            }
            (_, false) if !self.in_sheet_data && self.si_start.is_none() => {
                self.elements += 1;
                if self.elements > l.other_elements {
                    return Err(self.fail(
                        false,
                        format!(
                            "{} holds more than {} elements outside the cells and shared strings (styles, relationships, ...), the most zcrm reads",
                            self.part,
                            count(l.other_elements)
                        ),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The value of the attribute `name` of a tag, if it is among the bytes kept.
fn attr<'t>(tag: &'t [u8], name: &[u8]) -> Option<&'t [u8]> {
    let mut k = 0;
    while let Some(at) = tag.get(k..).and_then(|t| t.windows(name.len()).position(|w| w == name)) {
        let pos = k + at;
        k = pos + name.len();
        if pos == 0
            || !tag.get(pos - 1).is_some_and(u8::is_ascii_whitespace)
            || tag.get(k) != Some(&b'=')
        {
            continue;
        }
        let q = *tag.get(k + 1)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let value = tag.get(k + 2..)?;
        let end = value.iter().position(|&b| b == q)?;
        return value.get(..end);
    }
    None
}

/// A row number within Excel's 1,048,576 rows.
fn row_number(r: &[u8]) -> Option<u64> {
    if r.is_empty() || r.len() > 7 || !r.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = r.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
    (1..=1_048_576).contains(&n).then_some(n)
}

/// Whether a cell reference (`B3`) lies within the sheet (`A1` to `XFD1048576`).
fn cell_in_sheet(r: &[u8]) -> bool {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (col, row) = r.split_at(letters);
    if !(1..=3).contains(&letters) {
        return false;
    }
    let col = col.iter().fold(0u32, |n, b| n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1));
    col <= 16_384 && row_number(row).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(limits: &Limits, xml: &str, chunk: usize) -> Result<(), LimitError> {
        let mut s = Scan::new(limits, "xl/part.xml");
        for c in xml.as_bytes().chunks(chunk) {
            s.feed(c)?;
        }
        s.finish()
    }

    fn small() -> Limits {
        Limits {
            cell_bytes: 64,
            row_cells: 3,
            row_text_bytes: 1 << 20,
            shared_strings: 3,
            shared_strings_bytes: 100,
            part_bytes: 1 << 20,
            other_elements: 10,
            other_bytes: 400,
        }
    }

    /// Every limit, met at any chunk size, with the row and cell it is met in.
    #[test]
    fn each_limit_is_met_where_it_is_passed() {
        let l = small();
        let ok = r#"<?xml version="1.0"?><worksheet><!-- a > b --><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"/></row><row><c><![CDATA[x>y]]></c></row></sheetData></worksheet>"#;
        for chunk in [1, 2, 3, 7, 1000] {
            assert_eq!(scan(&l, ok, chunk), Ok(()), "chunk {chunk}");
            let wide = ok.replace(r#"<c r="B1"/>"#, r#"<c r="B1"/><c/><c/>"#);
            let e = scan(&l, &wide, chunk).unwrap_err();
            assert_eq!(e.row, Some(1));
            assert!(e.message.contains("more than 3 cells"), "{e}");
            let big = ok.replace("<v>0</v>", &format!("<v>{}</v>", "9".repeat(80)));
            let e = scan(&l, &big, chunk).unwrap_err();
            assert_eq!(e.row, Some(1));
            assert!(e.message.contains("cell A1 holds more than 64 bytes"), "{e}");
            let tag = ok.replace("<c>", &format!("<c a=\"{}\">", "x".repeat(80)));
            let e = scan(&l, &tag, chunk).unwrap_err();
            assert_eq!(e.row, Some(2), "{e}");
            let far = ok.replace(r#"r="B1""#, r#"r="XFE1""#);
            assert!(scan(&l, &far, chunk).unwrap_err().message.contains("\"XFE1\""));
            let comment = ok.replace("a > b", &"-".repeat(100));
            let e = scan(&l, &comment, chunk).unwrap_err();
            assert!(
                e.message.contains("XML comment or CDATA section of more than 64 bytes"),
                "{e}"
            );
            let sst = "<sst><si><t>a</t></si><si><r><t>b</t></r></si><si/></sst>";
            assert_eq!(scan(&l, sst, chunk), Ok(()));
            let declared = sst.replace("<sst>", "<sst count=\"9\" uniqueCount=\"4\">");
            let e = scan(&l, &declared, chunk).unwrap_err();
            assert!(e.message.contains("declares 4 strings, more than the 3"), "{e}");
            let e = scan(&l, &sst.replace("<si/>", "<si/><si/>"), chunk).unwrap_err();
            assert!(e.message.contains("more than 3 strings"), "{e}");
            let long = sst
                .replace(">a<", &format!(">{}<", "a".repeat(35)))
                .replace(">b<", &format!(">{}<", "b".repeat(35)));
            let e = scan(&l, &long, chunk).unwrap_err();
            assert!(e.message.contains("more than 100 bytes of strings"), "{e}");
            let styles = format!("<styleSheet>{}</styleSheet>", "<xf/>".repeat(10));
            assert!(
                scan(&l, &styles, chunk).unwrap_err().message.contains("more than 10 elements")
            );
            let padded = format!("<styleSheet>{}</styleSheet>", "<!---->".repeat(60));
            assert!(scan(&l, &padded, chunk).unwrap_err().message.contains("more than 400 bytes"));
        }
    }

    #[test]
    fn references() {
        assert!(cell_in_sheet(b"A1") && cell_in_sheet(b"xfd1048576"));
        assert!(!cell_in_sheet(b"XFE1") && !cell_in_sheet(b"A1048577") && !cell_in_sheet(b"AAAA1"));
        assert!(!cell_in_sheet(b"A") && !cell_in_sheet(b"1") && !cell_in_sheet(b"A1x"));
        assert_eq!(attr(b"c r=\"B2\" s=\"1\"", b"r"), Some(&b"B2"[..]));
        assert_eq!(attr(b"c s=\"1\" r='C3'", b"r"), Some(&b"C3"[..]));
        assert_eq!(attr(b"c xr=\"1\"", b"r"), None);
        assert_eq!(attr(b"sst uniqueCount=\"7\"", b"uniqueCount"), Some(&b"7"[..]));
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(count(16_777_216), "16,777,216");
    }
}
