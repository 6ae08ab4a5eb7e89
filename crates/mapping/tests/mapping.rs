//! The mapping against a module with every field type: spec errors all at once, each type
//! rule, a golden reject file with one defect of every kind, order and conservation of rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use proptest::prelude::*;
use zcrm_mapping::{
    Case, CompileOptions, FieldSource, FieldSpec, MapEntry, MapSpec, MappedValue, Mapper,
    PicklistMode, RejectWriter, map_chunks,
};
use zcrm_protocol::{FieldMeta, FieldType as T, ModuleFields, Section, Value};
use zcrm_readers::{Chunk, ReadError, SourceOptions};

fn module() -> ModuleFields {
    let f = |l: &str, t: T| FieldMeta::new(l, t);
    let mut name = f("Deal Name", T::Text);
    name.required = true;
    name.max_length = Some(20);
    let mut stage = f("Stage", T::PickList);
    stage.picklist = vec!["Open".into(), "Won".into(), "Lost".into()];
    let mut tags = f("Tags", T::MultiPickList);
    tags.picklist = vec!["a".into(), "b".into()];
    let mut account = f("Account Name", T::Lookup);
    account.lookup_module = Some("Accounts".into());
    let mut auto = f("Deal Number", T::AutoNumber);
    auto.read_only = true;
    let fields = vec![
        f("Deal Owner", T::OwnerLookup),
        name,
        f("Email", T::Email),
        f("Phone", T::Phone),
        f("Website", T::Website),
        f("Seats", T::Integer),
        f("Big", T::LongInteger),
        f("Amount", T::Currency),
        f("Closing Date", T::Date),
        f("Follow Up", T::DateTime),
        f("Signed", T::Boolean),
        stage,
        tags,
        account,
        auto,
        f("Notes", T::TextArea),
    ];
    ModuleFields {
        module: "Deals".into(),
        sections: vec![Section { name: "Info".into(), display_name: "Info".into(), fields }],
    }
}

fn entry(field: &str, spec: FieldSpec) -> MapEntry {
    MapEntry { field: field.into(), field_span: 0..0, spec, spec_span: 0..0 }
}

fn col(c: &str) -> FieldSpec {
    FieldSpec::column(c)
}

const HEADERS: [&str; 15] = [
    "id", "name", "email", "phone", "web", "seats", "big", "amount", "close", "follow", "signed",
    "stage", "tags", "account", "owner",
];

fn spec() -> MapSpec {
    let mut name = col("name");
    name.trim = true;
    let mut stage = col("stage");
    stage.values = HashMap::from([("closed".to_owned(), "Won".to_owned())]);
    let mut close = col("close");
    close.date_format = Some("%d/%m/%Y".into());
    let mut account = col("account");
    account.lookup = Some("accounts".into());
    let mut notes = FieldSpec::column("");
    notes.source = FieldSource::Template("{name} (legacy {id})".into());
    notes.case = Some(Case::Upper);
    MapSpec {
        entries: vec![
            entry("Deal Name", name),
            entry("Email", col("email")),
            entry("Phone", col("phone")),
            entry("Website", col("web")),
            entry("Seats", col("seats")),
            entry("Big", col("big")),
            entry("Amount", col("amount")),
            entry("Closing Date", close),
            entry("Follow Up", col("follow")),
            entry("Signed", col("signed")),
            entry("Stage", stage),
            entry("Tags", col("tags")),
            entry("ACCOUNTID", account),
            entry("SMOWNERID", col("owner")),
            entry("Notes", notes),
        ],
    }
}

fn opts() -> CompileOptions {
    CompileOptions {
        require_mandatory: true,
        picklist: PicklistMode::Strict,
        key: Some(("id".into(), None)),
        lookup_steps: vec!["accounts".into()],
        excel_serials: false,
    }
}

