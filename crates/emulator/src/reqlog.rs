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
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// A bounded log.
#[derive(Debug)]
pub struct RequestLog {
    cap: usize,
    entries: Mutex<(u64, VecDeque<LoggedRequest>)>,
}

impl RequestLog {
    /// A log keeping the last `cap` requests.
    pub fn new(cap: usize) -> Self {
        Self { cap, entries: Mutex::new((0, VecDeque::new())) }
    }

    /// Records a request (the token must already be redacted).
    pub fn push(&self, mut r: LoggedRequest) {
        if self.cap == 0 {
            return;
        }
        let mut g = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        g.0 += 1;
        r.seq = g.0;
        if g.1.len() >= self.cap {
            g.1.pop_front();
        }
        g.1.push_back(r);
    }

    /// Every logged request, oldest first.
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        let g = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        g.1.iter().cloned().collect()
    }

    /// Empties the log.
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1.clear();
    }
}
