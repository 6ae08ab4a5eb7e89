//! v8 record lists as the XML dialect's pages ([`RecordsPage`]): the writers, the batcher and
//! reconciliation read cells by label in the XML API's output text forms, so each JSON value
//! is turned into that text: dates `yyyy-MM-dd`, date-times `yyyy-MM-dd HH:mm:ss` in the org's
//! time zone, booleans `true`/`false`, numbers as sent, multi-select values joined with `;`,
//! a lookup's name under the field's label and its id under the XML id column (`ACCOUNTID`),
//! the record id under the module's id column (`LEADID`). Nulls are left out (as `newFormat=1`).
//!
//! [`crate::CrmApi::read_body`] hands back an envelope of the call's raw JSON bodies (a read
//! of more than 50 fields takes several calls), decoded later by [`decode_envelope`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use jiff::tz::TimeZone;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;
use zcrm_protocol::response::records::Row;
use zcrm_protocol::value::format_datetime;
use zcrm_protocol::{Cell, DecodeError, FieldType, RecordsPage};

use crate::rest::fields::{Schema, Target};

/// One record: its keys (api names carry no escapes) and raw values, in document order.
struct Rec<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Rec<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Rec<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a record object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Rec<'a>, A::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(16));
                while let Some(entry) = m.next_entry::<&'a str, &'a RawValue>()? {
                    v.push(entry);
                }
                Ok(Rec(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(serde::Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    data: Vec<Rec<'a>>,
}

/// The paging facts of a list answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Info {
    /// `more_records`.
    #[serde(default)]
    pub more_records: bool,
    /// `next_page_token`.
    pub next_page_token: Option<String>,
}

#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    data: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    info: Info,
}

/// Checks that `body` is a whole list answer (a body cut short fails) and returns its number
/// of records and its paging facts, without decoding the records. An empty body (204, 304)
/// is an empty page.
pub fn probe(body: &[u8]) -> Result<(usize, Info), serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((0, Info::default()));
    }
    let p: Probe = serde_json::from_slice(body)?;
    Ok((p.data.len(), p.info))
}

/// The text of a JSON string, borrowed when it holds no escapes.
fn json_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let s = raw.get();
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(s).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A string's text, or a number's or boolean's as written.
fn scalar(raw: &RawValue) -> Option<Cow<'_, str>> {
    let s = raw.get();
    match s.as_bytes().first()? {
        b'"' => json_str(raw),
        b'n' | b'{' | b'[' => None,
        _ => Some(Cow::Borrowed(s)),
    }
}

#[derive(serde::Deserialize)]
struct Lookup<'a> {
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

/// A REST date-time (`2024-07-01T09:30:05+02:00`) as `yyyy-MM-dd HH:mm:ss` in `tz`.
pub fn xml_datetime(text: &str, tz: &TimeZone) -> Option<String> {
    let ts: jiff::Timestamp = text.trim().parse().ok()?;
    Some(format_datetime(ts.to_zoned_datetime(tz.clone()).datetime()))
}

/// How one key of the records lands in the page.
#[derive(Clone, Copy)]
enum Plan<'s> {
    Skip,
    RecordId(u16),
    Field { target: &'s Target, label: u16, id: Option<u16> },
}

struct Builder<'s> {
    schema: &'s Schema,
    tz: &'s TimeZone,
    labels: Vec<Box<str>>,
    plans: HashMap<String, Plan<'s>>,
}

impl<'s> Builder<'s> {
    fn label(&mut self, l: &str) -> Result<u16, DecodeError> {
        let i = match self.labels.iter().position(|x| &**x == l) {
            Some(i) => i,
            None => {
                self.labels.push(l.into());
                self.labels.len() - 1
            }
        };
        u16::try_from(i).map_err(|_| DecodeError::Shape("more than 65535 distinct labels".into()))
    }

