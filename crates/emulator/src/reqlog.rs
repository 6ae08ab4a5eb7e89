//! The log of received API requests, for tests to assert on what a client sent.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// What the log shows instead of a token.
pub const REDACTED: &str = "***";

/// One received API request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggedRequest {
    /// Sequence number since start.
    pub seq: u64,
    /// `GET` or `POST`.
    pub http_method: String,
    /// `xml` or `json`.
    pub format: String,
    /// The module path segment.
    pub module: String,
    /// The method path segment.
    pub method: String,
    /// Query and form parameters merged, `authtoken` redacted.
    pub params: BTreeMap<String, String>,
    /// An uploaded file part: name and size.
    pub file: Option<(String, usize)>,
}

impl LoggedRequest {
    /// Roughly the memory the entry holds (its parameters' text).
    fn weight(&self) -> usize {
        self.params.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() + 64
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// The most parameter text the log holds: write calls carry up to a few hundred kilobytes of
/// xmlData each, so a count alone would let a long import grow the emulator by gigabytes.
pub const MAX_LOG_BYTES: usize = 32 * 1024 * 1024;

/// A log bounded by a count of requests and by [`MAX_LOG_BYTES`], oldest dropped first.
#[derive(Debug)]
pub struct RequestLog {
    cap: usize,
    max_bytes: usize,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    seq: u64,
    bytes: usize,
    list: VecDeque<LoggedRequest>,
}

impl RequestLog {
    /// A log keeping the last `cap` requests (within [`MAX_LOG_BYTES`]).
    pub fn new(cap: usize) -> Self {
        Self::with_max_bytes(cap, MAX_LOG_BYTES)
    }

    fn with_max_bytes(cap: usize, max_bytes: usize) -> Self {
        Self { cap, max_bytes, entries: Mutex::new(Entries::default()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a request (the token must already be redacted).
    pub fn push(&self, mut r: LoggedRequest) {
        if self.cap == 0 {
            return;
        }
        let mut g = self.entries();
        g.seq += 1;
        r.seq = g.seq;
        g.bytes += r.weight();
        g.list.push_back(r);
        // The newest entry always stays, however big.
        while g.list.len() > 1 && (g.list.len() > self.cap || g.bytes > self.max_bytes) {
            if let Some(old) = g.list.pop_front() {
                g.bytes -= old.weight();
            }
        }
    }

    /// Every logged request, oldest first.
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries().list.iter().cloned().collect()
    }

    /// Empties the log.
    pub fn clear(&self) {
        let mut g = self.entries();
        g.list.clear();
        g.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, xml: &str) -> LoggedRequest {
        LoggedRequest {
            seq: 0,
            http_method: "POST".to_owned(),
            format: "xml".to_owned(),
            module: "Leads".to_owned(),
            method: method.to_owned(),
            params: [("xmlData".to_owned(), xml.to_owned())].into_iter().collect(),
            file: None,
        }
    }

    fn methods(log: &RequestLog) -> Vec<(u64, String)> {
        log.snapshot().into_iter().map(|r| (r.seq, r.method)).collect()
    }

    /// Oldest entries go when the count or the bytes are over; the newest always stays.
    #[test]
    fn bounded_by_count_and_by_bytes() {
        let log = RequestLog::with_max_bytes(3, 1000);
        for m in ["a", "b", "c", "d"] {
            log.push(entry(m, "x"));
        }
        assert_eq!(methods(&log), [(2, "b".into()), (3, "c".into()), (4, "d".into())]);
        log.push(entry("big", &"x".repeat(800)));
        assert_eq!(methods(&log), [(4, "d".into()), (5, "big".into())]);
        log.push(entry("huge", &"x".repeat(5000)));
        assert_eq!(methods(&log), [(6, "huge".into())]);
        log.clear();
        log.push(entry("e", "x"));
        assert_eq!(methods(&log), [(7, "e".into())]);
        let weight = log.snapshot()[0].weight();
        assert_eq!(log.entries().bytes, weight);
    }
}
