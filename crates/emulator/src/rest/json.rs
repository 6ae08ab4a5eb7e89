//! Field values between the store's canonical text and v8 JSON: data types, output (CD-6:
//! datetimes with the org offset, bigint as text, numbers rounded to their decimal places,
//! lookups `{name,id}`, owners `{name,id,email}`) and strict input (CD-5, CD-26).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::Offset;
use rusqlite::Connection;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};
use zcrm_protocol::field::FieldType;
use zcrm_protocol::xmldata::PRODUCT_DETAILS;

use crate::api::render::UNSET_BOOLEAN;
use crate::schema::{FieldDef, LookupTarget, ModuleDef};
use crate::state::State;
use crate::store::records::{self, Rec};

/// The fields the v8 face shows of a module: all but the legacy v1 fields and the line items.
pub fn fields(def: &ModuleDef) -> impl Iterator<Item = &FieldDef> {
    def.fields.iter().filter(|f| !f.legacy_v1 && f.label != PRODUCT_DETAILS)
}

/// The v8 `data_type` of a field.
pub fn data_type(f: &FieldDef) -> &'static str {
    match f.ty {
        FieldType::Text | FieldType::Unknown(_) => "text",
        FieldType::TextArea => "textarea",
        FieldType::Email => "email",
        FieldType::Phone => "phone",
        FieldType::Website => "website",
        FieldType::Integer => "integer",
        FieldType::LongInteger => "bigint",
        FieldType::Double => "double",
        FieldType::Percent => "percent",
        FieldType::Currency => "currency",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        FieldType::Boolean => "boolean",
        FieldType::PickList => "picklist",
        FieldType::MultiPickList => "multiselectpicklist",
        FieldType::Lookup => "lookup",
        FieldType::OwnerLookup => "ownerlookup",
        FieldType::AutoNumber => "autonumber",
        FieldType::Formula => "formula",
    }
}

/// The v8 `json_type` of a field.
pub fn json_type(f: &FieldDef) -> &'static str {
    match f.ty {
        FieldType::Integer => "integer",
        FieldType::Double | FieldType::Percent | FieldType::Currency => "double",
        FieldType::Boolean => "boolean",
        FieldType::MultiPickList => "jsonarray",
        FieldType::Lookup | FieldType::OwnerLookup => "jsonobject",
        _ => "string",
    }
}

/// Decimal places of a number field (2 for Double, Percent and Currency).
pub fn decimal_place(f: &FieldDef) -> Option<u32> {
    f.ty.is_decimal().then_some(2)
}

/// Whether input to the field is ignored (CD-7).
pub fn ignored_on_input(f: &FieldDef) -> bool {
    f.read_only || f.system || f.ty.is_computed() || f.label == "SEMODULE"
}

/// A stored org-local `yyyy-MM-dd HH:mm:ss` as `yyyy-MM-ddTHH:mm:ss±HH:mm` in the org offset.
pub fn datetime_out(st: &State, text: &str) -> Option<String> {
    let dt = zcrm_protocol::value::parse_datetime(text).ok()?;
    let ts = st.clock.tz().to_ambiguous_timestamp(dt).compatible().ok()?;
    Some(iso(dt, st.clock.tz().to_offset(ts)))
}

/// An epoch second in the org's offset, ISO 8601.
pub fn epoch_out(st: &State, epoch: i64) -> String {
    let ts = Timestamp::from_second(epoch).unwrap_or(Timestamp::UNIX_EPOCH);
    iso(st.clock.tz().to_datetime(ts), st.clock.tz().to_offset(ts))
}

fn iso(dt: DateTime, offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        abs / 3600,
        (abs % 3600) / 60
    )
}

