//! `zcrm run` imports end to end: exact call counts, SIGKILL at random points with and
//! without injected faults, upserts, and a three-module migration with lookups.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use zcrm_emulator::{EmulatorConfig, EmulatorHandle, FaultSpec};

use crate::crm::{TOKEN, check_client, legacy_id_field, report};
use crate::harness::Workdir;

fn emulator(dir: &Path, tweak: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> EmulatorHandle {
    crate::crm::emulator(dir, &legacy_id_field("Leads"), tweak)
}

/// `n` leads; every 97th has no last name (rejected locally), every 89th an e-mail the server
/// accepts but... (all others valid).
fn leads_csv(path: &Path, n: usize) -> usize {
    let mut text = String::from("id,last,company,email,revenue\n");
    let mut bad = 0;
    for i in 0..n {
        let last = if i % 97 == 5 {
            bad += 1;
            String::new()
        } else {
            format!("Last \"{i}\", Jr")
        };
        text.push_str(&format!(
            "L{i},\"{}\",Company {},p{i}@example.com,{i}.50\n",
            last.replace('"', "\"\""),
            i % 50
        ));
    }
    std::fs::write(path, text).unwrap();
    bad
}

fn pipeline(
    w: &Workdir,
    emu: &EmulatorHandle,
    extra_conn: &str,
    steps: &str,
) -> std::path::PathBuf {
    let text = format!(
        "[connection]\nurl = \"{}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\nedition = \"enterprise\"\nlicenses = 50\n{extra_conn}\n{steps}",
        emu.url()
    );
    let path = w.path().join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const LEADS_STEP: &str = r#"
[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
key = "id"

[steps.map]
"Last Name" = "last"
"Company" = "company"
"Email" = "email"
"Annual Revenue" = "revenue"
"Legacy Id" = "id"
"#;

fn workdir() -> Workdir {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    w
}

/// Legacy Id → how many records carry it.
fn crm_keys(emu: &EmulatorHandle) -> HashMap<String, u32> {
    crate::crm::value_counts(emu, "Leads", "Legacy Id")
}

/// Every source row is in the success file or the reject file, exactly once.
fn assert_accounted(w: &Workdir, n: usize) {
    let ok = report(&w.path().join("out/leads.success.csv"));
    let bad = report(&w.path().join("out/leads.rejects.csv"));
    let mut rows: Vec<u64> = ok.iter().chain(&bad).map(|r| r["_row"].parse().unwrap()).collect();
    rows.sort_unstable();
    assert_eq!(
        rows,
        (1..=n as u64).collect::<Vec<_>>(),
        "every row once in success or reject file"
    );
}

#[test]
fn clean_insert_spends_ceil_n_over_100_writes_plus_metadata() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let bad = leads_csv(&w.path().join("leads.csv"), 250);
    let p = pipeline(&w, &emu, "", LEADS_STEP);
    let out = w.expect(&["run", p.to_str().unwrap()], 1);
    assert!(out.contains("leads"), "{out}");
    let valid = 250 - bad;
    assert_eq!(emu.calls_today_of("insertRecords"), (valid as u64).div_ceil(100));
    assert_eq!(emu.calls_today(), (valid as u64).div_ceil(100) + 1, "writes + one getFields");
    assert_accounted(&w, 250);
    // A rerun spends nothing on writes.
    let before = emu.calls_today();
    w.expect(&["run", p.to_str().unwrap()], 1);
    assert_eq!(emu.calls_today(), before, "metadata cached, nothing to send");
    let status = w.expect(&["status", p.to_str().unwrap()], 0);
    assert!(status.contains("a rerun resumes"), "{status}");
}

#[test]
fn payloads_of_200_where_the_org_allows_200() {
    let w = workdir();
    let emu = emulator(w.path(), |c| EmulatorConfig { max_write_rows: 200, ..c });
    let bad = leads_csv(&w.path().join("leads.csv"), 450);
    let p = pipeline(&w, &emu, "write_batch = 200", LEADS_STEP);
    let plan = w.expect(&["plan", p.to_str().unwrap()], 0);
    assert!(plan.contains("200 rows per write call"), "{plan}");
    w.expect(&["run", p.to_str().unwrap()], 1);
    let valid = (450 - bad) as u64;
    assert_eq!(emu.calls_today_of("insertRecords"), valid.div_ceil(200));
}

fn kill_and_rerun(w: &Workdir, p: &Path, kills: usize, seed: u64) {
    let mut rng = seed;
    for k in 0..kills {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(200 + (rng >> 33) % 2500);
        // SIGKILL: no chance to clean up.
        w.run_killed_after(&["run", p.to_str().unwrap()], delay);
        eprintln!("kill {k} after {delay:?}");
    }
}

fn crash_test(faults: Option<&str>) {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let n = 20_000;
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let p = pipeline(&w, &emu, "", LEADS_STEP);
    if let Some(f) = faults {
        emu.set_faults(FaultSpec::parse(f).unwrap());
    }
    kill_and_rerun(&w, &p, 20, 7);
    // Then let it finish (faults may stop a run with exit 3; rerun until it completes).
    let mut done = false;
    for _ in 0..30 {
        let out = w.run(&["run", p.to_str().unwrap()]);
        if out.status.code() == Some(1) {
            done = true;
            break;
        }
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(done, "the import finished");
    emu.clear_faults();
    let keys = crm_keys(&emu);
    assert_eq!(keys.len(), n - bad, "exactly the valid rows are in the CRM");
    assert!(keys.values().all(|c| *c == 1), "no duplicates");
    assert_accounted(&w, n);
}

#[test]
fn killed_twenty_times_the_import_ends_exact() {
    crash_test(None);
}

#[test]
fn killed_with_dropped_responses_and_5xx_the_import_ends_exact() {
    crash_test(Some("drop_after_commit=0.05,error_rate=0.05,seed=3"));
}

#[test]
fn upsert_splits_a_half_overlapping_file_with_few_reads() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    leads_csv(&w.path().join("leads.csv"), 300);
    let p = pipeline(&w, &emu, "", LEADS_STEP);
    w.expect(&["run", p.to_str().unwrap()], 1);
    // A second file: rows 150..450 (half exist), matched on Legacy Id.
    let mut text = String::from("id,last,company\n");
    for i in 150..450 {
        text.push_str(&format!("L{i},Synced {i},Company Synced\n"));
    }
    std::fs::write(w.path().join("sync.csv"), text).unwrap();
    let sync = r#"
[[steps]]
name = "sync"
import = "Leads"
source = "sync.csv"
mode = "upsert"
match_on = "Legacy Id"
key = "id"
rejects = "out/sync.rejects.csv"

[steps.map]
"Last Name" = "last"
"Company" = "company"
"Legacy Id" = "id"
"#;
    std::fs::write(
        w.path().join("sync.toml"),
        std::fs::read_to_string(&p).unwrap().split("[[steps]]").next().unwrap().to_owned() + sync,
    )
    .unwrap();
    let plan = w.expect(&["plan", "sync.toml"], 0);
    assert!(plan.contains("index of") && plan.contains("searches one row at a time"), "{plan}");
    let before_reads = emu.calls_today_of("getRecords");
    let before_search = emu.calls_today_of("searchRecords");
    let out = w.expect(&["run", "sync.toml"], 0);
    let reads = emu.calls_today_of("getRecords") - before_reads;
    assert!(reads <= 2, "index pages only ({reads})");
    assert_eq!(emu.calls_today_of("searchRecords"), before_search, "no per-row search");
    let ok = report(&w.path().join("out/sync.success.csv"));
    let updated = ok.iter().filter(|r| r["_action"] == "updated").count();
    let created = ok.iter().filter(|r| r["_action"] == "created").count();
    assert_eq!(updated + created, 300, "{out}");
    assert!(updated >= 145 && created >= 150, "updated {updated}, created {created}");
    let keys = crm_keys(&emu);
    assert!(keys.values().all(|c| *c == 1), "no duplicates after the upsert");
}

#[test]
fn three_module_migration_resolves_lookups_through_the_journal() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    // Accounts from XLSX.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Accounts").unwrap();
    for (c, h) in ["acct_id", "name", "phone"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..20u32 {
        sheet.write_string(i + 1, 0, format!("A{i}")).unwrap();
        sheet.write_string(i + 1, 1, format!("Account {i}")).unwrap();
        sheet.write_number(i + 1, 2, 4155550100.0 + f64::from(i)).unwrap();
    }
    book.save(w.path().join("accounts.xlsx")).unwrap();
    let mut contacts = String::from("cid,last,account\n");
    for i in 0..40 {
        contacts.push_str(&format!("C{i},Person {i},A{}\n", i % 21)); // A20 does not exist
    }
    std::fs::write(w.path().join("contacts.csv"), contacts).unwrap();
    let mut deals = String::from("pid,name,account,contact,amount,closing\n");
    for i in 0..10 {
        deals.push_str(&format!(
            "P{i},Deal {i},A{i},C{i},{}.00,2025-0{}-15\n",
            1000 * i,
            1 + i % 9
        ));
    }
    std::fs::write(w.path().join("deals.csv"), deals).unwrap();
    let steps = r#"
[[steps]]
name = "accounts"
import = "Accounts"
source = "accounts.xlsx"
sheet = "Accounts"
key = "acct_id"
[steps.map]
"Account Name" = "name"
"Phone" = "phone"

[[steps]]
name = "contacts"
import = "Contacts"
source = "contacts.csv"
key = "cid"
[steps.map]
"Last Name" = "last"
"ACCOUNTID" = { lookup = "accounts", column = "account" }

[[steps]]
name = "deals"
import = "Potentials"
source = "deals.csv"
key = "pid"
[steps.map]
"Potential Name" = "name"
"ACCOUNTID" = { lookup = "accounts", column = "account" }
"CONTACTID" = { lookup = "contacts", column = "contact" }
"Amount" = "amount"
"Closing Date" = "closing"
"Stage" = { value = "Qualification" }
"#;
    let p = pipeline(&w, &emu, "", steps);
    let out = w.expect(&["run", p.to_str().unwrap()], 1);
    assert!(out.contains("accounts") && out.contains("deals"), "{out}");
    let counts = emu.record_counts();
    assert_eq!(counts["Accounts"], 20);
    assert_eq!(counts["Contacts"], 39, "contact C20 points at A20, which does not exist");
    let rejects = std::fs::read_to_string(w.path().join("out/contacts.rejects.csv")).unwrap();
    assert!(rejects.contains("\"A20\""), "{rejects}");
    let client = check_client(&emu);
    let page = client
        .get_records_owned("Potentials", &zcrm_protocol::params::ReadParams::default())
        .unwrap();
    let first = page.rows().next().unwrap();
    assert_eq!(first.text("Account Name"), Some("Account 0"));
    assert!(first.text("CONTACTID").is_some());
    let phone = client
        .get_records_owned("Accounts", &zcrm_protocol::params::ReadParams::default())
        .unwrap();
    assert_eq!(
        phone.rows().next().unwrap().text("Phone"),
        Some("4155550100"),
        "an id-like number without .0"
    );
}

#[test]
fn a_two_day_import_on_a_free_edition_stops_at_the_budget_and_resumes_the_next_day() {
    let mut w = workdir();
    let emu = emulator(w.path(), |c| EmulatorConfig {
        edition: zcrm_protocol::Edition::Free,
        licenses: 1,
        ..c
    });
    let n = 3000;
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let valid = (n - bad) as u64;
    let text = format!(
        "[connection]\nurl = \"{}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\nedition = \"free\"\nwrite_batch = 10\n{LEADS_STEP}",
        emu.url()
    );
    std::fs::write(w.path().join("two-days.toml"), text).unwrap();
    let plan = w.expect(&["plan", "two-days.toml"], 0);
    assert!(plan.contains("days needed: 2"), "{plan}");
    let day1 = w.expect(&["run", "two-days.toml"], 75);
    assert!(day1.contains("row(s) left") && day1.contains("resets at"), "{day1}");
    assert_eq!(emu.calls_today(), 250, "exactly the day's budget, no more");
    let sent_day1 = report(&w.path().join("out/leads.success.csv")).len();
    assert_eq!(sent_day1, 249 * 10, "249 payloads after the metadata call");
    assert_eq!(emu.record_counts()["Leads"], 2490);
    // A rerun the same day stops at once, spending nothing.
    w.expect(&["run", "two-days.toml"], 75);
    assert_eq!(emu.calls_today(), 250);
    // The next day (the emulator's clock and zcrm's, shifted together).
    emu.advance_days(1).unwrap();
    w.env("ZCRM_CLOCK_OFFSET_SECS", "86400");
    w.expect(&["run", "two-days.toml"], 1);
    let keys = crm_keys(&emu);
    assert_eq!(keys.len() as u64, valid);
    assert!(keys.values().all(|c| *c == 1), "no duplicates across the two days");
    assert_accounted(&w, n);
}

/// Rewrites `xlsx` with its first sheet's XML cut at `fraction` of its length.
fn cut_sheet(xlsx: &Path, out: &Path, fraction: f64) {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::fs::File::open(xlsx).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name.starts_with("xl/worksheets/sheet1") {
            data.truncate((data.len() as f64 * fraction) as usize);
            data.extend_from_slice(b"<row r=\"x\"><c r=\"A");
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zout.write_all(&data).unwrap();
    }
    zout.finish().unwrap();
}

#[test]
fn a_source_that_breaks_part_way_fails_the_step_instead_of_ending_it() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    w.expect(&["generate", "leads", "--rows", "10000", "--out", "whole.xlsx"], 0);
    cut_sheet(&w.path().join("whole.xlsx"), &w.path().join("cut.xlsx"), 0.9);
    let map = w.expect(&["generate", "leads", "--print-map"], 0);
    let step = format!(
        "[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"cut.xlsx\"\nkey = \"lead_id\"\n{map}"
    );
    let p = pipeline(&w, &emu, "", &step);
    let out = w.run(&["run", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    // Rows were sent before the break: exit 3, not "nothing was sent" (2).
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cut.xlsx stopped after"), "{err}");
    assert!(err.contains("rerun to resume"), "{err}");
    // The error names the sheet, the last cell read whole and the first row not read.
    assert!(err.contains("cut.xlsx, sheet \"Leads\": the sheet is damaged after cell "), "{err}");
    let first_unread: u64 = err
        .split("rows from sheet row ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no first unread row in {err}"));
    // What was read before the break was sent and recorded, not thrown away: every data row
    // before the row named (sheet row 1 is the header), and none after.
    let sent = emu.record_counts().get("Leads").copied().unwrap_or(0);
    assert!(sent > 0 && sent < 10_000, "{sent} records");
    assert_eq!(sent, first_unread - 2, "{err}");
    let status = w.expect(&["status", p.to_str().unwrap()], 0);
    assert!(status.contains(&sent.to_string()), "{status}");
}
