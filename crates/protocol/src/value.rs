//! Typed field values and the exact text form the API uses for each (contract decision 5).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime};
use rust_decimal::Decimal;

use crate::field::FieldType;

/// Where an export's records start from (`since` in a pipeline, `--since` on the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// Every record.
    All,
    /// Records created or modified at or after this time (org time zone).
    Time(DateTime),
    /// From the watermark the previous run left (every record the first time).
    LastRun,
}

impl Since {
    /// Parses `last-run`, `all` (or empty), or `yyyy-MM-dd HH:mm:ss` / `yyyy-MM-dd`
    /// (`T` accepted between date and time); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("last-run") {
            return Some(Self::LastRun);
        }
        if t.is_empty() || t.eq_ignore_ascii_case("all") {
            return Some(Self::All);
        }
        let full = if t.len() == 10 { format!("{t} 00:00:00") } else { t.replace('T', " ") };
        parse_datetime(&full).ok().map(Self::Time)
    }
}

/// A record or user id: a 15–19 digit decimal number, carried as `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RecordId(pub u64);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for RecordId {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValueError::new(s, "a record id (decimal digits only)"));
        }
        t.parse::<u64>().map(RecordId).map_err(|_| ValueError::new(s, "a record id (too large)"))
    }
}

/// Which side of the API a text form belongs to: what clients send, or what the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// xmlData sent by a client: Date as `MM/dd/yyyy` (the emulator also accepts `yyyy-MM-dd`).
    Input,
    /// Response values: Date as `yyyy-MM-dd`.
    Output,
}

/// A typed field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text, TextArea, Email, Phone, Website, Auto Number, Formula and unknown types.
    Text(String),
    /// Integer and Long Integer.
    Integer(i64),
    /// Double, Percent and Currency: exact, never a float.
    Decimal(Decimal),
    /// Boolean.
    Boolean(bool),
    /// Date.
    Date(Date),
    /// DateTime in the org's time zone (the API carries no offset).
    DateTime(DateTime),
    /// A single picklist value.
    Picklist(String),
    /// Multi-select picklist values, joined with `;` on the wire.
    MultiPicklist(Vec<String>),
    /// A lookup id (`ACCOUNTID`, `SMOWNERID`, ...).
    Id(RecordId),
}

/// Text that does not parse as the field's type; `expected` reads as "expected ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not {expected}")]
pub struct ValueError {
    /// The text given.
    pub text: String,
    /// What the type requires, for a person.
    pub expected: &'static str,
}

impl ValueError {
    fn new(text: &str, expected: &'static str) -> Self {
        Self { text: text.to_owned(), expected }
    }
}

impl Value {
    /// Parses `text` as a value of `field_type`, in the form of `direction`.
    ///
    /// Lookup and OwnerLookup *label* fields hold names, so they parse as text; use
    /// [`Value::parse_id`] for id columns.
    pub fn parse(
        field_type: &FieldType,
        text: &str,
        direction: Direction,
    ) -> Result<Self, ValueError> {
        Ok(match field_type {
            FieldType::Integer => {
                let n = parse_integer(text)?;
                i32::try_from(n)
                    .map_err(|_| ValueError::new(text, "an integer in the 32-bit range"))?;
                Value::Integer(n)
            }
            FieldType::LongInteger => Value::Integer(parse_integer(text)?),
            FieldType::Double | FieldType::Percent | FieldType::Currency => {
                Value::Decimal(parse_decimal(text)?)
            }
            FieldType::Boolean => Value::Boolean(parse_bool(text)?),
            FieldType::Date => Value::Date(parse_date(text, direction)?),
            FieldType::DateTime => Value::DateTime(parse_datetime(text)?),
            FieldType::PickList => Value::Picklist(text.to_owned()),
            FieldType::MultiPickList => Value::MultiPicklist(
                text.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            FieldType::Text
            | FieldType::TextArea
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Website
            | FieldType::Lookup
            | FieldType::OwnerLookup
            | FieldType::AutoNumber
            | FieldType::Formula
            | FieldType::Unknown(_) => Value::Text(text.to_owned()),
        })
    }

    /// Parses an id column (`ACCOUNTID`, `SMOWNERID`, ...).
    pub fn parse_id(text: &str) -> Result<Self, ValueError> {
        text.parse().map(Value::Id)
    }

    /// The text form for `direction`: what goes inside `<FL>` in xmlData or in a response.
    ///
    /// Fails only for a multi-select item that is empty or holds the `;` separator.
    pub fn to_text(&self, direction: Direction) -> Result<Cow<'_, str>, crate::EncodeError> {
        Ok(match self {
            Value::Text(s) | Value::Picklist(s) => Cow::Borrowed(s),
            Value::Integer(n) => Cow::Owned(n.to_string()),
            Value::Decimal(d) => Cow::Owned(d.to_string()),
            Value::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Date(d) => Cow::Owned(format_date(*d, direction)),
            Value::DateTime(dt) => Cow::Owned(format_datetime(*dt)),
            Value::Id(id) => Cow::Owned(id.to_string()),
            Value::MultiPicklist(items) => {
                if let Some(bad) = items.iter().find(|i| i.is_empty() || i.contains(';')) {
                    return Err(crate::EncodeError::BadMultiSelectItem(bad.clone()));
                }
                Cow::Owned(items.join(";"))
            }
        })
    }
}

