//! Exports through Bulk Read (v8): the same Parquet file as the record API's for the same
//! records, row by row and type by type, with jobs paged by `next_page_token`; an incremental
//! bulk export picks up only what changed (and the deletions); a download cut short is made
//! again; a job that fails is an error naming it.

use std::path::Path;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use zcrm_emulator::{EmulatorHandle, FaultSpec};
use zcrm_protocol::params::WriteParams;

use crate::harness::Workdir;
use crate::v8::{credits, emulator, pipeline, workdir};

/// Rows a Bulk Read job returns in these tests: the 1,500 demo leads take three jobs.
const PAGE: u32 = 500;

fn bulk_emulator(w: &Workdir) -> EmulatorHandle {
    emulator(w.path(), |mut c| {
        c.seed_demo = true;
        c.bulk_job_delay = Duration::ZERO;
        c.bulk_read_page = PAGE;
        c
    })
}

/// A file's rows as one batch (its schema without the file's key-value metadata).
fn parquet(path: &Path) -> RecordBatch {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let b = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(b.schema().fields().clone()));
    let batches: Vec<RecordBatch> = b.build().unwrap().map(Result::unwrap).collect();
    let all = arrow::compute::concat_batches(&schema, &batches).unwrap();
    RecordBatch::try_new(schema, all.columns().to_vec()).unwrap()
}

fn step(name: &str, to: &str, extra: &str) -> String {
    format!("\n[[steps]]\nname = \"{name}\"\nexport = \"Leads\"\nto = \"{to}\"\n{extra}\n")
}

/// Bulk jobs of the emulator: `(read jobs, their states)`.
fn read_jobs(emu: &EmulatorHandle) -> Vec<String> {
    let mut s = std::net::TcpStream::connect(emu.addr()).unwrap();
    use std::io::{Read, Write};
    s.write_all(
        b"GET /__emulator/bulk-jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(body[body.find("\r\n\r\n").unwrap() + 4..].trim()).unwrap();
    let jobs = json.as_array().cloned().or_else(|| json["jobs"].as_array().cloned()).unwrap();
    jobs.iter()
        .filter(|j| j["kind"] == "read")
        .map(|j| j["state"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_bulk_export_equals_the_record_api_export_row_by_row_and_type_by_type() {
    let w = workdir();
    let emu = bulk_emulator(&w);
    let steps = step("records", "out/records.parquet", "method = \"records\"")
        + &step("bulk", "out/bulk.parquet", "method = \"bulk\"")
        + &step("bulk_csv", "out/csv/bulk.csv", "method = \"bulk\"")
        + &step("records_csv", "out/csv/records.csv", "method = \"records\"");
    let p = pipeline(&w, &emu, "v8", "", &steps);
    let before = credits(&emu).0;
    w.expect(&["run", &p, "--step", "bulk"], 0);
    let bulk_credits = credits(&emu).0 - before;
    // Three jobs of 50 credits (paged by token), one users call; the metadata call the plan
    // of a run makes first is the only other one.
    assert_eq!(read_jobs(&emu).len(), 3, "1,500 leads in jobs of {PAGE}");
    assert!((151..=153).contains(&bulk_credits), "credits: {bulk_credits}");
    emu.advance_secs(61).unwrap();
    w.expect(&["run", &p, "--step", "records", "--step", "records_csv"], 0);
    emu.advance_secs(61).unwrap();
    w.expect(&["run", &p, "--step", "bulk_csv"], 0);

    let a = parquet(&w.path().join("out/records.parquet"));
    let b = parquet(&w.path().join("out/bulk.parquet"));
    assert_eq!(a.num_rows(), 1_500);
    assert_eq!(a.schema(), b.schema(), "same columns, same types");
    for (i, f) in a.schema().fields().iter().enumerate() {
        assert_eq!(a.column(i), b.column(i), "column {}", f.name());
    }
    let csv = |f: &str| std::fs::read_to_string(w.path().join(f)).unwrap();
    assert_eq!(
        csv("out/csv/records.csv"),
        csv("out/csv/bulk.csv"),
        "the CSV exports are equal too"
    );
}

#[test]
fn an_incremental_bulk_export_writes_only_the_records_changed_and_lists_the_deleted() {
    let w = workdir();
    let emu = bulk_emulator(&w);
    let p = pipeline(
        &w,
        &emu,
        "v8",
        "",
        &step("inc", "out/inc/", "method = \"bulk\"\nsince = \"last-run\""),
    );
    w.expect(&["run", &p], 0);
    let first = parquet(&w.path().join("out/inc/part-0001.parquet"));
    assert_eq!(first.num_rows(), 1_500);
    let ids = first.column(0).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap();
    let (changed, gone) = ([ids.value(3), ids.value(700), ids.value(1_499)], ids.value(10));

    // Two minutes on: past the clock-skew margin of the watermark.
    emu.advance_secs(120).unwrap();
    let c = crate::crm::check_client(&emu);
    for id in changed {
        let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">Changed</FL></row></Leads>";
        c.update_records(
            "Leads",
            Some(zcrm_protocol::RecordId(id as u64)),
            xml.into(),
            &WriteParams::default(),
        )
        .unwrap();
    }
    c.delete_record("Leads", zcrm_protocol::RecordId(gone as u64)).unwrap();
    let jobs_before = read_jobs(&emu).len();
    w.expect(&["run", &p], 0);
    assert_eq!(read_jobs(&emu).len(), jobs_before + 1, "one job for the changes");
    let second = parquet(&w.path().join("out/inc/part-0002.parquet"));
    let got = second.column(0).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap();
    let mut got: Vec<i64> = got.values().to_vec();
    got.sort_unstable();
    let mut want = changed.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "only the changed records");
    let deleted = std::fs::read_dir(w.path().join("out/inc.deleted"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(deleted.contains(&gone.to_string()), "{deleted}");
}

#[test]
fn a_download_cut_short_is_made_again_and_a_failed_job_is_an_error_naming_it() {
    let w = workdir();
    let emu = bulk_emulator(&w);
    let p = pipeline(
        &w,
        &emu,
        "v8",
        "",
        &(step("bulk", "out/bulk.parquet", "method = \"bulk\"")
            + &step("records", "out/records.parquet", "method = \"records\"")),
    );
    emu.set_faults(FaultSpec { bulk_cut: 0.5, seed: 3, ..FaultSpec::default() });
    w.expect(&["run", &p], 0);
    assert!(emu.faults_injected().bulk_cuts > 0, "a download was cut");
    let (a, b) = (
        parquet(&w.path().join("out/records.parquet")),
        parquet(&w.path().join("out/bulk.parquet")),
    );
    assert_eq!(a, b, "the export is whole despite the cuts");

    emu.advance_secs(61).unwrap();
    emu.set_faults(FaultSpec { bulk_fail: 1.0, ..FaultSpec::default() });
    let out = w.run(&["run", &p, "--step", "bulk"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let job = read_jobs(&emu);
    assert_eq!(job.last().map(String::as_str), Some("FAILURE"), "{job:?}");
    assert!(err.contains("bulk read job") && err.contains("failed"), "{err}");
}
