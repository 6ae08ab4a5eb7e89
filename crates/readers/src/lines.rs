//! Exact line numbers for CSV records. The csv crate's own `Position::line` lags behind after
//! CRLF terminators and blank lines, so the bytes are watched as they are read: every `\r` and
//! `\n` offset is remembered until the parser has passed it (a window bounded by the buffers).

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
struct Marks {
    /// Offsets of `\r` and `\n` bytes read but not yet passed by the parser.
    pending: VecDeque<(u64, u8)>,
    /// `\n` bytes passed by the parser.
    newlines: u64,
}

/// Shared between the reader wrapper and the CSV source.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineTracker(Arc<Mutex<Marks>>);

impl LineTracker {
    /// Wraps `inner` so that its line breaks are recorded.
    pub(crate) fn wrap<R: Read>(&self, inner: R) -> Tracked<R> {
        Tracked { inner, offset: 0, marks: self.clone() }
    }

    /// For a record whose reading began at byte `from`: the byte where its first cell starts
    /// (after any line breaks left over from the previous record) and that byte's 1-based line.
    pub(crate) fn record_start(&self, from: u64) -> (u64, u64) {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(&(at, b)) = m.pending.front() {
            if at >= from {
                break;
            }
            m.newlines += u64::from(b == b'\n');
            m.pending.pop_front();
        }
        let mut start = from;
        while let Some(&(at, b)) = m.pending.front() {
            if at != start {
                break;
            }
            m.newlines += u64::from(b == b'\n');
            m.pending.pop_front();
            start += 1;
        }
        (start, m.newlines + 1)
    }
}

/// A reader that reports line-break offsets to a [`LineTracker`].
pub(crate) struct Tracked<R> {
    inner: R,
    offset: u64,
    marks: LineTracker,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut m = self.marks.0.lock().unwrap_or_else(PoisonError::into_inner);
        let data = &buf[..n];
        // Eight bytes at a time: skip words without a line break (SWAR zero-byte test).
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let has = |w: u64, b: u8| {
            let x = w ^ (LO * u64::from(b));
            x.wrapping_sub(LO) & !x & HI
        };
        let mut i = 0;
        while i < data.len() {
            if i + 8 <= data.len() {
                let mut word = [0u8; 8];
                word.copy_from_slice(&data[i..i + 8]);
                let w = u64::from_le_bytes(word);
                if has(w, b'\n') | has(w, b'\r') == 0 {
                    i += 8;
                    continue;
                }
            }
            let end = (i + 8).min(data.len());
            for (j, &b) in data[i..end].iter().enumerate() {
                if b == b'\n' || b == b'\r' {
                    m.pending.push_back((self.offset + (i + j) as u64, b));
                }
            }
            i = end;
        }
        self.offset += n as u64;
        Ok(n)
    }
}
