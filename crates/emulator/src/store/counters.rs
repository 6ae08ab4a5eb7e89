//! Call counters per org day, method and module.

use rusqlite::{Connection, params};

/// Adds one call.
pub fn bump(conn: &Connection, day: &str, method: &str, module: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO calls(day, method, module, count) VALUES(?1, ?2, ?3, 1) \
         ON CONFLICT(day, method, module) DO UPDATE SET count = count + 1",
    )?
    .execute(params![day, method, module])?;
    Ok(())
}

/// Calls on `day`, all methods, or only `methods` when given.
pub fn day_total(conn: &Connection, day: &str, methods: Option<&[&str]>) -> rusqlite::Result<u64> {
    let n: i64 = match methods {
        None => conn
            .prepare_cached("SELECT COALESCE(SUM(count), 0) FROM calls WHERE day = ?1")?
            .query_row([day], |r| r.get(0))?,
        Some(ms) => {
            let mut total = 0i64;
            for m in ms {
                total += conn
                    .prepare_cached(
                        "SELECT COALESCE(SUM(count), 0) FROM calls WHERE day = ?1 AND method = ?2",
                    )?
                    .query_row(params![day, m], |r| r.get::<_, i64>(0))?;
            }
            total
        }
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One counter row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallCount {
    /// The org day (`yyyy-MM-dd`).
    pub day: String,
    /// The method name as called.
    pub method: String,
    /// The module as called.
    pub module: String,
    /// Calls.
    pub count: u64,
}

/// Every counter row, by day, method, module.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<CallCount>> {
    let mut st =
        conn.prepare("SELECT day, method, module, count FROM calls ORDER BY day, method, module")?;
    let rows = st.query_map([], |r| {
        Ok(CallCount {
            day: r.get(0)?,
            method: r.get(1)?,
            module: r.get(2)?,
            count: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        })
    })?;
    rows.collect()
}
