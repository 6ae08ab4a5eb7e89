//! Import generated leads, export to Parquet and CSV, read both back and compare every value
//! and type; and the exact number of calls.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use zcrm_writers::{Since, export};

use crate::{env, fields, insert, lead, read_csv, read_parquet, spec};

#[test]
fn parquet_round_trip_keeps_every_value_and_type() {
    let env = env();
    let ids = insert(&env.client, 0, 450);
    let meta = fields(&env);
    let before = env.emu.calls_today_of("getRecords");
    let out = env.dir.path().join("out/leads.parquet");
    let summary = export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {}).unwrap();
    assert_eq!(summary.records, 450);
    assert_eq!(summary.pages, 3, "ceil(450 / 200) pages");
    assert_eq!(env.emu.calls_today_of("getRecords") - before, 3);

    let (schema, batches, kv) = read_parquet(&out);
    assert_eq!(kv.get("zcrm.module").map(String::as_str), Some("Leads"));
    assert_eq!(kv.get("zcrm.timezone").map(String::as_str), Some("America/Los_Angeles"));
    assert!(kv.contains_key("zcrm.exported_at"));
    let t = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(t("LEADID"), DataType::Int64);
    assert_eq!(t("No of Employees"), DataType::Int64);
    assert_eq!(t("Score"), DataType::Int64);
    assert_eq!(t("Annual Revenue"), DataType::Decimal128(38, 2));
    assert_eq!(t("Ratio"), DataType::Decimal128(38, 9));
    assert_eq!(t("Visit Date"), DataType::Date32);
    assert_eq!(t("Email Opt Out"), DataType::Boolean);
    assert_eq!(
        t("Created Time"),
        DataType::Timestamp(TimeUnit::Microsecond, Some("America/Los_Angeles".into()))
    );
    assert!(matches!(t("Tags"), DataType::List(_)));
    assert_eq!(t("Company"), DataType::Utf8);
    assert_eq!(schema.fields()[0].name(), "LEADID", "the id comes first");

    let mut row = 0usize;
    for b in &batches {
        let col = |n: &str| b.column(schema.index_of(n).unwrap()).clone();
        let idc = col("LEADID");
        let last = col("Last Name");
        let emp = col("No of Employees");
        let rev = col("Annual Revenue");
        let ratio = col("Ratio");
        let opt = col("Email Opt Out");
        let score = col("Score");
        let visit = col("Visit Date");
        let tags = col("Tags");
        let created = col("Created Time");
        for r in 0..b.num_rows() {
            let src: std::collections::HashMap<String, String> = lead(row).into_iter().collect();
            assert_eq!(idc.as_primitive::<Int64Type>().value(r) as u64, ids[row].0);
            assert_eq!(last.as_string::<i32>().value(r), src["Last Name"]);
            assert_eq!(
                emp.as_primitive::<Int64Type>().value(r).to_string(),
                src["No of Employees"]
            );
            let rv = rev.as_primitive::<Decimal128Type>().value(r);
            assert_eq!(format!("{}.{:02}", rv / 100, rv % 100), src["Annual Revenue"]);
            let ra = ratio.as_primitive::<Decimal128Type>().value(r);
            assert_eq!(format!("0.{:09}", ra), src["Ratio"]);
            assert_eq!(opt.as_boolean().value(r).to_string(), src["Email Opt Out"]);
            assert_eq!(score.as_primitive::<Int64Type>().value(r).to_string(), src["Score"]);
            match src.get("Visit Date") {
                None => assert!(visit.is_null(r), "absent date is null"),
                Some(d) => {
                    let days = visit.as_primitive::<Date32Type>().value(r);
                    let date = jiff::civil::Date::constant(1970, 1, 1)
                        .checked_add(jiff::Span::new().days(i64::from(days)))
                        .unwrap();
                    assert_eq!(
                        format!("{:02}/{:02}/{:04}", date.month(), date.day(), date.year()),
                        *d
                    );
                }
            }
            let list = tags.as_list::<i32>().value(r);
            let items: Vec<&str> =
                (0..list.len()).map(|i| list.as_string::<i32>().value(i)).collect();
            assert_eq!(items.join(";"), src["Tags"]);
            let us = created.as_primitive::<TimestampMicrosecondType>().value(r);
            assert!(us > 1_600_000_000_000_000 && us % 1_000_000 == 0, "whole seconds, in µs");
            row += 1;
        }
    }
    assert_eq!(row, 450);
    assert!(
        !std::fs::read_dir(out.parent().unwrap()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );
}

#[test]
fn csv_round_trip_with_formula_guard_and_selected_columns() {
    let env = env();
    insert(&env.client, 0, 30);
    let meta = fields(&env);
    let out = env.dir.path().join("out/leads.csv");
    let mut s = spec(&env, &out, Since::All);
    s.columns = Some(vec![
        "Last Name".into(),
        "Company".into(),
        "Annual Revenue".into(),
        "Visit Date".into(),
    ]);
    let summary = export(&env.client, &meta, &s, |_| {}).unwrap();
    assert_eq!(summary.records, 30);
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["LEADID", "Last Name", "Company", "Annual Revenue", "Visit Date"]);
    for (i, r) in rows.iter().enumerate() {
        let src: std::collections::HashMap<String, String> = lead(i).into_iter().collect();
        assert_eq!(r[1], src["Last Name"], "quotes, & and < survive");
        if src["Company"].starts_with('=') {
            assert_eq!(r[2], format!("'{}", src["Company"]), "formula guarded");
        } else {
            assert_eq!(r[2], src["Company"]);
        }
        assert_eq!(r[3], src["Annual Revenue"]);
        assert_eq!(r[4].is_empty(), !src.contains_key("Visit Date"));
    }
    // Unknown columns are named, with the nearest label, before any page is fetched.
    let mut typo = spec(&env, &env.dir.path().join("out/typo.csv"), Since::All);
    typo.columns = Some(vec!["Last Nme".into(), "Zzzz".into()]);
    let err = export(&env.client, &meta, &typo, |_| {}).unwrap_err().to_string();
    assert!(err.contains("\"Last Nme\" (did you mean \"Last Name\"?), \"Zzzz\""), "{err}");
    let mut unguarded = spec(&env, &env.dir.path().join("out/raw.csv"), Since::All);
    unguarded.guard_formulas = false;
    export(&env.client, &meta, &unguarded, |_| {}).unwrap();
    let (h, rows) = read_csv(&env.dir.path().join("out/raw.csv"));
    let company = h.iter().position(|c| c == "Company").unwrap();
    assert_eq!(rows[0][company], "=HYPERLINK(\"x\")");

    let mut bad = spec(&env, &env.dir.path().join("out/x.csv"), Since::All);
    bad.columns = Some(vec!["Nope".into()]);
    assert!(export(&env.client, &meta, &bad, |_| {}).unwrap_err().to_string().contains("Nope"));
}

#[test]
fn an_empty_module_gives_an_empty_typed_file_in_one_call() {
    let env = env();
    let meta = fields(&env);
    let out = env.dir.path().join("empty.parquet");
    let s = export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {}).unwrap();
    assert_eq!((s.records, s.pages), (0, 1));
    assert_eq!(env.emu.calls_today_of("getDeletedRecordIds"), 0, "one page: nothing to check");
    let (schema, batches, _) = read_parquet(&out);
    assert!(schema.field_with_name("Annual Revenue").is_ok());
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
}
