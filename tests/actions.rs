//! Action steps (`attach`, `relate`, `convert`, `delete`): one call per row (relations: one per
//! record), checked locally before any call, exact call counts, outcomes read back from the
//! CRM, reject and success files, and a rerun that sends nothing.

use std::collections::HashMap;
use std::path::Path;

use zcrm_protocol::Method;
use zcrm_protocol::params::ReadParams;

use crate::crm::{TOKEN, check_client, records, report};
use crate::harness::Workdir;

/// A picture small enough for a photo (the bytes need not decode).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-zcrm-test-photo-";

const STEPS: &str = r#"
[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
key = "key"
[steps.map]
"Last Name" = "last"
"Company" = "company"
"Email" = "email"

[[steps]]
name = "campaigns"
import = "Campaigns"
source = "campaigns.csv"
key = "key"
[steps.map]
"Campaign Name" = "name"

[[steps]]
name = "files"
attach = "Leads"
source = "files.csv"
record = { lookup = "leads", column = "lead" }
file = "path"

[[steps]]
name = "photos"
attach = "Leads"
photo = true
source = "photos.csv"
record = { lookup = "leads", column = "lead" }
file = "path"

[[steps]]
name = "members"
relate = "Campaigns"
related = "Leads"
source = "members.csv"
record = { lookup = "campaigns", column = "campaign" }
target = { lookup = "leads", column = "lead" }
[steps.map]
"Member Status" = "status"

[[steps]]
name = "convert"
convert = "Leads"
source = "won.csv"
record = { lookup = "leads", column = "lead" }
potential = { "Potential Name" = "deal", "Closing Date" = "close", "Stage" = "stage", "Amount" = "amount" }

[[steps]]
name = "cleanup"
delete = "Leads"
source = "stale.csv"
record = { column = "crm_id" }
"#;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// The sources: five leads, a campaign, files (one good, one missing, one over 20 MB, an .exe,
/// one for a lead that does not exist), photos (one good, one not a picture), three members,
/// two conversions (one with a date the CRM cannot take), and a delete by CRM id.
fn sources(dir: &Path) {
    write(
        dir,
        "leads.csv",
        "key,last,company,email\nL1,Lee,Acme,l1@x.com\nL2,Ray,Beta,l2@x.com\nL3,Moe,Gamma,l3@x.com\nL4,Kay,Delta,l4@x.com\nL5,Nu,Eps,l5@x.com\n",
    );
    write(dir, "campaigns.csv", "key,name\nC1,Spring launch\n");
    write(dir, "docs/contract.pdf", "%PDF-1.4 a contract");
    write(dir, "docs/tool.exe", "MZ");
    let big = std::fs::File::create(dir.join("docs/big.bin")).unwrap();
    big.set_len(21 * 1024 * 1024).unwrap();
    write(
        dir,
        "files.csv",
        "lead,path\nL1,docs/contract.pdf\nL2,docs/missing.pdf\nL3,docs/big.bin\nL4,docs/tool.exe\nL9,docs/contract.pdf\n",
    );
    std::fs::write(dir.join("docs/face.png"), PNG).unwrap();
    write(dir, "photos.csv", "lead,path\nL1,docs/face.png\nL2,docs/contract.pdf\n");
    write(dir, "members.csv", "campaign,lead,status\nC1,L1,Sent\nC1,L2,Responded\nC1,L3,Sent\n");
    write(
        dir,
        "won.csv",
        "lead,deal,close,stage,amount\nL1,Deal one,2026-12-31,Qualification,1000\nL3,Deal three,31/12/2026,Qualification,2500.5\nL4,Deal four,2026-11-30,Negotiation/Review,700\n",
    );
}

fn by_key(
    rows: Vec<HashMap<String, String>>,
    key: &str,
) -> HashMap<String, HashMap<String, String>> {
    rows.into_iter().map(|r| (r[key].clone(), r)).collect()
}

const CLIENT_ID: &str = "1000.ACTIONSCLIENT";
const CLIENT_SECRET: &str = "actions-client-secret-0123456789";
const REFRESH_TOKEN: &str = "1000.actions-refresh-token-abcdef";

#[test]
fn each_action_is_one_call_per_row_checked_first_and_a_rerun_sends_nothing() {
    scenario("xml");
}

#[test]
fn each_action_runs_on_v8_with_the_same_outcomes_and_its_credits() {
    scenario("v8");
}

fn scenario(api: &str) {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN)
        .env("E2E_CLIENT_ID", CLIENT_ID)
        .env("E2E_CLIENT_SECRET", CLIENT_SECRET)
        .env("E2E_REFRESH_TOKEN", REFRESH_TOKEN);
    let emu = crate::crm::emulator(w.path(), "", |c| {
        c.oauth_client(zcrm_emulator::OAuthClient::new(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN))
    });
    sources(w.path());
    // The delete step names a record by its CRM id: one created before the pipeline.
    let c = check_client(&emu);
    let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">Stale</FL><FL val=\"Company\">Old</FL></row></Leads>";
    let stale = c
        .insert_records("Leads", xml.into(), &zcrm_protocol::params::WriteParams::multi_row())
        .unwrap();
    let stale_id = match stale {
        zcrm_protocol::WriteResponse::Single { details, .. } => details[0].id,
        zcrm_protocol::WriteResponse::Rows(rows) => match &rows[0].outcome {
            zcrm_protocol::RowOutcome::Added(d) => d.id,
            other => panic!("{other:?}"),
        },
    };
    write(w.path(), "stale.csv", &format!("crm_id\n{stale_id}\nnot-an-id\n"));
    let conn = if api == "v8" {
        "api = \"v8\"\nclient_id_env = \"E2E_CLIENT_ID\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\nrefresh_token_env = \"E2E_REFRESH_TOKEN\"\n"
    } else {
        "authtoken_env = \"ZCRM_TEST_TOKEN\"\n"
    };
    let text = format!(
        "[connection]\nurl = \"{}\"\n{conn}edition = \"enterprise\"\nlicenses = 50\n{STEPS}",
        emu.url()
    );
    write(w.path(), "p.toml", &text);

    // Offline first: every local problem of every action step, nothing sent.
    let records_before = emu.record_counts();
    let checked = w.expect(&["validate", "p.toml"], 1);
    assert!(checked.contains("step files"), "{checked}");
    let offline = by_key(report(&w.path().join("out/files.rejects.csv")), "lead");
    assert_eq!(
        offline.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(),
        ["L2", "L3", "L4"].into(),
        "missing, too big, .exe (lookups are checked when the step runs)"
    );
    let ids = report(&w.path().join("out/cleanup.rejects.csv"));
    assert!(ids[0]["_errors"].contains("not a record id"), "{ids:?}");
    assert_eq!(emu.record_counts(), records_before, "validate writes nothing");
    let plan = w.expect(&["plan", "p.toml"], 0);
    assert!(plan.contains("relate Campaigns: one call per record"), "{plan}");
    w.expect(&["run", "p.toml", "--step", "leads", "--step", "campaigns"], 0);
    let credits = emu.credits_used();

    let before: HashMap<String, u64> =
        ["uploadFile", "uploadPhoto", "updateRelatedRecords", "convertLead", "deleteRecords"]
            .iter()
            .map(|m| ((*m).to_owned(), emu.calls_today_of(m)))
            .collect();
    // Rows were rejected: exit 1, as for imports.
    w.expect(&["run", "p.toml"], 1);
    if api == "v8" {
        // One credit each for the upload, the photo, the relation call and the delete, five
        // for each of the two conversions (the metadata was cached by `plan`).
        assert_eq!(emu.credits_used() - credits, 1 + 1 + 1 + 2 * 5 + 1);
    } else {
        let spent = |m: &str| emu.calls_today_of(m) - before[m];
        assert_eq!(spent("uploadFile"), 1, "only the good file is uploaded");
        assert_eq!(spent("uploadPhoto"), 1);
        assert_eq!(spent("updateRelatedRecords"), 1, "three members of one campaign: one call");
        assert_eq!(spent("convertLead"), 2, "the row with a bad date never leaves");
        assert_eq!(spent("deleteRecords"), 1);
    }

    let out = w.path().join("out");
    let leads = by_key(report(&out.join("leads.success.csv")), "key");
    let id = |k: &str| leads[k]["_id"].parse::<u64>().unwrap();

    // Files: the good one is on L1, byte for byte; every other row names its reason.
    let files = report(&out.join("files.success.csv"));
    assert_eq!(files.len(), 1);
    let attachment = files[0]["_id"].parse().unwrap();
    let bytes = c.download(Method::DownloadFile, "Leads", attachment).unwrap();
    assert_eq!(bytes, b"%PDF-1.4 a contract");
    let rejects = by_key(report(&out.join("files.rejects.csv")), "lead");
    assert!(rejects["L2"]["_errors"].contains("cannot be read"), "{rejects:?}");
    assert!(rejects["L3"]["_errors"].contains("over the 20 MB limit"), "{rejects:?}");
    assert!(rejects["L4"]["_errors"].contains(".exe"), "{rejects:?}");
    assert!(rejects["L9"]["_errors"].contains("no record of step \"leads\""), "{rejects:?}");
    assert_eq!(rejects.len(), 4);

    let photo = c.download(Method::DownloadPhoto, "Leads", zcrm_protocol::RecordId(id("L1")));
    assert_eq!(photo.unwrap(), PNG);
    let bad_photo = report(&out.join("photos.rejects.csv"));
    assert!(bad_photo[0]["_errors"].contains("not a picture"), "{bad_photo:?}");

    // Members: the campaign holds L1..L3, less L1, converted since (a converted lead leaves
    // the Leads module and its lists).
    let campaigns = by_key(report(&out.join("campaigns.success.csv")), "key");
    let campaign = zcrm_protocol::RecordId(campaigns["C1"]["_id"].parse().unwrap());
    let page =
        c.get_related_records("Leads", "Campaigns", campaign, &ReadParams::default()).unwrap();
    let mut related: Vec<u64> = page.rows().map(|r| r.id("LEADID").unwrap().0).collect();
    related.sort_unstable();
    let mut want = vec![id("L2"), id("L3")];
    want.sort_unstable();
    assert_eq!(related, want);
    let members = report(&out.join("members.success.csv"));
    assert_eq!(members.len(), 3, "{members:?}");

    // Conversions: L1 and L4 became contacts and potentials; L3's date was refused locally.
    let converted = by_key(report(&out.join("convert.success.csv")), "lead");
    assert_eq!(converted.len(), 2);
    for k in ["L1", "L4"] {
        for col in ["_contact", "_account", "_potential"] {
            assert!(converted[k][col].parse::<u64>().is_ok(), "{k} {col}: {converted:?}");
        }
    }
    let bad_date = report(&out.join("convert.rejects.csv"));
    assert_eq!(bad_date.len(), 1);
    assert!(bad_date[0]["_errors"].contains("Closing Date"), "{bad_date:?}");
    let potentials = records(&emu, "Potentials", &["Potential Name", "Amount"]);
    let mut names: Vec<&str> = potentials.iter().map(|p| p["Potential Name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Deal four", "Deal one"]);
    let contacts = records(&emu, "Contacts", &["Last Name"]);
    assert_eq!(contacts.len(), 2);

    // The delete: the stale lead is gone; the bad id never left.
    let cleanup = report(&out.join("cleanup.success.csv"));
    assert_eq!(cleanup[0]["_id"], stale_id.to_string());
    assert_eq!(cleanup[0]["_action"], "deleted");
    let bad_id = report(&out.join("cleanup.rejects.csv"));
    assert!(bad_id[0]["_errors"].contains("not a record id"), "{bad_id:?}");
    let left: Vec<String> = records(&emu, "Leads", &["Last Name"])
        .into_iter()
        .map(|r| r["Last Name"].clone())
        .collect();
    assert_eq!(left.len(), 3, "five leads, two converted, the stale one deleted: {left:?}");

    // A rerun sends nothing and ends the same way.
    let (calls, credits) = (emu.calls_today(), emu.credits_used());
    w.expect(&["run", "p.toml"], 1);
    assert_eq!(emu.calls_today() - calls, 0, "everything is in the journal");
    assert_eq!(emu.credits_used() - credits, 0, "everything is in the journal");
    assert_eq!(report(&out.join("files.rejects.csv")).len(), 4, "the reports are rewritten whole");
    let status = w.expect(&["status", "p.toml"], 0);
    assert!(status.contains("convert"), "{status}");
}

