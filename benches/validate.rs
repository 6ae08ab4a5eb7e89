//! `zcrm validate` throughput on a generated 25-column Leads file, against the floor of the
//! csv crate counting the same file's records with a `ByteRecord` loop (single core); for the
//! XLSX file, against calamine's streaming cell reader walking every cell of the same sheet
//! and doing nothing with it (the reader `zcrm validate` is built on).
//!
//! `ZCRM_BENCH_ROWS` (default 1,000,000) sets the CSV size; the XLSX case is 100,000 rows.
//! Peak memory (VmHWM) is printed after each group; the floor runs first so it does not hide
//! the validation's peak.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zcrm_gen::{LeadsSpec, leads_map_toml, write_leads_csv, write_leads_xlsx};

fn peak_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn data_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file(ext: &str, rows: u64) -> PathBuf {
    let p = data_dir().join(format!("leads-{rows}.{ext}"));
    if !p.exists() {
        let spec = LeadsSpec { rows, seed: 42, bad_fraction: 0.01 };
        let tmp = p.with_extension(format!("tmp.{ext}"));
        match ext {
            "csv" => write_leads_csv(&tmp, spec).unwrap(),
            _ => write_leads_xlsx(&tmp, spec).unwrap(),
        };
        std::fs::rename(&tmp, &p).unwrap();
    }
    p
}

fn pipeline(dir: &Path, source: &Path) -> zcrm_pipeline::Pipeline {
    let text = format!(
        "[state]\ndir = \"{state}\"\n[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"{src}\"\nkey = \"lead_id\"\nrejects = \"{rej}\"\n{map}",
        state = data_dir().join("state").display(),
        src = source.display(),
        rej = dir.join("leads.rejects.csv").display(),
        map = leads_map_toml()
    );
    let p = dir.join("bench.toml");
    std::fs::write(&p, text).unwrap();
    zcrm_pipeline::load(&p).unwrap()
}

/// The metadata cache of `p`'s state dir (filled by the first validate, outside the measure).
fn metadata(p: &zcrm_pipeline::Pipeline) -> zcrm_connect::CachedMetadata {
    zcrm_connect::CachedMetadata::new(&p.connection, &p.state_dir, "bench").unwrap()
}

fn floor(path: &Path) -> u64 {
    let mut r = csv::ReaderBuilder::new().from_path(path).unwrap();
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while r.read_byte_record(&mut rec).unwrap() {
        n += 1;
    }
    n
}

/// Every cell of the first sheet through calamine's streaming reader; returns the cell count.
fn xlsx_floor(path: &Path) -> u64 {
    use calamine::Reader as _;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let mut cells = wb.worksheet_cells_reader(&sheet).unwrap();
    let mut n = 0;
    while let Some(cell) = cells.next_cell().unwrap() {
        std::hint::black_box(cell.get_value());
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let rows: u64 =
        std::env::var("ZCRM_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let csv = file("csv", rows);
    let bytes = std::fs::metadata(&csv).unwrap().len();
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), &csv);
    // Fetch (or read the cached) metadata once, outside the measurement.
    zcrm_pipeline::validate(&p, &[], &mut metadata(&p)).unwrap();

    let mut g = c.benchmark_group(format!("leads-csv-{rows}x25"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes(bytes));
    g.bench_function("floor: csv ByteRecord count (1 core)", |b| {
        b.iter(|| assert_eq!(floor(&csv), rows));
    });
    eprintln!("peak memory after the floor: {:.0} MB", peak_mb());
    g.bench_function("zcrm-readers only (blocks cut and decoded)", |b| {
        b.iter(|| {
            let r = zcrm_readers::open(&csv, &Default::default()).unwrap();
            let n: u64 = r.blocks().map(|b| b.unwrap().decode().len() as u64).sum();
            assert_eq!(n, rows);
        });
    });
    g.bench_function("zcrm validate (read + map + validate + rejects)", |b| {
        b.iter(|| {
            let s = zcrm_pipeline::validate(&p, &[], &mut metadata(&p)).unwrap();
            assert_eq!(s[0].rows_read, rows);
        });
    });
    g.finish();
    eprintln!("peak memory after validate: {:.0} MB", peak_mb());

    let xlsx = file("xlsx", 100_000);
    let px = pipeline(dir.path(), &xlsx);
    zcrm_pipeline::validate(&px, &[], &mut metadata(&px)).unwrap();
    let mut g = c.benchmark_group("leads-xlsx-100000x25");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(100_000));
    g.bench_function("floor: calamine cell reader, every cell (1 core)", |b| {
        b.iter(|| assert!(xlsx_floor(&xlsx) > 100_000));
    });
    g.bench_function("zcrm validate", |b| {
        b.iter(|| {
            assert_eq!(
                zcrm_pipeline::validate(&px, &[], &mut metadata(&px)).unwrap()[0].rows_read,
                100_000
            )
        });
    });
    g.finish();
    eprintln!("peak memory after the XLSX validate: {:.0} MB", peak_mb());
}

criterion_group!(benches, bench);
criterion_main!(benches);
