//! Rows in bulk: a block holds a chunk's rows in one buffer plus one span per cell (every row
//! has exactly the header's number of cells), so reading a chunk costs a handful of
//! allocations instead of two per row.
//!
//! The reader thread only splits records ([`RawBlock`]: the bytes as read, cells as spans of
//! them); decoding the text (one UTF-8 check for the whole block, or a legacy encoding) is
//! [`RawBlock::decode`], which the mapping stage runs on its worker threads.

use std::borrow::Cow;
use std::sync::Arc;

use crate::split::{SIDE, Span};
use crate::{Cells, Chunk, Encoding, Row, RowPos, SourceInfo};

/// What a raw block's buffer holds.
#[derive(Debug)]
enum Data {
    /// Bytes as read from a CSV file, in its encoding.
    Bytes(Vec<u8>, Encoding),
    /// Text already decoded (XLSX).
    Text(String),
}

/// A chunk of rows as the reader thread cut them: cell bytes not decoded yet.
#[derive(Debug)]
pub struct RawBlock {
    seq: u64,
    source: Arc<SourceInfo>,
    width: usize,
    data: Data,
    spans: Vec<Span>,
    pos: Vec<RowPos>,
    /// Byte offset in the file where each record starts (CSV; empty for XLSX).
    starts: Vec<u64>,
    /// Problems found while reading, by row index, in row order.
    problems: Vec<(u32, String)>,
}

/// A chunk of decoded rows in one buffer; see [`Block::row`].
#[derive(Debug, Clone)]
pub struct Block {
    /// 0-based sequence number of the chunk in the source.
    pub seq: u64,
    /// Where the rows come from.
    pub source: Arc<SourceInfo>,
    width: usize,
    text: String,
    spans: Vec<Span>,
    pos: Vec<RowPos>,
    problems: Vec<(u32, String)>,
}

/// One row of a [`Block`], borrowed: its position, cells and reading problem.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    /// Position in the source.
    pub pos: RowPos,
    /// A problem found while reading (bad bytes, ragged row): the row must be rejected with it.
    pub problem: Option<&'a str>,
    text: &'a str,
    spans: &'a [Span],
}

impl<'a> RowRef<'a> {
    /// Cell `i`, or `""` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> &'a str {
        match self.spans.get(i) {
            Some(&(a, b)) => self.text.get(a as usize..b as usize).unwrap_or(""),
            None => "",
        }
    }

    /// Number of cells (the header's width).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the row has no cell.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every cell in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The cells as an owned [`Cells`] (two allocations).
    pub fn to_cells(&self) -> Cells {
        let bytes = self.spans.iter().map(|&(a, b)| b.saturating_sub(a) as usize).sum();
        let mut c = Cells::with_capacity(self.len(), bytes);
        for s in self.iter() {
            c.push(s);
        }
        c
    }

    /// The row as an owned [`Row`].
    pub fn to_row(&self) -> Row {
        Row { pos: self.pos, cells: self.to_cells(), problem: self.problem.map(str::to_owned) }
    }
}

impl Block {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    /// Whether the block has no row.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    /// Row `i` (`i < len()`; past the end: an empty row at position 0).
    pub fn row(&self, i: usize) -> RowRef<'_> {
        let w = self.width;
        let spans = self.spans.get(i * w..(i + 1) * w).unwrap_or(&[]);
        let problem = if self.problems.is_empty() {
            None
        } else {
            match self.problems.binary_search_by_key(&i, |(r, _)| *r as usize) {
                Ok(k) => self.problems.get(k).map(|(_, p)| p.as_str()),
                Err(_) => None,
            }
        };
        let pos = self.pos.get(i).copied().unwrap_or(RowPos { row: 0, line: 0 });
        RowRef { pos, problem, text: &self.text, spans }
    }

    /// Every row in order.
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'_>> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }

    /// The rows as an owned [`Chunk`] (two allocations a row).
    pub fn into_chunk(self) -> Chunk {
        let rows = self.rows().map(|r| r.to_row()).collect();
        Chunk { seq: self.seq, source: self.source, rows }
    }
}

/// Decodes one cell of a legacy or invalid-UTF-8 block.
pub(crate) fn decode_cell(bytes: &[u8], encoding: Encoding) -> Cow<'_, str> {
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes),
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
        Encoding::Latin1 => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// The problem of a row whose cell `index` (0-based) holds invalid UTF-8.
pub(crate) fn utf8_problem(
    index: usize,
    cell: &[u8],
    e: &std::str::Utf8Error,
    record_start: u64,
) -> String {
    let at = e.valid_up_to();
    let byte = cell.get(at).copied().unwrap_or(0);
    format!(
        "invalid UTF-8 byte 0x{byte:02X} in cell {} at byte {at} of the cell (the record starts at byte offset {record_start}); set encoding = \"windows-1252\" if the file is not UTF-8",
        index + 1
    )
}

/// The bytes of a record's cell as the splitter left them (input or side buffer).
pub(crate) fn cell_bytes<'a>(data: &'a [u8], side: &'a [u8], (a, b): Span) -> &'a [u8] {
    if a & SIDE != 0 {
        side.get((a & !SIDE) as usize..b as usize).unwrap_or_default()
    } else {
        data.get(a as usize..b as usize).unwrap_or_default()
    }
}