#[test]
fn plan_counts_a_delete_step_exactly_and_warns_when_it_needs_more_than_a_day() {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    let emu = crate::crm::emulator(w.path(), "", |c| c);
    let mut ids = String::from("crm_id\n");
    for i in 0..30 {
        ids.push_str(&format!("{}\n", 900_000_000_100_000u64 + i));
    }
    ids.push_str("oops\n");
    write(w.path(), "stale.csv", &ids);
    let text = format!(
        "[connection]\nurl = \"{}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\ndaily_budget = 12\n\n[[steps]]\nname = \"cleanup\"\ndelete = \"Leads\"\nsource = \"stale.csv\"\nrecord = {{ column = \"crm_id\" }}\n",
        emu.url()
    );
    write(w.path(), "p.toml", &text);
    let plan = w.expect(&["plan", "p.toml"], 0);
    let line = plan.lines().find(|l| l.starts_with("cleanup")).unwrap_or_default();
    let cols: Vec<&str> = line.split_whitespace().collect();
    // rows, valid, done, to send, payloads, reads, calls
    assert_eq!(cols.get(1..8), Some(&["31", "30", "0", "30", "-", "0", "30"][..]), "{plan}");
    assert!(
        plan.contains("this step alone needs 30 calls, more than a day's share of the budget (12): it takes 3 days"),
        "{plan}"
    );
    assert!(plan.contains("days needed: 3"), "{plan}");
}

