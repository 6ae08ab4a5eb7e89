//! The workbook file as calamine reads it: when calamine opens a zip entry (reading its local
//! header, where the entry starts), the whole entry is first decompressed on a handle of our
//! own and checked against the [`Limits`]; an entry that passes one is never handed on.
//!
//! calamine loads the shared strings and the styles whole when it opens a workbook, holds
//! whole XML tokens, and has no limits of its own: a file of a few megabytes can make it
//! allocate gigabytes. Checking only the entries calamine reads (not every entry: images are
//! not XML) keeps the cost to one extra decompression of the parts read.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex};

use zip::ZipArchive;

use crate::xlsx_scan::{LimitError, Limits, Scan, size};

/// Where a limit error waits for the reader, who gets only an I/O error from calamine.
pub(crate) type Failure = Arc<Mutex<Option<LimitError>>>;

/// The entries whose local headers start at one offset.
#[derive(Debug)]
struct Entry {
    start: u64,
    indices: Vec<usize>,
    state: Checked,
    /// The limit it passed.
    error: Option<LimitError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    No,
    Passed,
    Failed,
}

/// A reader of the workbook file that checks each zip entry before calamine reads it.
pub(crate) struct Gate {
    inner: BufReader<File>,
    pos: u64,
    /// Ascending by start.
    entries: Vec<Entry>,
    /// Where the central directory starts: the end of the last entry.
    directory: u64,
    zip: Option<ZipArchive<File>>,
    limits: Limits,
    failure: Failure,
}

impl Gate {
    /// Opens `path` for calamine, with the entries of its zip archive; a file that is not
    /// a zip archive is handed on as it is (calamine says what is wrong with it).
    pub(crate) fn open(path: &Path, limits: Limits) -> io::Result<(Self, Failure)> {
        let inner = BufReader::new(File::open(path)?);
        let failure = Failure::default();
        let mut gate = Self {
            inner,
            pos: 0,
            entries: Vec::new(),
            directory: u64::MAX,
            zip: None,
            limits,
            failure: failure.clone(),
        };
        if let Ok(mut zip) = ZipArchive::new(File::open(path)?) {
            let mut starts: Vec<(u64, usize)> = Vec::with_capacity(zip.len());
            for i in 0..zip.len() {
                if let Ok(f) = zip.by_index_raw(i) {
                    starts.push((f.header_start(), i));
                }
            }
            starts.sort_unstable();
            for (start, i) in starts {
                match gate.entries.last_mut() {
                    Some(e) if e.start == start => e.indices.push(i),
                    _ => gate.entries.push(Entry {
                        start,
                        indices: vec![i],
                        state: Checked::No,
                        error: None,
                    }),
                }
            }
            gate.directory = zip.central_directory_start();
            gate.zip = Some(zip);
        }
        Ok((gate, failure))
    }

    /// The entry whose range holds `pos`, and where that range ends.
    fn entry_at(&self, pos: u64) -> (Option<usize>, Option<u64>) {
        let k = self.entries.partition_point(|e| e.start <= pos);
        let next = self.entries.get(k).map(|e| e.start);
        let Some(here) = k.checked_sub(1) else { return (None, next) };
        let start = self.entries.get(here).map_or(0, |e| e.start);
        let end = next.unwrap_or(if self.directory > start { self.directory } else { u64::MAX });
        if pos >= end {
            // The central directory.
            return (None, None);
        }
        (Some(here), Some(end))
    }

    /// Checks the entries at `k` once; an error names the limit passed.
    fn check(&mut self, k: usize) -> io::Result<()> {
        let Some(entry) = self.entries.get(k) else { return Ok(()) };
        let refuse = |e: &LimitError| io::Error::other(e.message.clone());
        match entry.state {
            Checked::Passed => return Ok(()),
            Checked::Failed => {
                let e = entry.error.clone();
                if let Ok(mut f) = self.failure.lock() {
                    *f = e.clone();
                }
                return Err(e.map_or_else(|| io::Error::other("over a limit"), |e| refuse(&e)));
            }
            Checked::No => {}
        }
        let indices = entry.indices.clone();
        let mut result = Ok(());
        if let Some(zip) = self.zip.as_mut() {
            for i in indices {
                result = check_entry(zip, i, &self.limits);
                if result.is_err() {
                    break;
                }
            }
        }
        let state = if result.is_ok() { Checked::Passed } else { Checked::Failed };
        if let Some(e) = self.entries.get_mut(k) {
            e.state = state;
            e.error = result.as_ref().err().cloned();
        }
        result.map_err(|e| {
            let io = refuse(&e);
            if let Ok(mut f) = self.failure.lock() {
                *f = Some(e);
            }
            io
        })
    }
}

/// Decompresses entry `i` and checks it. An entry the zip crate cannot read passes: calamine
/// meets the same error and reports it.
fn check_entry(zip: &mut ZipArchive<File>, i: usize, limits: &Limits) -> Result<(), LimitError> {
    let Ok(mut f) = zip.by_index(i) else { return Ok(()) };
    let name = String::from_utf8_lossy(f.name_raw()).into_owned();
    let too_big = |what: String| LimitError {
        part: name.clone(),
        row: None,
        message: format!(
            "{name} {what}, more than the {} zcrm reads of one part of a workbook",
            size(limits.part_bytes)
        ),
    };
    if f.size() > limits.part_bytes {
        return Err(too_big(format!("declares {} bytes uncompressed", f.size())));
    }
    let mut scan = Scan::new(limits, &name);
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n as u64;
        // The zip crate stops at the declared size too; this holds whatever it does.
        if total > limits.part_bytes {
            return Err(too_big("is larger uncompressed".to_owned()));
        }
        scan.feed(buf.get(..n).unwrap_or_default())?;
    }
    scan.finish()
}

impl Read for Gate {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (entry, end) = self.entry_at(self.pos);
        // The zip crate opens an entry by reading its local header, at its start: that read
        // is held until the entry is checked. Other reads in an entry's range (the search
        // for the central directory at the end of the file) pass, unless the entry failed.
        if let Some(k) = entry
            && self
                .entries
                .get(k)
                .is_some_and(|e| e.start == self.pos || e.state == Checked::Failed)
        {
            self.check(k)?;
        }
        // A read never runs into the next entry: that one is checked when it is reached.
        let room = end.map_or(u64::MAX, |e| e.saturating_sub(self.pos)).max(1);
        let len = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..len).unwrap_or_default())?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Gate {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}
