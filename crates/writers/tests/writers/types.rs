//! The files as readers other than zcrm see them: for every field type the protocol knows, the
//! Parquet physical and logical type read from the file's own schema (not the embedded Arrow
//! one), and the same values in CSV. No network: the pages are encoded here.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Date32Type, Decimal128Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use parquet::basic::{ConvertedType, LogicalType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use zcrm_protocol::FieldType;

use crate::local::{TZ, csv_sink, label, module, page, parquet_sink, write};
use crate::{read_csv, read_parquet};

/// What a column of a field type must be to every Parquet reader.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// BYTE_ARRAY, STRING.
    Text,
    /// INT64, signed (no logical type or INTEGER(64, true)).
    Int64,
    /// FIXED_LEN_BYTE_ARRAY, DECIMAL(38, scale).
    Decimal(i32),
    /// INT32, DATE.
    Date,
    /// INT64, TIMESTAMP(MICROS, isAdjustedToUTC = true).
    Timestamp,
    /// BOOLEAN.
    Boolean,
    /// A LIST group of BYTE_ARRAY STRING items.
    ListOfText,
}

/// The decision for each type; exhaustive, so a new protocol type needs one here.
fn expect(t: &FieldType) -> Expect {
    match t {
        FieldType::Text
        | FieldType::TextArea
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Website
        | FieldType::PickList
        | FieldType::Lookup
        | FieldType::OwnerLookup
        | FieldType::AutoNumber
        | FieldType::Formula
        | FieldType::Unknown(_) => Expect::Text,
        FieldType::Integer | FieldType::LongInteger => Expect::Int64,
        FieldType::Double => Expect::Decimal(9),
        FieldType::Percent | FieldType::Currency => Expect::Decimal(2),
        FieldType::Date => Expect::Date,
        FieldType::DateTime => Expect::Timestamp,
        FieldType::Boolean => Expect::Boolean,
        FieldType::MultiPickList => Expect::ListOfText,
    }
}

/// One value of each type as getRecords sends it.
fn value(t: &FieldType) -> &'static str {
    match t {
        FieldType::Text => "Acme & Co",
        FieldType::TextArea => "two\nlines",
        FieldType::Email => "a@b.co",
        FieldType::Phone => "+1 415 555 0100",
        FieldType::Website => "https://example.com",
        FieldType::Integer => "-42",
        FieldType::LongInteger => "-9000000000",
        FieldType::Double => "-0.125",
        FieldType::Percent => "12.5",
        FieldType::Currency => "-1234.56",
        FieldType::Date => "2024-02-29",
        FieldType::DateTime => "2024-07-01 09:15:30",
        FieldType::Boolean => "true",
        FieldType::PickList => "Cold Call",
        FieldType::MultiPickList => "Alpha;Beta",
        FieldType::Lookup => "Acme",
        FieldType::OwnerLookup => "Jane Roe",
        FieldType::AutoNumber => "LD-0001",
        FieldType::Formula => "42",
        FieldType::Unknown(_) => "whatever",
    }
}

fn every_type() -> Vec<FieldType> {
    let mut v = FieldType::KNOWN.to_vec();
    v.push(FieldType::Unknown("Signature".into()));
    v
}

/// Two rows: every field set, then every field null but the id.
fn two_rows(types: &[FieldType]) -> String {
    let ids = |id: &str| {
        vec![
            ("LEADID".to_owned(), Some(id.to_owned()), true),
            ("SMOWNERID".to_owned(), Some("900000000000002".to_owned()), true),
        ]
    };
    let mut full = ids("900000000000123");
    full.extend(types.iter().map(|t| (label(t), Some(value(t).to_owned()), false)));
    let mut empty = ids("900000000000124");
    empty.extend(types.iter().map(|t| (label(t), None, false)));
    page(&[full, empty])
}

/// The Parquet schema's top-level field called `name`.
fn parquet_field(
    schema: &parquet::schema::types::Type,
    name: &str,
) -> parquet::schema::types::TypePtr {
    schema
        .get_fields()
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("{name}"))
        .clone()
}

