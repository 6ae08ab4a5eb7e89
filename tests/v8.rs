//! The same pipelines on the REST API (v8): an import costs ceil(N/100) write calls and 10
//! credits each (the ledger and the emulator agree), records written through v8 read back
//! through XML and the exports of both faces agree, a run killed with dropped answers ends with
//! every row once, spent credits stop with exit 75.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use zcrm_emulator::{EmulatorConfig, EmulatorHandle, FaultSpec, OAuthClient};

use crate::crm::{TOKEN, legacy_id_field, report};
use crate::harness::Workdir;

pub(crate) const CLIENT_ID: &str = "1000.E2ETESTCLIENT";
pub(crate) const CLIENT_SECRET: &str = "e2e-client-secret-0123456789";
pub(crate) const REFRESH_TOKEN: &str = "1000.e2e-refresh-token-abcdef";

pub(crate) fn emulator(
    dir: &Path,
    tweak: impl FnOnce(EmulatorConfig) -> EmulatorConfig,
) -> EmulatorHandle {
    crate::crm::emulator(dir, &legacy_id_field("Leads"), |c| {
        tweak(c.oauth_client(OAuthClient::new(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)))
    })
}

pub(crate) fn workdir() -> Workdir {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN)
        .env("E2E_CLIENT_ID", CLIENT_ID)
        .env("E2E_CLIENT_SECRET", CLIENT_SECRET)
        .env("E2E_REFRESH_TOKEN", REFRESH_TOKEN);
    w
}

/// A pipeline on the emulator's v8 face (or its XML face with `api = "xml"`).
pub(crate) fn pipeline(
    w: &Workdir,
    emu: &EmulatorHandle,
    api: &str,
    extra: &str,
    steps: &str,
) -> String {
    let conn = if api == "v8" {
        "api = \"v8\"\nclient_id_env = \"E2E_CLIENT_ID\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\nrefresh_token_env = \"E2E_REFRESH_TOKEN\"\n"
    } else {
        "authtoken_env = \"ZCRM_TEST_TOKEN\"\n"
    };
    let text = format!(
        "[connection]\nurl = \"{}\"\n{conn}edition = \"enterprise\"\nlicenses = 50\n{extra}\n[state]\ndir = \".zcrm/{api}\"\n{steps}",
        emu.url()
    );
    let name = format!("{api}.toml");
    std::fs::write(w.path().join(&name), text).unwrap();
    name
}

pub(crate) const LEADS_STEP: &str = r#"
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

/// `n` leads, every 97th without a last name (rejected locally); returns the bad ones.
pub(crate) fn leads_csv(path: &Path, n: usize) -> usize {
    let mut text = String::from("id,last,company,email,revenue\n");
    let mut bad = 0;
    for i in 0..n {
        let last = if i % 97 == 5 {
            bad += 1;
            String::new()
        } else {
            format!("Last {i}")
        };
        text.push_str(&format!("L{i},{last},Company {},p{i}@example.com,{i}.50\n", i % 50));
    }
    std::fs::write(path, text).unwrap();
    bad
}

