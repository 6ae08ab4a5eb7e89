//! The v8 write payload: `{"data":[{...},...]}` with each typed value in its wire form (CD-5):
//! date-times `yyyy-MM-ddTHH:mm:ss±HH:mm` in the org's time zone, dates `yyyy-MM-dd`,
//! booleans and numbers as JSON, long integers as strings, multi-select values as arrays,
//! lookups as `{"id":"..."}`; keys are `api_name`s, whatever name the row used (label,
//! `api_name`, or the XML API's id column such as `ACCOUNTID`).
//!
//! The payload holds only the records: `trigger` and `duplicate_check_fields` belong to the
//! call and are added when it is sent ([`with_call_options`]).

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;

use jiff::tz::TimeZone;
use zcrm_protocol::value::format_date;
use zcrm_protocol::{Direction, EncodeError, FieldType, Value};

use crate::PayloadBuilder;
use crate::rest::fields::{Resolved, Schema};
use crate::rest::names;

/// Appends `s` as a JSON string.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A date-time of the org's time zone as the REST API reads it (`2024-03-15T09:30:00+01:00`).
pub fn format_v8_datetime(dt: jiff::civil::DateTime, tz: &TimeZone) -> String {
    match dt.to_zoned_datetime(tz.clone()) {
        Ok(z) => z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        // Beyond jiff's range: no offset is known; UTC keeps the text well-formed.
        Err(_) => format!("{}+00:00", dt.strftime("%Y-%m-%dT%H:%M:%S")),
    }
}

fn is_textual(t: &FieldType) -> bool {
    matches!(
        t,
        FieldType::Text
            | FieldType::TextArea
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Website
            | FieldType::PickList
            | FieldType::AutoNumber
            | FieldType::Formula
            | FieldType::Unknown(_)
    )
}

/// Appends `v` as the JSON value of a field of type `t`.
pub(crate) fn render(
    out: &mut String,
    t: &FieldType,
    v: &Value,
    tz: &TimeZone,
) -> Result<(), EncodeError> {
    match v {
        Value::Text(s) if s.is_empty() => out.push_str("null"),
        // Text in a typed field: text in the XML input form, read as the field's type.
        Value::Text(s) if !is_textual(t) && !t.is_id() => {
            match Value::parse(t, s, Direction::Input) {
                Ok(typed) if !matches!(typed, Value::Text(_)) => render(out, t, &typed, tz)?,
                _ => push_str(out, s),
            }
        }
        _ if is_textual(t) => push_str(out, &v.to_text(Direction::Output)?),
        Value::Text(s) | Value::Picklist(s) => push_str(out, s),
        Value::Integer(n) if *t == FieldType::LongInteger => {
            let _ = write!(out, "\"{n}\"");
        }
        Value::Integer(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Decimal(d) => {
            let _ = write!(out, "{d}");
        }
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Date(d) => push_str(out, &format_date(*d, Direction::Output)),
        Value::DateTime(dt) => push_str(out, &format_v8_datetime(*dt, tz)),
        Value::MultiPicklist(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(out, item);
            }
            out.push(']');
        }
        Value::Id(id) if t.is_id() => {
            let _ = write!(out, "{{\"id\":\"{id}\"}}");
        }
        Value::Id(id) => {
            let _ = write!(out, "\"{id}\"");
        }
    }
    Ok(())
}

/// Appends a lookup's id from an id column's value (`Value::Id`, or its digits as text).
fn render_id(out: &mut String, v: &Value) {
    match v {
        Value::Text(s) if s.trim().is_empty() => out.push_str("null"),
        Value::Id(id) => {
            let _ = write!(out, "{{\"id\":\"{id}\"}}");
        }
        other => {
            let text = other.to_text(Direction::Output).unwrap_or_default();
            out.push_str("{\"id\":");
            push_str(out, text.trim());
            out.push('}');
        }
    }
}

