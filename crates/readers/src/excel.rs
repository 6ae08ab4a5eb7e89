//! Excel number conventions: serial dates (both date systems) and numbers that are really
//! identifiers.

/// Renders an XLSX number as the text a person typed: integral values without `.0` or an
/// exponent (phone numbers, zip codes, ids), others in the shortest exact decimal form.
pub fn render_number(f: f64) -> String {
    let mut s = String::new();
    push_number(f, &mut s);
    s
}

/// [`render_number`] appended to `out`.
pub(crate) fn push_number(f: f64, out: &mut String) {
    use std::fmt::Write;
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e17 {
        // Exact: integral and within the range where f64 holds every integer we print.
        let _ = write!(out, "{}", f as i64);
    } else if f.is_finite() {
        let _ = write!(out, "{f}");
    }
}

/// Milliseconds in a day: Excel keeps date-times to the millisecond.
const DAY_MS: i64 = 86_400_000;
/// Days from 1904-01-01 (day 0 of the 1904 date system) to 1970-01-01.
const DAYS_1904_TO_UNIX: i64 = 24_107;

/// The day an Excel serial shows, as Excel shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SerialDay {
    /// A real day: `(year, month, day, seconds of the day)`.
    Day(i32, u8, u8, u32),
    /// A day Excel shows that does not exist (`1900-01-00`, `1900-02-29`).
    Phantom(&'static str),
    /// Before the first day of the date system or after 9999-12-31 (Excel shows `####`).
    OutOfRange,
}

/// The day and time an Excel serial shows in the 1900 date system, or the 1904 one when
/// `date1904` (`<workbookPr date1904="1"/>`).
///
/// The serial is rounded to the millisecond, Excel's precision, and the milliseconds are then
/// dropped (Zoho date-times are whole seconds): 45000.99999999 is 23:59:59 of day 45000, not
/// midnight of the next day. In the 1900 system serial 0 shows as 1900-01-00 and serial 60 as
/// 1900-02-29 (Excel counts 1900 as a leap year); neither day exists.
pub(crate) fn serial_day(serial: f64, date1904: bool) -> SerialDay {
    // Beyond 9999-12-31 in either system (and not a number at all).
    if !serial.is_finite() || !(-1.0..3_000_000.0).contains(&serial) {
        return SerialDay::OutOfRange;
    }
    let ms = (serial * DAY_MS as f64).round() as i64;
    if ms < 0 {
        return SerialDay::OutOfRange;
    }
    let days = ms / DAY_MS;
    let secs = (ms % DAY_MS / 1000) as u32;
    let unix = if date1904 {
        days - DAYS_1904_TO_UNIX
    } else {
        match days {
            0 => return SerialDay::Phantom("1900-01-00"),
            60 => return SerialDay::Phantom("1900-02-29"),
            // 1899-12-31 is day 0; from day 61 on, one day less for the phantom 1900-02-29.
            d if d < 60 => d - 25_568,
            d => d - 25_569,
        }
    };
    let (y, m, d) = civil_from_unix_days(unix);
    if y > 9999 {
        return SerialDay::OutOfRange;
    }
    SerialDay::Day(y, m, d, secs)
}

/// `(year, month, day)` of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_unix_days(unix: i64) -> (i32, u8, u8) {
    let z = unix + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = if m <= 2 { y + 1 } else { y };
    (i32::try_from(y).unwrap_or(i32::MAX), m, d)
}

/// Converts an Excel serial (1900 date system) to `(year, month, day, seconds of the day)`.
///
/// Serial 1 is 1900-01-01. The serial is rounded to the millisecond and the milliseconds are
/// dropped, so a value a hair short of midnight stays on its day. Returns `None` for the days
/// Excel shows but that do not exist (serial 0, 1900-01-00, and serial 60, 1900-02-29),
/// before them and after 9999-12-31.
pub fn excel_serial_to_date(serial: f64) -> Option<(i32, u8, u8, u32)> {
    match serial_day(serial, false) {
        SerialDay::Day(y, m, d, s) => Some((y, m, d, s)),
        SerialDay::Phantom(_) | SerialDay::OutOfRange => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials() {
        assert_eq!(excel_serial_to_date(1.0), Some((1900, 1, 1, 0)));
        assert_eq!(excel_serial_to_date(59.0), Some((1900, 2, 28, 0)));
        assert_eq!(excel_serial_to_date(60.0), None, "1900-02-29 does not exist");
        assert_eq!(excel_serial_to_date(61.0), Some((1900, 3, 1, 0)));
        assert_eq!(excel_serial_to_date(45_382.0), Some((2024, 3, 31, 0)));
        assert_eq!(excel_serial_to_date(45_382.5), Some((2024, 3, 31, 43_200)));
        assert_eq!(excel_serial_to_date(45_000.999_999_99), Some((2023, 3, 15, 86_399)));
        assert_eq!(excel_serial_to_date(2_958_465.0), Some((9999, 12, 31, 0)));
        assert_eq!(excel_serial_to_date(2_958_466.0), None);
        assert_eq!(excel_serial_to_date(0.0), None);
        assert_eq!(serial_day(0.0, false), SerialDay::Phantom("1900-01-00"));
        assert_eq!(serial_day(60.75, false), SerialDay::Phantom("1900-02-29"));
        assert_eq!(serial_day(-0.5, false), SerialDay::OutOfRange);
    }

    #[test]
    fn serials_1904() {
        assert_eq!(serial_day(0.0, true), SerialDay::Day(1904, 1, 1, 0));
        assert_eq!(serial_day(60.0, true), SerialDay::Day(1904, 3, 1, 0));
        assert_eq!(serial_day(45_000.0, true), SerialDay::Day(2027, 3, 16, 0));
        assert_eq!(serial_day(2_957_003.0, true), SerialDay::Day(9999, 12, 31, 0));
        assert_eq!(serial_day(2_957_004.0, true), SerialDay::OutOfRange);
    }

    #[test]
    fn numbers() {
        assert_eq!(render_number(14155550123.0), "14155550123");
        assert_eq!(render_number(2139.0), "2139");
        assert_eq!(render_number(1.5), "1.5");
        assert_eq!(render_number(1e20), "100000000000000000000");
        assert_eq!(render_number(-3.0), "-3");
    }
}
