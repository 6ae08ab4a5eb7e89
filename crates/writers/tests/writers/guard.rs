//! The formula guard of CSV exports (the same function guards reject and success files).

use zcrm_protocol::FieldType;

use crate::local::{csv_sink, label, module, page, write};
use crate::read_csv;

#[test]
fn the_csv_export_guards_every_cell_a_spreadsheet_would_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let meta = module(&[FieldType::Text, FieldType::Currency, FieldType::Integer]);
    let evaluated = [
        "=1+1",
        "+1+1",
        "-2+3",
        "-1/0",
        "-(1)",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "+1 (415) 555-0100",
        "-",
    ];
    let plain = ["Acme", "a=b", "-12.50", "+7", "1+1", "-1e5"];
    let rows: Vec<Vec<(String, Option<String>, bool)>> = evaluated
        .iter()
        .chain(&plain)
        .enumerate()
        .map(|(i, v)| {
            vec![
                ("LEADID".to_owned(), Some((900_000_000_000_000u64 + i as u64).to_string()), true),
                (label(&FieldType::Text), Some((*v).to_owned()), false),
                (label(&FieldType::Currency), Some("-12.50".to_owned()), false),
                (label(&FieldType::Integer), Some("-3".to_owned()), false),
            ]
        })
        .collect();
    let csv = write(&page(&rows), &meta, csv_sink(&dir.path().join("g.csv"))).unwrap();
    let (_, got) = read_csv(&csv);
    for (r, v) in got.iter().zip(evaluated.iter().chain(&plain)) {
        let want = if evaluated.contains(v) { format!("'{v}") } else { (*v).to_owned() };
        assert_eq!(r[1], want, "{v:?}");
        assert_eq!((r[2].as_str(), r[3].as_str()), ("-12.50", "-3"), "numbers are kept");
    }
}
