//! `zcrm export` end to end against an emulator seeded with demo data.

use zcrm_emulator::{Emulator, EmulatorConfig};

use crate::harness::Workdir;

const TOKEN: &str = "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4";

#[test]
fn export_demo_leads_to_parquet_and_csv_with_exact_calls() {
    let data = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        seed_demo: true,
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 10,
        ..EmulatorConfig::new(data.path()).token(TOKEN)
    })
    .unwrap();
    let leads = emu.record_counts()["Leads"];
    assert!(leads > 200, "the demo store has several pages of leads ({leads})");
    let mut w = Workdir::new();
    w.env("ZCRM_URL", emu.url())
        .env("ZCRM_AUTHTOKEN", TOKEN)
        .env("ZCRM_EDITION", "enterprise")
        .env("ZCRM_LICENSES", "10");
    let before = emu.calls_today();
    let out =
        w.expect(&["export", "Leads", "--to", "out/leads.parquet", "--reads-in-flight", "1"], 0);
    assert!(out.contains(&format!("exported {leads} records")), "{out}");
    // The closing progress line has the final figures, not the trailing per-page ones.
    let done = out.lines().find(|l| l.contains("done:")).unwrap_or_default();
    assert!(done.contains(&format!("{leads} records")), "{out}");
    let pages = leads.div_ceil(200) + u64::from(leads.is_multiple_of(200));
    assert_eq!(
        emu.calls_today() - before,
        pages + 2,
        "ceil(records/200) pages + 1 getFields + 1 check for records deleted meanwhile"
    );
    assert!(w.path().join("out/leads.parquet").exists());

    let before = emu.calls_today();
    let out = w.expect(
        &["export", "Leads", "--to", "out/leads.csv", "--columns", "Last Name,Company,Email"],
        0,
    );
    assert!(out.contains("records"), "{out}");
    // Four pages in flight by default: up to three asked for past the last one.
    let spent = emu.calls_today() - before;
    assert!((pages + 1..=pages + 4).contains(&spent), "metadata came from the cache: {spent}");
    let text = std::fs::read_to_string(w.path().join("out/leads.csv")).unwrap();
    assert!(text.starts_with("LEADID,Last Name,Company,Email\n"), "{}", &text[..80]);
    assert_eq!(text.lines().count() as u64, leads + 1);

    // Incremental folder parts: the second run has nothing new.
    w.expect(&["export", "Leads", "--to", "out/leads/", "--since", "last-run"], 0);
    let again = w.expect(&["export", "Leads", "--to", "out/leads/", "--since", "last-run"], 0);
    assert!(again.contains("nothing changed"), "{again}");
    assert!(w.path().join("out/leads/part-0001.parquet").exists());
    assert!(!w.path().join("out/leads/part-0002.parquet").exists());

    let bad = w.expect(&["export", "Leads", "--to", "out/leads.xlsx"], 2);
    assert!(bad.contains(".parquet or .csv"), "{bad}");
    let bad = w.expect(&["export", "Leads", "--to", "x.csv", "--columns", "Nope"], 2);
    assert!(bad.contains("Nope"), "{bad}");
}

/// `--reads-in-flight 4` (and `ZCRM_READS_IN_FLIGHT=4` for an incremental run) writes the same
/// file as one page at a time: the same rows in the same order; out-of-range values are usage
/// errors (exit 2) that name the bounds.
#[test]
fn pages_in_flight_write_the_same_file_as_one_page_at_a_time() {
    let data = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        seed_demo: true,
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 10,
        ..EmulatorConfig::new(data.path()).token(TOKEN)
    })
    .unwrap();
    let leads = emu.record_counts()["Leads"];
    assert!(leads > 600, "the demo store has several pages of leads ({leads})");
    let mut w = Workdir::new();
    w.env("ZCRM_URL", emu.url())
        .env("ZCRM_AUTHTOKEN", TOKEN)
        .env("ZCRM_EDITION", "enterprise")
        .env("ZCRM_LICENSES", "10");
    let dir = w.path().to_owned();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    w.expect(&["export", "Leads", "--to", "one.csv", "--reads-in-flight", "1"], 0);
    let out = w.expect(&["export", "Leads", "--to", "four.csv", "--reads-in-flight", "4"], 0);
    assert!(out.contains(&format!("exported {leads} records")), "{out}");
    assert_eq!(read("one.csv"), read("four.csv"));

    let since = ["--since", "2000-01-01"];
    w.env("ZCRM_READS_IN_FLIGHT", "1");
    w.expect(&["export", "Leads", "--to", "inc-one.csv", since[0], since[1]], 0);
    w.env("ZCRM_READS_IN_FLIGHT", "4");
    w.expect(&["export", "Leads", "--to", "inc-four.csv", since[0], since[1]], 0);
    assert_eq!(read("inc-one.csv"), read("inc-four.csv"));
    assert_eq!(read("inc-one.deleted.csv"), read("inc-four.deleted.csv"));

    let bad = w.expect(&["export", "Leads", "--to", "x.csv", "--reads-in-flight", "9"], 2);
    assert!(bad.contains("between 1 and 8"), "{bad}");
    w.env("ZCRM_READS_IN_FLIGHT", "0");
    let bad = w.expect(&["export", "Leads", "--to", "x.csv"], 2);
    assert!(bad.contains("ZCRM_READS_IN_FLIGHT"), "{bad}");
}
