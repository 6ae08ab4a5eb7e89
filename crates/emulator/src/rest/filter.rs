//! Typed values for the record filters of search (CD-18) and COQL (CD-19): how a field compares,
//! its stored value and an operand given in a query, each as a [`Val`] of the field's [`Kind`].

use std::cmp::Ordering;

use rust_decimal::Decimal;
use zcrm_protocol::field::FieldType;

use super::json;
use crate::api::render::UNSET_BOOLEAN;
use crate::schema::FieldDef;
use crate::state::State;
use crate::store::records::Rec;

/// How a field's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text of any kind (text, textarea, email, phone, website, picklists, autonumber, formula).
    Text,
    /// Integer, bigint, double, percent, currency.
    Number,
    /// A date.
    Date,
    /// A date-time.
    DateTime,
    /// A boolean.
    Bool,
    /// A lookup or owner: the referenced id.
    Ref,
    /// The record id.
    Id,
}

/// How `f` compares.
pub fn kind(f: &FieldDef) -> Kind {
    if f.lookup.is_some() {
        return Kind::Ref;
    }
    match f.ty {
        FieldType::Integer
        | FieldType::LongInteger
        | FieldType::Double
        | FieldType::Percent
        | FieldType::Currency => Kind::Number,
        FieldType::Date => Kind::Date,
        FieldType::DateTime => Kind::DateTime,
        FieldType::Boolean => Kind::Bool,
        _ => Kind::Text,
    }
}

/// A comparable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// Text (compared without regard to case).
    Text(String),
    /// A number (ids included).
    Num(Decimal),
    /// A date, as days since the epoch.
    Date(i32),
    /// A date-time, as epoch seconds.
    Time(i64),
    /// A boolean.
    Bool(bool),
}

impl Val {
    /// The order of two values of one kind (`None` across kinds).
    pub fn cmp_to(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Text(a), Val::Text(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
            (Val::Num(a), Val::Num(b)) => Some(a.cmp(b)),
            (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
            (Val::Time(a), Val::Time(b)) => Some(a.cmp(b)),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Equality as filters see it (text without regard to case).
    pub fn same(&self, other: &Val) -> bool {
        self.cmp_to(other) == Some(Ordering::Equal)
    }
}

fn days(d: jiff::civil::Date) -> i32 {
    let epoch = jiff::civil::date(1970, 1, 1);
    d.since(epoch).map_or(0, |s| s.get_days())
}

fn number(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() || t.contains(['e', 'E']) {
        return None;
    }
    t.parse::<Decimal>().ok()
}

/// The stored text of `f` in `rec` (the id column for lookups), `None` when empty; an unset
/// boolean is `false`.
pub fn stored<'r>(f: &FieldDef, rec: &'r Rec) -> Option<&'r str> {
    let col = f.id_column().unwrap_or(&f.label);
    match rec.get(col).filter(|v| !v.trim().is_empty()) {
        Some(v) => Some(v),
        None if f.ty == FieldType::Boolean && f.lookup.is_none() => Some(UNSET_BOOLEAN),
        None => None,
    }
}

/// The value of `f` in `rec`, `None` when empty.
pub fn record_val(st: &State, f: &FieldDef, rec: &Rec) -> Option<Val> {
    let text = stored(f, rec)?;
    match kind(f) {
        Kind::Text => Some(Val::Text(text.to_owned())),
        Kind::Number | Kind::Ref | Kind::Id => number(text).map(Val::Num),
        Kind::Date => json::parse_ymd(text.trim()).map(|d| Val::Date(days(d))),
        Kind::DateTime => {
            let dt = zcrm_protocol::value::parse_datetime(text).ok()?;
            let ts = st.clock.tz().to_ambiguous_timestamp(dt).compatible().ok()?;
            Some(Val::Time(ts.as_second()))
        }
        Kind::Bool => Some(Val::Bool(text.trim().eq_ignore_ascii_case("true"))),
    }
}

/// An operand of kind `k` from query text: a number, `yyyy-MM-dd`, an ISO 8601 date-time with
/// an offset, `true`/`false`, an id of digits; `None` when the text is none of what `k` needs.
pub fn operand(k: Kind, text: &str) -> Option<Val> {
    match k {
        Kind::Text => Some(Val::Text(text.to_owned())),
        Kind::Number => number(text).map(Val::Num),
        Kind::Ref | Kind::Id => {
            let t = text.trim();
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| number(t).map(Val::Num))
                .flatten()
        }
        Kind::Date => json::parse_ymd(text.trim()).map(|d| Val::Date(days(d))),
        Kind::DateTime => json::parse_iso(text.trim(), false).map(|ts| Val::Time(ts.as_second())),
        Kind::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(Val::Bool(true)),
            "false" => Some(Val::Bool(false)),
            _ => None,
        },
    }
}

/// Whether the kind is ordered (greater/less than, between).
pub fn ordered(k: Kind) -> bool {
    matches!(k, Kind::Number | Kind::Date | Kind::DateTime | Kind::Id)
}

/// The items of a multi-select value.
pub fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// Whether `f` is a multi-select picklist.
pub fn is_multi(f: &FieldDef) -> bool {
    f.ty == FieldType::MultiPickList
}
