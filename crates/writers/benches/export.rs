//! Export throughput without network: 1000 getRecords pages of 200 Leads (25 fields) decoded
//! and written to a Parquet file (one thread, and in parallel the way `zcrm export` does it), against the floor of quick-xml's bare event reader walking the
//! same bytes. Prints the process's peak RSS at the end. Inputs come from a deterministic
//! generator (no files are committed).

// A benchmark's inputs are generated here, so a failure is a bug in the bench itself.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zcrm_protocol::response::records::{OutField, encode_records_page};
use zcrm_protocol::{FieldMeta, FieldType, ModuleFields, RecordsPage, Section};
use zcrm_writers::ExportError;
use zcrm_writers::columns;
use zcrm_writers::pages::{ConvertedPage, convert_page};
use zcrm_writers::parquet_sink::{Codec, FileInfo, ParquetSink};
use zcrm_writers::sink::Sink;

const PAGES: usize = 1000;
const DISTINCT_PAGES: usize = 10;

fn field_list() -> Vec<(&'static str, FieldType)> {
    use FieldType as T;
    vec![
        ("Lead Owner", T::OwnerLookup),
        ("Company", T::Text),
        ("First Name", T::Text),
        ("Last Name", T::Text),
        ("Designation", T::Text),
        ("Email", T::Email),
        ("Phone", T::Phone),
        ("Mobile", T::Phone),
        ("Website", T::Website),
        ("Lead Source", T::PickList),
        ("Lead Status", T::PickList),
        ("Industry", T::PickList),
        ("No of Employees", T::Integer),
        ("Annual Revenue", T::Currency),
        ("Rating", T::PickList),
        ("Email Opt Out", T::Boolean),
        ("Created By", T::Text),
        ("Created Time", T::DateTime),
        ("Modified Time", T::DateTime),
        ("Street", T::Text),
        ("City", T::Text),
        ("Zip Code", T::Text),
        ("Description", T::TextArea),
        ("Visit Date", T::Date),
    ]
}

fn metadata() -> ModuleFields {
    let fields = field_list().into_iter().map(|(l, t)| FieldMeta::new(l, t)).collect();
    ModuleFields {
        module: "Leads".into(),
        sections: vec![Section {
            name: "Lead Information".into(),
            display_name: "Lead Information".into(),
            fields,
        }],
    }
}

