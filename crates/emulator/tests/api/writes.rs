use super::harness::*;
use zcrm_protocol::{RowOutcome, WriteResponse, XmlDataBuilder};

fn rows(body: &str) -> Vec<zcrm_protocol::RowResult> {
    match WriteResponse::decode(body.as_bytes()).unwrap() {
        WriteResponse::Rows(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn insert_v4_per_row_results_and_validation() {
    let env = start();
    let xml = "<Leads>\
        <row no=\"1\"><FL val=\"Last Name\">Doe</FL><FL val=\"Company\">Acme &amp; Sons</FL><FL val=\"Email\">jd@example.com</FL></row>\
        <row no=\"2\"><FL val=\"Company\">NoName</FL></row>\
        <row no=\"3\"><FL val=\"Last Name\">X</FL><FL val=\"Company\">Y</FL><FL val=\"No of Employees\">many</FL></row>\
        <row no=\"4\"><FL val=\"Last Name\">X</FL><FL val=\"Company\">Y</FL><FL val=\"Email\">not-an-email</FL></row>\
        <row no=\"5\"><FL val=\"Last Name\">Z</FL><FL val=\"Company\">Y</FL><FL val=\"Created Time\">2001-01-01 00:00:00</FL><FL val=\"Lead Source\">Carrier Pigeon</FL></row>\
        </Leads>";
    let r = rows(&env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", xml)]));
    assert_eq!(r.len(), 5);
    assert!(matches!(r[0].outcome, RowOutcome::Added(_)));
    match &r[1].outcome {
        RowOutcome::Failed(e) => {
            assert_eq!(e.code.as_str(), "4891");
            assert_eq!(e.message, "Mandatory Field Missing : Last Name");
        }
        o => panic!("{o:?}"),
    }
    match &r[2].outcome {
        RowOutcome::Failed(e) => {
            assert_eq!(e.code.as_str(), "4832");
            assert_eq!(e.message, "You have given a wrong value for the field : No of Employees");
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(r[3].outcome.code(), "4832");
    // Read-only fields ignored, unknown picklist values accepted.
    let id = r[4].outcome.detail().unwrap().id.0.to_string();
    let body = env.get("Leads", "getRecordById", &[("id", &id)]);
    let p = page(&body);
    let row = p.rows().next().unwrap();
    assert_eq!(row.text("Lead Source"), Some("Carrier Pigeon"));
    assert_ne!(row.text("Created Time"), Some("2001-01-01 00:00:00"));
    assert_eq!(row.text("Lead Owner"), Some("Ann Owner"));
    assert_eq!(env.emu.record_counts()["Leads"], 2);
}

#[test]
fn single_insert_v1_is_all_or_nothing() {
    let env = start();
    let ok = env.post("Leads", "insertRecords", &[("xmlData", "<Leads><row no=\"1\"><FL val=\"Last Name\">A</FL><FL val=\"Company\">B</FL></row></Leads>")]);
    match WriteResponse::decode(ok.as_bytes()).unwrap() {
        WriteResponse::Single { message, details } => {
            assert_eq!(message, "Record(s) added successfully");
            assert_eq!(details.len(), 1);
            assert!(details[0].id.0 >= 100_000_000_000_000);
            assert_eq!(details[0].get("Created By"), Some("Ann Owner"));
        }
        o => panic!("{o:?}"),
    }
    let bad = env.post(
        "Leads",
        "insertRecords",
        &[("xmlData", "<Leads><row no=\"1\"><FL val=\"Last Name\">C</FL><FL val=\"Company\">D</FL></row><row no=\"2\"><FL val=\"Company\">E</FL></row></Leads>")],
    );
    assert_eq!(code_of(&bad), "4401");
    assert_eq!(env.emu.record_counts()["Leads"], 1);
    // The failed call's first row is rolled back, but the call itself still counts.
    assert_eq!(env.emu.calls_today(), 2);
    // The ids it took went with it; the next record still gets a new one.
    let ids = env.insert_leads(2, "after");
    let first = match WriteResponse::decode(ok.as_bytes()).unwrap() {
        WriteResponse::Single { details, .. } => details[0].id.0,
        other => panic!("{other:?}"),
    };
    assert!(ids[0] > first && ids[1] > ids[0], "{first} {ids:?}");
}

#[test]
fn duplicate_check_skip_and_update() {
    let env = start();
    let row = |last: &str| {
        format!(
            "<Leads><row no=\"1\"><FL val=\"Last Name\">{last}</FL><FL val=\"Company\">Acme</FL><FL val=\"Email\">Dup@Example.com</FL></row></Leads>"
        )
    };
    let first =
        rows(&env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", &row("One"))]));
    let id = first[0].outcome.detail().unwrap().id;
    let dup = rows(&env.post(
        "Leads",
        "insertRecords",
        &[("version", "4"), ("duplicateCheck", "1"), ("xmlData", &row("Two"))],
    ));
    assert!(matches!(&dup[0].outcome, RowOutcome::Duplicate(d) if d.id == id));
    let upd = rows(&env.post(
        "Leads",
        "insertRecords",
        &[("version", "4"), ("duplicateCheck", "2"), ("xmlData", &row("Three"))],
    ));
    assert!(matches!(&upd[0].outcome, RowOutcome::Updated(d) if d.id == id));
    let single =
        env.post("Leads", "insertRecords", &[("duplicateCheck", "1"), ("xmlData", &row("Four"))]);
    match WriteResponse::decode(single.as_bytes()).unwrap() {
        WriteResponse::Single { message, details } => {
            assert_eq!(message, "Record(s) already exists");
            assert_eq!(details[0].id, id);
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(env.emu.record_counts()["Leads"], 1);
    let p = page(&env.get("Leads", "getRecordById", &[("id", &id.to_string())]));
    assert_eq!(p.rows().next().unwrap().text("Last Name"), Some("Three"));
}

#[test]
fn lookups_must_exist_and_fill_the_name() {
    let env = start();
    let acc = rows(&env.post(
        "Accounts",
        "insertRecords",
        &[
            ("version", "4"),
            (
                "xmlData",
                "<Accounts><row no=\"1\"><FL val=\"Account Name\">Zillum</FL></row></Accounts>",
            ),
        ],
    ));
    let acc_id = acc[0].outcome.detail().unwrap().id.to_string();
    let xml = format!(
        "<Contacts><row no=\"1\"><FL val=\"Last Name\">Doe</FL><FL val=\"ACCOUNTID\">{acc_id}</FL></row>\
         <row no=\"2\"><FL val=\"Last Name\">Roe</FL><FL val=\"ACCOUNTID\">900000000099999</FL></row></Contacts>"
    );
    let r = rows(&env.post("Contacts", "insertRecords", &[("version", "4"), ("xmlData", &xml)]));
    let cid = r[0].outcome.detail().unwrap().id.to_string();
    assert_eq!(r[1].outcome.code(), "4832");
    let body = env.get("Contacts", "getRecordById", &[("id", &cid)]);
    assert!(body.contains(&format!("<FL val=\"ACCOUNTID\">{acc_id}</FL>")), "{body}");
    assert!(body.contains("<FL val=\"Account Name\"><![CDATA[Zillum]]></FL>"), "{body}");
    // Related: the account's contacts.
    let rel = page(&env.get(
        "Contacts",
        "getRelatedRecords",
        &[("parentModule", "Accounts"), ("id", &acc_id)],
    ));
    assert_eq!(rel.len(), 1);
}

#[test]
fn update_single_and_multi_row() {
    let env = start();
    let ids = env.insert_leads(3, "up");
    let one = env.post(
        "Leads",
        "updateRecords",
        &[
            ("id", &ids[0].to_string()),
            ("xmlData", "<Leads><row no=\"1\"><FL val=\"Company\">NewCo</FL></row></Leads>"),
        ],
    );
    match WriteResponse::decode(one.as_bytes()).unwrap() {
        WriteResponse::Single { message, .. } => {
            assert_eq!(message, "Record(s) updated successfully")
        }
        o => panic!("{o:?}"),
    }
    let missing = env.post(
        "Leads",
        "updateRecords",
        &[
            ("id", "900000000555555"),
            ("xmlData", "<Leads><row no=\"1\"><FL val=\"Company\">X</FL></row></Leads>"),
        ],
    );
    assert_eq!(code_of(&missing), "4103");
    let xml = format!(
        "<Leads><row no=\"1\"><FL val=\"Id\">{}</FL><FL val=\"Company\">Multi</FL></row>\
         <row no=\"2\"><FL val=\"ID\">{}</FL><FL val=\"Company\">Bad</FL></row>\
         <row no=\"3\"><FL val=\"Id\">900000000777777</FL><FL val=\"Company\">Gone</FL></row>\
         <row no=\"4\"><FL val=\"Id\">{}</FL><FL val=\"Last Name\"></FL></row></Leads>",
        ids[1], ids[2], ids[2]
    );
    let r = rows(&env.post("Leads", "updateRecords", &[("version", "4"), ("xmlData", &xml)]));
    assert_eq!(
        r.iter().map(|r| r.outcome.code().to_owned()).collect::<Vec<_>>(),
        ["2001", "4425", "401.2", "4891"]
    );
    let bogus = env.post(
        "Leads",
        "updateRecords",
        &[
            ("version", "4"),
            ("xmlData", "<Leads><row no=\"1\"><FL val=\"Id\">bogus</FL></row></Leads>"),
        ],
    );
    assert_eq!(code_of(&bogus), "4500");
    let p =
        page(&env.get("Leads", "getRecordById", &[("idlist", &format!("{};{}", ids[0], ids[1]))]));
    let companies: Vec<_> = p.rows().map(|r| r.text("Company").unwrap().to_owned()).collect();
    assert_eq!(companies, ["NewCo", "Multi"]);
}

#[test]
fn delete_and_deleted_ids() {
    let env = start();
    let ids = env.insert_leads(3, "del");
    let body = env.get("Leads", "deleteRecords", &[("id", &ids[1].to_string())]);
    assert!(body.contains("<code>5000</code>"), "{body}");
    assert!(body.contains(&format!("Record Id(s) : {},Record(s) deleted successfully", ids[1])));
    // Again: still 5000.
    assert!(
        env.get("Leads", "deleteRecords", &[("id", &ids[1].to_string())])
            .contains("<code>5000</code>")
    );
    assert_eq!(code_of(&env.get("Leads", "deleteRecords", &[("id", "bogus123")])), "4600");
    let del = env.get("Leads", "getDeletedRecordIds", &[]);
    assert_eq!(
        zcrm_protocol::response::misc::decode_deleted_ids(del.as_bytes()).unwrap(),
        [zcrm_protocol::RecordId(ids[1])]
    );
    let past = env.get("Leads", "getDeletedRecordIds", &[("fromIndex", "201"), ("toIndex", "400")]);
    assert!(past.contains("<DeletedIDs></DeletedIDs>") || past.contains("<DeletedIDs/>"), "{past}");
    let p = page(&env.get("Leads", "getRecords", &[]));
    assert_eq!(p.len(), 2);
}

#[test]
fn write_row_limit() {
    let env = start();
    let mut xml = String::from("<Leads>");
    for i in 1..=101 {
        xml.push_str(&format!(
            "<row no=\"{i}\"><FL val=\"Last Name\">L{i}</FL><FL val=\"Company\">C</FL></row>"
        ));
    }
    xml.push_str("</Leads>");
    let body = env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", &xml)]);
    assert_eq!(code_of(&body), "4600");
    assert!(body.contains("at most 100 records"), "{body}");
    assert!(env.emu.record_counts().is_empty());
    let env2 = start_with(|c| c.max_write_rows = 200);
    let body = env2.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", &xml)]);
    assert_eq!(rows(&body).len(), 101);
    let malformed = env.post(
        "Leads",
        "insertRecords",
        &[("xmlData", "<Leads><row no=\"1\"><FL val=\"Last Name\">x</row></Leads>")],
    );
    assert_eq!(code_of(&malformed), "4835");
}

#[test]
fn xml_data_matches_the_request_log() {
    let env = start();
    let mut b = XmlDataBuilder::new("Leads", 100);
    b.push_row([("Last Name", "R&D <Ltd>"), ("Company", "C")]).unwrap();
    let xml = b.finish().unwrap();
    env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", &xml)]);
    let log = env.emu.requests();
    let last = log.last().unwrap();
    assert_eq!(last.method, "insertRecords");
    assert_eq!(last.param("xmlData"), Some(xml.as_str()));
    assert_eq!(last.param("authtoken"), Some("***"));
    let p = page(&env.get("Leads", "getRecords", &[]));
    assert_eq!(p.rows().next().unwrap().text("Last Name"), Some("R&D <Ltd>"));
}

#[test]
fn persistence_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ids = {
        let emu = zcrm_emulator::Emulator::start(config(dir.path())).unwrap();
        let env =
            Env { emu, dir: tempfile::tempdir().unwrap(), http: reqwest::blocking::Client::new() };
        let ids = env.insert_leads(150, "keep");
        env.emu.advance_days(2).unwrap();
        ids
    };
    let emu = zcrm_emulator::Emulator::start(config(dir.path())).unwrap();
    assert_eq!(emu.record_counts()["Leads"], 150);
    let counts = emu.call_counts();
    assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 2);
    let env = Env { emu, dir, http: reqwest::blocking::Client::new() };
    let p = page(&env.get("Leads", "getRecordById", &[("id", &ids[149].to_string())]));
    assert_eq!(p.len(), 1);
    // The clock offset persisted: the call above is counted two days later.
    let days: std::collections::BTreeSet<_> =
        env.emu.call_counts().into_iter().map(|c| c.day).collect();
    assert_eq!(days.len(), 2);
    // New ids continue after the old ones.
    let more = env.insert_leads(1, "more");
    assert!(more[0] > ids[149]);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids rise within and across calls");
}
