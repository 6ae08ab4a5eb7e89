//! `zcrm undo`: the records a pipeline's runs created are deleted (one call each on the XML
//! API), records they only updated are kept and listed, and a later run imports the rows again.

use std::process::Stdio;

use crate::crm::{TOKEN, check_client, legacy_id_field, value_counts};
use crate::harness::Workdir;

const PIPELINE: &str = r#"
[[steps]]
name = "accounts"
import = "Accounts"
source = "accounts.csv"
key = "id"
[steps.map]
"Account Name" = "name"
"Legacy Id" = "id"

[[steps]]
name = "contacts"
import = "Contacts"
source = "contacts.csv"
key = "id"
mode = "upsert"
match_on = "Email"
[steps.map]
"Last Name" = "last"
"Email" = "email"
"ACCOUNTID" = { lookup = "accounts", column = "account" }
"#;

#[test]
fn undo_deletes_what_the_runs_created_keeps_what_they_updated_and_a_rerun_imports_again() {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    let schema = format!("{}{}", legacy_id_field("Accounts"), legacy_id_field("Contacts"));
    let emu = crate::crm::emulator(w.path(), &schema, |c| c);
    // A contact that exists before the migration: the upsert updates it, undo must keep it.
    let c = check_client(&emu);
    let xml = "<Contacts><row no=\"1\"><FL val=\"Last Name\">Before</FL><FL val=\"Email\">keep@example.com</FL></row></Contacts>";
    c.insert_records("Contacts", xml.into(), &zcrm_protocol::params::WriteParams::multi_row())
        .unwrap();
    let mut accounts = String::from("id,name\n");
    let mut contacts = String::from("id,last,email,account\n");
    for i in 0..12 {
        accounts.push_str(&format!("A{i},Account {i}\n"));
    }
    for i in 0..30 {
        let email =
            if i == 7 { "keep@example.com".to_owned() } else { format!("c{i}@example.com") };
        contacts.push_str(&format!("C{i},Last {i},{email},A{}\n", i % 12));
    }
    std::fs::write(w.path().join("accounts.csv"), accounts).unwrap();
    std::fs::write(w.path().join("contacts.csv"), contacts).unwrap();
    let text = format!(
        "[connection]\nurl = \"{}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\nedition = \"enterprise\"\nlicenses = 50\n{PIPELINE}",
        emu.url()
    );
    std::fs::write(w.path().join("p.toml"), text).unwrap();
    w.expect(&["run", "p.toml"], 0);
    assert_eq!(value_counts(&emu, "Accounts", "Legacy Id").len(), 12);
    assert_eq!(value_counts(&emu, "Contacts", "Email").len(), 30);

    // Not from a terminal and without --yes: refused, nothing deleted.
    let out = w.command(&["undo", "p.toml"]).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(err.contains("29 Contacts record(s)"), "shows the plan first: {err}");
    assert_eq!(value_counts(&emu, "Contacts", "Email").len(), 30);

    let deletes_before = emu.calls_today_of("deleteRecords");
    let out = w.command(&["undo", "p.toml", "--yes"]).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(stdout.contains("contacts: 29 record(s) deleted"), "{stdout}");
    assert!(stdout.contains("accounts: 12 record(s) deleted"), "{stdout}");
    assert!(err.contains("contacts row 8: Contacts"), "lists what it keeps: {err}");
    assert!(err.contains("(updated)"), "{err}");
    assert_eq!(
        emu.calls_today_of("deleteRecords") - deletes_before,
        29 + 12,
        "one call per record"
    );
    // Newest step first: contacts (which point at the accounts) went before the accounts.
    let contacts = value_counts(&emu, "Contacts", "Email");
    assert_eq!(contacts.len(), 1, "only the contact that existed before: {contacts:?}");
    assert!(contacts.contains_key("keep@example.com"));
    assert!(value_counts(&emu, "Accounts", "Legacy Id").is_empty());

    // The journal forgot the deleted rows: a rerun imports them again.
    w.expect(&["run", "p.toml"], 0);
    assert_eq!(value_counts(&emu, "Accounts", "Legacy Id").len(), 12);
    assert_eq!(value_counts(&emu, "Contacts", "Email").len(), 30);
}
