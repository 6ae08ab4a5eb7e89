//! The org's clock: real time plus an offset that the admin surface advances, so tests can
//! turn the budget day, pass a rate-limit window or the search index lag without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Real time shifted by a stored offset, read in the org's time zone.
#[derive(Debug)]
pub struct Clock {
    tz: TimeZone,
    offset_secs: AtomicI64,
}

impl Clock {
    /// A clock in `tz` shifted by `offset_secs`.
    pub fn new(tz: TimeZone, offset_secs: i64) -> Self {
        Self { tz, offset_secs: AtomicI64::new(offset_secs) }
    }

    /// The org's time zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The current offset in seconds.
    pub fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `days` days; returns the new offset.
    pub fn advance_days(&self, days: i64) -> i64 {
        self.advance_secs(days.saturating_mul(86_400))
    }

    /// Moves the clock forward by `secs` seconds; returns the new offset.
    pub fn advance_secs(&self, secs: i64) -> i64 {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst).saturating_add(secs)
    }

    /// Now, as a timestamp.
    pub fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        now.checked_add(SignedDuration::from_secs(self.offset_secs())).unwrap_or(now)
    }

    /// Now in the org's time zone, whole seconds.
    pub fn now_civil(&self) -> DateTime {
        self.civil(self.now().as_second())
    }

    /// The org's current day (the budget day).
    pub fn today(&self) -> Date {
        self.now_civil().date()
    }

    /// Epoch seconds to the org's civil time.
    pub fn civil(&self, epoch: i64) -> DateTime {
        let ts = Timestamp::from_second(epoch).unwrap_or(Timestamp::UNIX_EPOCH);
        self.tz.to_datetime(ts)
    }

    /// The org's civil time to epoch seconds (earlier instant when ambiguous).
    pub fn epoch(&self, dt: DateTime) -> i64 {
        self.tz.to_ambiguous_timestamp(dt).compatible().map(|t| t.as_second()).unwrap_or(0)
    }
}
