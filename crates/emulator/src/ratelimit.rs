//! Per-minute rate limits (docs/protocol.md §4.9, §4.16, §6 4820): a sliding window of accepted calls
//! per method, on the org clock (so tests can advance past a window or a block), optionally
//! followed by a block once the limit is hit. Kept in memory: a restart forgets them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use zcrm_protocol::Method;
use zcrm_protocol::limits::{
    SEARCH_RECORDS_PER_MINUTE, UPLOAD_FILE_BLOCK_SECS, UPLOAD_FILE_PER_MINUTE,
};

/// One method's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimit {
    /// Calls accepted within one window.
    pub calls: u32,
    /// The window, in seconds.
    pub window_secs: u64,
    /// Seconds every call is refused after the limit was hit (0: only until the window frees a
    /// slot).
    pub block_secs: u64,
}

/// The limits of the rate-limited methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimits {
    /// searchRecords: 60 a minute.
    pub search_records: RateLimit,
    /// uploadFile: 60 a minute, then blocked 5 minutes.
    pub upload_file: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            search_records: RateLimit {
                calls: SEARCH_RECORDS_PER_MINUTE,
                window_secs: 60,
                block_secs: 0,
            },
            upload_file: RateLimit {
                calls: UPLOAD_FILE_PER_MINUTE,
                window_secs: 60,
                block_secs: UPLOAD_FILE_BLOCK_SECS,
            },
        }
    }
}

impl RateLimits {
    /// The limit of `method`, if it has one.
    pub fn of(&self, method: Method) -> Option<RateLimit> {
        match method {
            Method::SearchRecords => Some(self.search_records),
            Method::UploadFile => Some(self.upload_file),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Bucket {
    accepted: VecDeque<i64>,
    blocked_until: Option<i64>,
}

/// The accepted calls of every rate-limited method.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<Method, Bucket>>,
}

impl RateLimiter {
    /// Whether a call of `method` at `now` (epoch seconds) is accepted under `limits`; an
    /// accepted call takes a slot of the window.
    pub fn admit(&self, limits: &RateLimits, method: Method, now: i64) -> bool {
        let Some(limit) = limits.of(method) else { return true };
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let b = buckets.entry(method).or_default();
        if b.blocked_until.is_some_and(|until| now < until) {
            return false;
        }
        b.blocked_until = None;
        let window = i64::try_from(limit.window_secs).unwrap_or(i64::MAX);
        while b.accepted.front().is_some_and(|t| now.saturating_sub(*t) >= window) {
            b.accepted.pop_front();
        }
        if b.accepted.len() >= limit.calls as usize {
            if limit.block_secs > 0 {
                let block = i64::try_from(limit.block_secs).unwrap_or(i64::MAX);
                b.blocked_until = Some(now.saturating_add(block));
                b.accepted.clear();
            }
            return false;
        }
        b.accepted.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(calls: u32, block_secs: u64) -> RateLimits {
        let l = RateLimit { calls, window_secs: 60, block_secs };
        RateLimits { search_records: l, upload_file: l }
    }

    #[test]
    fn sliding_window_without_block() {
        let r = RateLimiter::default();
        let l = limits(2, 0);
        assert!(r.admit(&l, Method::SearchRecords, 0));
        assert!(r.admit(&l, Method::SearchRecords, 30));
        assert!(!r.admit(&l, Method::SearchRecords, 59));
        assert!(r.admit(&l, Method::SearchRecords, 60), "the first call left the window");
        assert!(!r.admit(&l, Method::SearchRecords, 61));
        assert!(r.admit(&l, Method::GetRecords, 61), "other methods are not limited");
    }

    #[test]
    fn block_after_the_limit() {
        let r = RateLimiter::default();
        let l = limits(1, 300);
        assert!(r.admit(&l, Method::UploadFile, 0));
        assert!(!r.admit(&l, Method::UploadFile, 1));
        assert!(!r.admit(&l, Method::UploadFile, 200), "blocked although the window passed");
        assert!(r.admit(&l, Method::UploadFile, 301));
    }
}