/// Appends one line item as v8 reads it: the product as a lookup, numbers as JSON numbers,
/// the description as text.
fn line_item(out: &mut String, item: &[(&str, &Value)], module: &str) -> Result<(), EncodeError> {
    out.push('{');
    for (i, (label, v)) in item.iter().enumerate() {
        let name = zcrm_protocol::line_items::v8_name(label).ok_or_else(|| {
            EncodeError::UnknownField { field: (*label).to_owned(), module: module.to_owned() }
        })?;
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push(':');
        match *label {
            zcrm_protocol::line_items::PRODUCT_ID => render_id(out, v),
            zcrm_protocol::line_items::DESCRIPTION => {
                push_str(out, &v.to_text(Direction::Output)?);
            }
            _ => render(out, &FieldType::Double, v, &TimeZone::UTC)?,
        }
    }
    out.push('}');
    Ok(())
}

/// The JSON payload builder of one module.
pub(crate) struct JsonPayload {
    schema: Arc<Schema>,
    tz: TimeZone,
    max_rows: u32,
    records: Vec<String>,
}

impl JsonPayload {
    pub(crate) fn new(schema: Arc<Schema>, tz: TimeZone, max_rows: u32) -> Self {
        let max_rows = max_rows.min(zcrm_protocol::rest_limits::MAX_WRITE_RECORDS);
        Self { schema, tz, max_rows, records: Vec::new() }
    }
}

impl PayloadBuilder for JsonPayload {
    fn push_row<'s>(
        &mut self,
        fields: &mut dyn Iterator<Item = (&'s str, &'s Value)>,
    ) -> Result<u32, EncodeError> {
        self.push_row_with_items(fields, &[])
    }

    /// Items go under the module's line-item key (`Quoted_Items`, ...), each
    /// `{"Product_Name":{"id":".."},"Quantity":n,"List_Price":n,"Discount":n,"Tax":n,
    /// "Description":".."}` (real v8's shape).
    fn push_row_with_items<'s>(
        &mut self,
        fields: &mut dyn Iterator<Item = (&'s str, &'s Value)>,
        items: &[Vec<(&'s str, &'s Value)>],
    ) -> Result<u32, EncodeError> {
        if self.records.len() >= self.max_rows as usize {
            return Err(EncodeError::TooManyRows {
                rows: self.records.len() + 1,
                limit: self.max_rows as usize,
            });
        }
        // (api_name, JSON value, given through an id column): an id wins over a lookup's name.
        let mut out: Vec<(&str, String, bool)> = Vec::new();
        for (name, value) in fields {
            let Some(r) = self.schema.resolve(name) else {
                return Err(EncodeError::UnknownField {
                    field: name.to_owned(),
                    module: self.schema.fields.module.clone(),
                });
            };
            let mut json = String::new();
            let (key, by_id) = match r {
                Resolved::RecordId => {
                    let text = value.to_text(Direction::Output)?;
                    push_str(&mut json, text.trim());
                    ("id", true)
                }
                Resolved::IdColumn(t) => {
                    render_id(&mut json, value);
                    (t.api_name.as_str(), true)
                }
                // A note's parent module goes by its v8 name (`Deals`, not `Potentials`).
                Resolved::Field(t) if t.api_name == "$se_module" => {
                    let text = value.to_text(Direction::Input)?;
                    push_str(&mut json, names::v8_module(text.trim()));
                    (t.api_name.as_str(), false)
                }
                Resolved::Field(t) => {
                    render(&mut json, &t.field_type, value, &self.tz)?;
                    (t.api_name.as_str(), false)
                }
            };
            match out.iter_mut().find(|(k, _, _)| *k == key) {
                Some(slot) if by_id || !slot.2 => *slot = (key, json, by_id),
                Some(_) => {}
                None => out.push((key, json, by_id)),
            }
        }
        let mut rec =
            String::with_capacity(out.iter().map(|(k, v, _)| k.len() + v.len() + 4).sum());
        rec.push('{');
        for (i, (k, v, _)) in out.iter().enumerate() {
            if i > 0 {
                rec.push(',');
            }
            push_str(&mut rec, k);
            rec.push(':');
            rec.push_str(v);
        }
        if !items.is_empty() {
            let key = zcrm_protocol::Module::from_str(&self.schema.fields.module)
                .ok()
                .and_then(zcrm_protocol::line_items::v8_key)
                .ok_or_else(|| EncodeError::UnknownField {
                    field: zcrm_protocol::xmldata::PRODUCT_DETAILS.to_owned(),
                    module: self.schema.fields.module.clone(),
                })?;
            if !out.is_empty() {
                rec.push(',');
            }
            push_str(&mut rec, key);
            rec.push_str(":[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    rec.push(',');
                }
                line_item(&mut rec, item, &self.schema.fields.module)?;
            }
            rec.push(']');
        }
        rec.push('}');
        self.records.push(rec);
        Ok(self.records.len() as u32)
    }

    fn finish(self: Box<Self>) -> Result<String, EncodeError> {
        if self.records.is_empty() {
            return Err(EncodeError::NoRows);
        }
        let mut s =
            String::with_capacity(self.records.iter().map(|r| r.len() + 1).sum::<usize>() + 12);
        s.push_str("{\"data\":[");
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(r);
        }
        s.push_str("]}");
        Ok(s)
    }
}