    fn plan(&mut self, key: &str) -> Result<Plan<'s>, DecodeError> {
        if let Some(p) = self.plans.get(key) {
            return Ok(*p);
        }
        let schema = self.schema;
        let p = if key == "id" {
            Plan::RecordId(self.label(&schema.id_label)?)
        } else if let Some(t) = schema.by_api_name(key) {
            // A field named with `$` (a note's `$se_module`) is a field like any other.
            let label = self.label(&t.label)?;
            let id = match &t.id_column {
                Some(c) => Some(self.label(c)?),
                None => None,
            };
            Plan::Field { target: t, label, id }
        } else {
            Plan::Skip
        };
        self.plans.insert(key.to_owned(), p);
        Ok(p)
    }

    /// Appends the cells of one `(key, value)` to `cells`.
    fn cells<'a>(
        &mut self,
        key: &str,
        raw: &'a RawValue,
        cells: &mut Vec<(u16, Cell<'a>)>,
    ) -> Result<(), DecodeError> {
        if raw.get() == "null" {
            return Ok(());
        }
        match self.plan(key)? {
            Plan::Skip => {}
            Plan::RecordId(l) => {
                if let Some(t) = scalar(raw) {
                    cells.push((l, Cell::Text(t)));
                }
            }
            Plan::Field { target, label, id } => {
                let text = raw.get();
                if text.starts_with('{') {
                    let lk: Lookup<'a> = serde_json::from_str(text).map_err(|e| bad(key, e))?;
                    if let Some(name) = lk.name.and_then(scalar) {
                        cells.push((label, Cell::Text(name)));
                    }
                    if let (Some(l), Some(v)) = (id, lk.id.and_then(scalar)) {
                        cells.push((l, Cell::Text(v)));
                    }
                } else if text.starts_with('[') {
                    let joined = match serde_json::from_str::<Vec<Cow<'_, str>>>(text) {
                        Ok(items) => items.join(";"),
                        // Subforms, multi-select lookups: the JSON as it came.
                        Err(_) => text.to_owned(),
                    };
                    cells.push((label, Cell::Text(Cow::Owned(joined))));
                } else if let Some(s) = scalar(raw) {
                    let s = match target.field_type {
                        FieldType::DateTime => match xml_datetime(&s, self.tz) {
                            Some(t) => Cow::Owned(t),
                            None => s,
                        },
                        // JSON numbers drop trailing zeros (`0.5`); the XML API's text form of
                        // an amount has its two places (`0.50`), as the typed exports do.
                        FieldType::Currency | FieldType::Percent => {
                            match zcrm_protocol::value::parse_decimal(&s) {
                                Ok(d) => Cow::Owned(format!("{:.2}", d.round_dp(2))),
                                Err(_) => s,
                            }
                        }
                        // A note's parent module, by its XML name (`Deals` → `Potentials`).
                        _ if target.api_name == "$se_module" => {
                            Cow::Owned(crate::rest::names::legacy_module(&s).to_owned())
                        }
                        _ => s,
                    };
                    cells.push((label, Cell::Text(s)));
                }
            }
        }
        Ok(())
    }
}

fn bad(key: &str, e: serde_json::Error) -> DecodeError {
    DecodeError::BadValue { what: "a v8 field value", value: format!("{key}: {e}") }
}

/// The records of the list answers `parts` (one per call of a read split by the 50-field
/// limit, the first one's records in order, the others' cells joined to them by id) as one
/// page of `schema`'s module.
pub fn decode_parts<'a>(
    schema: &Schema,
    tz: &TimeZone,
    parts: &[&'a [u8]],
) -> Result<RecordsPage<'a>, DecodeError> {
    let mut b = Builder { schema, tz, labels: Vec::new(), plans: HashMap::new() };
    let mut rows: Vec<Row<'a>> = Vec::new();
    let mut by_id: HashMap<Cow<'a, str>, usize> = HashMap::new();
    for (n, body) in parts.iter().enumerate() {
        if body.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let page: Page<'a> = serde_json::from_slice(body)
            .map_err(|e| DecodeError::Shape(format!("not a v8 record list: {e}")))?;
        for rec in page.data {
            if n == 0 {
                let mut cells = Vec::with_capacity(rec.0.len() + 4);
                for (k, v) in &rec.0 {
                    b.cells(k, v, &mut cells)?;
                }
                if parts.len() > 1
                    && let Some(id) =
                        rec.0.iter().find(|(k, _)| *k == "id").and_then(|(_, v)| scalar(v))
                {
                    by_id.insert(id, rows.len());
                }
                rows.push(Row { no: rows.len() as u32 + 1, cells });
            } else {
                let Some(i) = rec
                    .0
                    .iter()
                    .find(|(k, _)| *k == "id")
                    .and_then(|(_, v)| scalar(v))
                    .and_then(|id| by_id.get(&id).copied())
                else {
                    // A record the first call did not list (created between the calls).
                    continue;
                };
                let mut cells = Vec::new();
                for (k, v) in rec.0.iter().filter(|(k, _)| *k != "id") {
                    b.cells(k, v, &mut cells)?;
                }
                rows[i].cells.extend(cells);
            }
        }
    }
    Ok(RecordsPage {
        module: schema.fields.module.clone(),
        nodata: rows.is_empty(),
        labels: b.labels,
        rows,
    })
}

/// The first line of a [`crate::CrmApi::read_body`] envelope of the v8 dialect.
const MAGIC: &str = "zcrm-v8-page";

