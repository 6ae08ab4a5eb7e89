//! A field's value: its text coerced to the target type and checked (required, length,
//! format, range, picklist), or the problem found.

use std::borrow::Cow;

use zcrm_protocol::value::{parse_bool_input, parse_decimal};
use zcrm_protocol::{RecordId, Value};

use super::dates::{date_of, datetime_of};
use super::formats::{is_email, is_phone, is_url};
use super::{CellSource, Plan, Target};
use crate::{Mapper, Problem};

/// A field's value before it is owned: text borrowed from the row where possible.
pub(crate) enum Coerced<'a> {
    Empty,
    Text(Cow<'a, str>),
    Value(Value),
    Lookup(Cow<'a, str>),
    /// A user's e-mail or full name, for an owner field.
    Owner(Cow<'a, str>),
}

pub(crate) type Fail = (&'static str, String);

/// The problem of a required field left empty.
#[cold]
fn required_empty() -> Fail {
    ("required field is empty", "required, but the value is empty".to_owned())
}

impl Plan {
    /// [`Plan::coerce`] for the commonest plan, a column as it is into a Text field: small
    /// enough to stay out of the general path's frame.
    #[inline]
    fn coerce_plain_text<'a, R: CellSource>(
        &self,
        row: &'a R,
        i: usize,
    ) -> Result<Coerced<'a>, Fail> {
        let v = row.cell(i);
        if v.is_empty() {
            if self.required {
                return Err(required_empty());
            }
            return Ok(Coerced::Empty);
        }
        if let Some(max) = self.max_length
            && v.len() > max as usize
        {
            let n = v.chars().count();
            if n > max as usize {
                return Err(("too long", format!("{n} characters, at most {max} allowed")));
            }
        }
        Ok(Coerced::Text(Cow::Borrowed(v)))
    }

    /// The field's value from `row`: transformed, coerced and checked.
    #[inline]
    pub(crate) fn value<'a, R: CellSource>(
        &'a self,
        row: &'a R,
        m: &Mapper,
        warn: &mut Vec<Fail>,
    ) -> Result<Coerced<'a>, Fail> {
        match (self.plain, &self.target, &self.lookup) {
            (Some(i), Target::Text, None) if !self.owner => self.coerce_plain_text(row, i),
            _ => self.coerce(row, m, warn),
        }
    }

    fn coerce<'a, R: CellSource>(
        &'a self,
        row: &'a R,
        m: &Mapper,
        warn: &mut Vec<Fail>,
    ) -> Result<Coerced<'a>, Fail> {
        let text = self.text(row);
        if text.is_empty() {
            if self.required {
                return Err(required_empty());
            }
            return Ok(Coerced::Empty);
        }
        if let Some(max) = self.max_length
            && matches!(
                self.target,
                Target::Text
                    | Target::Email
                    | Target::Phone
                    | Target::Url
                    | Target::Pick(_)
                    | Target::Decimal(_)
                    | Target::Integer { .. }
            )
        {
            // A text no longer in bytes than the limit is within it in characters.
            let n = if text.len() <= max as usize { 0 } else { text.chars().count() };
            if n > max as usize {
                return Err(("too long", format!("{n} characters, at most {max} allowed")));
            }
        }
        if self.lookup.is_some() {
            return Ok(Coerced::Lookup(text));
        }
        if self.owner {
            return Ok(Coerced::Owner(text));
        }
        let v = text.as_ref();
        Ok(match &self.target {
            Target::Text => Coerced::Text(text),
            Target::Email => {
                if !is_email(v) {
                    return Err((
                        "not an e-mail address",
                        format!("{v:?} is not an e-mail address"),
                    ));
                }
                Coerced::Text(text)
            }
            Target::Phone => {
                if !is_phone(v) {
                    return Err(("not a phone number", format!("{v:?} is not a phone number")));
                }
                Coerced::Text(text)
            }
            Target::Url => {
                if !is_url(v) {
                    return Err(("not a URL", format!("{v:?} is not a web address")));
                }
                Coerced::Text(text)
            }
            Target::Integer { min, max } => match zcrm_protocol::value::parse_whole(v) {
                Ok(n) if (*min..=*max).contains(&n) => Coerced::Value(Value::Integer(n)),
                Err(zcrm_protocol::value::WholeError::NotWhole) => {
                    return Err(("not an integer", format!("{v:?} is not a whole number")));
                }
                _ => {
                    return Err((
                        "integer out of range",
                        format!("{v} is outside the field's range {min}..{max}"),
                    ));
                }
            },
            Target::Decimal(places) => match parse_decimal(v) {
                // The CRM keeps `places` decimals: send what it will store (so an in-doubt
                // payload reconciles), and say so.
                Ok(d) if places.is_some_and(|p| d.scale() > u32::from(p)) => {
                    let p = places.map_or(0, u32::from);
                    let rounded = d.round_dp_with_strategy(
                        p,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    );
                    warn.push((
                        "more decimal places than the field keeps",
                        format!("{v:?} rounded to {rounded} ({p} decimal places)"),
                    ));
                    Coerced::Value(Value::Decimal(rounded))
                }
                Ok(d) => Coerced::Value(Value::Decimal(d)),
                Err(_) => {
                    return Err((
                        "not a number",
                        format!("{v:?} is not a number such as 1234.50 (no thousands separators)"),
                    ));
                }
            },
            Target::Date(fmt) => match date_of(v.trim(), fmt.as_deref(), m.excel_serials) {
                Ok(d) => Coerced::Value(Value::Date(d)),
                Err(e) => return Err(("not a date", e)),
            },
            Target::DateTime(fmt) => match datetime_of(v.trim(), fmt.as_deref(), m.excel_serials) {
                Ok(d) => Coerced::Value(Value::DateTime(d)),
                Err(e) => return Err(("not a date-time", e)),
            },
            Target::Boolean => match parse_bool_input(v.trim()) {
                Some(b) => Coerced::Value(Value::Boolean(b)),
                None => {
                    return Err((
                        "not a boolean",
                        format!("{v:?} is not true/false (or yes/no, 1/0)"),
                    ));
                }
            },
            Target::Pick(list) => Coerced::Text(list.pick(text, m.picklist, warn)?),
            Target::Multi(list) => {
                let mut items = Vec::new();
                for item in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    items.push(list.pick(Cow::Borrowed(item), m.picklist, warn)?.into_owned());
                }
                if items.is_empty() {
                    Coerced::Empty
                } else {
                    Coerced::Value(Value::MultiPicklist(items))
                }
            }
            Target::Id => match v.trim().parse::<RecordId>() {
                Ok(id) => Coerced::Value(Value::Id(id)),
                Err(_) => {
                    return Err((
                        "not a record id",
                        format!("{v:?} is not a record id (digits only)"),
                    ));
                }
            },
        })
    }

    pub(crate) fn problem(&self, (rule, reason): Fail) -> Problem {
        Problem { field: self.label.clone(), column: self.column.clone(), rule, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool_input("Yes"), Some(true));
        assert_eq!(parse_bool_input("0"), Some(false));
        assert_eq!(parse_bool_input("maybe"), None);
    }
}
