//! Splitting CSV records without copying their cells: the cells of a record are spans of the
//! bytes as read, except for the rare quoted cell with a doubled quote (or text after its
//! closing quote), whose unescaped text is written to a side buffer.
//!
//! The grammar is csv-core's (the `csv` crate's parser, which this replaces on the hot path;
//! a property test checks that both split every input the same way): RFC 4180 quoting with
//! doubled quotes, a quote only opens a quoted cell at the cell's start (elsewhere it is a
//! plain character), CR, LF and CRLF each end a record, and blank lines are no records.
//! Instead of stepping a state machine on every byte, the splitter looks for the next of the
//! four bytes that matter (delimiter, quote, CR, LF) 64 bytes at a time.

/// Where a cell's text is: in the input (`start..end`), or in the side buffer when `start`
/// has [`SIDE`] set.
pub(crate) type Span = (u32, u32);

/// Marks a span of the side buffer.
pub(crate) const SIDE: u32 = 1 << 31;

/// The most a quoted cell may hold, from its opening quote to its closing one: far above any
/// real cell (Zoho's largest field holds 32,000 characters), so that a quote that is never
/// closed is reported where it opened instead of swallowing the rows after it.
pub(crate) const MAX_QUOTED_BYTES: usize = 1 << 20;

/// What [`Splitter::record`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// A record ending at this position (its terminator, or the end of the input).
    Record(usize),
    /// The input ends before the record does and more may follow.
    More,
    /// The quote at this position opens a cell that the input ends inside of.
    Unclosed(usize),
    /// The quote at this position opens a cell of more than [`MAX_QUOTED_BYTES`].
    TooLong(usize),
}

/// Finds the next byte that matters, caching one 64-byte window's bit mask.
#[derive(Debug, Clone)]
pub(crate) struct Splitter {
    delimiter: u8,
    quote: u8,
    window: usize,
    mask: u64,
    cached: bool,
    /// The last record's first quoted cell with text after its closing quote: the cell's
    /// 0-based index and where that quote is.
    pub(crate) stray: Option<(usize, usize)>,
}

