//! Property tests: any value survives encode → decode unchanged, through xmlData (client → server)
//! and through a records page (server → client).

use proptest::prelude::*;
use zcrm_protocol::response::records::{OutField, encode_records_page};
use zcrm_protocol::xml::is_xml_char;
use zcrm_protocol::{
    Cell, Direction, FieldType, RecordsPage, Value, WriteResponse, XmlDataBuilder, decode_xml_data,
};

/// Any text XML 1.0 can carry, biased towards the awkward characters.
fn xml_text() -> impl Strategy<Value = String> {
    let awkward = prop_oneof![
        Just('&'),
        Just('<'),
        Just('>'),
        Just('"'),
        Just('\''),
        Just('\r'),
        Just('\n'),
        Just('\t'),
        Just(']'),
        Just('\u{FFFD}'),
        Just('😀'),
        Just(';'),
        Just(' ')
    ];
    let any_char = any::<char>().prop_filter("XML 1.0 char", |c| is_xml_char(*c));
    prop::collection::vec(prop_oneof![3 => any_char, 2 => awkward], 0..40)
        .prop_map(|v| v.into_iter().collect())
}

fn label() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 _&'\"<>]{0,20}"
}

fn typed_value() -> impl Strategy<Value = (FieldType, Value)> {
    prop_oneof![
        xml_text().prop_map(|s| (FieldType::Text, Value::Text(s))),
        any::<i32>().prop_map(|n| (FieldType::Integer, Value::Integer(i64::from(n)))),
        any::<i64>().prop_map(|n| (FieldType::LongInteger, Value::Integer(n))),
        (any::<i64>(), 0u32..10).prop_map(|(m, s)| (
            FieldType::Currency,
            Value::Decimal(rust_decimal::Decimal::new(m, s))
        )),
        any::<bool>().prop_map(|b| (FieldType::Boolean, Value::Boolean(b))),
        (1900i16..2100, 1i8..=12, 1i8..=28)
            .prop_map(|(y, m, d)| (FieldType::Date, Value::Date(jiff::civil::date(y, m, d)))),
        (1900i16..2100, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60, 0i8..60).prop_map(
            |(y, mo, d, h, mi, s)| (
                FieldType::DateTime,
                Value::DateTime(jiff::civil::date(y, mo, d).at(h, mi, s, 0))
            )
        ),
        prop::collection::vec("[A-Za-z0-9 &<>]{0,8}[A-Za-z0-9&<>]", 1..5)
            .prop_map(|v| (
                FieldType::MultiPickList,
                Value::MultiPicklist(
                    v.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
                )
            ))
            .prop_filter(
                "non-empty",
                |(_, v)| !matches!(v, Value::MultiPicklist(items) if items.is_empty())
            ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn text_round_trips_through_xml_data(rows in prop::collection::vec(prop::collection::vec((label(), xml_text()), 1..6), 1..8)) {
        let mut b = XmlDataBuilder::new("Leads", 100);
        for row in &rows {
            b.push_row(row.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        }
        let back = decode_xml_data(&b.finish().unwrap()).unwrap();
        prop_assert_eq!(back.rows.len(), rows.len());
        for (i, (sent, got)) in rows.iter().zip(&back.rows).enumerate() {
            prop_assert_eq!(got.no as usize, i + 1);
            prop_assert_eq!(&got.fields, sent);
        }
    }

    #[test]
    fn typed_values_round_trip_in_both_directions(values in prop::collection::vec(typed_value(), 1..10)) {
        let mut b = XmlDataBuilder::new("Leads", 100);
        let labels: Vec<String> = (0..values.len()).map(|i| format!("F{i}")).collect();
        b.push_values(labels.iter().map(String::as_str).zip(values.iter().map(|(_, v)| v))).unwrap();
        let back = decode_xml_data(&b.finish().unwrap()).unwrap();
        for ((t, v), (_, text)) in values.iter().zip(&back.rows[0].fields) {
            prop_assert_eq!(&Value::parse(t, text, Direction::Input).unwrap(), v);
        }
        // And as a response (output forms, CDATA).
        let texts: Vec<String> = values.iter().map(|(_, v)| v.to_text(Direction::Output).unwrap().into_owned()).collect();
        let row: Vec<OutField<'_>> = labels.iter().zip(&texts).map(|(l, t)| OutField::text(l, Some(t), false)).collect();
        let xml = encode_records_page("/crm/private/xml/Leads/getRecords", "Leads", &[row]).unwrap();
        let page = RecordsPage::decode(xml.as_bytes()).unwrap();
        let got = page.rows().next().unwrap();
        for ((t, v), l) in values.iter().zip(&labels) {
            let text = got.text(l).unwrap();
            prop_assert_eq!(&Value::parse(t, text, Direction::Output).unwrap(), v);
        }
    }

    #[test]
    fn records_pages_round_trip(rows in prop::collection::vec(prop::collection::vec((label(), prop::option::of(xml_text()), any::<bool>()), 1..6), 0..6)) {
        // "null" is the null marker on the wire, so a text value "null" reads back as null.
        let out: Vec<Vec<OutField<'_>>> = rows.iter().map(|r| r.iter().map(|(l, v, bare)| OutField::text(l, v.as_deref(), *bare)).collect()).collect();
        let xml = encode_records_page("/crm/private/xml/Leads/getRecords", "Leads", &out).unwrap();
        let page = RecordsPage::decode(xml.as_bytes()).unwrap();
        prop_assert_eq!(page.nodata, rows.is_empty());
        prop_assert_eq!(page.len(), rows.len());
        for (sent, got) in rows.iter().zip(page.rows()) {
            let fields: Vec<_> = got.fields().collect();
            prop_assert_eq!(fields.len(), sent.len());
            for ((l, v, _), (gl, gc)) in sent.iter().zip(fields) {
                prop_assert_eq!(l.as_str(), gl);
                match v.as_deref() {
                    None | Some("null") => prop_assert_eq!(gc, &Cell::Null),
                    Some(text) => prop_assert_eq!(gc.as_text(), Some(text)),
                }
            }
        }
    }

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = RecordsPage::decode(&bytes);
        let _ = WriteResponse::decode(&bytes);
        let _ = zcrm_protocol::json::xml_to_json(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = decode_xml_data(s);
        }
    }
}
