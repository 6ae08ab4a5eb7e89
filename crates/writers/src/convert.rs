//! Turning response text into typed column values, exactly or not at all.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use zcrm_protocol::Direction;
use zcrm_protocol::value::{parse_bool, parse_date, parse_datetime, parse_decimal, parse_integer};

/// A value that does not fit its column, with the reason.
pub type Conv<T> = Result<Option<T>, String>;

/// Empty text is null for every typed column.
fn nonempty(t: &str) -> Option<&str> {
    let t = t.trim();
    (!t.is_empty()).then_some(t)
}

/// A record or user id, as the Int64 Parquet columns hold it (every reader takes Int64 as an
/// integer; Zoho ids fit in 63 bits, and one that does not is refused, never wrapped).
pub fn id(t: &str) -> Conv<i64> {
    let Some(t) = nonempty(t) else { return Ok(None) };
    let id = t.parse::<u64>().map_err(|_| format!("{t:?} is not a record id"))?;
    i64::try_from(id).map(Some).map_err(|_| {
        format!("id {id} is beyond {}, the largest a Parquet Int64 column holds", i64::MAX)
    })
}

/// An integer.
pub fn integer(t: &str) -> Conv<i64> {
    nonempty(t).map(|t| parse_integer(t).map_err(|e| e.to_string())).transpose()
}

/// A decimal as the mantissa at `scale`; refuses anything that would be rounded.
pub fn decimal(t: &str, scale: i8) -> Conv<i128> {
    let Some(t) = nonempty(t) else { return Ok(None) };
    let d = parse_decimal(t).map_err(|e| e.to_string())?;
    let target = u32::try_from(scale).unwrap_or(0);
    if d.scale() > target && d.round_dp(target) != d {
        return Err(format!("{t} has more than {scale} decimal places"));
    }
    let mut x: Decimal = d;
    x.rescale(target);
    Ok(Some(x.mantissa()))
}

/// A boolean.
pub fn boolean(t: &str) -> Conv<bool> {
    nonempty(t).map(|t| parse_bool(t).map_err(|e| e.to_string())).transpose()
}

const EPOCH: Date = Date::constant(1970, 1, 1);

/// A date as days since 1970-01-01.
pub fn date(t: &str) -> Conv<i32> {
    let Some(t) = nonempty(t) else { return Ok(None) };
    let d = parse_date(t, Direction::Output).map_err(|e| e.to_string())?;
    let days = d.since(EPOCH).map_err(|e| e.to_string())?.get_days();
    Ok(Some(days))
}

/// A date-time in the org's time zone as microseconds since the epoch (UTC).
pub fn datetime(t: &str, tz: &TimeZone) -> Conv<i64> {
    let Some(t) = nonempty(t) else { return Ok(None) };
    let dt = parse_datetime(t).map_err(|e| e.to_string())?;
    let z = dt.to_zoned_datetime(tz.clone()).map_err(|e| e.to_string())?;
    Ok(Some(z.timestamp().as_microsecond()))
}

/// Multi-select items (`;`-separated).
pub fn multi(t: &str) -> Option<Vec<&str>> {
    nonempty(t).map(|t| t.split(';').map(str::trim).filter(|s| !s.is_empty()).collect())
}