/// Asserts the Parquet type of a column, as the file's own schema states it.
fn assert_parquet_type(f: &parquet::schema::types::Type, want: Expect) {
    let name = f.name().to_owned();
    let info = f.get_basic_info();
    if want == Expect::ListOfText {
        assert!(!f.is_primitive(), "{name}: a group");
        assert_eq!(info.logical_type_ref(), Some(&LogicalType::List), "{name}");
        let repeated = &f.get_fields()[0];
        let item = &repeated.get_fields()[0];
        assert_eq!(item.get_physical_type(), Physical::BYTE_ARRAY, "{name} item");
        assert_eq!(item.get_basic_info().logical_type_ref(), Some(&LogicalType::String));
        return;
    }
    assert!(f.is_primitive(), "{name}: a primitive column");
    let (physical, logical) = (f.get_physical_type(), info.logical_type_ref().cloned());
    match want {
        Expect::Text => {
            assert_eq!(
                (physical, logical),
                (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                "{name}"
            )
        }
        Expect::Int64 => {
            assert_eq!(physical, Physical::INT64, "{name}");
            assert!(
                logical.is_none() || logical == Some(LogicalType::integer(64, true)),
                "{name}: a signed 64-bit integer, not {logical:?}"
            );
            assert!(
                matches!(info.converted_type(), ConvertedType::NONE | ConvertedType::INT_64),
                "{name}: converted type {:?}",
                info.converted_type()
            );
        }
        Expect::Decimal(scale) => assert_eq!(
            (physical, logical),
            (Physical::FIXED_LEN_BYTE_ARRAY, Some(LogicalType::decimal(scale, 38))),
            "{name}"
        ),
        Expect::Date => {
            assert_eq!((physical, logical), (Physical::INT32, Some(LogicalType::Date)), "{name}")
        }
        Expect::Timestamp => assert_eq!(
            (physical, logical),
            (Physical::INT64, Some(LogicalType::timestamp(true, parquet::basic::TimeUnit::MICROS))),
            "{name}: a TIMESTAMP every reader knows, adjusted to UTC"
        ),
        Expect::Boolean => assert_eq!((physical, logical), (Physical::BOOLEAN, None), "{name}"),
        Expect::ListOfText => unreachable!(),
    }
}

#[test]
fn every_field_type_has_a_parquet_logical_type_other_readers_understand() {
    let types = every_type();
    let meta = module(&types);
    let dir = tempfile::tempdir().unwrap();
    let out = write(&two_rows(&types), &meta, parquet_sink(&dir.path().join("t.parquet"))).unwrap();
    let reader = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let file = reader.metadata().file_metadata();
    let root = file.schema_descr().root_schema();
    assert_parquet_type(&parquet_field(root, "LEADID"), Expect::Int64);
    assert_parquet_type(&parquet_field(root, "SMOWNERID"), Expect::Int64);
    for t in &types {
        assert_parquet_type(&parquet_field(root, &label(t)), expect(t));
    }
    let kv: Vec<(String, Option<String>)> = file
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|k| (k.key.clone(), k.value.clone()))
        .collect();
    assert!(kv.contains(&("zcrm.timezone".into(), Some(TZ.into()))), "{kv:?}");
}

#[test]
fn parquet_and_csv_hold_the_same_values() {
    let types = every_type();
    let meta = module(&types);
    let dir = tempfile::tempdir().unwrap();
    let body = two_rows(&types);
    let pq = write(&body, &meta, parquet_sink(&dir.path().join("t.parquet"))).unwrap();
    let csv = write(&body, &meta, csv_sink(&dir.path().join("t.csv"))).unwrap();
    let (schema, batches, _) = read_parquet(&pq);
    let (header, rows) = read_csv(&csv);
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(header, schema.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>());
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    for (c, name) in header.iter().enumerate() {
        let col = b.column(c);
        // The second row is null everywhere but the ids, in both files.
        if name != "LEADID" && name != "SMOWNERID" {
            assert!(col.is_null(1), "{name}");
            assert_eq!(rows[1][c], "", "{name}");
        }
        let text = &rows[0][c];
        let t = types.iter().find(|t| label(t) == *name);
        let kind = t.map_or(Expect::Int64, expect);
        let parquet_text = match kind {
            Expect::Int64 => col.as_primitive::<Int64Type>().value(0).to_string(),
            Expect::Decimal(scale) => {
                let m = col.as_primitive::<Decimal128Type>().value(0);
                rust_decimal::Decimal::from_i128_with_scale(m, scale as u32).normalize().to_string()
            }
            Expect::Date => {
                let days = col.as_primitive::<Date32Type>().value(0);
                jiff::civil::date(1970, 1, 1)
                    .checked_add(jiff::Span::new().days(i64::from(days)))
                    .unwrap()
                    .to_string()
            }
            Expect::Timestamp => {
                let us = col.as_primitive::<TimestampMicrosecondType>().value(0);
                let ts = jiff::Timestamp::from_microsecond(us).unwrap();
                // The instant, and its wall time in the org's zone as the CSV shows it.
                assert_eq!(ts, "2024-07-01T16:15:30Z".parse::<jiff::Timestamp>().unwrap());
                ts.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string()
            }
            Expect::Boolean => col.as_boolean().value(0).to_string(),
            Expect::Text => col.as_string::<i32>().value(0).to_owned(),
            Expect::ListOfText => {
                let l = col.as_list::<i32>().value(0);
                let items: Vec<&str> =
                    (0..l.len()).map(|i| l.as_string::<i32>().value(i)).collect();
                items.join(";")
            }
        };
        // The CSV keeps the API's text (a phone number starting with `+` is guarded).
        let csv_text = text.strip_prefix('\'').unwrap_or(text);
        assert_eq!(parquet_text, csv_text, "{name}");
        if let Some(t) = t {
            assert_eq!(csv_text, value(t), "{name}");
        }
    }
    // The Arrow schema embedded for Arrow readers keeps the org's time zone.
    let created = schema.field_with_name(&label(&FieldType::DateTime)).unwrap();
    assert_eq!(
        created.data_type(),
        &arrow::datatypes::DataType::Timestamp(TimeUnit::Microsecond, Some(TZ.into()))
    );
}

#[test]
fn an_id_beyond_int64_stops_the_parquet_export_naming_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let meta = module(&[FieldType::Text]);
    let big = "9223372036854775808";
    let body = page(&[vec![
        ("LEADID".to_owned(), Some(big.to_owned()), true),
        (label(&FieldType::Text), Some("x".to_owned()), false),
    ]]);
    let err =
        write(&body, &meta, parquet_sink(&dir.path().join("big.parquet"))).unwrap_err().to_string();
    assert!(err.contains(big) && err.contains("LEADID"), "{err}");
    assert!(err.contains("9223372036854775807"), "says the limit: {err}");
    // The CSV has no limit.
    let csv = write(&body, &meta, csv_sink(&dir.path().join("big.csv"))).unwrap();
    assert_eq!(read_csv(&csv).1[0][0], big);
}