/// An admin call on the emulator (`GET` or `POST` with no body): the JSON answer.
pub(crate) fn admin(emu: &EmulatorHandle, method: &str, path: &str) -> serde_json::Value {
    let mut s = std::net::TcpStream::connect(emu.addr()).unwrap();
    let req = format!(
        "{method} /__emulator/{path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    let json = &body[body.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(json.trim()).unwrap()
}

/// `GET /__emulator/credits` on the emulator: `(used, limit)`.
pub(crate) fn credits(emu: &EmulatorHandle) -> (u64, u64) {
    let v = admin(emu, "GET", "credits");
    (v["used"].as_u64().unwrap(), v["limit"].as_u64().unwrap())
}

pub(crate) fn assert_accounted(w: &Workdir, n: usize) {
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
fn a_v8_import_costs_ceil_n_over_100_writes_of_ten_credits_and_reads_back_through_xml() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let n = 1_000;
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);
    let plan = w.expect(&["plan", &p], 0);
    assert!(plan.contains("credits"), "{plan}");
    let before = credits(&emu).0;
    w.expect(&["run", &p], 1);
    let valid = (n - bad) as u64;
    let writes = valid.div_ceil(100);
    let used = credits(&emu).0 - before;
    // The writes (10 credits per full payload, ceil(rows/10) for the last) and one
    // settings/fields call (the plan cached the metadata).
    let expected = (valid / 100) * 10 + (valid % 100).div_ceil(10);
    assert_eq!(used, expected, "credits the emulator charged");
    assert_accounted(&w, n);
    // Inserted through v8, read through XML: every valid row once.
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len() as u64, valid);
    assert!(keys.values().all(|c| *c == 1), "no duplicates");
    let status = w.expect(&["status", &p], 0);
    assert!(status.contains("credits"), "status speaks credits on v8: {status}");
    // The ledger and the emulator agree to the credit: "N by this pipeline, N in all, of ...".
    let in_all: u64 = status
        .split("credits in the last 24 hours: ")
        .nth(1)
        .and_then(|t| t.split(" in all").next())
        .and_then(|t| t.rsplit(", ").next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(in_all, credits(&emu).0, "the ledger's credits equal the emulator's: {status}");
    let _ = writes;
    let table = w.expect(&["run", &p], 1);
    assert!(table.contains("rejected  credits  elapsed"), "{table}");
}

#[test]
fn exports_of_both_faces_hold_the_same_records_and_values() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    leads_csv(&w.path().join("leads.csv"), 450);
    let xml = pipeline(&w, &emu, "xml", "", LEADS_STEP);
    w.expect(&["run", &xml], 1);
    let export = |to: &str| {
        format!(
            "[[steps]]\nname = \"out\"\nexport = \"Leads\"\nto = \"{to}\"\ncolumns = [\"Last Name\", \"Company\", \"Email\", \"Annual Revenue\", \"Legacy Id\", \"Created Time\"]\n"
        )
    };
    let a = pipeline(&w, &emu, "xml", "", &export("out/xml.csv"));
    w.expect(&["run", &a], 0);
    let b = pipeline(&w, &emu, "v8", "", &export("out/v8.csv"));
    w.expect(&["run", &b], 0);
    let rows = |f: &str| {
        let mut r = report(&w.path().join(f));
        r.sort_by(|x, y| x["Legacy Id"].cmp(&y["Legacy Id"]));
        r
    };
    let (x, v) = (rows("out/xml.csv"), rows("out/v8.csv"));
    assert_eq!(x.len(), v.len());
    assert!(x.len() > 400);
    assert_eq!(x, v, "the same records with the same values through both faces");
}

/// Kills of the soak below: 8 in CI; `ZCRM_V8_KILLS=100` for the long run.
fn v8_kills() -> u64 {
    std::env::var("ZCRM_V8_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(8)
}

#[test]
fn a_v8_import_killed_with_dropped_answers_ends_with_every_row_once() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let kills = v8_kills();
    // The long run kills sooner into a larger file, so that the kills land in work.
    let (n, spread) = if kills > 8 { (100_000, 400) } else { (5_000, 1_500) };
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);
    emu.set_faults(FaultSpec::parse("drop_after_commit=0.05,error_rate=0.05,seed=11").unwrap());
    let mut rng = 17u64;
    let mut landed = 0;
    for _ in 0..kills {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(if kills > 8 { 50 } else { 200 } + (rng >> 33) % spread);
        if w.run_killed_after(&["run", &p], delay) {
            landed += 1;
        }
    }
    eprintln!("{landed} of {kills} kills landed while the run was working");
    let mut done = false;
    for _ in 0..30 {
        let out = w.run(&["run", &p]);
        if out.status.code() == Some(1) {
            done = true;
            break;
        }
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(done, "the import finished");
    emu.clear_faults();
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len(), n - bad, "exactly the valid rows are in the CRM");
    assert!(keys.values().all(|c| *c == 1), "no duplicates");
    assert_accounted(&w, n);
}