fn headers() -> Vec<String> {
    HEADERS.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_spec_problem_is_reported_at_once() {
    let mut s = spec();
    s.entries.push(entry("Emial", col("email")));
    s.entries.push(entry("Deal Number", col("id")));
    s.entries.push(entry("Signed", col("signd")));
    let mut bad_lookup = col("account");
    bad_lookup.lookup = Some("acounts".into());
    s.entries.retain(|e| e.field != "ACCOUNTID");
    s.entries.push(entry("ACCOUNTID", bad_lookup));
    s.entries.retain(|e| e.field != "Deal Name");
    let errs = Mapper::compile(&s, &module(), &headers(), &opts()).unwrap_err();
    let text: Vec<String> = errs
        .iter()
        .map(|e| format!("{} [{}]", e.message, e.hint.clone().unwrap_or_default()))
        .collect();
    let all = text.join("\n");
    assert!(all.contains("Deals has no field `Emial` [did you mean `Email`?]"), "{all}");
    assert!(all.contains("`Deal Number` is read-only"), "{all}");
    assert!(
        all.contains("unknown source column `signd` [did you mean the column `signed`?]"),
        "{all}"
    );
    assert!(
        all.contains(
            "looks up the step `acounts`, which does not exist [did you mean the step `accounts`?]"
        ),
        "{all}"
    );
    assert!(all.contains("the required field `Deal Name` of Deals is not mapped"), "{all}");
    assert!(all.contains("`Signed` is mapped twice"), "{all}");
    assert_eq!(errs.len(), 6, "{all}");
}

const GOOD: &str = "1,  Big deal  ,a@b.co,+1 415 555 0100,example.com,5,9000000000,1234.50,31/03/2024,2024-04-01 09:30:00,yes,closed,a;b,acc-1,900000000000001";

fn sample() -> String {
    // One defect of every kind, one per row, then a row with several.
    let rows = [
        GOOD.to_owned(),
        GOOD.replacen("  Big deal  ", "", 1),
        GOOD.replacen("  Big deal  ", "This name is far too long", 1),
        GOOD.replacen("a@b.co", "a(at)b.co", 1),
        GOOD.replacen("+1 415 555 0100", "call me", 1),
        GOOD.replacen("example.com", "not a site", 1),
        GOOD.replacen(",5,", ",5.5,", 1),
        GOOD.replacen(",5,", ",3000000000,", 1),
        GOOD.replacen("1234.50", "\"1,234.50\"", 1),
        GOOD.replacen("31/03/2024", "2024-03-31", 1),
        GOOD.replacen("2024-04-01 09:30:00", "tomorrow", 1),
        GOOD.replacen("yes", "perhaps", 1),
        GOOD.replacen("closed", "Pending", 1),
        GOOD.replacen("a;b", "a;z", 1),
        GOOD.replacen("acc-1", "", 1),
        GOOD.replacen("900000000000001", "owner-7", 1),
        GOOD.replacen("1,", ",", 1),
        GOOD.replacen("a@b.co", "x", 1).replacen("yes", "nah", 1).replacen(",5,", ",five,", 1),
        GOOD.replacen("closed", "WON", 1),
        format!("{GOOD},extra"),
    ];
    format!("{}\n{}\n", HEADERS.join(","), rows.join("\n"))
}

fn run(dir: &Path, csv: &str, mode: PicklistMode) -> (Vec<zcrm_mapping::MappedRow>, usize, String) {
    run_spec(dir, csv, mode, &spec())
}

fn run_spec(
    dir: &Path,
    csv: &str,
    mode: PicklistMode,
    spec: &MapSpec,
) -> (Vec<zcrm_mapping::MappedRow>, usize, String) {
    let p = dir.join("in.csv");
    std::fs::write(&p, csv).unwrap();
    let reader = zcrm_readers::open(&p, &SourceOptions::default()).unwrap();
    let mut o = opts();
    o.picklist = mode;
    let m = Mapper::compile(spec, &module(), reader.headers(), &o).unwrap();
    let rejects = dir.join("out/rejects.csv");
    let mut w = RejectWriter::create(&rejects, reader.headers()).unwrap();
    let mut valid = Vec::new();
    let mut warnings = 0;
    map_chunks(reader, &m, true, |c| -> Result<(), ReadError> {
        for r in &c.rejected {
            w.write(r).unwrap();
        }
        warnings += c.warnings.len();
        valid.extend(c.rows);
        Ok(())
    })
    .unwrap();
    w.finish().unwrap();
    (valid, warnings, std::fs::read_to_string(rejects).unwrap())
}

#[test]
fn golden_reject_file_with_one_defect_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (valid, warnings, rejects) = run(dir.path(), &sample(), PicklistMode::Strict);
    // Row 15 leaves an optional lookup empty: no reference, not a defect.
    assert_eq!(valid.iter().map(|r| r.pos.row).collect::<Vec<_>>(), [1, 15, 19]);
    assert_eq!(warnings, 1, "WON taken as Won with a warning");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/every-defect.rejects.csv");
    if std::env::var_os("ZCRM_BLESS").is_some() {
        std::fs::write(&golden, &rejects).unwrap();
    }
    assert_eq!(rejects, std::fs::read_to_string(golden).unwrap());
}

