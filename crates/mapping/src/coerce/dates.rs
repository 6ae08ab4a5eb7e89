//! Date and date-time fields: text in `date_format` or ISO form, and XLSX date cells and
//! serials.

use jiff::civil::{Date, DateTime};
use zcrm_protocol::Direction;
use zcrm_protocol::value::{parse_date, parse_datetime};
use zcrm_readers::excel_serial_to_date;

fn looks_numeric(s: &str) -> Option<f64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .then(|| s.parse::<f64>().ok())
        .flatten()
}

/// The date of an XLSX date cell: `yyyy-mm-dd`, or a date-time at midnight (a date-time
/// format on a date) — another time of day is not a date.
fn xlsx_date(s: &str) -> Option<Date> {
    parse_date(s, Direction::Output).ok().or_else(|| {
        let dt = parse_datetime(s).ok()?;
        (dt.time() == jiff::civil::Time::midnight()).then(|| dt.date())
    })
}

pub(super) fn date_of(s: &str, fmt: Option<&str>, serials: bool) -> Result<Date, String> {
    if let Some(f) = fmt {
        // An XLSX date cell is read as ISO text whatever `date_format` (for text) says.
        return Date::strptime(f, s)
            .ok()
            .or_else(|| serials.then(|| xlsx_date(s)).flatten())
            .ok_or_else(|| format!("{s:?} is not a date in the format {f}"));
    }
    if let Ok(d) = parse_date(s, Direction::Output) {
        return Ok(d);
    }
    if serials && let Some(d) = xlsx_date(s) {
        return Ok(d);
    }
    if serials && let Some((y, m, d, _)) = looks_numeric(s).and_then(excel_serial_to_date) {
        return Date::new(y as i16, m as i8, d as i8).map_err(|e| e.to_string());
    }
    Err(format!("{s:?} is not a date as yyyy-mm-dd (set date_format for other forms)"))
}

/// The text the XLSX reader gives a date cell: `yyyy-mm-dd hh:mm:ss` when its format shows a
/// time, `yyyy-mm-dd` (taken as midnight) when it shows a date alone.
fn xlsx_datetime(s: &str) -> Option<DateTime> {
    parse_datetime(s).ok().or_else(|| {
        parse_date(s, Direction::Output).ok().map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })
}

pub(super) fn datetime_of(s: &str, fmt: Option<&str>, serials: bool) -> Result<DateTime, String> {
    if let Some(f) = fmt {
        return DateTime::strptime(f, s)
            .ok()
            .or_else(|| serials.then(|| xlsx_datetime(s)).flatten())
            .ok_or_else(|| format!("{s:?} is not a date-time in the format {f}"));
    }
    let t = s.replacen('T', " ", 1);
    if let Ok(dt) = parse_datetime(&t) {
        return Ok(dt);
    }
    if t.len() == 16
        && let Ok(dt) = parse_datetime(&format!("{t}:00"))
    {
        return Ok(dt);
    }
    if serials && let Some(dt) = xlsx_datetime(s) {
        return Ok(dt);
    }
    if serials && let Some((y, m, d, secs)) = looks_numeric(s).and_then(excel_serial_to_date) {
        let date = Date::new(y as i16, m as i8, d as i8).map_err(|e| e.to_string())?;
        let time = jiff::civil::Time::new(
            (secs / 3600) as i8,
            (secs / 60 % 60) as i8,
            (secs % 60) as i8,
            0,
        )
        .map_err(|e| e.to_string())?;
        return Ok(date.to_datetime(time));
    }
    Err(format!(
        "{s:?} is not a date-time as yyyy-mm-dd hh:mm:ss (set date_format for other forms)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XLSX date cells arrive as ISO text (`yyyy-mm-dd`, or with the time when their format
    /// shows one), whatever `date_format` says (it is for text cells): a date-time field given
    /// a date cell takes midnight. CSV text is read as before.
    #[test]
    fn xlsx_date_cells_in_date_and_date_time_fields() {
        let midnight = jiff::civil::datetime(2024, 10, 10, 0, 0, 0, 0);
        let fmt = Some("%Y-%m-%d %H:%M:%S");
        assert_eq!(datetime_of("2024-10-10", fmt, true), Ok(midnight));
        assert_eq!(datetime_of("2024-10-10", None, true), Ok(midnight));
        let dmy = Some("%d/%m/%Y %H:%M");
        assert_eq!(datetime_of("2024-10-10 00:00:00", dmy, true), Ok(midnight));
        assert_eq!(datetime_of("10/10/2024 00:00", dmy, true), Ok(midnight));
        assert_eq!(date_of("2024-10-10", Some("%d/%m/%Y"), true), Ok(midnight.date()));
        // A date-time cell at midnight fills a Date field, as before; another time does not.
        assert_eq!(date_of("2024-10-10 00:00:00", None, true), Ok(midnight.date()));
        assert_eq!(date_of("2024-10-10 00:00:00", Some("%d/%m/%Y"), true), Ok(midnight.date()));
        assert!(date_of("2024-10-10 15:30:05", None, true).is_err());
        assert!(date_of("2024-10-10 00:00:00", None, false).is_err());
        let csv = datetime_of("2024-10-10", fmt, false).unwrap_err();
        assert!(csv.contains("is not a date-time in the format"), "{csv}");
        assert!(datetime_of("2024-10-10", None, false).is_err());
        assert!(datetime_of("2024-10-1", None, true).is_err());
    }
}
