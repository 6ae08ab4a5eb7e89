//! The REST API's (v8) documented limits: credits per rolling 24 hours by edition, credits per
//! call, concurrency, and the per-call caps. Shared by the v8 client, its ledger and the
//! emulator's v8 face, so both sides count the same way.

use crate::limits::Edition;

/// Records one insert, update, upsert or delete call may carry.
pub const MAX_WRITE_RECORDS: u32 = 100;
/// Records one page of a list or search returns at most (`per_page`).
pub const MAX_PER_PAGE: u32 = 200;
/// The last record `page`/`per_page` may reach; beyond it only `page_token` pages.
pub const MAX_PAGE_RECORDS: u32 = 2_000;
/// Records `page_token` paging may reach.
pub const MAX_TOKEN_RECORDS: u32 = 100_000;
/// Field api names one list call may name in `fields`.
pub const MAX_FIELDS: usize = 50;
/// Records per credit for insert, update and upsert.
pub const RECORDS_PER_CREDIT: u32 = 10;
/// Credits a lead conversion costs.
pub const CONVERT_CREDITS: u32 = 5;
/// Credits a record list of a custom view (`GET /{module}?cvid=`) costs, whatever its page.
pub const VIEW_LIST_CREDITS: u32 = 3;
/// The concurrency sub-cap of "complex" calls (COQL, writes of more than 10 records).
pub const COMPLEX_CONCURRENCY: u32 = 10;
/// Seconds an access token lives.
pub const ACCESS_TOKEN_SECS: u64 = 3_600;

/// Credits a day (rolling 24 hours) for `edition` with `licenses` users, without add-ons:
/// 5,000 on Free; 50,000 plus 250 (Standard), 500 (Professional) or 1,000 (Enterprise) per
/// user, capped at 100,000, 3,000,000 and 5,000,000.
pub fn daily_credits(edition: Edition, licenses: u32) -> u64 {
    let users = u64::from(licenses.max(1));
    match edition {
        Edition::Free => 5_000,
        Edition::Standard => (50_000 + users * 250).min(100_000),
        Edition::Professional => (50_000 + users * 500).min(3_000_000),
        Edition::Enterprise => (50_000 + users * 1_000).min(5_000_000),
    }
}

/// Concurrent calls per org and app for `edition`.
pub fn concurrency(edition: Edition) -> u32 {
    match edition {
        Edition::Free => 5,
        Edition::Standard => 10,
        Edition::Professional => 15,
        Edition::Enterprise => 20,
    }
}

/// Pages of records one export asks for at once on the REST API, at most: the edition's
/// concurrency cap less one when that cap is small (Free's 5 leaves 4: a token refresh or
/// another integration still gets a slot), and never more than zcrm's own ceiling
/// ([`crate::limits::MAX_READS_IN_FLIGHT`]).
pub fn reads_in_flight_cap(edition: Edition) -> u32 {
    let cap = concurrency(edition);
    let room = if cap <= crate::limits::MAX_READS_IN_FLIGHT { cap - 1 } else { cap };
    room.clamp(1, crate::limits::MAX_READS_IN_FLIGHT)
}

/// Credits of an insert, update or upsert of `records` records (a call refused whole costs 1).
pub fn write_credits(records: u32) -> u32 {
    records.div_ceil(RECORDS_PER_CREDIT).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edition_formula_and_its_caps() {
        assert_eq!(daily_credits(Edition::Free, 40), 5_000);
        assert_eq!(daily_credits(Edition::Standard, 10), 52_500);
        assert_eq!(daily_credits(Edition::Standard, 1_000), 100_000);
        assert_eq!(daily_credits(Edition::Professional, 10), 55_000);
        assert_eq!(daily_credits(Edition::Enterprise, 40), 90_000);
        assert_eq!(daily_credits(Edition::Enterprise, 10_000), 5_000_000);
    }

    #[test]
    fn reads_in_flight_leave_room_under_small_concurrency_caps() {
        assert_eq!(reads_in_flight_cap(Edition::Free), 4);
        assert_eq!(reads_in_flight_cap(Edition::Standard), 8);
        assert_eq!(reads_in_flight_cap(Edition::Professional), 8);
        assert_eq!(reads_in_flight_cap(Edition::Enterprise), 8);
    }

    #[test]
    fn writes_cost_a_credit_per_ten_records() {
        assert_eq!(write_credits(100), 10);
        assert_eq!(write_credits(101), 11);
        assert_eq!(write_credits(1), 1);
        assert_eq!(write_credits(0), 1);
    }
}