/// A block is handed on once its cells pass this many bytes, whatever its row count.
pub(crate) const FLUSH_BYTES: usize = 64 << 20;
/// The largest record a CSV block takes (spans are `u32` with a flag bit, and a legacy
/// encoding may triple the bytes when decoded).
pub(crate) const MAX_RECORD_BYTES: usize = 256 << 20;

/// Builds a [`RawBlock`] row by row (on the reader thread).
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    width: usize,
    /// XLSX: the cells' text.
    text: String,
    /// CSV: unescaped cells (spans flagged [`SIDE`]), appended to the data when taken.
    pub(crate) side: Vec<u8>,
    spans: Vec<Span>,
    pos: Vec<RowPos>,
    starts: Vec<u64>,
    problems: Vec<(u32, String)>,
}

impl BlockBuilder {
    /// An empty builder for rows of `width` cells, sized for `rows` rows.
    pub(crate) fn new(width: usize, rows: usize) -> Self {
        Self {
            width,
            text: String::new(),
            side: Vec::new(),
            spans: Vec::with_capacity(rows * width),
            pos: Vec::with_capacity(rows),
            starts: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Rows so far.
    pub(crate) fn len(&self) -> usize {
        self.pos.len()
    }

    /// Bytes of XLSX text so far.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Appends a CSV record whose cells are `cells` (spans of `data` or of the side buffer)
    /// and that holds `lines` line feeds in quoted cells, with the problem `stray` (a quote
    /// followed by text). Extra cells are cut (the problem names them), missing ones are
    /// empty; a problem of a record that spans lines names them (a quote missing its partner
    /// merges lines).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_record(
        &mut self,
        pos: RowPos,
        start: u64,
        lines: u64,
        stray: Option<String>,
        data: &[u8],
        cells: &[Span],
        encoding: Encoding,
    ) {
        let n = cells.len();
        let keep = n.min(self.width);
        self.spans.extend_from_slice(cells.get(..keep).unwrap_or(cells));
        self.spans.extend(std::iter::repeat_n((0, 0), self.width - keep));
        let ragged = (n != self.width).then(|| {
            if n > self.width {
                let extra: Vec<Cow<'_, str>> = cells
                    .iter()
                    .skip(self.width)
                    .map(|&s| decode_cell(cell_bytes(data, &self.side, s), encoding))
                    .collect();
                format!(
                    "the row has {n} cells but the header has {} columns (extra cells: {:?})",
                    self.width, extra
                )
            } else {
                format!("the row has {n} cells but the header has {} columns", self.width)
            }
        });
        let msg = match (ragged, stray) {
            (Some(r), Some(s)) => Some(format!("{r}; {s}")),
            (r, s) => r.or(s),
        };
        if let Some(msg) = msg {
            let msg = if lines > 0 {
                format!(
                    "{msg} (the record's quoted cells span lines {} to {}: is a quote missing its partner?)",
                    pos.line,
                    pos.line + lines
                )
            } else {
                msg
            };
            self.problems.push((self.pos.len() as u32, msg));
        }
        self.pos.push(pos);
        self.starts.push(start);
    }

    /// Appends an XLSX row: `(column, text)` cells in column order; cells past the width are
    /// left out (the caller reports them), gaps are empty.
    pub(crate) fn push_text_row<'c>(
        &mut self,
        pos: RowPos,
        cells: impl Iterator<Item = (usize, &'c str)>,
        problem: Option<String>,
    ) {
        let mut col = 0;
        for (c, s) in cells {
            if c >= self.width {
                break;
            }
            while col < c {
                self.spans.push((0, 0));
                col += 1;
            }
            if col == c {
                let a = self.text.len() as u32;
                self.text.push_str(s);
                self.spans.push((a, self.text.len() as u32));
                col += 1;
            }
        }
        self.spans.extend(std::iter::repeat_n((0, 0), self.width - col));
        if let Some(p) = problem {
            self.problems.push((self.pos.len() as u32, p));
        }
        self.pos.push(pos);
    }

    /// The rows so far, whose spans point into `data` (the bytes as read, in `encoding`) and
    /// the side buffer; the builder is left empty.
    pub(crate) fn take_bytes(
        &mut self,
        seq: u64,
        source: &Arc<SourceInfo>,
        mut data: Vec<u8>,
        encoding: Encoding,
    ) -> RawBlock {
        let rows = self.pos.len();
        if !self.side.is_empty() {
            let base = data.len() as u32;
            data.extend_from_slice(&self.side);
            self.side.clear();
            for s in &mut self.spans {
                if s.0 & SIDE != 0 {
                    *s = ((s.0 & !SIDE) + base, s.1 + base);
                }
            }
        }
        self.finish(seq, source, Data::Bytes(data, encoding), rows)
    }

    /// The rows so far as a block of text; the builder is left empty.
    pub(crate) fn take_text(&mut self, seq: u64, source: &Arc<SourceInfo>) -> RawBlock {
        let rows = self.pos.len();
        let cap = self.text.capacity().max(self.text.len());
        let data = std::mem::replace(&mut self.text, String::with_capacity(cap));
        self.finish(seq, source, Data::Text(data), rows)
    }

    fn finish(&mut self, seq: u64, source: &Arc<SourceInfo>, data: Data, rows: usize) -> RawBlock {
        RawBlock {
            seq,
            source: source.clone(),
            width: self.width,
            data,
            spans: std::mem::replace(&mut self.spans, Vec::with_capacity(rows * self.width)),
            pos: std::mem::replace(&mut self.pos, Vec::with_capacity(rows)),
            starts: std::mem::take(&mut self.starts),
            problems: std::mem::take(&mut self.problems),
        }
    }
}

impl RawBlock {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    /// Whether the block has no row.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    /// 0-based sequence number of the chunk in the source.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Where the rows come from.
    pub fn source(&self) -> &Arc<SourceInfo> {
        &self.source
    }