#[test]
fn valid_rows_carry_typed_values_in_mapping_order() {
    let dir = tempfile::tempdir().unwrap();
    let (valid, _, _) = run(dir.path(), &sample(), PicklistMode::Strict);
    let r = &valid[0];
    assert_eq!(r.key.as_deref(), Some("1"));
    let get = |l: &str| r.fields.iter().find(|(f, _)| &**f == l).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("Deal Name"), MappedValue::Value(Value::Text("Big deal".into())));
    assert_eq!(get("Seats"), MappedValue::Value(Value::Integer(5)));
    assert_eq!(get("Closing Date").wire_text().unwrap(), "03/31/2024");
    assert_eq!(get("Follow Up").wire_text().unwrap(), "2024-04-01 09:30:00");
    assert_eq!(get("Signed").wire_text().unwrap(), "true");
    assert_eq!(get("Stage").wire_text().unwrap(), "Won");
    assert_eq!(get("Tags").wire_text().unwrap(), "a;b");
    assert_eq!(
        get("ACCOUNTID"),
        MappedValue::Lookup { step: "accounts".into(), key: "acc-1".into() }
    );
    assert_eq!(get("SMOWNERID").wire_text().unwrap(), "900000000000001");
    assert_eq!(get("Notes").wire_text().unwrap(), "  BIG DEAL   (LEGACY 1)");
    let order: Vec<&str> = r.fields.iter().map(|(f, _)| &**f).collect();
    assert_eq!(order[..3], ["Deal Name", "Email", "Phone"]);
}

/// A lookup to a step's records mapped by the field's label goes out under the field's id
/// column, as one mapped by the id column does: under the label the XML API reads the value as
/// the record's name.
#[test]
fn a_lookup_by_label_goes_out_under_the_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec();
    for e in &mut s.entries {
        if e.field == "ACCOUNTID" {
            e.field = "Account Name".into();
        }
    }
    let (valid, _, _) = run_spec(dir.path(), &sample(), PicklistMode::Strict, &s);
    let labels: Vec<&str> = valid[0].fields.iter().map(|(f, _)| &**f).collect();
    assert!(labels.contains(&"ACCOUNTID"), "{labels:?}");
    assert!(!labels.contains(&"Account Name"), "{labels:?}");
}

/// Everything a mapping run hands on, chunk by chunk: (rows read, valid, valid rows,
/// rejected rows, warnings).
type Run = Vec<(
    usize,
    usize,
    Vec<zcrm_mapping::MappedRow>,
    Vec<zcrm_mapping::RejectedRow>,
    Vec<zcrm_mapping::Problem>,
)>;