/// One bit per byte of `w` that is one of the four `set` bytes. Written so that the compiler
/// turns the comparisons into vector instructions (16 bytes at a time with SSE2); the 0/1
/// bytes are then packed eight at a time into bits by one multiplication.
#[inline]
fn mask64(w: &[u8; 64], set: [u8; 4]) -> u64 {
    let [a, b, c, d] = set;
    let hits: [u8; 64] = std::array::from_fn(|i| {
        let x = w[i];
        u8::from(x == a) | u8::from(x == b) | u8::from(x == c) | u8::from(x == d)
    });
    let mut m = 0u64;
    for (k, eight) in hits.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(eight.try_into().unwrap_or_default());
        // Byte k (0 or 1) lands on bit 56 + k; the partial products never collide there.
        m |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

impl Splitter {
    /// A splitter for `delimiter` and `quote`.
    pub(crate) fn new(delimiter: u8, quote: u8) -> Self {
        Self { delimiter, quote, window: 0, mask: 0, cached: false, stray: None }
    }

    /// Forgets the cached window (the input grew or moved).
    pub(crate) fn reset(&mut self) {
        self.cached = false;
    }

    /// The position of the first delimiter, quote, CR or LF at or after `from`, or `data.len()`.
    #[inline]
    fn find(&mut self, data: &[u8], from: usize) -> usize {
        let set = [self.delimiter, self.quote, b'\r', b'\n'];
        let mut at = from;
        loop {
            if !(self.cached && at >= self.window && at - self.window < 64) {
                if at >= data.len() {
                    return data.len();
                }
                self.window = at;
                self.cached = true;
                self.mask = match data.get(at..).and_then(<[u8]>::first_chunk::<64>) {
                    Some(w) => mask64(w, set),
                    None => {
                        let mut m = 0u64;
                        for (i, b) in data.iter().skip(at).enumerate() {
                            m |= u64::from(set.contains(b)) << i;
                        }
                        m
                    }
                };
            }
            let m = self.mask >> (at - self.window);
            if m != 0 {
                return at + m.trailing_zeros() as usize;
            }
            at = self.window + 64;
            if at >= data.len() {
                return data.len();
            }
        }
    }

    /// Splits the record that starts at `start` (not a line break) into `cells`, writing
    /// unescaped cells to `side`, and counts the line feeds inside it into `lines`. Returns
    /// where the record ends (its terminator, or the end of the input at `eof`), or
    /// [`Split::More`] when `data` ends before the record does and more input may follow (the
    /// caller then drops what was pushed and retries with more input), or where a quoted cell
    /// that never closes (at `eof`) or runs past [`MAX_QUOTED_BYTES`] opens.
    pub(crate) fn record(
        &mut self,
        data: &[u8],
        start: usize,
        eof: bool,
        cells: &mut Vec<Span>,
        side: &mut Vec<u8>,
        lines: &mut u64,
    ) -> Split {
        let (d, q) = (self.delimiter, self.quote);
        let span = |a: usize, b: usize| (a as u32, b as u32);
        let mut p = start;
        self.stray = None;
        loop {
            if data.get(p) != Some(&q) {
                // An unquoted cell: up to the delimiter or the end of the line.
                let mut i = p;
                loop {
                    let j = self.find(data, i);
                    match data.get(j) {
                        None if !eof => return Split::More,
                        None => {
                            cells.push(span(p, j));
                            return Split::Record(j);
                        }
                        Some(&b) if b == d => {
                            cells.push(span(p, j));
                            p = j + 1;
                            break;
                        }
                        Some(b'\r' | b'\n') => {
                            cells.push(span(p, j));
                            return Split::Record(j);
                        }
                        Some(_) => i = j + 1,
                    }
                }
                continue;
            }
            // A quoted cell: up to the closing quote; a doubled quote is one quote.
            let mut from = p + 1;
            let mut i = from;
            let mut unescaped: Option<usize> = None;
            loop {
                let j = self.find(data, i);
                if j - p > MAX_QUOTED_BYTES {
                    return Split::TooLong(p);
                }
                let Some(&b) = data.get(j) else {
                    // A quote never closed: the error names where it opened (csv-core would
                    // run the cell to the end of the input, swallowing the rows after it).
                    return if eof { Split::Unclosed(p) } else { Split::More };
                };
                if b == b'\n' {
                    *lines += 1;
                }
                if b != q {
                    i = j + 1;
                    continue;
                }
                let next = data.get(j + 1).copied();
                if next.is_none() && !eof {
                    return Split::More;
                }
                if next == Some(q) {
                    unescaped.get_or_insert(side.len());
                    side.extend_from_slice(data.get(from..=j).unwrap_or_default());
                    from = j + 2;
                    i = from;
                    continue;
                }
                match next {
                    None => {
                        cells.push(close(side, unescaped, data, from, j, span));
                        return Split::Record(j + 1);
                    }
                    Some(c) if c == d => {
                        cells.push(close(side, unescaped, data, from, j, span));
                        p = j + 2;
                        break;
                    }
                    Some(b'\r' | b'\n') => {
                        cells.push(close(side, unescaped, data, from, j, span));
                        return Split::Record(j + 1);
                    }
                    Some(_) => {
                        // Text after the closing quote belongs to the cell, quotes included,
                        // up to the delimiter or the end of the line (csv-core's reading); the
                        // caller rejects the row: the quote was not doubled, or it closes a
                        // quote opened rows earlier.
                        self.stray.get_or_insert((cells.len(), j));
                        let s = *unescaped.get_or_insert(side.len());
                        side.extend_from_slice(data.get(from..j).unwrap_or_default());
                        let mut k = j + 1;
                        loop {
                            let e = self.find(data, k);
                            match data.get(e) {
                                None if !eof => return Split::More,
                                None => {
                                    side.extend_from_slice(data.get(j + 1..e).unwrap_or_default());
                                    cells.push(side_span(s, side.len()));
                                    return Split::Record(e);
                                }
                                Some(&c) if c == d => {
                                    side.extend_from_slice(data.get(j + 1..e).unwrap_or_default());
                                    cells.push(side_span(s, side.len()));
                                    p = e + 1;
                                    break;
                                }
                                Some(b'\r' | b'\n') => {
                                    side.extend_from_slice(data.get(j + 1..e).unwrap_or_default());
                                    cells.push(side_span(s, side.len()));
                                    return Split::Record(e);
                                }
                                Some(_) => k = e + 1,
                            }
                        }
                        break;
                    }
                }
            }
        }
    }
}

fn side_span(a: usize, b: usize) -> Span {
    (a as u32 | SIDE, b as u32)
}

/// The span of a quoted cell closed at `end`: in the input when nothing had to be unescaped.
fn close(
    side: &mut Vec<u8>,
    unescaped: Option<usize>,
    data: &[u8],
    from: usize,
    end: usize,
    span: impl Fn(usize, usize) -> Span,
) -> Span {
    match unescaped {
        None => span(from, end),
        Some(s) => {
            side.extend_from_slice(data.get(from..end).unwrap_or_default());
            side_span(s, side.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_mark_exactly_the_four_bytes() {
        let mut w = [b'x'; 64];
        for (i, b) in [(0, b','), (7, b'"'), (8, b'\r'), (33, b'\n'), (63, b','), (40, b';')] {
            w[i] = b;
        }
        let m = mask64(&w, [b',', b'"', b'\r', b'\n']);
        assert_eq!(m, 1 | 1 << 7 | 1 << 8 | 1 << 33 | 1 << 63);
    }
}