fn value(label: &str, t: &FieldType, i: usize) -> String {
    match t {
        FieldType::Integer => ((i * 37) % 5000).to_string(),
        FieldType::Currency => format!("{}.{:02}", i * 13 % 10_000_000, i % 100),
        FieldType::Boolean => i.is_multiple_of(3).to_string(),
        FieldType::DateTime => format!(
            "2024-{:02}-{:02} {:02}:{:02}:{:02}",
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 60,
            (i * 7) % 60
        ),
        FieldType::Date => format!("2023-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        FieldType::Email => format!("person{i}@example.com"),
        FieldType::Phone => format!("+1 415 555 {:04}", i % 10_000),
        FieldType::PickList => {
            ["Advertisement", "Cold Call", "Partner", "Web Download"][i % 4].to_owned()
        }
        FieldType::TextArea => {
            format!("Met at the booth on day {i}; asked about pricing & volume discounts.")
        }
        _ => format!("{label} {i}"),
    }
}

fn pages() -> Vec<String> {
    let fields = field_list();
    (0..DISTINCT_PAGES)
        .map(|p| {
            let rows: Vec<Vec<(String, String, bool)>> = (0..200)
                .map(|r| {
                    let i = p * 200 + r;
                    let mut row = vec![
                        ("LEADID".to_owned(), (900_000_000_000_000 + i).to_string(), true),
                        ("SMOWNERID".to_owned(), "900000000000002".to_owned(), true),
                    ];
                    row.extend(
                        fields.iter().map(|(l, t)| ((*l).to_owned(), value(l, t, i), false)),
                    );
                    row
                })
                .collect();
            let out: Vec<Vec<OutField<'_>>> = rows
                .iter()
                .map(|r| r.iter().map(|(l, v, b)| OutField::text(l, Some(v), *b)).collect())
                .collect();
            encode_records_page("/crm/private/xml/Leads/getRecords", "Leads", &out).unwrap()
        })
        .collect()
}

/// The Parquet sink `export` opens for Leads (the columns of `meta`, the ids seen in pages).
fn parquet_sink(dir: &std::path::Path, meta: &ModuleFields, codec: Codec) -> Box<dyn Sink> {
    let mut cols = columns::plan("LEADID", meta, None).unwrap();
    columns::add_seen_ids(&mut cols, ["SMOWNERID"]);
    let info = FileInfo {
        module: "Leads",
        timezone: jiff::tz::TimeZone::get("America/Los_Angeles").unwrap(),
        exported_at: "2026-01-01T00:00:00Z",
        since: None,
    };
    Box::new(ParquetSink::create(&dir.join("bench.parquet"), cols, &info, codec).unwrap())
}

fn export_pages(pages: &[String], dir: &std::path::Path, meta: &ModuleFields) -> u64 {
    export_pages_with(pages, dir, meta, Codec::Zstd)
}

fn export_pages_with(
    pages: &[String],
    dir: &std::path::Path,
    meta: &ModuleFields,
    codec: Codec,
) -> u64 {
    let mut sink = parquet_sink(dir, meta, codec);
    let keep = vec![true; 200];
    let mut n = 0u64;
    for i in 0..PAGES {
        let page = RecordsPage::decode(pages[i % DISTINCT_PAGES].as_bytes()).unwrap();
        n += sink.write_page(&page, &keep).unwrap() as u64;
    }
    sink.finish().unwrap();
    n
}

/// What `export` does with Parquet: each page body decoded and converted on rayon's threads
/// (at most 2 × threads pages in flight), batches written in page order by the sink's writer
/// thread.
fn export_pages_parallel(pages: &[String], dir: &std::path::Path, meta: &ModuleFields) -> u64 {
    let mut sink = parquet_sink(dir, meta, Codec::Zstd);
    let conv = sink.batch_converter().unwrap();
    let mut n = 0u64;
    let write = |done: Result<Result<ConvertedPage, ExportError>, _>, sink: &mut Box<dyn Sink>| {
        let page = done.unwrap().unwrap();
        let keep = vec![true; page.keys.len()];
        sink.write_batch(page.batch.unwrap(), &keep).unwrap() as u64
    };
    zcrm_ordered::scope(zcrm_ordered::pool_window(), |pool| {
        for i in 0..PAGES {
            // The body arrives owned, as from the network.
            let body = pages[i % DISTINCT_PAGES].as_bytes().to_vec();
            let conv = conv.clone();
            if let Some(done) = pool.submit(move || {
                convert_page(&conv, "LEADID", &body, &|b| zcrm_protocol::RecordsPage::decode(b))
            }) {
                n += write(done, &mut sink);
            }
        }
        while let Some(done) = pool.oldest() {
            n += write(done, &mut sink);
        }
    });
    sink.finish().unwrap();
    n
}

fn bench(c: &mut Criterion) {
    let pages = pages();
    let bytes: u64 = (0..PAGES).map(|i| pages[i % DISTINCT_PAGES].len() as u64).sum();
    let meta = metadata();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("export_1000_pages_of_200_leads");
    g.sample_size(10);
    g.throughput(Throughput::Elements((PAGES * 200) as u64));
    g.bench_function("floor_quick_xml_events", |b| {
        b.iter(|| {
            let mut events = 0usize;
            for i in 0..PAGES {
                let mut r = quick_xml::Reader::from_reader(pages[i % DISTINCT_PAGES].as_bytes());
                loop {
                    match r.read_event() {
                        Ok(quick_xml::events::Event::Eof) => break,
                        Ok(_) => events += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            black_box(events)
        })
    });
    g.bench_function("decode_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for i in 0..PAGES {
                n += RecordsPage::decode(pages[i % DISTINCT_PAGES].as_bytes()).unwrap().len();
            }
            black_box(n)
        })
    });
    g.bench_function("decode_to_parquet_uncompressed", |b| {
        b.iter(|| black_box(export_pages_with(&pages, dir.path(), &meta, Codec::None)))
    });
    g.bench_function("decode_to_parquet_zstd", |b| {
        b.iter(|| black_box(export_pages(&pages, dir.path(), &meta)))
    });
    g.bench_function("decode_to_parquet_zstd_parallel (what zcrm export does)", |b| {
        b.iter(|| {
            let n = export_pages_parallel(&pages, dir.path(), &meta);
            assert_eq!(n, (PAGES * 200) as u64);
            black_box(n)
        })
    });
    g.finish();
    eprintln!("input: {PAGES} pages, {} MB of XML", bytes / 1_000_000);
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        eprintln!("peak RSS of the bench process: {}", line.trim_start_matches("VmHWM:").trim());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