#[test]
fn blocks_and_chunks_map_alike() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("in.csv");
    // Enough rows for several blocks, every defect of the sample among them.
    let mut csv = sample();
    for _ in 0..40 {
        csv.push_str(sample().split_once('\n').unwrap().1);
    }
    std::fs::write(&p, csv).unwrap();
    let so = SourceOptions { chunk_rows: 16, ..SourceOptions::default() };
    for build in [false, true] {
        let reader = zcrm_readers::open(&p, &so).unwrap();
        let m = Mapper::compile(&spec(), &module(), reader.headers(), &opts()).unwrap();
        let mut by_chunks: Run = Vec::new();
        map_chunks(reader, &m, build, |c| -> Result<(), ReadError> {
            by_chunks.push((c.rows_read, c.valid, c.rows, c.rejected, c.warnings));
            Ok(())
        })
        .unwrap();
        let reader = zcrm_readers::open(&p, &so).unwrap();
        let mut by_blocks: Run = Vec::new();
        zcrm_mapping::map_blocks(reader.blocks(), &m, build, |c| -> Result<(), ReadError> {
            by_blocks.push((c.rows_read, c.valid, c.rows, c.rejected, c.warnings));
            Ok(())
        })
        .unwrap();
        assert!(by_chunks.len() > 10, "several chunks");
        assert_eq!(by_chunks, by_blocks, "build = {build}");
    }
}

#[test]
fn picklist_modes() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{}\n{}\n", HEADERS.join(","), GOOD.replacen("closed", "Pending", 1));
    assert_eq!(run(dir.path(), &csv, PicklistMode::Strict).0.len(), 0);
    let (v, w, _) = run(dir.path(), &csv, PicklistMode::Warn);
    assert_eq!((v.len(), w), (1, 1));
    let (v, w, _) = run(dir.path(), &csv, PicklistMode::Allow);
    assert_eq!((v.len(), w), (1, 0));
}

fn int_module() -> (ModuleFields, MapSpec) {
    let fields = vec![FieldMeta::new("N", T::Integer), FieldMeta::new("D", T::Double)];
    let m = ModuleFields {
        module: "X".into(),
        sections: vec![Section { name: "s".into(), display_name: "s".into(), fields }],
    };
    (m, MapSpec { entries: vec![entry("N", col("n")), entry("D", col("d"))] })
}

/// A mapped row as (N, D wire text), or the reject's `_errors`.
type Mapped = Result<(i64, String), String>;

fn map_texts(rows: &[(String, String)]) -> Vec<Mapped> {
    let (m, s) = int_module();
    let h = vec!["n".to_string(), "d".to_string()];
    let mapper = Mapper::compile(&s, &m, &h, &CompileOptions::default()).unwrap();
    let chunk_rows: Vec<zcrm_readers::Row> = rows
        .iter()
        .enumerate()
        .map(|(i, (n, d))| zcrm_readers::Row {
            pos: zcrm_readers::RowPos { row: i as u64 + 1, line: i as u64 + 2 },
            cells: [n, d].into_iter().collect(),
            problem: None,
        })
        .collect();
    // Many small chunks so that rayon runs them in parallel, out of order.
    let chunks: Vec<Result<Chunk, ReadError>> = chunk_rows
        .chunks(3)
        .enumerate()
        .map(|(i, c)| {
            Ok(Chunk {
                seq: i as u64,
                source: std::sync::Arc::new(zcrm_readers::SourceInfo {
                    path: "x".into(),
                    sheet: None,
                }),
                rows: c.to_vec(),
            })
        })
        .collect();
    let mut out: Vec<(u64, Mapped)> = Vec::new();
    map_chunks(chunks.into_iter(), &mapper, true, |c| -> Result<(), ReadError> {
        for r in c.rows {
            let get = |l: &str| r.fields.iter().find(|(f, _)| &**f == l).map(|(_, v)| v.clone());
            let n = match get("N") {
                Some(MappedValue::Value(Value::Integer(n))) => n,
                _ => i64::MIN,
            };
            let d = get("D").and_then(|v| v.wire_text()).unwrap_or_default();
            out.push((r.pos.row, Ok((n, d))));
        }
        for r in c.rejected {
            out.push((r.pos.row, Err(r.errors_text())));
        }
        Ok(())
    })
    .unwrap();
    // Valid and rejected rows of a chunk come separately; within each kind, order is kept.
    out.sort_by_key(|(row, _)| *row);
    assert_eq!(out.len(), rows.len(), "every row is valid or rejected");
    out.into_iter().map(|(_, r)| r).collect()
}

