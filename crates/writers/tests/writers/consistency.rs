//! Exports while the module changes underneath, and interrupted exports.

use std::collections::HashSet;

use arrow::array::AsArray;
use arrow::datatypes::UInt64Type;
use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::params::WriteParams;
use zcrm_writers::{Since, export};

use crate::{client, env, fields, insert, read_parquet, spec};

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
    let (schema, batches, _) = read_parquet(&out);
    let idx = schema.index_of("LEADID").unwrap();
    let got: Vec<u64> = batches
        .iter()
        .flat_map(|b| b.column(idx).as_primitive::<UInt64Type>().values().to_vec())
        .collect();
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
