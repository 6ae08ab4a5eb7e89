//! Bulk Read as the stages see it, whatever the dialect: a request (module, columns, modified
//! since), the rows handed on in chunks of [`BULK_CHUNK_ROWS`] as page bodies that
//! [`crate::CrmApi::decode_page`] decodes (so the writers treat them as record pages), and the
//! pacing of result downloads ([`DownloadPacer`]: at most [`DOWNLOADS_PER_MINUTE`] in any
//! minute).

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::civil::DateTime;
use zcrm_protocol::params::SelectColumns;

/// Rows in one chunk handed to the caller: a record page's worth, so a Bulk Read export's
/// batches, row groups and first-page columns are those of the record API's.
pub const BULK_CHUNK_ROWS: usize = 200;

/// Rows one Bulk Read job returns at most (a page of the job API); more take a new job each.
pub const BULK_READ_PAGE_ROWS: u64 = 200_000;

/// Credits one Bulk Read job costs on v8 (however many rows it returns).
pub const BULK_READ_JOB_CREDITS: u32 = 50;

/// Result downloads allowed in any 60 seconds (Zoho's documented limit; the 11th is a 429).
pub const DOWNLOADS_PER_MINUTE: usize = 10;

/// What a Bulk Read reads.
#[derive(Debug, Clone, Copy)]
pub struct BulkReadRequest<'a> {
    /// The module (the XML API's name or v8's).
    pub module: &'a str,
    /// The columns, as a record read names them (the record id always comes).
    pub select: &'a SelectColumns,
    /// Only records modified at or after this time (org time zone), for incremental exports.
    pub modified_since: Option<DateTime>,
}

/// What a Bulk Read did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkReadOutcome {
    /// Jobs created (each one a charge of the job's price).
    pub jobs: u32,
    /// Rows read from the result files.
    pub rows: u64,
    /// Result downloads made (retries included).
    pub downloads: u32,
    /// The caller stopped the read (its callback answered `Break`).
    pub stopped: bool,
}

/// Takes each chunk: a page body for [`crate::CrmApi::decode_page`] and its number of rows;
/// `Break` stops the read.
pub type ChunkSink<'s> = dyn FnMut(Vec<u8>, usize) -> ControlFlow<()> + 's;

/// The times of the last downloads, to keep them to `max` in any `window`.
pub struct DownloadPacer {
    max: usize,
    window: Duration,
    recent: Mutex<VecDeque<Instant>>,
}

impl std::fmt::Debug for DownloadPacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadPacer").field("max", &self.max).finish_non_exhaustive()
    }
}

impl Default for DownloadPacer {
    fn default() -> Self {
        Self::new(DOWNLOADS_PER_MINUTE, Duration::from_secs(60))
    }
}

impl DownloadPacer {
    /// At most `max` downloads in any `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        Self { max: max.max(1), window, recent: Mutex::new(VecDeque::new()) }
    }

    /// How long to wait at `now` before the next download may start (zero: at once).
    pub fn wait(&self, now: Instant) -> Duration {
        let recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() < self.max {
            return Duration::ZERO;
        }
        // The oldest of the last `max` downloads leaves the window at oldest + window.
        let oldest = recent[recent.len() - self.max];
        (oldest + self.window).saturating_duration_since(now)
    }

    /// Records a download started at `now`.
    pub fn started(&self, now: Instant) {
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.push_back(now);
        while recent.len() > self.max {
            recent.pop_front();
        }
    }

    /// Waits (with `sleep`, reading the time with `clock`) until a download may start, and
    /// records it; the time waited.
    pub fn acquire(
        &self,
        clock: &dyn Fn() -> Instant,
        sleep: &mut dyn FnMut(Duration),
    ) -> Duration {
        let mut waited = Duration::ZERO;
        loop {
            let now = clock();
            let w = self.wait(now);
            if w.is_zero() {
                self.started(now);
                return waited;
            }
            sleep(w);
            waited += w;
        }
    }

    /// A download the server refused with 429 at `now`: the window counts as full from now,
    /// so the next try waits a whole window unless older downloads leave it sooner.
    pub fn refused(&self, now: Instant) {
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.clear();
        for _ in 0..self.max {
            recent.push_back(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Ten downloads go at once; the eleventh waits until the first leaves the minute, on a
    /// clock the test moves (nothing really waits).
    #[test]
    fn the_eleventh_download_in_a_minute_waits_for_the_first_to_leave_it() {
        let t0 = Instant::now();
        let now = Cell::new(t0);
        let clock = || now.get();
        let mut slept = Vec::new();
        let pacer = DownloadPacer::default();
        for i in 0..10 {
            now.set(t0 + Duration::from_secs(i * 2));
            let waited = pacer.acquire(&clock, &mut |d| {
                slept.push(d);
                now.set(now.get() + d);
            });
            assert_eq!(waited, Duration::ZERO, "download {i} goes at once");
        }
        now.set(t0 + Duration::from_secs(25));
        let waited = pacer.acquire(&clock, &mut |d| {
            slept.push(d);
            now.set(now.get() + d);
        });
        assert_eq!(waited, Duration::from_secs(35), "until t0 + 60 s");
        assert_eq!(now.get(), t0 + Duration::from_secs(60));
        // The twelfth waits for the second download (t0 + 2 s) to leave: t0 + 62 s.
        let waited = pacer.acquire(&clock, &mut |d| now.set(now.get() + d));
        assert_eq!(waited, Duration::from_secs(2));
        // Eleven downloads in any window of 60 s never happen.
        assert_eq!(slept.len(), 1);
    }

    #[test]
    fn a_refused_download_makes_the_next_wait_a_whole_window() {
        let t0 = Instant::now();
        let pacer = DownloadPacer::default();
        pacer.started(t0);
        assert_eq!(pacer.wait(t0), Duration::ZERO);
        pacer.refused(t0 + Duration::from_secs(5));
        assert_eq!(pacer.wait(t0 + Duration::from_secs(5)), Duration::from_secs(60));
        assert_eq!(pacer.wait(t0 + Duration::from_secs(65)), Duration::ZERO);
    }
}
