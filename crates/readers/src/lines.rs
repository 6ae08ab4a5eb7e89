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
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                m.pending.push_back((self.offset + i as u64, b));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}
