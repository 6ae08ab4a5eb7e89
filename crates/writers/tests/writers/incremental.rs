//! `--since last-run`: a watermark per module, a new part per run, and deleted ids beside it.

use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::params::WriteParams;
use zcrm_writers::{Since, export};

use crate::{env, fields, insert, read_csv, read_parquet};

#[test]
fn incremental_parts_with_deletions() {
    let env = env();
    let ids = insert(&env.client, 0, 250);
    let meta = fields(&env);
    let folder = env.dir.path().join("out/leads/");
    let s = crate::spec(&env, &folder, Since::LastRun);
    let first = export(&env.client, &meta, &s, |_| {}).unwrap();
    assert_eq!(first.records, 250);
    assert!(first.path.as_ref().unwrap().ends_with("part-0001.parquet"));

    // The next run must see only what changed after the watermark. The watermark is the start
    // of the run minus a minute; move the emulator's clock so the changes are clearly later.
    env.emu.advance_days(1).unwrap();
    let mut b = XmlDataBuilder::new("Leads", 100);
    let changed = ids[10].to_string();
    b.push_row([("Id", changed.as_str()), ("Company", "Changed")]).unwrap();
    env.client
        .update_records("Leads", None, b.finish().unwrap(), &WriteParams::multi_row())
        .unwrap();
    env.client.delete_record("Leads", ids[20]).unwrap();
    let added = insert(&env.client, 1000, 2);

    let second = export(&env.client, &meta, &s, |_| {}).unwrap();
    assert_eq!(second.records, 3, "one modified and two new records");
    let part = second.path.clone().unwrap();
    assert!(part.ends_with("part-0002.parquet"), "{part:?}");
    let (_, batches, kv) = read_parquet(&part);
    assert!(kv.contains_key("zcrm.since"));
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    assert_eq!(second.deleted, 1);
    let (h, rows) = read_csv(second.deleted_path.as_ref().unwrap());
    assert_eq!(h, ["id"]);
    assert_eq!(rows, [vec![ids[20].to_string()]]);
    assert!(added.len() == 2);

    // Nothing changed since: no empty part is written.
    let third = export(&env.client, &meta, &s, |_| {}).unwrap();
    assert_eq!(third.records, 0);
    assert!(third.path.is_none());
}