#[test]
fn spent_credits_stop_a_v8_run_with_75_and_a_rerun_resumes() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let bad = leads_csv(&w.path().join("leads.csv"), 600);
    // 25 credits: one metadata call, then 10-credit payloads: two fit, the third does not.
    let p = pipeline(&w, &emu, "v8", "daily_credits = 25", LEADS_STEP);
    let out = w.run(&["run", &p]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(err.contains("credits"), "{err}");
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len(), 200, "two payloads were sent");
    // More credits (an add-on bought): the rerun sends the rest, nothing twice.
    let p = pipeline(&w, &emu, "v8", "daily_credits = 1000", LEADS_STEP);
    w.expect(&["run", &p], 1);
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len(), 600 - bad);
    assert!(keys.values().all(|c| *c == 1));
}

#[test]
fn zcrm_auth_exchanges_a_grant_code_into_an_owner_only_file_and_checks_it() {
    let mut w = workdir();
    let emu = emulator(w.path(), |c| c);
    let code = admin(&emu, "POST", &format!("grant-code?client_id={CLIENT_ID}"))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    w.env("ZCRM_URL", emu.url())
        .env("ZCRM_CLIENT_ID", CLIENT_ID)
        .env("ZCRM_CLIENT_SECRET", CLIENT_SECRET);
    let out = w.run(&["auth", "--code", &code, "--save", "secrets/refresh-token"]);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains(REFRESH_TOKEN) && !stderr.contains(REFRESH_TOKEN), "{stdout}{stderr}");
    let file = w.path().join("secrets/refresh-token");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), REFRESH_TOKEN);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // The code works once.
    let again = w.run(&["auth", "--code", &code, "--save", "secrets/again"]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid_code") || err.contains("grant code"), "{err}");
    assert!(!err.contains(&code), "the code is not repeated: {err}");
    // The saved token works.
    w.env("ZCRM_API", "v8").env("ZCRM_REFRESH_TOKEN", REFRESH_TOKEN);
    let check = w.expect(&["auth", "--check"], 0);
    assert!(check.contains("ok: an access token was minted"), "{check}");
}

#[test]
fn the_embedded_emulator_serves_v8_without_credentials() {
    let w = Workdir::new();
    let bad = leads_csv(&w.path().join("leads.csv"), 300);
    let steps = LEADS_STEP.replace("\"Legacy Id\" = \"id\"\n", "");
    std::fs::write(
        w.path().join("p.toml"),
        format!("[connection]\napi = \"v8\"\nedition = \"enterprise\"\nlicenses = 10\n{steps}"),
    )
    .unwrap();
    let plan = w.expect(&["plan", "p.toml"], 0);
    assert!(plan.contains("credits per rolling 24 hours"), "{plan}");
    w.expect(&["run", "p.toml"], 1);
    let ok = report(&w.path().join("out/leads.success.csv"));
    assert_eq!(ok.len(), 300 - bad);
    let status = w.expect(&["status", "p.toml"], 0);
    assert!(status.contains("credits in the last 24 hours"), "{status}");
}

#[test]
fn missing_or_wrong_oauth_credentials_are_usage_errors_that_never_show_a_secret() {
    let mut w = Workdir::new();
    let emu = emulator(w.path(), |c| c);
    leads_csv(&w.path().join("leads.csv"), 10);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);
    // No variables at all: the message names the variable.
    let out = w.run(&["run", &p]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("E2E_CLIENT_ID"), "{err}");
    // A wrong secret: refused by the token endpoint, nothing sent, the secret never shown.
    w.env("E2E_CLIENT_ID", CLIENT_ID)
        .env("E2E_CLIENT_SECRET", "wrong-secret-5e5e5e")
        .env("E2E_REFRESH_TOKEN", REFRESH_TOKEN);
    let out = w.run(&["run", &p]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    for secret in ["wrong-secret-5e5e5e", REFRESH_TOKEN] {
        assert!(!err.contains(secret), "{err}");
    }
    assert_eq!(crate::crm::value_counts(&emu, "Leads", "Legacy Id").len(), 0);
}