/// A source that fails part-way: every chunk before the failure reaches the sink, in order,
/// and then the error comes back (an import sends what it read before the break).
#[test]
fn chunks_before_a_source_error_are_handed_on_then_the_error() {
    let (m, s) = int_module();
    let h = vec!["n".to_string(), "d".to_string()];
    let mapper = Mapper::compile(&s, &m, &h, &CompileOptions::default()).unwrap();
    let source = std::sync::Arc::new(zcrm_readers::SourceInfo { path: "x".into(), sheet: None });
    let chunk = |seq: u64| {
        Ok(Chunk {
            seq,
            source: source.clone(),
            rows: vec![zcrm_readers::Row {
                pos: zcrm_readers::RowPos { row: seq + 1, line: seq + 2 },
                cells: ["1", "2.5"].into_iter().collect(),
                problem: None,
            }],
        })
    };
    let broken = ReadError::Csv { path: "x".into(), line: 9, message: "cut".into() };
    let items = (0..6).map(chunk).chain([Err(broken)]).chain((6..9).map(chunk));
    let mut seen = Vec::new();
    let r = map_chunks(items, &mapper, true, |c| -> Result<(), ReadError> {
        seen.push(c.seq);
        Ok(())
    });
    assert!(matches!(r, Err(ReadError::Csv { line: 9, .. })), "{r:?}");
    assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn reject_files_guard_every_cell_a_spreadsheet_would_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/rejects.csv");
    let headers = vec!["name".to_owned(), "=cmd".to_owned()];
    let mut w = RejectWriter::create(&path, &headers).unwrap();
    let evaluated = ["=1+1", "+1+1", "-2+3", "-1/0", "-(1)", "@SUM(A1)", "\tx", "\rx"];
    let plain = ["Acme", "a=b", "-12.50", "+7", ""];
    for (i, v) in evaluated.iter().chain(&plain).enumerate() {
        let row = i as u64 + 1;
        w.write_parts([*v, "-1+1"], row, row + 1, "name: not accepted").unwrap();
    }
    // Server-side rejections append through the same writer, guarded the same way.
    w.finish().unwrap();
    let mut more = RejectWriter::append(&path, &headers).unwrap();
    more.write_parts(["+SUM(1)", "ok"], 99, 100, "=server: error 4401").unwrap();
    more.finish().unwrap();
    let mut r = csv::Reader::from_path(&path).unwrap();
    assert_eq!(r.headers().unwrap(), vec!["name", "'=cmd", "_row", "_line", "_errors"]);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), evaluated.len() + plain.len() + 1);
    for (rec, v) in rows.iter().zip(evaluated.iter().chain(&plain)) {
        let want = if evaluated.contains(v) { format!("'{v}") } else { (*v).to_owned() };
        assert_eq!(&rec[0], want, "{v:?}");
        assert_eq!(&rec[1], "'-1+1");
        assert_eq!(&rec[4], "name: not accepted");
    }
    let last = rows.last().unwrap();
    assert_eq!(
        last.iter().collect::<Vec<_>>(),
        ["'+SUM(1)", "ok", "99", "100", "'=server: error 4401"]
    );
}

