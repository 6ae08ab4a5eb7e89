//! Export variants end to end: a folder of parts whose module gains, loses or retypes a field
//! between runs (`on_schema_change`), exports of a search criteria and of a custom view, both
//! faces where the variant exists on them.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use zcrm_emulator::{Emulator, EmulatorHandle};
use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::params::WriteParams;

use crate::crm::{check_client, config, legacy_id_field};
use crate::harness::Workdir;
use crate::v8::{pipeline, workdir};

/// The column names of a Parquet file.
fn columns(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r = SerializedFileReader::new(f).unwrap();
    r.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect()
}

fn rows(path: &Path) -> i64 {
    let f = std::fs::File::open(path).unwrap();
    SerializedFileReader::new(f).unwrap().metadata().file_metadata().num_rows()
}

/// The emulator on `w`'s data dir with the Legacy Id field and `more` schema lines.
fn start(w: &Workdir, more: &str) -> EmulatorHandle {
    let schema = legacy_id_field("Leads") + more;
    Emulator::start(config(w.path(), &schema, |mut c| {
        c.seed_demo = true;
        c
    }))
    .unwrap()
}

/// A lead added through the XML face (so an incremental run has something to write).
fn add_lead(emu: &EmulatorHandle, name: &str) {
    let mut x = XmlDataBuilder::new("Leads", 1);
    x.push_row([("Last Name", name), ("Company", "Acme")]).unwrap();
    check_client(emu)
        .insert_records("Leads", x.finish().unwrap(), &WriteParams::default())
        .unwrap();
}

const SCORE: &str = "[[field]]\nmodule = \"Leads\"\nlabel = \"Score\"\ntype = \"Integer\"\n";
const REGION: &str = "[[field]]\nmodule = \"Leads\"\nlabel = \"Region\"\ntype = \"Text\"\n";
const SCORE_TEXT: &str = "[[field]]\nmodule = \"Leads\"\nlabel = \"Score\"\ntype = \"Text\"\n";

fn export_step(policy: &str) -> String {
    format!(
        "[[steps]]\nname = \"leads\"\nexport = \"Leads\"\nto = \"out/leads/\"\nsince = \"last-run\"\non_schema_change = \"{policy}\"\n"
    )
}

#[test]
fn a_folder_of_parts_evolves_with_an_added_field_and_stops_when_told_or_on_a_type_change() {
    let w = workdir();
    // The org is named, so that the emulator's new port after a restart is the same org.
    let org = "org = \"shape\"";
    let emu = start(&w, "");
    let p = pipeline(&w, &emu, "xml", org, &export_step("evolve"));
    w.expect(&["run", &p], 0);
    let part1 = w.path().join("out/leads/part-0001.parquet");
    let before = std::fs::read(&part1).unwrap();
    assert!(!columns(&part1).contains(&"Score".to_owned()));
    emu.stop();

    // The module gains "Score": evolve writes a part with it, the first part is untouched.
    let emu = start(&w, SCORE);
    add_lead(&emu, "Evolved");
    let p = pipeline(&w, &emu, "xml", org, &export_step("evolve"));
    let out = w.expect(&["run", &p, "--summary-json", "summary.json"], 0);
    let part2 = w.path().join("out/leads/part-0002.parquet");
    assert!(columns(&part2).contains(&"Score".to_owned()), "{:?}", columns(&part2));
    assert_eq!(rows(&part2), 1);
    assert_eq!(std::fs::read(&part1).unwrap(), before, "the earlier part stays as it was");
    let summary = std::fs::read_to_string(w.path().join("summary.json")).unwrap();
    assert!(
        summary.contains("added \\\"Score\\\""),
        "the run summary reports it: {summary}\n{out}"
    );
    emu.stop();

    // The module gains "Region": fail stops before writing, naming it (exit 2, nothing sent).
    let emu = start(&w, &format!("{SCORE}{REGION}"));
    add_lead(&emu, "Stopped");
    let p = pipeline(&w, &emu, "xml", org, &export_step("fail"));
    let out = w.expect(&["run", &p], 2);
    assert!(out.contains("added \"Region\""), "{out}");
    assert!(!w.path().join("out/leads/part-0003.parquet").exists());
    emu.stop();

    // "Score" becomes Text: even evolve stops, naming the field and both types.
    let emu = start(&w, &format!("{SCORE_TEXT}{REGION}"));
    let p = pipeline(&w, &emu, "xml", org, &export_step("evolve"));
    let out = w.expect(&["run", &p], 2);
    assert!(out.contains("\"Score\" was integer (int64), is now text"), "{out}");
    assert!(!w.path().join("out/leads/part-0003.parquet").exists());
}

