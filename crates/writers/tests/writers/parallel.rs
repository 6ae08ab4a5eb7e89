//! Several pages in flight: the same files as one page at a time, and nothing lost or written
//! twice while the module changes.

use std::collections::HashSet;
use std::path::Path;

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::params::WriteParams;
use zcrm_protocol::value::parse_datetime;
use zcrm_writers::{ExportSpec, Since, export};

use crate::{Env, client, env, fields, insert, read_csv, read_parquet, spec, start_in};

/// `spec` with `n` pages in flight.
fn spec_n(env: &Env, to: &Path, since: Since, n: u32) -> ExportSpec {
    ExportSpec { reads_in_flight: n, ..spec(env, to, since) }
}

/// Every batch of a Parquet file, for comparison.
fn batches(path: &Path) -> Vec<arrow::record_batch::RecordBatch> {
    read_parquet(path).1
}

fn parquet_ids(path: &Path) -> Vec<u64> {
    let (schema, batches, _) = read_parquet(path);
    let idx = schema.index_of("LEADID").unwrap();
    batches
        .iter()
        .flat_map(|b| b.column(idx).as_primitive::<Int64Type>().values().to_vec())
        .map(|id| u64::try_from(id).unwrap())
        .collect()
}

/// Copies the folder `from` into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Two emulators holding the very same records (one store, copied while stopped), and the
/// records' ids.
fn twins(records: usize) -> (Env, Env, Vec<zcrm_protocol::RecordId>) {
    let Env { emu, dir, client: c } = env();
    let ids = insert(&c, 0, records);
    drop(c);
    emu.stop();
    let other = tempfile::tempdir().unwrap();
    copy_dir(&dir.path().join("emu"), &other.path().join("emu"));
    std::fs::copy(dir.path().join("schema.toml"), other.path().join("schema.toml")).unwrap();
    let [a, b] = [dir, other].map(|dir| {
        let emu = start_in(dir.path());
        let client = client(&emu, dir.path());
        Env { emu, dir, client }
    });
    (a, b, ids)
}

/// Eleven pages with 1, 4 and 8 in flight: the same rows in the same order, in CSV byte for
/// byte, in Parquet batch for batch; at most `n - 1` pages asked for past the last one.
#[test]
fn pages_in_flight_write_the_same_files_as_one_page_at_a_time() {
    let env = env();
    insert(&env.client, 0, 2_100);
    let meta = fields(&env);
    for ext in ["csv", "parquet"] {
        let one = env.dir.path().join(format!("out/one.{ext}"));
        let first = export(&env.client, &meta, &spec_n(&env, &one, Since::All, 1), |_| {}).unwrap();
        assert_eq!(first.pages, 11);
        for n in [4, 8] {
            let many = env.dir.path().join(format!("out/many{n}.{ext}"));
            let before = env.emu.calls_today_of("getRecords");
            let s =
                export(&env.client, &meta, &spec_n(&env, &many, Since::All, n), |_| {}).unwrap();
            assert_eq!(s.records, 2_100);
            assert_eq!(u64::from(s.pages), env.emu.calls_today_of("getRecords") - before);
            assert!((11..11 + n).contains(&s.pages), "{n} in flight: {} pages", s.pages);
            assert_eq!(s.reread_passes, 0, "a quiet module is read once");
            if ext == "csv" {
                assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&many).unwrap(), "{n}");
            } else {
                assert_eq!(batches(&one), batches(&many), "{n} in flight");
            }
        }
    }
}

/// A whole export into a destination it wrote before asks for its first round of pages at
/// once (the previous run's size says how many; the scheduler's own test shows the round), a
/// first export asks for its first page alone, so an export of one page costs one call; the
/// files are the same as one page at a time either way, and a module grown since its last
/// export is read whole.
#[test]
fn a_second_export_to_the_same_file_is_the_same_file_with_its_first_round_at_once() {
    let env = env();
    insert(&env.client, 0, 150);
    let meta = fields(&env);
    let to = env.dir.path().join("out/small.csv");
    let first = export(&env.client, &meta, &spec_n(&env, &to, Since::All, 4), |_| {}).unwrap();
    assert_eq!(first.pages, 1, "one page, one call");
    insert(&env.client, 150, 450);
    let one = env.dir.path().join("out/one.csv");
    export(&env.client, &meta, &spec_n(&env, &one, Since::All, 1), |_| {}).unwrap();
    // 600 records: three full pages and an empty fourth, at most 3 asked for past it.
    for _ in 0..2 {
        let again = export(&env.client, &meta, &spec_n(&env, &to, Since::All, 4), |_| {}).unwrap();
        assert_eq!(again.records, 600);
        assert!((4..=7).contains(&again.pages), "{} pages", again.pages);
        assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&to).unwrap());
    }
}

