//! Credits (CD-20) and concurrency (CD-22). Credits: each authenticated call that got a slot
//! is charged when it starts, inside its store transaction, whatever its outcome; a call whose
//! cost would take the rolling 24-hour window past the budget is refused with 429 and charged
//! nothing. Concurrency: in-flight calls per org (the edition's cap, or the configured one),
//! and a sub-cap of [`COMPLEX_CONCURRENCY`] for writes of more than 10 records and COQL.

use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::Connection;
use zcrm_protocol::rest_limits::COMPLEX_CONCURRENCY;

use crate::state::State;
use crate::store::credits;

/// The rolling window, seconds.
pub const WINDOW_SECS: i64 = 86_400;

/// In-flight calls.
#[derive(Debug, Default)]
pub struct Slots {
    all: AtomicU32,
    complex: AtomicU32,
}

/// A slot held until dropped.
#[derive(Debug)]
pub struct Slot<'a> {
    counter: &'a AtomicU32,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

fn take(counter: &AtomicU32, cap: u32) -> Option<Slot<'_>> {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < cap).then_some(n + 1))
        .ok()
        .map(|_| Slot { counter })
}

impl Slots {
    /// A slot of the org's cap, if one is free.
    pub fn take(&self, cap: u32) -> Option<Slot<'_>> {
        take(&self.all, cap)
    }

    /// A slot of the complex calls' sub-cap, if one is free.
    pub fn take_complex(&self) -> Option<Slot<'_>> {
        take(&self.complex, COMPLEX_CONCURRENCY)
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> u32 {
        self.all.load(Ordering::SeqCst)
    }
}

/// Credits used in the window ending at `now`.
pub fn used(conn: &Connection, now: i64) -> rusqlite::Result<u64> {
    credits::used_since(conn, now - WINDOW_SECS)
}

/// Charges `cost` at `now` unless that takes the window past the budget; returns the credits
/// used after the charge, or `None` when refused.
pub fn charge(st: &State, conn: &Connection, now: i64, cost: u64) -> rusqlite::Result<Option<u64>> {
    let used = used(conn, now)?;
    if used.saturating_add(cost) > st.cfg.credits() {
        return Ok(None);
    }
    credits::charge(conn, now, cost)?;
    Ok(Some(used + cost))
}

/// The JSON of `GET /__emulator/credits`.
pub fn admin_json(st: &State) -> Result<serde_json::Value, rusqlite::Error> {
    let now = st.clock.now().as_second();
    let used = st.store.read(|c| used(c, now))?;
    let limit = st.cfg.credits();
    Ok(serde_json::json!({
        "used": used,
        "limit": limit,
        "remaining": limit.saturating_sub(used),
        "window_secs": WINDOW_SECS,
        "in_flight": st.rest.slots.in_flight(),
        "concurrency_limit": st.cfg.concurrency_cap(),
        "complex_concurrency_limit": COMPLEX_CONCURRENCY,
    }))
}