proptest! {
    #[test]
    fn integers_within_32_bits_pass_and_others_fail(n in any::<i64>(), d in -1_000_000i64..1_000_000) {
        let got = map_texts(&[(n.to_string(), format!("{}.25", d))]);
        if i32::try_from(n).is_ok() {
            prop_assert_eq!(got[0].clone(), Ok((n, format!("{}.25", d))));
        } else {
            prop_assert!(got[0].as_ref().unwrap_err().contains("outside the field's range"));
        }
    }

    #[test]
    fn order_is_kept_and_no_row_is_lost(vals in proptest::collection::vec(any::<i32>(), 0..60)) {
        let rows: Vec<(String, String)> = vals.iter().map(|v| (v.to_string(), "1".to_string())).collect();
        let got = map_texts(&rows);
        let want: Vec<Mapped> = vals.iter().map(|v| Ok((i64::from(*v), "1".to_string()))).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn garbage_never_panics_and_is_rejected_with_a_reason(s in "\\PC{0,12}") {
        let got = map_texts(&[(s.clone(), s.clone())]);
        prop_assert_eq!(got.len(), 1);
    }
}

#[test]
fn fields_resolve_by_api_name_where_the_metadata_has_them_and_hints_offer_both() {
    // Metadata from the REST API names each field twice: its label and its API name.
    let mut m = module();
    for f in &mut m.sections[0].fields {
        f.api_name = Some(f.label.replace(' ', "_"));
    }
    let mut s = spec();
    for e in &mut s.entries {
        if e.field == "Deal Name" {
            e.field = "Deal_Name".into();
        }
    }
    let mapper = Mapper::compile(&s, &m, &headers(), &opts());
    assert!(mapper.is_ok(), "Deal_Name resolves to the Deal Name field: {:?}", mapper.err());

    s.entries.push(entry("Closing_Dat", col("close")));
    let errs = Mapper::compile(&s, &m, &headers(), &opts()).unwrap_err();
    let all: Vec<String> = errs.iter().map(|e| e.hint.clone().unwrap_or_default()).collect();
    assert!(all.iter().any(|h| h == "did you mean `Closing_Date`?"), "{all:?}");
    // Labels and API names of one field are one field: mapping both is mapping it twice.
    let mut twice = spec();
    twice.entries.push(entry("Follow_Up", col("follow")));
    let errs = Mapper::compile(&twice, &m, &headers(), &opts()).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].message.contains("`Follow_Up` is mapped twice"), "{errs:?}");
}

#[test]
fn owner_maps_only_owner_fields_and_goes_out_as_the_owner_id_column() {
    let mut owner = col("owner");
    owner.owner = true;
    let mut s = spec();
    s.entries.retain(|e| e.field != "SMOWNERID");
    s.entries.push(entry("Deal Owner", owner.clone()));
    let m = Mapper::compile(&s, &module(), &headers(), &opts()).unwrap();
    assert!(m.has_owners());
    let mut wrong = spec();
    wrong.entries.push(entry("Notes", owner));
    let errs = Mapper::compile(&wrong, &module(), &headers(), &opts()).unwrap_err();
    assert!(
        errs.iter().any(|e| e.message.contains("`owner` maps owner fields")
            && e.hint.as_deref() == Some("the module's owner field is `Deal Owner`")),
        "{errs:?}"
    );
}

/// A number field that keeps 2 decimal places (v8 `decimal_place`): more places are rounded
/// half away from zero, as the CRM rounds them, with a warning; fewer pass as they are.
#[test]
fn decimals_beyond_the_fields_places_are_rounded_as_the_crm_rounds_them_with_a_warning() {
    let mut amount = FieldMeta::new("Amount", T::Currency);
    amount.decimal_places = Some(2);
    let m = ModuleFields {
        module: "X".into(),
        sections: vec![Section {
            name: "s".into(),
            display_name: "s".into(),
            fields: vec![amount],
        }],
    };
    let s = MapSpec { entries: vec![entry("Amount", col("a"))] };
    let mapper = Mapper::compile(&s, &m, &["a".to_string()], &CompileOptions::default()).unwrap();
    let rows: Vec<zcrm_readers::Row> = ["12.345", "-0.125", "7.5"]
        .iter()
        .enumerate()
        .map(|(i, a)| zcrm_readers::Row {
            pos: zcrm_readers::RowPos { row: i as u64 + 1, line: i as u64 + 2 },
            cells: [*a].into_iter().collect(),
            problem: None,
        })
        .collect();
    let chunk = Chunk {
        seq: 0,
        source: std::sync::Arc::new(zcrm_readers::SourceInfo { path: "x".into(), sheet: None }),
        rows,
    };
    let out = mapper.map_chunk(chunk, true);
    let texts: Vec<String> =
        out.rows.iter().map(|r| r.fields[0].1.wire_text().unwrap_or_default()).collect();
    assert_eq!(texts, ["12.35", "-0.13", "7.5"]);
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(out.warnings[0].to_string().contains("rounded to 12.35"), "{:?}", out.warnings);
}