/// Wraps the bodies of one read (several when the fields were split) for [`decode_envelope`]:
/// `zcrm-v8-page <module> <len>,<len>...\n` and the bodies.
pub fn envelope(module: &str, parts: &[Vec<u8>]) -> Vec<u8> {
    let lens: Vec<String> = parts.iter().map(|p| p.len().to_string()).collect();
    let head = format!("{MAGIC} {module} {}\n", lens.join(","));
    let mut out = Vec::with_capacity(head.len() + parts.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(head.as_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// The module and the bodies of an [`envelope`].
pub fn open_envelope(body: &[u8]) -> Result<(&str, Vec<&[u8]>), DecodeError> {
    let shape = |m: &str| DecodeError::Shape(format!("not a v8 page envelope: {m}"));
    let nl = memchr_nl(body).ok_or_else(|| shape("no header"))?;
    let head = std::str::from_utf8(&body[..nl]).map_err(|_| shape("header not UTF-8"))?;
    let mut words = head.split(' ');
    if words.next() != Some(MAGIC) {
        return Err(shape("bad magic"));
    }
    let module = words.next().ok_or_else(|| shape("no module"))?;
    let lens = words.next().unwrap_or_default();
    let mut rest = &body[nl + 1..];
    let mut parts = Vec::new();
    for l in lens.split(',').filter(|l| !l.is_empty()) {
        let n: usize = l.parse().map_err(|_| shape("bad length"))?;
        if n > rest.len() {
            return Err(shape("cut short"));
        }
        let (p, r) = rest.split_at(n);
        parts.push(p);
        rest = r;
    }
    Ok((module, parts))
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().take(4096).position(|c| *c == b'\n')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::rest::fields::tests::leads;

    const PAGE: &str = r#"{"data":[
      {"Owner":{"name":"Patricia Boyle","id":"410888000000086001","email":"p@x.com"},
       "Last_Name":"O\"Leary","Email":null,"Annual_Revenue":250000.90,"No_of_Employees":42,
       "EAN":"0012345600012","Email_Opt_Out":false,"Birthday":"1990-03-15",
       "Created_Time":"2024-07-01T09:30:05+05:30","Courses":["Big data","AI"],
       "Account_Name":{"name":"Zylker","id":"425248000000104001"},"$approval_state":"approved",
       "Unknown_Field":"x","id":"3652397000009851001"},
      {"Last_Name":"Daly","Annual_Revenue":0.5,"id":"3652397000009851002"}],
      "info":{"per_page":200,"count":2,"page":1,"more_records":true,"next_page_token":"tok1"}}"#;

    #[test]
    fn json_records_become_pages_in_the_xml_output_forms() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let s = leads();
        let page = decode_parts(&s, &tz, &[PAGE.as_bytes()]).unwrap();
        assert_eq!(page.module, "Leads");
        assert_eq!(page.len(), 2);
        let r = page.rows().next().unwrap();
        assert_eq!(r.text("Lead Owner"), Some("Patricia Boyle"));
        assert_eq!(r.text("SMOWNERID"), Some("410888000000086001"));
        assert_eq!(r.text("Last Name"), Some("O\"Leary"));
        assert_eq!(r.get("Email"), None, "nulls are left out");
        assert_eq!(r.text("Annual Revenue"), Some("250000.90"));
        assert_eq!(r.text("No of Employees"), Some("42"));
        assert_eq!(r.text("EAN"), Some("0012345600012"));
        assert_eq!(r.text("Email Opt Out"), Some("false"));
        assert_eq!(r.text("Birthday"), Some("1990-03-15"));
        assert_eq!(r.text("Created Time"), Some("2024-07-01 06:00:05"), "in the org's zone");
        assert_eq!(r.text("Courses"), Some("Big data;AI"));
        assert_eq!(r.text("Account Name"), Some("Zylker"));
        assert_eq!(r.text("ACCOUNTID"), Some("425248000000104001"));
        assert_eq!(r.id("LEADID").unwrap().0, 3652397000009851001);
        assert!(r.get("Unknown_Field").is_none() && r.get("$approval_state").is_none());
        let second = page.rows().nth(1).unwrap();
        assert_eq!(second.text("Annual Revenue"), Some("0.50"), "an amount keeps its two places");
        let (n, info) = probe(PAGE.as_bytes()).unwrap();
        assert_eq!(
            (n, info.more_records, info.next_page_token.as_deref()),
            (2, true, Some("tok1"))
        );
    }

    #[test]
    fn split_reads_join_by_id_and_envelopes_round_trip() {
        let tz = TimeZone::UTC;
        let s = leads();
        let a = br#"{"data":[{"Last_Name":"A","id":"1"},{"Last_Name":"B","id":"2"}],"info":{"more_records":false}}"#.to_vec();
        let b = br#"{"data":[{"Email":"b@x","id":"2"},{"Email":"c@x","id":"3"},{"Email":"a@x","id":"1"}]}"#.to_vec();
        let env = envelope("Leads", &[a, b]);
        let (module, parts) = open_envelope(&env).unwrap();
        assert_eq!(module, "Leads");
        let page = decode_parts(&s, &tz, &parts).unwrap();
        let rows: Vec<_> = page
            .rows()
            .map(|r| {
                (r.text("LEADID").unwrap(), r.text("Last Name").unwrap(), r.text("Email").unwrap())
            })
            .collect();
        assert_eq!(rows, [("1", "A", "a@x"), ("2", "B", "b@x")]);
        // 204/304: an empty page.
        let env = envelope("Leads", &[Vec::new()]);
        let (_, parts) = open_envelope(&env).unwrap();
        let page = decode_parts(&s, &tz, &parts).unwrap();
        assert!(page.is_empty() && page.nodata);
    }

    #[test]
    fn a_body_cut_short_fails_the_probe() {
        let cut = &PAGE.as_bytes()[..PAGE.len() - 3];
        assert!(probe(cut).is_err());
        assert!(decode_parts(&leads(), &TimeZone::UTC, &[cut]).is_err());
        assert!(open_envelope(b"garbage").is_err());
    }
}