/// The request body of a write: the payload with the call's `trigger` (none by default: a
/// migration runs no workflows) and, for an upsert, `duplicate_check_fields`.
pub(crate) fn with_call_options(
    payload: &str,
    trigger: &[String],
    duplicate_check: Option<&str>,
) -> String {
    let body = payload.trim_end();
    let inner = body.strip_suffix('}').unwrap_or(body);
    let mut s = String::with_capacity(body.len() + 64);
    s.push_str(inner);
    s.push_str(",\"trigger\":[");
    for (i, t) in trigger.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_str(&mut s, t);
    }
    s.push(']');
    if let Some(f) = duplicate_check {
        s.push_str(",\"duplicate_check_fields\":[");
        push_str(&mut s, f);
        s.push(']');
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use zcrm_protocol::RecordId;

    use super::*;
    use crate::rest::fields::Schema;
    use crate::rest::fields::tests::leads;

    fn tz() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn one(rows: &[(&str, Value)]) -> Result<serde_json::Value, EncodeError> {
        let mut b = Box::new(JsonPayload::new(Arc::new(leads()), tz(), 100));
        b.push_row(&mut rows.iter().map(|(l, v)| (*l, v)))?;
        let text = b.finish()?;
        Ok(serde_json::from_str::<serde_json::Value>(&text).unwrap()["data"][0].clone())
    }

    #[test]
    fn every_type_is_rendered_in_its_wire_form() {
        let d = |s: &str| Value::parse(&FieldType::Currency, s, Direction::Output).unwrap();
        let rec = one(&[
            ("Last Name", Value::Text("O'Leary \"Mike\"\n".into())),
            ("Email", Value::Text("m@x.com".into())),
            ("Annual Revenue", d("250000.90")),
            ("No of Employees", Value::Integer(42)),
            ("EAN", Value::Integer(12345600012)),
            ("Email Opt Out", Value::Boolean(true)),
            ("Birthday", Value::Date(jiff::civil::date(1990, 3, 15))),
            ("Created Time", Value::DateTime(jiff::civil::date(2024, 7, 1).at(9, 30, 5, 0))),
            ("Lead Source", Value::Picklist("Web".into())),
            ("Courses", Value::MultiPicklist(vec!["Big data".into(), "AI".into()])),
            ("ACCOUNTID", Value::Id(RecordId(425248000000104001))),
            ("SMOWNERID", Value::Id(RecordId(7))),
            ("Rating", Value::Text("12.5".into())),
        ])
        .unwrap();
        let want = serde_json::json!({
            "Last_Name": "O'Leary \"Mike\"\n",
            "Email": "m@x.com",
            "Annual_Revenue": 250000.90,
            "No_of_Employees": 42,
            "EAN": "12345600012",
            "Email_Opt_Out": true,
            "Birthday": "1990-03-15",
            "Created_Time": "2024-07-01T09:30:05+02:00",
            "Lead_Source": "Web",
            "Courses": ["Big data", "AI"],
            "Account_Name": {"id": "425248000000104001"},
            "Owner": {"id": "7"},
            "Rating": 12.5,
        });
        assert_eq!(rec, want);
    }

    #[test]
    fn xml_input_text_is_read_as_the_fields_type_and_ids_win_over_names() {
        let rec = one(&[
            ("Birthday", Value::Text("03/15/1990".into())),
            ("Email Opt Out", Value::Text("false".into())),
            ("Account Name", Value::Text("Zylker".into())),
            ("ACCOUNTID", Value::Id(RecordId(5))),
            ("Email", Value::Text(String::new())),
            ("LEADID", Value::Id(RecordId(99))),
        ])
        .unwrap();
        assert_eq!(
            rec,
            serde_json::json!({"Birthday":"1990-03-15","Email_Opt_Out":false,
                "Account_Name":{"id":"5"},"Email":null,"id":"99"})
        );
        let by_api = one(&[("Last_Name", Value::Text("Daly".into()))]).unwrap();
        assert_eq!(by_api, serde_json::json!({"Last_Name":"Daly"}));
    }

    #[test]
    fn unknown_names_and_overfull_payloads_are_refused() {
        let err = one(&[("Nope", Value::Text("x".into()))]).unwrap_err();
        assert!(matches!(err, EncodeError::UnknownField { .. }), "{err}");
        let mut b = Box::new(JsonPayload::new(Arc::new(leads()), tz(), 500));
        let v = Value::Text("x".into());
        for _ in 0..100 {
            b.push_row(&mut std::iter::once(("Last Name", &v))).unwrap();
        }
        let err = b.push_row(&mut std::iter::once(("Last Name", &v))).unwrap_err();
        assert!(matches!(err, EncodeError::TooManyRows { limit: 100, .. }));
        let empty = Box::new(JsonPayload::new(Arc::new(leads()), tz(), 10));
        assert_eq!(empty.finish(), Err(EncodeError::NoRows));
    }

    #[test]
    fn line_items_go_under_the_modules_key_in_v8s_shape() {
        let mut quotes = leads().fields;
        quotes.module = "Quotes".to_owned();
        let mut b = Box::new(JsonPayload::new(Arc::new(Schema::new(quotes)), tz(), 100));
        let d = |s: &str| Value::parse(&FieldType::Double, s, Direction::Output).unwrap();
        let (id, qty, price, text) =
            (Value::Id(RecordId(42)), d("2"), d("9.50"), Value::Text("blue \"one\"".into()));
        let items = vec![
            vec![("Product Id", &id), ("Quantity", &qty), ("List Price", &price)],
            vec![("Product Id", &id), ("Quantity", &qty), ("Product Description", &text)],
        ];
        let last = Value::Text("Daly".into());
        b.push_row_with_items(&mut std::iter::once(("Last Name", &last)), &items).unwrap();
        let text = b.finish().unwrap();
        let rec = serde_json::from_str::<serde_json::Value>(&text).unwrap()["data"][0].clone();
        assert_eq!(
            rec,
            serde_json::json!({"Last_Name":"Daly","Quoted_Items":[
                {"Product_Name":{"id":"42"},"Quantity":2,"List_Price":9.50},
                {"Product_Name":{"id":"42"},"Quantity":2,"Description":"blue \"one\""}]})
        );
        // A module without line items cannot carry them.
        let mut leads_b = Box::new(JsonPayload::new(Arc::new(leads()), tz(), 100));
        let err = leads_b
            .push_row_with_items(&mut std::iter::once(("Last Name", &last)), &items)
            .unwrap_err();
        assert!(matches!(err, EncodeError::UnknownField { .. }), "{err}");
    }

    #[test]
    fn call_options_are_added_to_the_body() {
        let body = with_call_options("{\"data\":[{}]}", &[], Some("Email"));
        assert_eq!(body, "{\"data\":[{}],\"trigger\":[],\"duplicate_check_fields\":[\"Email\"]}");
        let body = with_call_options("{\"data\":[{}]}", &["workflow".into()], None);
        assert_eq!(body, "{\"data\":[{}],\"trigger\":[\"workflow\"]}");
    }
}
