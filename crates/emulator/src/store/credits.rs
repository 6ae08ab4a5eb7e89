//! The v8 face's credit charges: one row per charged call (epoch second, credits), summed over
//! a rolling window.

use rusqlite::{Connection, params};

/// Records a charge of `cost` credits at `at`.
pub fn charge(conn: &Connection, at: i64, cost: u64) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO credits(at, cost) VALUES(?1, ?2)")?
        .execute(params![at, i64::try_from(cost).unwrap_or(i64::MAX)])?;
    Ok(())
}

/// Credits charged after `since` (exclusive): the window's use.
pub fn used_since(conn: &Connection, since: i64) -> rusqlite::Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COALESCE(SUM(cost), 0) FROM credits WHERE at > ?1")?
        .query_row([since], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
