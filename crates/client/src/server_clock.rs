//! The server's clock, as its answers' `Date` headers show it: what relates this machine's time
//! to the times the CRM stamps on records (reconciliation reads records by their creation
//! time, and a skewed local clock must not widen or shift that window).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// The `Date` header's resolution (whole seconds) plus a network latency allowance: how far
/// the true server time may lie above [`ServerClock::now_at_least`].
const UNCERTAINTY_MS: i64 = 2_000;

/// The offset between the server's clock and this machine's, from the latest answer.
#[derive(Debug, Default)]
pub struct ServerClock {
    /// Server minus local, in milliseconds: a lower bound (the header is truncated to seconds
    /// and was stamped before the answer arrived).
    offset_ms: AtomicI64,
    known: AtomicBool,
}

impl ServerClock {
    /// Records the `Date` header of an answer received at `received` (local time). A header
    /// that does not parse is ignored.
    pub fn observe(&self, date: &str, received: Timestamp) {
        let Ok(server) = jiff::fmt::rfc2822::parse(date.trim()) else { return };
        let offset = server.timestamp().as_millisecond() - received.as_millisecond();
        self.offset_ms.store(offset, Ordering::Relaxed);
        self.known.store(true, Ordering::Relaxed);
    }

    /// Whether an answer has shown the server's clock yet.
    pub fn is_known(&self) -> bool {
        self.known.load(Ordering::Relaxed)
    }

    /// The server's time now, never later than the truth (the local clock until an answer
    /// has shown the server's).
    pub fn now_at_least(&self) -> Timestamp {
        let now = Timestamp::now();
        now.checked_add(SignedDuration::from_millis(self.offset_ms.load(Ordering::Relaxed)))
            .unwrap_or(now)
    }

    /// The server's time now, never earlier than the truth (give or take the local clock's
    /// own steps): [`Self::now_at_least`] plus the header's resolution and a latency allowance.
    pub fn now_at_most(&self) -> Timestamp {
        let low = self.now_at_least();
        low.checked_add(SignedDuration::from_millis(UNCERTAINTY_MS)).unwrap_or(low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_follows_the_date_header() {
        let c = ServerClock::default();
        assert!(!c.is_known());
        let received = Timestamp::now();
        let ahead = received + SignedDuration::from_secs(3_600);
        let header =
            jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&ahead).unwrap();
        c.observe(&header, received);
        assert!(c.is_known());
        let low = c.now_at_least();
        let diff = (low - Timestamp::now()).as_secs_f64();
        assert!((3_598.0..=3_600.5).contains(&diff), "{diff}");
        assert!(c.now_at_most() > low);
        c.observe("not a date", received);
        assert!((c.now_at_least() - Timestamp::now()).as_secs_f64() > 3_590.0);
    }
}
