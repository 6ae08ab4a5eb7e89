//! Bulk Read rows as the stages' pages: chunks of the result CSV travel as page bodies
//! (`zcrm-v8-csv <module>\n` then the CSV header and rows) and decode into the same
//! [`RecordsPage`] a record list gives, cell for cell: the CSV holds each field's v8 JSON value
//! as text (date-times with the org offset, numbers as JSON writes them, booleans, multi-select
//! items joined by `;`), which gets the conversion `records` gives the JSON value (date-times
//! into the org's time zone, amounts with two places); a lookup or owner holds its id, which
//! goes under the XML id column (`SMOWNERID`), and an owner's name under the field's label
//! from the org's users. A record lookup's name is not in the CSV and stays empty.
//!
//! Labels are registered in the order a record list's JSON object (keys in byte order)
//! registers them, so the id columns an export adds from its first page come in the same
//! order whichever API read the page.

use std::borrow::Cow;
use std::collections::HashMap;

use jiff::tz::TimeZone;
use zcrm_protocol::response::records::Row;
use zcrm_protocol::{Cell, DecodeError, FieldType, RecordsPage};

use crate::rest::fields::{Schema, Target};
use crate::rest::records::xml_datetime;

const MAGIC: &[u8] = b"zcrm-v8-csv ";

