//! Excel number conventions: serial dates and numbers that are really identifiers.

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

/// Converts an Excel serial (1900 date system) to `(year, month, day, seconds of the day)`.
///
/// Serial 1 is 1900-01-01; Excel's fictitious 1900-02-29 (serial 60) is skipped, so serials
/// from 61 on are exact. Returns `None` outside years 1900..=9999.
pub fn excel_serial_to_date(serial: f64) -> Option<(i32, u8, u8, u32)> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86_400.0).round() as u32;
    let (days, secs) = if secs >= 86_400 { (days + 1, 0) } else { (days, secs) };
    // 1970-01-01 is serial 25569; before serial 61 Excel's phantom 1900-02-29 is not counted yet.
    let unix = if days >= 61 { days - 25_569 } else { days - 25_568 };
    // Civil-from-days (Howard Hinnant's algorithm), epoch 1970-01-01.
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
    Some((i32::try_from(y).ok()?, m, d, secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials() {
        assert_eq!(excel_serial_to_date(1.0), Some((1900, 1, 1, 0)));
        assert_eq!(excel_serial_to_date(59.0), Some((1900, 2, 28, 0)));
        assert_eq!(excel_serial_to_date(61.0), Some((1900, 3, 1, 0)));
        assert_eq!(excel_serial_to_date(45_382.0), Some((2024, 3, 31, 0)));
        assert_eq!(excel_serial_to_date(45_382.5), Some((2024, 3, 31, 43_200)));
        assert_eq!(excel_serial_to_date(0.0), None);
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