/// Leads whose Lead Source is Web Form, as the emulator holds them.
fn web_leads(emu: &EmulatorHandle) -> usize {
    crate::crm::records(emu, "Leads", &["Lead Source"])
        .iter()
        .filter(|r| r.get("Lead Source").is_some_and(|s| s == "Web Form"))
        .count()
}

fn criteria_step(to: &str) -> String {
    format!(
        "[[steps]]\nname = \"web\"\nexport = \"Leads\"\nto = \"{to}\"\ncriteria = \"(Lead Source:Web Form)\"\n"
    )
}

#[test]
fn a_criteria_export_holds_only_the_matching_records_on_both_faces() {
    let w = workdir();
    let emu = crate::v8::emulator(w.path(), |mut c| {
        c.seed_demo = true;
        c
    });
    let web = web_leads(&emu);
    assert!(web > 200, "several search pages ({web})");
    // One page at a time: the exact call count (with several in flight, up to N - 1 more).
    let p = pipeline(&w, &emu, "xml", "reads_in_flight = 1", &criteria_step("out/xml.csv"));
    let before = emu.calls_today_of("searchRecords");
    w.expect(&["run", &p], 0);
    assert_eq!(
        emu.calls_today_of("searchRecords") - before,
        web.div_ceil(200) as u64 + u64::from(web.is_multiple_of(200)),
        "ceil(matching / 200) searchRecords pages"
    );
    let xml = crate::crm::report(&w.path().join("out/xml.csv"));
    assert_eq!(xml.len(), web);
    assert!(xml.iter().all(|r| r["Lead Source"] == "Web Form"));

    let p = pipeline(&w, &emu, "v8", "", &criteria_step("out/v8.csv"));
    w.expect(&["run", &p], 0);
    let v8 = crate::crm::report(&w.path().join("out/v8.csv"));
    assert_eq!(v8.len(), web);
    assert!(v8.iter().all(|r| r["Lead Source"] == "Web Form"));

    // Had the last run written more than a v8 search can read, `zcrm plan` refuses the step.
    assert!(w.expect(&["plan", &p], 0).contains("search pages"));
    let wm = watermark_of(&w.path().join(".zcrm/v8"), "v8.csv");
    let text = std::fs::read_to_string(&wm).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["records"] = 2_001.into();
    std::fs::write(&wm, json.to_string()).unwrap();
    let out = w.expect(&["plan", &p], 2);
    assert!(out.contains("more than the 2000 a v8 search can read"), "{out}");
}

/// The watermark file of the export to a destination whose name ends in `dest`.
fn watermark_of(state: &Path, dest: &str) -> std::path::PathBuf {
    let mut stack = vec![state.join("exports")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(&format!("{dest}.json")) {
                return p;
            }
        }
    }
    panic!("no watermark for {dest} under {}", state.display())
}

/// The ids (first column: the module's id column) of an exported CSV, sorted.
fn ids_of(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let mut ids: Vec<String> = r.records().map(|rec| rec.unwrap()[0].to_owned()).collect();
    ids.sort();
    ids
}