fn digits(s: &str, len: usize) -> Option<i32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Parses exactly `yyyy-MM-ddTHH:mm:ss±HH:mm` (CD-5); with `allow_z`, also a `Z` suffix (the
/// conditional headers).
pub fn parse_iso(text: &str, allow_z: bool) -> Option<Timestamp> {
    let (main, offset_secs) = if allow_z && let Some(m) = text.strip_suffix('Z') {
        (m, 0)
    } else {
        if text.len() != 25 {
            return None;
        }
        let (main, off) = text.split_at(19);
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = off.get(1..)?.split_once(':')?;
        let (h, m) = (digits(h, 2)?, digits(m, 2)?);
        if h > 23 || m > 59 {
            return None;
        }
        (main, sign * (h * 3600 + m * 60))
    };
    let (d, t) = main.split_once('T')?;
    let date = parse_ymd(d)?;
    let mut hms = t.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let time = Time::new(
        i8::try_from(digits(h, 2)?).ok()?,
        i8::try_from(digits(m, 2)?).ok()?,
        i8::try_from(digits(s, 2)?).ok()?,
        0,
    )
    .ok()?;
    let offset = Offset::from_seconds(offset_secs).ok()?;
    offset.to_timestamp(date.to_datetime(time)).ok()
}

/// Parses exactly `yyyy-MM-dd`, a real date.
pub fn parse_ymd(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Date::new(
        i16::try_from(digits(y, 4)?).ok()?,
        i8::try_from(digits(m, 2)?).ok()?,
        i8::try_from(digits(d, 2)?).ok()?,
    )
    .ok()
}

fn number(text: &str, places: Option<u32>) -> Value {
    let Ok(d) = text.trim().parse::<Decimal>() else { return Value::Null };
    let d = match places {
        Some(p) => d.round_dp_with_strategy(p, RoundingStrategy::MidpointAwayFromZero),
        None => d,
    };
    d.to_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
}

/// A user as an owner value.
fn user_value(st: &State, id: &str, name: Option<&str>) -> Value {
    let uid = id.parse::<u64>().ok();
    let user = uid.and_then(|u| st.schema.user(u));
    json!({
        "name": name.map(str::to_owned).or_else(|| user.map(|u| u.name.clone())),
        "id": id,
        "email": user.map(|u| u.email.clone()),
    })
}

/// A field's value of a record, as v8 answers it.
pub fn value(st: &State, f: &FieldDef, rec: &Rec) -> Value {
    if let Some(col) = f.id_column() {
        let Some(id) = rec.get(col).filter(|v| !v.is_empty()) else { return Value::Null };
        return match &f.lookup {
            Some((LookupTarget::User, _)) => user_value(st, id, rec.get(&f.label)),
            _ => json!({"name": rec.get(&f.label), "id": id}),
        };
    }
    let text = match rec.get(&f.label) {
        Some(t) if !t.is_empty() => t,
        _ if f.ty == FieldType::Boolean => UNSET_BOOLEAN,
        _ => return Value::Null,
    };
    match f.ty {
        FieldType::Integer => text.trim().parse::<i64>().map_or(Value::Null, Value::from),
        FieldType::Double | FieldType::Percent | FieldType::Currency => {
            number(text, decimal_place(f))
        }
        FieldType::Boolean => Value::Bool(text.eq_ignore_ascii_case("true")),
        FieldType::DateTime => datetime_out(st, text).map_or(Value::Null, Value::String),
        FieldType::MultiPickList => Value::Array(
            text.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        _ => Value::String(text.to_owned()),
    }
}

/// A record as v8 answers it: `id`, then every field of `only` (all fields when `None`).
pub fn record(st: &State, def: &ModuleDef, rec: &Rec, only: Option<&[&FieldDef]>) -> Value {
    let mut m = Map::new();
    match only {
        Some(list) => {
            for f in list {
                m.insert(f.api_name.clone(), value(st, f, rec));
            }
        }
        None => {
            for f in fields(def) {
                m.insert(f.api_name.clone(), value(st, f, rec));
            }
        }
    }
    m.insert("id".to_owned(), Value::String(rec.id.to_string()));
    Value::Object(m)
}

/// Why an input value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not of the field's type or format.
    Type,
    /// Longer than the field allows.
    TooLong(u32),
    /// A lookup to a record or user that does not exist (its id).
    Missing(String),
}

/// The id of a lookup input `{"id": "..."}` (text or number).
fn lookup_id(v: &Value) -> Result<u64, Refusal> {
    let id = v.as_object().and_then(|o| o.get("id")).ok_or(Refusal::Type)?;
    match id {
        Value::String(s) => s.trim().parse::<u64>().map_err(|_| Refusal::Missing(s.clone())),
        Value::Number(n) => n.as_u64().ok_or(Refusal::Type),
        _ => Err(Refusal::Type),
    }
}

fn check_len(f: &FieldDef, s: &str) -> Result<(), Refusal> {
    match f.max_length {
        Some(max) if s.chars().count() > max as usize => Err(Refusal::TooLong(max)),
        _ => Ok(()),
    }
}

fn whole(v: &Value, max_digits: usize) -> Result<i64, Refusal> {
    let n = match v {
        Value::Number(n) => n.as_i64().ok_or(Refusal::Type)?,
        _ => return Err(Refusal::Type),
    };
    if n.unsigned_abs().to_string().len() > max_digits {
        return Err(Refusal::Type);
    }
    Ok(n)
}

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.contains(char::is_whitespace)
}