/// A chunk's page body: the header line `csv_header` (with its line end) and the rows.
pub(crate) fn envelope(module: &str, csv_header: &[u8], rows: &[u8]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(MAGIC.len() + module.len() + 1 + csv_header.len() + rows.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(module.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(csv_header);
    out.extend_from_slice(rows);
    out
}

/// The module and CSV of a chunk body; `None` when `body` is not one.
pub(crate) fn open(body: &[u8]) -> Option<Result<(&str, &[u8]), DecodeError>> {
    let rest = body.strip_prefix(MAGIC)?;
    let shape = |m: &str| DecodeError::Shape(format!("not a Bulk Read chunk: {m}"));
    let Some(nl) = rest.iter().take(512).position(|c| *c == b'\n') else {
        return Some(Err(shape("no module")));
    };
    Some(match std::str::from_utf8(&rest[..nl]) {
        Ok(m) => Ok((m, &rest[nl + 1..])),
        Err(_) => Err(shape("module not UTF-8")),
    })
}

/// How one CSV column lands in the page.
#[derive(Clone, Copy)]
enum Plan<'s> {
    Skip,
    RecordId,
    Field(&'s Target),
    Lookup { target: &'s Target, owner: bool },
}

/// The labels of a page, registered at first use.
struct Labels(Vec<Box<str>>);

impl Labels {
    fn get(&mut self, l: &str) -> Result<u16, DecodeError> {
        let i = match self.0.iter().position(|x| &**x == l) {
            Some(i) => i,
            None => {
                self.0.push(l.into());
                self.0.len() - 1
            }
        };
        u16::try_from(i).map_err(|_| DecodeError::Shape("more than 65535 distinct labels".into()))
    }
}

/// A field's CSV text in the XML API's output form, as `records` turns its JSON value.
fn text<'t>(t: &Target, s: &'t str, tz: &TimeZone) -> Cow<'t, str> {
    match t.field_type {
        FieldType::DateTime => xml_datetime(s, tz).map_or(Cow::Borrowed(s), Cow::Owned),
        FieldType::Currency | FieldType::Percent => match zcrm_protocol::value::parse_decimal(s) {
            Ok(d) => Cow::Owned(format!("{:.2}", d.round_dp(2))),
            Err(_) => Cow::Borrowed(s),
        },
        _ => Cow::Borrowed(s),
    }
}

/// Decodes the CSV of a chunk (header and rows) as a page of `schema`'s module; `users` maps
/// user ids to names.
pub(crate) fn decode(
    schema: &Schema,
    tz: &TimeZone,
    users: &HashMap<String, String>,
    csv_text: &[u8],
) -> Result<RecordsPage<'static>, DecodeError> {
    let bad = |e: csv::Error| DecodeError::Shape(format!("Bulk Read CSV: {e}"));
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(csv_text);
    let header = r.headers().map_err(bad)?.clone();
    let plans: Vec<Plan<'_>> = header
        .iter()
        .map(|h| match h {
            "id" => Plan::RecordId,
            _ => match schema.by_api_name(h) {
                Some(t) if t.id_column.is_some() => Plan::Lookup {
                    target: t,
                    owner: matches!(t.field_type, FieldType::OwnerLookup),
                },
                Some(t) => Plan::Field(t),
                None => Plan::Skip,
            },
        })
        .collect();
    // The columns in the order of a JSON record's keys.
    let mut order: Vec<usize> = (0..header.len()).collect();
    order.sort_by(|a, b| header[*a].as_bytes().cmp(header[*b].as_bytes()));
    let mut labels = Labels(Vec::new());
    let mut rows: Vec<Row<'static>> = Vec::new();
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).map_err(bad)? {
        let mut cells: Vec<(u16, Cell<'static>)> = Vec::with_capacity(rec.len() + 4);
        for &i in &order {
            let Some(v) = rec.get(i).filter(|v| !v.is_empty()) else { continue };
            match plans[i] {
                Plan::Skip => {}
                Plan::RecordId => {
                    let l = labels.get(&schema.id_label)?;
                    cells.push((l, Cell::Text(Cow::Owned(v.to_owned()))));
                }
                Plan::Field(t) => {
                    let l = labels.get(&t.label)?;
                    cells.push((l, Cell::Text(Cow::Owned(text(t, v, tz).into_owned()))));
                }
                Plan::Lookup { target, owner } => {
                    let name = labels.get(&target.label)?;
                    if owner && let Some(n) = users.get(v.trim()) {
                        cells.push((name, Cell::Text(Cow::Owned(n.clone()))));
                    }
                    if let Some(c) = &target.id_column {
                        let l = labels.get(c)?;
                        cells.push((l, Cell::Text(Cow::Owned(v.trim().to_owned()))));
                    }
                }
            }
        }
        rows.push(Row { no: rows.len() as u32 + 1, cells });
    }
    Ok(RecordsPage {
        module: schema.fields.module.clone(),
        nodata: rows.is_empty(),
        labels: labels.0,
        rows,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::rest::fields::tests::leads;
    use crate::rest::records::decode_parts;

    /// The same record as a list gives it (JSON) and as a Bulk Read CSV row gives it: the
    /// same cells under the same labels, in the same label order.
    #[test]
    fn a_csv_row_decodes_to_the_cells_of_the_json_record() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let s = leads();
        let json = br#"{"data":[{"Annual_Revenue":0.5,"Birthday":"1990-03-15",
          "Courses":["Big data","AI"],"Created_Time":"2024-07-01T09:30:05+05:30",
          "EAN":"0012345600012","Email":null,"Email_Opt_Out":false,"Last_Name":"O\"Leary, Jr",
          "No_of_Employees":42,"Owner":{"name":"Patricia Boyle","id":"410888000000086001","email":"p@x"},
          "Rating":100.0,"id":"3652397000009851001"}]}"#;
        let csv = "id,Owner,Last_Name,Email,Annual_Revenue,Rating,No_of_Employees,EAN,Email_Opt_Out,Birthday,Created_Time,Courses\n\
                   3652397000009851001,410888000000086001,\"O\"\"Leary, Jr\",,0.5,100.0,42,0012345600012,false,1990-03-15,2024-07-01T09:30:05+05:30,Big data;AI\n";
        let users = HashMap::from([("410888000000086001".to_owned(), "Patricia Boyle".to_owned())]);
        let body = envelope("Leads", b"", csv.as_bytes());
        let (module, rows) = open(&body).unwrap().unwrap();
        assert_eq!(module, "Leads");
        let from_csv = decode(&s, &tz, &users, rows).unwrap();
        let from_json = decode_parts(&s, &tz, &[json.as_slice()]).unwrap();
        assert_eq!(from_csv.labels, from_json.labels);
        let a = from_csv.rows().next().unwrap();
        let b = from_json.rows().next().unwrap();
        for l in from_json.labels.iter() {
            assert_eq!(a.text(l), b.text(l), "{l}");
        }
        assert_eq!(a.text("Created Time"), Some("2024-07-01 06:00:05"));
        assert_eq!(a.text("Annual Revenue"), Some("0.50"));
        assert!(open(b"zcrm-v8-page Leads 3\nabc").is_none());
    }
}
