//! Exports while the module changes underneath, and interrupted exports.

use std::collections::HashSet;

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::params::WriteParams;
use zcrm_writers::{Since, export};

use crate::{client, env, fields, insert, read_csv, read_parquet, spec};

/// The LEADID column of the Parquet file at `path`, in file order.
fn parquet_ids(path: &std::path::Path) -> Vec<u64> {
    let (schema, batches, _) = read_parquet(path);
    let idx = schema.index_of("LEADID").unwrap();
    batches
        .iter()
        .flat_map(|b| b.column(idx).as_primitive::<Int64Type>().values().to_vec())
        .map(|id| u64::try_from(id).unwrap())
        .collect()
}

#[test]
fn records_modified_or_created_during_an_export_are_neither_lost_nor_doubled() {
    let env = env();
    let ids = insert(&env.client, 0, 1000);
    let meta = fields(&env);
    let writer = client(&env.emu, &env.dir.path().join("other"));
    let out = env.dir.path().join("out/moving.parquet");
    let mut page = 0usize;
    let mut new_ids = Vec::new();
    export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {
        // After every page: modify records before, at and after the cursor, and add new ones.
        let mut b = XmlDataBuilder::new("Leads", 100);
        for k in [page * 200, page * 200 + 199, page * 200 + 400, 999 - page] {
            let id = ids[k.min(999)].to_string();
            b.push_row([("Id", id.as_str()), ("Company", "Changed during export")]).unwrap();
        }
        writer
            .update_records("Leads", None, b.finish().unwrap(), &WriteParams::multi_row())
            .unwrap();
        new_ids.extend(insert(&writer, 5000 + page * 10, 3));
        page += 1;
    })
    .unwrap();
    let got = parquet_ids(&out);
    let unique: HashSet<u64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no record written twice");
    for id in &ids {
        assert!(unique.contains(&id.0), "record {id} lost");
    }
    // Records created during the export are appended at the end of the order: those created
    // before the last page was read are in the file (the last three came after it).
    assert!(new_ids[..new_ids.len() - 3].iter().all(|id| unique.contains(&id.0)));
    assert_eq!(got.len(), 1000 + new_ids.len() - 3);
}

#[test]
fn an_interrupted_export_leaves_no_file_that_looks_whole() {
    let env = env();
    insert(&env.client, 0, 500);
    let meta = fields(&env);
    let out = env.dir.path().join("out/cut.parquet");
    // The server's budget runs out after two more calls: the export stops on page 3.
    let err = {
        let mut pages = 0;
        export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {
            pages += 1;
            if pages == 2 {
                env.emu.set_faults(zcrm_emulator::FaultSpec::parse("error_rate=1,seed=1").unwrap());
            }
        })
        .unwrap_err()
    };
    assert!(err.to_string().contains("getRecords"), "{err}");
    assert!(!out.exists(), "no final file");
    let leftovers: Vec<_> =
        std::fs::read_dir(out.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.is_empty(), "no partial file either: {leftovers:?}");
}

/// Deleting a record whose page was already read moves every later record one place towards
/// the start, past the cursor. The export notices (the deleted ids, one call) and reads the
/// pages from there again, so a record that existed throughout is never lost, and none is
/// written twice; on a quiet module the check is the only extra call.
#[test]
fn records_deleted_during_an_export_do_not_push_others_past_the_cursor() {
    for ext in ["parquet", "csv"] {
        let env = env();
        let ids = insert(&env.client, 0, 1000);
        let meta = fields(&env);
        let writer = client(&env.emu, &env.dir.path().join("other"));
        let out = env.dir.path().join(format!("out/deleting.{ext}"));
        let mut page = 0usize;
        let mut deleted = Vec::new();
        let pages_before = env.emu.calls_today_of("getRecords");
        let summary = export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {
            // After each of the first pages: delete a record already written.
            if page < 3 {
                let id = ids[page * 200 + 10];
                writer.delete_record("Leads", id).unwrap();
                deleted.push(id);
            }
            page += 1;
        })
        .unwrap();
        let got: Vec<u64> = if ext == "parquet" {
            parquet_ids(&out)
        } else {
            read_csv(&out).1.iter().map(|r| r[0].parse().unwrap()).collect()
        };
        let unique: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(unique.len(), got.len(), "{ext}: no record written twice");
        let lost: Vec<_> = ids.iter().filter(|id| !unique.contains(&id.0)).collect();
        assert!(lost.is_empty(), "{ext}: records that existed throughout were lost: {lost:?}");
        assert!(summary.reread_passes >= 1, "{ext}: {summary:?}");
        assert_eq!(
            u64::from(summary.pages),
            env.emu.calls_today_of("getRecords") - pages_before,
            "{ext}: every page counted"
        );
        // The first pass: 997 records left by its end, so its fifth page was short.
        assert_eq!(summary.pages - summary.reread_pages, 5, "{ext}: {summary:?}");
    }
}

#[test]
fn a_quiet_module_costs_one_deletion_check_and_no_page_twice() {
    let env = env();
    insert(&env.client, 0, 450);
    let meta = fields(&env);
    let out = env.dir.path().join("out/quiet.parquet");
    let (pages, checks) =
        (env.emu.calls_today_of("getRecords"), env.emu.calls_today_of("getDeletedRecordIds"));
    let summary = export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {}).unwrap();
    assert_eq!((summary.reread_passes, summary.reread_pages), (0, 0));
    assert_eq!(env.emu.calls_today_of("getRecords") - pages, 3, "ceil(450 / 200)");
    assert_eq!(env.emu.calls_today_of("getDeletedRecordIds") - checks, 1);
}

#[test]
fn an_export_that_never_settles_fails_without_a_file() {
    let env = env();
    let ids = insert(&env.client, 0, 600);
    let meta = fields(&env);
    let writer = client(&env.emu, &env.dir.path().join("other"));
    let out = env.dir.path().join("out/busy.parquet");
    // Every page read is followed by the deletion of a record of the first page.
    let mut next = 0usize;
    let err = export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {
        writer.delete_record("Leads", ids[next]).unwrap();
        next += 1;
    })
    .unwrap_err();
    assert!(matches!(err, zcrm_writers::ExportError::Unsettled { passes: 5 }), "{err}");
    assert!(err.to_string().contains("no file was written"), "{err}");
    assert!(!out.exists());
}

/// Deletions anywhere (before and after the cursor, in the passes that read pages again too),
/// with modifications and new records mixed in: every record that existed from start to end is
/// written exactly once.
#[test]
fn scattered_deletions_during_an_export_lose_nothing() {
    let env = env();
    let ids = insert(&env.client, 0, 2000);
    let meta = fields(&env);
    let writer = client(&env.emu, &env.dir.path().join("other"));
    let out = env.dir.path().join("out/scattered.parquet");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut gone: HashSet<u64> = HashSet::new();
    let mut fetches = 0;
    let summary = export(&env.client, &meta, &spec(&env, &out, Since::All), |_| {
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
    assert_eq!(unique.len(), got.len(), "no record written twice");
    let lost: Vec<_> =
        ids.iter().filter(|id| !gone.contains(&id.0) && !unique.contains(&id.0)).collect();
    assert!(lost.is_empty(), "lost {lost:?} ({summary:?})");
    assert!(summary.reread_passes >= 1, "{summary:?}");
}