/// An input value as the store's canonical text pairs (label or id column → text; an empty
/// text clears), checked strictly (CD-5) and, for lookups, against the store (CD-26).
pub fn input(
    st: &State,
    conn: &Connection,
    f: &FieldDef,
    v: &Value,
) -> Result<Vec<(String, String)>, Refusal> {
    let one = |text: String| Ok(vec![(f.label.clone(), text)]);
    if v.is_null() {
        return Ok(match f.id_column() {
            Some(col) => vec![(col.to_owned(), String::new())],
            None => vec![(f.label.clone(), String::new())],
        });
    }
    if let Some((target, col)) = &f.lookup {
        let id = lookup_id(v)?;
        let exists = match target {
            LookupTarget::User => st.schema.user(id).is_some_and(|u| u.active),
            LookupTarget::Module(m) => records::get_live(conn, Some(&m.api_name()), id)
                .map_err(|_| Refusal::Type)?
                .is_some(),
            LookupTarget::Any => {
                records::get_live(conn, None, id).map_err(|_| Refusal::Type)?.is_some()
            }
        };
        if !exists {
            return Err(Refusal::Missing(id.to_string()));
        }
        return Ok(vec![(col.clone(), id.to_string())]);
    }
    match f.ty {
        FieldType::Integer => one(whole(v, 9)?.to_string()),
        FieldType::LongInteger => match v {
            Value::String(s) => {
                let t = s.trim();
                if t.is_empty() || t.len() > 18 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Refusal::Type);
                }
                one(t.to_owned())
            }
            _ => one(whole(v, 18)?.to_string()),
        },
        FieldType::Double | FieldType::Percent | FieldType::Currency => match v {
            Value::Number(n) => {
                let d = zcrm_protocol::value::parse_decimal(&n.to_string())
                    .map_err(|_| Refusal::Type)?;
                let int_digits = d.trunc().abs().to_string().trim_start_matches('0').len();
                if int_digits > 16 {
                    return Err(Refusal::Type);
                }
                one(d.to_string())
            }
            _ => Err(Refusal::Type),
        },
        FieldType::Boolean => match v {
            Value::Bool(b) => one(b.to_string()),
            _ => Err(Refusal::Type),
        },
        FieldType::Date => match v.as_str().and_then(parse_ymd) {
            Some(d) => {
                one(zcrm_protocol::value::format_date(d, zcrm_protocol::value::Direction::Output))
            }
            None => Err(Refusal::Type),
        },
        FieldType::DateTime => match v.as_str().and_then(|s| parse_iso(s, false)) {
            Some(ts) => one(zcrm_protocol::value::format_datetime(st.clock.civil(ts.as_second()))),
            None => Err(Refusal::Type),
        },
        FieldType::MultiPickList => {
            let items = v.as_array().ok_or(Refusal::Type)?;
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                let s = i.as_str().ok_or(Refusal::Type)?.trim();
                if s.is_empty() || s.contains(';') {
                    return Err(Refusal::Type);
                }
                out.push(s.to_owned());
            }
            let text = out.join(";");
            check_len(f, &text)?;
            one(text)
        }
        _ => {
            let s = v.as_str().ok_or(Refusal::Type)?;
            check_len(f, s)?;
            if f.ty == FieldType::Email && !s.trim().is_empty() && !email_ok(s.trim()) {
                return Err(Refusal::Type);
            }
            one(s.to_owned())
        }
    }
}

/// Whether an input value is missing for a mandatory check: null, blank text, or an empty array.
pub fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}