/// Notes whose write answers are lost after the CRM committed them are reconciled from what
/// was sent (title, content, parent), not sent twice — on both faces.
#[test]
fn notes_whose_answers_were_lost_are_found_not_sent_twice() {
    for api in ["xml", "v8"] {
        let mut w = Workdir::new();
        w.env("ZCRM_TEST_TOKEN", TOKEN)
            .env("E2E_CLIENT_ID", CLIENT_ID)
            .env("E2E_CLIENT_SECRET", CLIENT_SECRET)
            .env("E2E_REFRESH_TOKEN", REFRESH_TOKEN);
        let emu = crate::crm::emulator(w.path(), "", |c| {
            c.oauth_client(zcrm_emulator::OAuthClient::new(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN))
        });
        sources(w.path());
        write(
            w.path(),
            "notes.csv",
            "lead,title,body\nL1,First call,Wants 40\nL2,Follow-up,Price list\nL3,Visit,On site\n",
        );
        let conn = if api == "v8" {
            "api = \"v8\"\nclient_id_env = \"E2E_CLIENT_ID\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\nrefresh_token_env = \"E2E_REFRESH_TOKEN\"\n"
        } else {
            "authtoken_env = \"ZCRM_TEST_TOKEN\"\n"
        };
        let steps = "[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"leads.csv\"\nkey = \"key\"\n[steps.map]\n\"Last Name\" = \"last\"\n\"Company\" = \"company\"\n\n[[steps]]\nname = \"notes\"\nimport = \"Notes\"\nsource = \"notes.csv\"\n[steps.map]\n\"Parent\" = { lookup = \"leads\", column = \"lead\" }\n\"Note Title\" = \"title\"\n\"Note Content\" = \"body\"\n";
        write(
            w.path(),
            "p.toml",
            &format!(
                "[connection]\nurl = \"{}\"\n{conn}edition = \"enterprise\"\nlicenses = 50\n\n{steps}",
                emu.url()
            ),
        );
        w.expect(&["run", "p.toml", "--step", "leads"], 0);
        w.expect(&["plan", "p.toml"], 0); // the metadata is cached
        // Half the answers are lost after the CRM applied the call.
        emu.set_faults(zcrm_emulator::FaultSpec::parse("drop_after_commit=0.5,seed=3").unwrap());
        let mut done = false;
        for _ in 0..20 {
            let out = w.run(&["run", "p.toml", "--step", "notes"]);
            if out.status.code() == Some(0) {
                done = true;
                break;
            }
        }
        emu.clear_faults();
        assert!(done, "{api}: the notes step finished");
        let titles: Vec<String> = records(&emu, "Notes", &["Note Title"])
            .into_iter()
            .map(|r| r["Note Title"].clone())
            .collect();
        let mut sorted = titles.clone();
        sorted.sort();
        assert_eq!(sorted, ["First call", "Follow-up", "Visit"], "{api}: each note once");
    }
}