    /// The position of the block's first row (`None` for an empty block).
    pub fn first_pos(&self) -> Option<RowPos> {
        self.pos.first().copied()
    }

    /// Decodes the cells' text: one UTF-8 check for the whole block when it is valid (cells
    /// then stay where they are);
    /// rows with invalid bytes get a problem naming the cell and the record's byte offset
    /// (their bad bytes become U+FFFD); Windows-1252 and Latin-1 are converted cell by cell.
    pub fn decode(self) -> Block {
        let RawBlock { seq, source, width, data, spans, pos, starts, problems } = self;
        let (text, spans, problems) = match data {
            Data::Text(text) => (text, spans, problems),
            // Valid as a whole means valid cell by cell: every span starts and ends next to
            // an ASCII delimiter, quote or line break (or the buffer's end), so on a character
            // boundary.
            Data::Bytes(bytes, Encoding::Utf8) => match String::from_utf8(bytes) {
                Ok(text) => (text, spans, problems),
                Err(e) => recode(e.as_bytes(), width, &spans, &starts, problems, Encoding::Utf8),
            },
            Data::Bytes(bytes, enc) => recode(&bytes, width, &spans, &starts, problems, enc),
        };
        Block { seq, source, width, text, spans, pos, problems }
    }
}

/// A row's position, first byte, reading problem and raw cells (for tests).
#[cfg(test)]
pub(crate) type RawRow = (RowPos, u64, Option<String>, Vec<Vec<u8>>);

#[cfg(test)]
impl RawBlock {
    /// Every row as a [`RawRow`].
    pub(crate) fn raw_rows(self) -> Vec<RawRow> {
        let RawBlock { data, spans, pos, width, starts, problems, .. } = self;
        let bytes = match data {
            Data::Bytes(b, _) => b,
            Data::Text(t) => t.into_bytes(),
        };
        let rows = spans.chunks(width.max(1));
        pos.into_iter()
            .zip(rows)
            .enumerate()
            .map(|(i, (p, row))| {
                let cells = row.iter().map(|&(a, b)| bytes[a as usize..b as usize].to_vec());
                let problem = problems.iter().find(|(r, _)| *r as usize == i).map(|x| x.1.clone());
                (p, starts.get(i).copied().unwrap_or(0), problem, cells.collect())
            })
            .collect()
    }
}

/// Decodes a block cell by cell (legacy encodings, or UTF-8 with bad bytes somewhere).
fn recode(
    bytes: &[u8],
    width: usize,
    spans: &[Span],
    starts: &[u64],
    old: Vec<(u32, String)>,
    encoding: Encoding,
) -> (String, Vec<Span>, Vec<(u32, String)>) {
    if width == 0 {
        return (String::new(), Vec::new(), old);
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut out = Vec::with_capacity(spans.len());
    let mut problems = Vec::with_capacity(old.len());
    let mut old = old.into_iter().peekable();
    for (r, row) in spans.chunks(width).enumerate() {
        let mut bad: Option<String> = None;
        for (c, &(a, b)) in row.iter().enumerate() {
            let cell = bytes.get(a as usize..b as usize).unwrap_or_default();
            let from = text.len() as u32;
            match encoding {
                Encoding::Utf8 => match std::str::from_utf8(cell) {
                    Ok(s) => text.push_str(s),
                    Err(e) => {
                        let start = starts.get(r).copied().unwrap_or(0);
                        bad.get_or_insert_with(|| utf8_problem(c, cell, &e, start));
                        text.push_str(&String::from_utf8_lossy(cell));
                    }
                },
                enc => text.push_str(&decode_cell(cell, enc)),
            }
            out.push((from, text.len() as u32));
        }
        let earlier = match old.peek() {
            Some((i, _)) if *i as usize == r => old.next().map(|(_, p)| p),
            _ => None,
        };
        let problem = match (bad, earlier) {
            (Some(b), Some(e)) => Some(format!("{b}; {e}")),
            (b, e) => b.or(e),
        };
        if let Some(p) = problem {
            problems.push((r as u32, p));
        }
    }
    (text, out, problems)
}
