//! Line items (`Product Details` with `<product no>` children) through the record-page encoder:
//! the fixture's bytes reproduced, and any items read back unchanged.

use proptest::prelude::*;
use zcrm_protocol::response::records::{OutField, OutValue, encode_records_page};
use zcrm_protocol::xml::is_xml_char;
use zcrm_protocol::{Cell, EncodeError, RecordsPage};

use crate::fixture;

const URI: &str = "/crm/private/xml/SalesOrders/getRecords";

#[test]
fn encoder_reproduces_the_line_items_fixture() {
    let items = [
        vec![
            OutField::text("Product Id", Some("900000000000031"), true),
            OutField::text("Product Name", Some("Widget"), false),
            OutField::text("Unit Price", Some("7222.0"), true),
            OutField::text("Quantity", Some("11.0"), true),
        ],
        vec![
            OutField::text("Product Id", Some("900000000000032"), true),
            OutField::text("Product Name", Some("Gadget"), false),
            OutField::text("Unit Price", Some("10.5"), true),
            OutField::text("Quantity", Some("1.0"), true),
        ],
    ];
    let row = vec![
        OutField::text("SALESORDERID", Some("900000000000021"), true),
        OutField::text("Subject", Some("SO-1"), false),
        OutField::line_items("Product Details", &items),
        OutField::text("Grand Total", Some("79452.5"), false),
    ];
    let xml = encode_records_page(URI, "SalesOrders", &[row]).unwrap();
    let expected = String::from_utf8(fixture("records_line_items.xml")).unwrap();
    assert_eq!(xml.replace("\r\n", "\n").trim_end(), expected.replace("\r\n", "\n").trim_end());
}

#[test]
fn nested_line_items_are_refused() {
    let inner = [vec![OutField::text("Quantity", Some("1.0"), true)]];
    let items = [vec![OutField::line_items("Product Details", &inner)]];
    let row = vec![OutField::line_items("Product Details", &items)];
    let err = encode_records_page(URI, "SalesOrders", &[row]).unwrap_err();
    assert_eq!(err, EncodeError::NestedLineItems("Product Details".to_owned()));
}

#[test]
fn out_value_from_option() {
    assert_eq!(OutValue::from(None), OutValue::Null);
    assert_eq!(OutValue::from(Some("x")), OutValue::Text("x"));
}

fn xml_text() -> impl Strategy<Value = String> {
    let awkward = prop_oneof![
        Just('&'),
        Just('<'),
        Just('>'),
        Just('"'),
        Just('\r'),
        Just('\n'),
        Just(']'),
        Just('😀')
    ];
    let any_char = any::<char>().prop_filter("XML 1.0 char", |c| is_xml_char(*c));
    prop::collection::vec(prop_oneof![3 => any_char, 2 => awkward], 0..20)
        .prop_map(|v| v.into_iter().collect())
}

/// One line item: `(label, value, bare)`; `None` is null.
type Item = Vec<(String, Option<String>, bool)>;

fn item() -> impl Strategy<Value = Item> {
    prop::collection::vec(
        ("[A-Za-z][A-Za-z0-9 &<>]{0,12}", prop::option::of(xml_text()), any::<bool>()),
        0..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn line_items_round_trip(rows in prop::collection::vec((xml_text(), prop::collection::vec(item(), 1..4)), 1..5)) {
        let items: Vec<Vec<Vec<OutField<'_>>>> = rows
            .iter()
            .map(|(_, items)| {
                items
                    .iter()
                    .map(|it| it.iter().map(|(l, v, b)| OutField::text(l, v.as_deref(), *b)).collect())
                    .collect()
            })
            .collect();
        let out: Vec<Vec<OutField<'_>>> = rows
            .iter()
            .zip(&items)
            .map(|((subject, _), items)| {
                vec![
                    OutField::text("Subject", Some(subject), false),
                    OutField::line_items("Product Details", items),
                ]
            })
            .collect();
        let xml = encode_records_page(URI, "SalesOrders", &out).unwrap();
        let page = RecordsPage::decode(xml.as_bytes()).unwrap();
        prop_assert_eq!(page.len(), rows.len());
        for ((subject, sent), got) in rows.iter().zip(page.rows()) {
            if subject != "null" {
                prop_assert_eq!(got.text("Subject"), Some(subject.as_str()));
            }
            let Some(Cell::LineItems(back)) = got.get("Product Details") else {
                return Err(TestCaseError::fail("Product Details did not decode as line items"));
            };
            prop_assert_eq!(back.len(), sent.len());
            for (s, b) in sent.iter().zip(back) {
                let expected: Vec<(String, Option<String>)> = s
                    .iter()
                    .map(|(l, v, _)| (l.clone(), v.clone().filter(|v| v != "null")))
                    .collect();
                prop_assert_eq!(b, &expected);
            }
        }
    }
}

#[test]
fn line_item_numbers_print_as_doubles() {
    use zcrm_protocol::value::{format_double, parse_decimal};
    let f = |s: &str| format_double(parse_decimal(s).unwrap());
    assert_eq!(f("11"), "11.0");
    assert_eq!(f("7222.00"), "7222.0");
    assert_eq!(f("10.50"), "10.5");
    assert_eq!(f("-0"), "0.0");
    assert_eq!(f("0.125"), "0.125");
}