#[test]
fn a_view_export_holds_the_same_records_on_both_faces() {
    let w = workdir();
    let emu = crate::v8::emulator(w.path(), |mut c| {
        c.seed_demo = true;
        c
    });
    let open = crate::crm::records(&emu, "Leads", &["Lead Status"])
        .iter()
        .filter(|r| {
            !r.get("Lead Status")
                .is_some_and(|s| ["Junk Lead", "Lost Lead", "Not Qualified"].contains(&s.as_str()))
        })
        .count();
    assert!(open > 200, "several pages ({open})");
    let step = |to: &str, view: &str| {
        format!(
            "[[steps]]\nname = \"open\"\nexport = \"Leads\"\nto = \"{to}\"\nview = \"{view}\"\n"
        )
    };
    let p =
        pipeline(&w, &emu, "xml", "reads_in_flight = 1", &step("out/open.csv", "All Open Leads"));
    let before = emu.calls_today_of("getCVRecords");
    w.expect(&["run", &p], 0);
    assert_eq!(
        emu.calls_today_of("getCVRecords") - before,
        open.div_ceil(200) as u64 + u64::from(open.is_multiple_of(200))
    );
    let xml = crate::crm::report(&w.path().join("out/open.csv"));
    assert_eq!(xml.len(), open);
    // The v8 face: the view's id from settings/custom_views (the name in any case), then the
    // record list with cvid; exactly the records the XML face exported.
    let p = pipeline(&w, &emu, "v8", "", &step("out/open-v8.csv", "all open leads"));
    w.expect(&["run", &p], 0);
    let v8 = crate::crm::report(&w.path().join("out/open-v8.csv"));
    assert_eq!(v8.len(), open);
    assert!(v8.iter().all(|r| {
        !["Junk Lead", "Lost Lead", "Not Qualified"].contains(&r["Lead Status"].as_str())
    }));
    assert_eq!(ids_of(&w.path().join("out/open-v8.csv")), ids_of(&w.path().join("out/open.csv")));
    // `zcrm plan` tells how the view is read and what its pages cost.
    let out = w.expect(&["plan", &p], 0);
    assert!(out.contains("cvid") && out.contains("3 credits a page"), "{out}");
    // A view the org does not have: a usage error before any record is read (exit 2), naming
    // it and the module's views.
    let p = pipeline(&w, &emu, "v8", "", &step("out/hot.csv", "Hot Leads"));
    let out = w.expect(&["run", &p], 2);
    assert!(out.contains("no custom view \"Hot Leads\""), "{out}");
    assert!(out.contains("\"All Open Leads\""), "{out}");
    assert!(!w.path().join("out/hot.csv").exists());
}

/// A v8 search matching exactly 2,000 records (the most a search reads) exports them all, one
/// page or eight in flight; one more matching record makes the export fail naming the ceiling
/// instead of ending at record 2,000 as if that were all.
#[test]
fn a_v8_search_of_exactly_2000_records_ends_there_and_one_more_fails() {
    let w = workdir();
    let emu = crate::v8::emulator(w.path(), |c| c);
    let client = check_client(&emu);
    for batch in 0..21 {
        let mut x = XmlDataBuilder::new("Leads", 100);
        for i in 0..100 {
            // Every 21st lead does not match, so matches and others interleave.
            let source = if (batch * 100 + i) % 21 == 20 { "Cold Call" } else { "Web Form" };
            let name = format!("W{}", batch * 100 + i);
            x.push_row([
                ("Last Name", name.as_str()),
                ("Company", "Acme"),
                ("Lead Source", source),
            ])
            .unwrap();
        }
        client.insert_records("Leads", x.finish().unwrap(), &WriteParams::default()).unwrap();
    }
    assert_eq!(web_leads(&emu), 2_000);
    for flight in [1, 8] {
        let to = format!("out/web-{flight}.csv");
        let p =
            pipeline(&w, &emu, "v8", &format!("reads_in_flight = {flight}"), &criteria_step(&to));
        w.expect(&["run", &p], 0);
        assert_eq!(crate::crm::report(&w.path().join(&to)).len(), 2_000, "{flight} in flight");
    }
    let mut x = XmlDataBuilder::new("Leads", 1);
    x.push_row([("Last Name", "W2100"), ("Company", "Acme"), ("Lead Source", "Web Form")]).unwrap();
    client.insert_records("Leads", x.finish().unwrap(), &WriteParams::default()).unwrap();
    for flight in [1, 8] {
        let to = format!("out/web-{flight}.csv");
        let p =
            pipeline(&w, &emu, "v8", &format!("reads_in_flight = {flight}"), &criteria_step(&to));
        let out = w.expect(&["run", &p], 3);
        assert!(out.contains("a search reads at most 2000 records"), "{out}");
    }
}