#[test]
fn a_v8_upsert_on_a_custom_field_splits_updates_and_inserts_through_the_index() {
    // match_on a field that is not the duplicate-check field: the index is read page by page
    // (1 credit each), matches are updated, the rest created, nothing twice.
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    leads_csv(&w.path().join("leads.csv"), 300);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);
    w.expect(&["run", &p], 1);
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
    let p = pipeline(&w, &emu, "v8", "", sync);
    let before = credits(&emu).0;
    w.expect(&["run", &p], 0);
    let used = credits(&emu).0 - before;
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert!(keys.values().all(|c| *c == 1), "nothing twice");
    assert!(keys.contains_key("L449") && keys.contains_key("L150"));
    let synced = crate::crm::value_counts(&emu, "Leads", "Last Name");
    assert!(synced.contains_key("Synced 150") && synced.contains_key("Synced 449"));
    // Index reads of ~300 existing records (2 pages) + 3 payloads of 100 (10 credits each) +
    // metadata if not cached: far below one search per row.
    assert!(used <= 2 + 30 + 1 + 2, "{used} credits");
}

#[test]
fn owners_by_email_or_name_resolve_to_active_users_on_both_faces() {
    for api in ["xml", "v8"] {
        let w = workdir();
        let emu = emulator(w.path(), |c| c);
        std::fs::write(
            w.path().join("leads.csv"),
            "id,last,company,owner\n\
             O1,One,Co,ann.owner@example.com\n\
             O2,Two,Co,Bob Seller\n\
             O3,Three,Co,cleo.former@example.com\n\
             O4,Four,Co,bob.sellr@example.com\n\
             O5,Five,Co,ANN.OWNER@EXAMPLE.COM\n",
        )
        .unwrap();
        let step = r#"
[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
key = "id"
[steps.map]
"Last Name" = "last"
"Company" = "company"
"Legacy Id" = "id"
"Lead Owner" = { owner = "owner" }
"#;
        let p = pipeline(&w, &emu, api, "", step);
        w.expect(&["run", &p], 1);
        let ok = report(&w.path().join("out/leads.success.csv"));
        let bad = report(&w.path().join("out/leads.rejects.csv"));
        assert_eq!(ok.len(), 3, "{api}: {bad:?}");
        assert_eq!(bad.len(), 2, "{api}");
        let reasons: Vec<&str> = bad.iter().map(|r| r["_errors"].as_str()).collect();
        assert!(
            reasons[0].contains("no active user") && reasons[0].contains("cleo"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("did you mean \"bob.seller@example.com\""), "{reasons:?}");
        let owners = crate::crm::value_counts(&emu, "Leads", "SMOWNERID");
        assert_eq!(owners.get("900000000000000101"), Some(&2), "{api}: {owners:?}");
        assert_eq!(owners.get("900000000000000102"), Some(&1), "{api}: {owners:?}");
    }
}

#[test]
fn zcrm_users_lists_the_users_owners_resolve_against_on_both_faces() {
    for api in ["xml", "v8"] {
        let mut w = Workdir::new();
        w.env("ZCRM_API", api);
        let active = w.expect(&["users"], 0);
        assert!(
            active.contains("ann.owner@example.com") && active.contains("Bob Seller"),
            "{api}: {active}"
        );
        assert!(!active.contains("cleo.former"), "{api}: deactivated users only with --all");
        let all = w.expect(&["users", "--all"], 0);
        assert!(all.contains("cleo.former@example.com"), "{api}: {all}");
        assert!(all.contains("3 user(s)"), "{api}: {all}");
    }
}
