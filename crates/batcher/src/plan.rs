//! The call plan: payloads and calls per step, and how many days the budget needs.

use jiff::civil::Date;

/// One step's share of the plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepPlan {
    /// Valid rows still to send.
    pub rows: u64,
    /// Write payloads.
    pub payloads: u64,
    /// Read calls (upsert index pages, reconciliation).
    pub reads: u64,
    /// Metadata calls (0 when cached).
    pub metadata: u64,
}

impl StepPlan {
    /// Plans `rows` rows at `batch` rows per payload: every payload is full but the last.
    pub fn new(rows: u64, batch: u32, reads: u64, metadata: u64) -> Self {
        Self { rows, payloads: rows.div_ceil(u64::from(batch.max(1))), reads, metadata }
    }

    /// All calls.
    pub fn calls(&self) -> u64 {
        self.payloads + self.reads + self.metadata
    }
}

/// Spreads `calls` over days: what is left today, then `per_day` each following day.
pub fn schedule(calls: u64, left_today: u64, per_day: u64, today: Date) -> Vec<(Date, u64)> {
    let mut out = Vec::new();
    let mut rest = calls;
    let mut day = today;
    let mut cap = left_today;
    while rest > 0 {
        let n = rest.min(cap);
        if n > 0 {
            out.push((day, n));
        }
        rest -= n;
        if per_day == 0 {
            break;
        }
        cap = per_day;
        day = day.tomorrow().unwrap_or(day);
    }
    out
}
