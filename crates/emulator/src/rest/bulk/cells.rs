//! A Bulk Write CSV cell as the v8 JSON value of its field, so each row goes through the very
//! checks of a v8 record write (`rest::write`):
//!
//! - text-like fields: the text as is;
//! - integer, double, currency, percent: a JSON number when the cell is one (else the text,
//!   which the write refuses with `INVALID_DATA`); bigint: the text;
//! - boolean: `true`/`false` in any case;
//! - multi-select: items split on `;`;
//! - date: `yyyy-MM-dd`, or the mapping's `format` (default `MM/dd/yyyy`);
//! - datetime: `yyyy-MM-ddTHH:mm:ss±HH:mm`, or the mapping's `format` (default
//!   `MM/dd/yyyy HH:mm:ss`) read in the org's time zone;
//! - lookup and owner: `{"id": cell}` (a lookup mapping with `find_by` is resolved by the runner).
//!
//! `format` patterns know `yyyy`, `MM`, `dd`, `HH`, `mm`, `ss` (one or two digits for the
//! two-letter ones), `'quoted'` literals and any other character as itself.

use jiff::civil::{Date, DateTime, Time};
use serde_json::{Number, Value, json};
use zcrm_protocol::field::FieldType;

use crate::rest::json::{epoch_out, parse_iso, parse_ymd};
use crate::schema::FieldDef;
use crate::state::State;

/// The default date format of Bulk Write.
pub const DEFAULT_DATE_FORMAT: &str = "MM/dd/yyyy";
/// The default date-time format of Bulk Write.
pub const DEFAULT_DATETIME_FORMAT: &str = "MM/dd/yyyy HH:mm:ss";

/// The v8 JSON input of `cell` (not empty) for `f`.
pub fn value(st: &State, f: &FieldDef, cell: &str, format: Option<&str>) -> Value {
    if f.lookup.is_some() {
        return json!({"id": cell.trim()});
    }
    let text = || Value::String(cell.to_owned());
    match f.ty {
        FieldType::Integer | FieldType::Double | FieldType::Percent | FieldType::Currency => {
            let t = cell.trim();
            let plain = t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
            match t.parse::<Number>() {
                Ok(n) if plain => Value::Number(n),
                _ => text(),
            }
        }
        FieldType::Boolean => match cell.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => text(),
        },
        FieldType::MultiPickList => Value::Array(
            cell.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        FieldType::Date => {
            let t = cell.trim();
            if parse_ymd(t).is_some() {
                return Value::String(t.to_owned());
            }
            match parse(format.unwrap_or(DEFAULT_DATE_FORMAT), t) {
                Some(dt) => Value::String(dt.date().to_string()),
                None => text(),
            }
        }
        FieldType::DateTime => {
            let t = cell.trim();
            if parse_iso(t, false).is_some() {
                return Value::String(t.to_owned());
            }
            let ts = parse(format.unwrap_or(DEFAULT_DATETIME_FORMAT), t)
                .and_then(|dt| st.clock.tz().to_ambiguous_timestamp(dt).compatible().ok());
            match ts {
                Some(ts) => Value::String(epoch_out(st, ts.as_second())),
                None => text(),
            }
        }
        _ => text(),
    }
}

/// Reads `text` by a `format` pattern; missing time parts are zero.
pub fn parse(format: &str, text: &str) -> Option<DateTime> {
    let f: Vec<char> = format.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut i, mut j) = (0, 0);
    let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (None, None, None, 0, 0, 0);
    while i < f.len() {
        let c = f[i];
        if c == '\'' {
            i += 1;
            while i < f.len() && f[i] != '\'' {
                if t.get(j) != Some(&f[i]) {
                    return None;
                }
                i += 1;
                j += 1;
            }
            i += 1;
            continue;
        }
        let run = f[i..].iter().take_while(|x| **x == c).count();
        let letter = matches!(c, 'y' | 'M' | 'd' | 'H' | 'm' | 's');
        if !letter {
            for _ in 0..run {
                if t.get(j) != Some(&c) {
                    return None;
                }
                j += 1;
            }
            i += run;
            continue;
        }
        let (min, max) = if c == 'y' { (4, 4) } else { (1, 2) };
        let digits = t[j..].iter().take(max).take_while(|x| x.is_ascii_digit()).count();
        if digits < min {
            return None;
        }
        let n: i32 = t[j..j + digits].iter().collect::<String>().parse().ok()?;
        j += digits;
        i += run;
        match c {
            'y' => y = Some(n),
            'M' => mo = Some(n),
            'd' => d = Some(n),
            'H' => h = n,
            'm' => mi = n,
            _ => s = n,
        }
    }
    if j != t.len() {
        return None;
    }
    let date =
        Date::new(i16::try_from(y?).ok()?, i8::try_from(mo?).ok()?, i8::try_from(d?).ok()?).ok()?;
    let time =
        Time::new(i8::try_from(h).ok()?, i8::try_from(mi).ok()?, i8::try_from(s).ok()?, 0).ok()?;
    Some(date.to_datetime(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_formats() {
        let dt = parse("MM/dd/yyyy", "3/7/2024").unwrap();
        assert_eq!(dt.date().to_string(), "2024-03-07");
        let dt = parse("yyyy-MM-dd'T'HH:mm:ss", "2024-03-07T10:11:12").unwrap();
        assert_eq!(dt.to_string(), "2024-03-07T10:11:12");
        assert!(parse("MM/dd/yyyy", "2024-03-07").is_none());
        assert!(parse("MM/dd/yyyy", "13/01/2024").is_none());
        assert!(parse("MM/dd/yyyy", "01/01/2024x").is_none());
    }
}
