//! `max_rejects` (a wrong file never half-imports; tolerated rejects exit 0) and rehearsals on
//! the first rows (`--limit`, `sample`), journalled so the full run continues after them.

use crate::crm::{TOKEN, value_counts};
use crate::harness::Workdir;

/// 20 leads, rows 4, 8, 12, 16 and 20 without a last name.
fn leads(dir: &std::path::Path) {
    let mut csv = String::from("id,last,company\n");
    for i in 1..=20 {
        let last = if i % 4 == 0 { String::new() } else { format!("Last{i}") };
        csv.push_str(&format!("L{i},{last},Co{i}\n"));
    }
    std::fs::write(dir.join("leads.csv"), csv).unwrap();
}

fn pipeline(w: &Workdir, url: &str, extra: &str) {
    let text = format!(
        "[connection]\nurl = \"{url}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\n\n[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"leads.csv\"\nkey = \"id\"\n{extra}\n[steps.map]\n\"Last Name\" = \"last\"\n\"Company\" = \"company\"\n\"Legacy Id\" = \"id\"\n"
    );
    std::fs::write(w.path().join("p.toml"), text).unwrap();
}

#[test]
fn more_local_rejects_than_max_rejects_send_nothing_and_fewer_exit_0() {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    let emu = crate::crm::emulator(w.path(), &crate::crm::legacy_id_field("Leads"), |c| c);
    leads(w.path());
    pipeline(&w, emu.url(), "max_rejects = 2");
    let out = w.run(&["run", "p.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("5 of 20 rows fail the local checks, more than max_rejects = 2"), "{err}");
    assert_eq!(emu.calls_today_of("insertRecords"), 0, "nothing was sent");
    let rejects = std::fs::read_to_string(w.path().join("out/leads.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 6, "the reject file says what to fix: {rejects}");
    // 25% tolerated: the 15 good rows go in, the 5 bad ones to the reject file, exit 0.
    pipeline(&w, emu.url(), "max_rejects = \"25%\"");
    w.expect(&["run", "p.toml"], 0);
    assert_eq!(value_counts(&emu, "Leads", "Legacy Id").len(), 15);
    let rejects = std::fs::read_to_string(w.path().join("out/leads.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 6);
}

#[test]
fn a_rehearsal_on_the_first_rows_is_continued_not_repeated_by_the_full_run() {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    let emu = crate::crm::emulator(w.path(), &crate::crm::legacy_id_field("Leads"), |c| c);
    leads(w.path());
    pipeline(&w, emu.url(), "");
    let out = w.expect(&["run", "p.toml", "--limit", "6"], 1);
    assert!(out.contains("a rehearsal on the first 6 valid rows"), "{out}");
    let first = value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(first.len(), 6, "{first:?}");
    assert!(first.contains_key("L1") && first.contains_key("L7") && !first.contains_key("L9"));
    // `sample` on the step does the same; the first 6 are in the journal already.
    pipeline(&w, emu.url(), "sample = 6");
    w.expect(&["run", "p.toml"], 1);
    assert_eq!(value_counts(&emu, "Leads", "Legacy Id").len(), 6);
    // The full run sends the other 9 valid rows, once each.
    pipeline(&w, emu.url(), "");
    w.expect(&["run", "p.toml"], 1);
    let all = value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(all.len(), 15);
    assert!(all.values().all(|n| *n == 1), "{all:?}");
}