/// Parses an integer as the API writes it: an optional sign and digits, within 64 bits.
pub fn parse_integer(text: &str) -> Result<i64, ValueError> {
    parse_whole(text).map_err(|e| match e {
        WholeError::NotWhole => ValueError::new(text, "an integer"),
        WholeError::OutOfRange => ValueError::new(text, "an integer in the 64-bit range"),
    })
}

/// Why text is not a 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholeError {
    /// Not an optional sign and digits.
    NotWhole,
    /// Digits beyond the 64-bit range.
    OutOfRange,
}

/// [`parse_integer`], saying which way the text fails (for messages that tell a typo from a
/// number too large).
pub fn parse_whole(text: &str) -> Result<i64, WholeError> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WholeError::NotWhole);
    }
    t.parse::<i64>().map_err(|_| WholeError::OutOfRange)
}

/// Parses a plain decimal (`-12.50`): no exponent, no thousands separators, at most 28 digits.
pub fn parse_decimal(text: &str) -> Result<Decimal, ValueError> {
    let t = text.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) {
        return Err(ValueError::new(text, "a decimal number such as 1234.50"));
    }
    Decimal::from_str_exact(t)
        .map_err(|_| ValueError::new(text, "a decimal number within 28 digits"))
}

/// Prints a decimal the way the service prints line-item numbers (docs/protocol.md §3.1): as a
/// double, with trailing zeros dropped but at least one fractional digit (`11` → `11.0`,
/// `7222.50` → `7222.5`).
pub fn format_double(d: Decimal) -> String {
    let mut s = d.normalize().to_string();
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

/// Parses a boolean as the API writes it: `true` or `false` (any case).
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ValueError::new(text, "a boolean (true or false)")),
    }
}

/// Parses a boolean as people write it in a source file: `true/false`, `t/f`, `yes/no`,
/// `y/n`, `1/0` (any case); `None` for anything else.
pub fn parse_bool_input(text: &str) -> Option<bool> {
    let is = |w: &str| text.eq_ignore_ascii_case(w);
    if ["true", "t", "yes", "y", "1"].into_iter().any(is) {
        Some(true)
    } else if ["false", "f", "no", "n", "0"].into_iter().any(is) {
        Some(false)
    } else {
        None
    }
}

fn num<T: FromStr>(s: &str, len: usize) -> Option<T> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn ymd(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Date::new(num(y, 4)?, num(m, 2)?, num(d, 2)?).ok()
}

fn mdy(text: &str) -> Option<Date> {
    let mut parts = text.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Date::new(num(y, 4)?, num(m, 2)?, num(d, 2)?).ok()
}

/// Parses a Date: `yyyy-MM-dd` on output; `MM/dd/yyyy` or `yyyy-MM-dd` on input.
pub fn parse_date(text: &str, direction: Direction) -> Result<Date, ValueError> {
    let t = text.trim();
    let parsed = match direction {
        Direction::Output => ymd(t),
        Direction::Input => mdy(t).or_else(|| ymd(t)),
    };
    parsed.ok_or_else(|| match direction {
        Direction::Output => ValueError::new(text, "a date as yyyy-MM-dd"),
        Direction::Input => ValueError::new(text, "a date as MM/dd/yyyy or yyyy-MM-dd"),
    })
}

/// Parses a DateTime `yyyy-MM-dd HH:mm:ss` (both directions).
pub fn parse_datetime(text: &str) -> Result<DateTime, ValueError> {
    let err = || ValueError::new(text, "a date-time as yyyy-MM-dd HH:mm:ss");
    let (d, t) = text.trim().split_once(' ').ok_or_else(err)?;
    let date = ymd(d).ok_or_else(err)?;
    let mut hms = t.split(':');
    let (h, m, s) =
        (hms.next().ok_or_else(err)?, hms.next().ok_or_else(err)?, hms.next().ok_or_else(err)?);
    if hms.next().is_some() {
        return Err(err());
    }
    let time = jiff::civil::Time::new(
        num(h, 2).ok_or_else(err)?,
        num(m, 2).ok_or_else(err)?,
        num(s, 2).ok_or_else(err)?,
        0,
    )
    .map_err(|_| err())?;
    Ok(date.to_datetime(time))
}

/// Formats a Date in the form of `direction`.
pub fn format_date(d: Date, direction: Direction) -> String {
    match direction {
        Direction::Input => format!("{:02}/{:02}/{:04}", d.month(), d.day(), d.year()),
        Direction::Output => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
    }
}

/// Formats a DateTime as `yyyy-MM-dd HH:mm:ss` (sub-second precision is dropped).
pub fn format_datetime(dt: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}