/// An incremental export during which a written record and a record far ahead of the cursor
/// are deleted writes the same part, deleted ids and rows in the same order with 4 pages in
/// flight as with 1 (two emulators holding the same store).
#[test]
fn an_incremental_export_with_deletions_during_it_is_the_same_with_four_in_flight() {
    let (a, b, ids) = twins(2_100);
    let since = Since::Time(parse_datetime("2000-01-01 00:00:00").unwrap());
    let mut outputs = Vec::new();
    for (env, n) in [(&a, 1), (&b, 4)] {
        let meta = fields(env);
        let writer = client(&env.emu, &env.dir.path().join("other"));
        let out = env.dir.path().join("out/leads.csv");
        let mut pages = 0;
        let s = export(&env.client, &meta, &spec_n(env, &out, since.clone(), n), |_| {
            // After the first page (the only one read so far whatever the window): a record
            // it holds, and one of the last page.
            if pages == 0 {
                writer.delete_record("Leads", ids[10]).unwrap();
                writer.delete_record("Leads", ids[2_090]).unwrap();
            }
            pages += 1;
        })
        .unwrap();
        assert!(s.reread_passes >= 1, "{n} in flight: {s:?}");
        assert_eq!(s.deleted, 2, "{n} in flight: {s:?}");
        let rows = read_csv(&out).1;
        let got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        let unique: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(unique.len(), got.len(), "{n} in flight: no record twice");
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(unique.contains(&id.0), i != 2_090, "{n} in flight: record {i}");
        }
        let deleted = std::fs::read(s.deleted_path.clone().unwrap()).unwrap();
        outputs.push((std::fs::read(&out).unwrap(), deleted));
    }
    assert!(outputs[0] == outputs[1], "the same part and deleted ids with 1 and 4 in flight");
}

/// Deletions anywhere, modifications and new records while 4 or 8 pages are in flight: every
/// record that existed from start to end is written exactly once.
#[test]
fn scattered_deletions_with_pages_in_flight_lose_nothing() {
    for n in [4, 8] {
        let env = env();
        let ids = insert(&env.client, 0, 2_000);
        let meta = fields(&env);
        let writer = client(&env.emu, &env.dir.path().join("other"));
        let out = env.dir.path().join("out/scattered.parquet");
        let mut state = 0x2545_f491_4f6c_dd1du64 + u64::from(n);
        let mut rand = move |k: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % k as u64) as usize
        };
        let mut gone: HashSet<u64> = HashSet::new();
        let mut fetches = 0;
        let s = export(&env.client, &meta, &spec_n(&env, &out, Since::All, n), |_| {
            fetches += 1;
            if fetches > 14 {
                return;
            }
            for _ in 0..1 + rand(3) {
                let id = ids[rand(ids.len())];
                if gone.insert(id.0) {
                    writer.delete_record("Leads", id).unwrap();
                }
            }
            let mut b = XmlDataBuilder::new("Leads", 100);
            let id = ids[rand(ids.len())].to_string();
            b.push_row([("Id", id.as_str()), ("Company", "Changed during export")]).unwrap();
            writer
                .update_records("Leads", None, b.finish().unwrap(), &WriteParams::multi_row())
                .unwrap();
            insert(&writer, 9000 + fetches * 10, 2);
        })
        .unwrap();
        let got = parquet_ids(&out);
        let unique: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(unique.len(), got.len(), "{n} in flight: no record written twice");
        let lost: Vec<_> =
            ids.iter().filter(|id| !gone.contains(&id.0) && !unique.contains(&id.0)).collect();
        assert!(lost.is_empty(), "{n} in flight: lost {lost:?} ({s:?})");
        assert!(s.reread_passes >= 1, "{s:?}");
    }
}

/// An incremental export whose filter gains records while pages are in flight (records
/// modified during it enter the result before the cursor and push later ones right): every
/// record of the result from start to end is written exactly once.
#[test]
fn records_entering_an_incremental_export_with_pages_in_flight_lose_nothing() {
    let env = env();
    let ids = insert(&env.client, 0, 2_000);
    env.emu.advance_secs(3_600).unwrap();
    let since = Since::Time(env.emu.org_now());
    env.emu.advance_secs(60).unwrap();
    // The result: every other record, modified after `since`.
    let result: Vec<_> = ids.iter().step_by(2).copied().collect();
    for chunk in result.chunks(100) {
        let mut b = XmlDataBuilder::new("Leads", 100);
        for id in chunk {
            let id = id.to_string();
            b.push_row([("Id", id.as_str()), ("Company", "In the result")]).unwrap();
        }
        env.client
            .update_records("Leads", None, b.finish().unwrap(), &WriteParams::multi_row())
            .unwrap();
    }
    let meta = fields(&env);
    let writer = client(&env.emu, &env.dir.path().join("other"));
    let out = env.dir.path().join("out/entering.csv");
    let mut page = 0usize;
    let s = export(&env.client, &meta, &spec_n(&env, &out, since, 4), |_| {
        // Records outside the result, before and around the cursor, enter it.
        if page < 4 {
            let mut b = XmlDataBuilder::new("Leads", 100);
            for k in [page * 400 + 1, page * 400 + 399, page * 400 + 401] {
                let id = ids[k.min(1_999)].to_string();
                b.push_row([("Id", id.as_str()), ("Company", "Entered")]).unwrap();
            }
            writer
                .update_records("Leads", None, b.finish().unwrap(), &WriteParams::multi_row())
                .unwrap();
        }
        page += 1;
    })
    .unwrap();
    let got: Vec<u64> = read_csv(&out).1.iter().map(|r| r[0].parse().unwrap()).collect();
    let unique: HashSet<u64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no record written twice");
    let lost: Vec<_> = result.iter().filter(|id| !unique.contains(&id.0)).collect();
    assert!(lost.is_empty(), "lost {lost:?} ({s:?})");
}
