//! What a run shows besides its summary table: periodic progress lines on stderr when there
//! is no terminal (text and JSON), and pipeline-file problems as miette reports.

use crate::harness::Workdir;

const PIPELINE: &str = r#"
[connection]
edition = "enterprise"
licenses = 10

[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
key = "id"

[steps.map]
"Last Name" = "last"
"Company" = "company"

[[steps]]
name = "leads-out"
export = "Leads"
to = "out/leads.csv"
"#;

/// `n` leads, every 50th without a last name (rejected locally); returns the rejected count.
fn setup(n: usize) -> (Workdir, usize) {
    let w = Workdir::new();
    let mut csv = String::from("id,last,company\n");
    let mut bad = 0;
    for i in 0..n {
        let last = if i % 50 == 7 {
            bad += 1;
            String::new()
        } else {
            format!("Last {i}")
        };
        csv.push_str(&format!("L{i},{last},Company {}\n", i % 9));
    }
    std::fs::write(w.path().join("leads.csv"), csv).unwrap();
    std::fs::write(w.path().join("p.toml"), PIPELINE).unwrap();
    (w, bad)
}

fn progress_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("zcrm::progress")).collect()
}

#[test]
fn without_a_terminal_progress_is_plain_periodic_lines_and_stdout_is_only_the_table() {
    let (mut w, bad) = setup(450);
    w.env("ZCRM_PROGRESS_SECS", "0");
    let out = w.run(&["run", "p.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "some rows rejected\n{stdout}\n{stderr}");

    // stdout: the summary table and nothing else.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0], "step              kind      rows  in CRM  updated  rejected  calls  elapsed",
        "{stdout}"
    );
    let valid = 450 - bad;
    let leads: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(leads[..6], ["leads", "import", "450", &valid.to_string(), "0", &bad.to_string()]);
    assert_eq!(leads[6], "5", "5 payloads of at most 100 rows: {stdout}");
    let export: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(export[..3], ["leads-out", "export", &valid.to_string()], "{stdout}");
    assert_eq!(
        lines[3..],
        [
            "  leads: out/leads.success.csv",
            "  leads: out/leads.rejects.csv",
            "  leads-out: out/leads.csv"
        ]
    );
    assert!(!stdout.contains("progress") && !stdout.contains('\u{1b}'), "{stdout}");

    // stderr: plain lines (no escape codes, no bar drawing), several while the step runs
    // (every write call here, with ZCRM_PROGRESS_SECS=0), then the totals.
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r'), "{stderr}");
    let progress = progress_lines(&stderr);
    let running: Vec<&&str> =
        progress.iter().filter(|l| l.contains("leads: ") && !l.contains("done:")).collect();
    assert!(running.len() >= 5, "a line per write call at least: {stderr}");
    // The payload count only grows, and is seen growing (writes may overlap, so not every
    // count need show up).
    let payloads: Vec<u64> = running
        .iter()
        .filter_map(|l| l.split(" payload").next()?.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(payloads.len(), running.len(), "{stderr}");
    assert!(payloads.windows(2).all(|w| w[0] <= w[1]), "{payloads:?}");
    assert_eq!((payloads.first(), payloads.last()), (Some(&0), Some(&5)), "{payloads:?}");
    assert!(running.iter().all(|l| l.contains("calls ") && l.contains("today (")), "{stderr}");
    assert!(running.iter().all(|l| l.contains(" rows/s")), "{stderr}");
    let done = progress.iter().find(|l| l.contains("leads: done: 450 rows, 5 payloads, calls "));
    assert!(done.is_some_and(|l| l.contains("rows/s average")), "{stderr}");
    // Three pages of records, and up to three more asked for (4 in flight) before the short
    // one answered.
    assert!(
        progress
            .iter()
            .any(|l| (3..=6).any(|pages| l
                .contains(&format!("leads-out: done: {pages} pages, {valid} records, calls ")))),
        "{stderr}"
    );

    // At the default pace (a line every 5 s) a quick step prints only its totals.
    let (w, _) = setup(120);
    let out = w.run(&["run", "p.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress = progress_lines(&stderr);
    assert_eq!(progress.len(), 2, "one closing line per step: {stderr}");
    assert!(progress[0].contains("leads: done: 120 rows, 2 payloads"), "{stderr}");
}

#[test]
fn with_json_logs_progress_lines_are_json_objects_with_the_figures() {
    let (mut w, _) = setup(250);
    w.env("ZCRM_PROGRESS_SECS", "0");
    let out = w.run(&["--log-format", "json", "run", "p.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{stderr}")))
        .collect();
    let progress: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["target"] == "zcrm::progress").collect();
    assert!(progress.len() >= 3, "{stderr}");
    let last_import = progress
        .iter()
        .find(|e| e["fields"]["kind"] == "import" && e["fields"]["done"] == true)
        .unwrap_or_else(|| panic!("{stderr}"));
    let f = &last_import["fields"];
    assert_eq!(f["step"], "leads");
    assert_eq!(f["rows_read"], 250);
    assert_eq!(f["rows_total"], 250, "the source was counted");
    assert_eq!(f["payloads"], 3);
    assert_eq!(f["budget"], 5000, "enterprise, 10 licences");
    assert!(f["calls_today"].as_u64().is_some_and(|c| c >= 4), "{f}");
    assert!(f["rows_per_sec"].as_f64().is_some(), "{f}");
    assert!(
        progress.iter().any(|e| e["fields"]["kind"] == "export" && e["fields"]["pages"] == 2),
        "{stderr}"
    );
}

#[test]
fn pipeline_problems_are_miette_reports_all_at_once_in_plain_ascii() {
    let (w, _) = setup(3);
    let broken = PIPELINE
        .replace("\"Last Name\" = \"last\"", "\"Last Nme\" = \"last\"")
        .replace("= \"company\"", "= \"compny\"");
    std::fs::write(w.path().join("bad.toml"), broken).unwrap();
    let out = w.run(&["run", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_ascii() && !stderr.contains('\u{1b}'), "{stderr}");
    let expected = [
        "  x bad.toml:13:1: step \"leads\": Leads has no field `Last Nme`",
        "    ,-[bad.toml:13:1]",
        " 12 | [steps.map]",
        " 13 | \"Last Nme\" = \"last\"",
        "    : ^^^^^|^^^^",
        "    :      `-- here",
        "  help: did you mean `Last Name`?",
    ];
    for line in expected {
        assert!(stderr.lines().any(|l| l.trim_end() == line), "{line:?} in\n{stderr}");
    }
    assert!(stderr.contains("bad.toml:14:13: step \"leads\": unknown source column `compny`"));
    assert!(stderr.contains("help: did you mean the column `company`?"), "{stderr}");
    // In file order: the unmapped required field is reported at `[steps.map]`, line 12.
    let first = stderr.find("bad.toml:12:1: step \"leads\": the required field `Last Name`");
    assert!(first.is_some_and(|at| at < stderr.find("bad.toml:13:1").unwrap_or(0)), "{stderr}");
    assert!(stderr.contains("3 problems in the pipeline\nzcrm: bad.toml: nothing was sent"));
    // No call was spent on writes: the metadata call only.
    let budget: serde_json::Value =
        serde_json::from_str(&w.expect(&["budget", "--json"], 0)).unwrap();
    assert_eq!(budget["spent"], 1, "{budget}");
}

#[test]
fn a_step_stopped_by_the_budget_says_so_in_its_last_progress_line() {
    let (w, _) = setup(450);
    let capped = PIPELINE.replace("licenses = 10", "licenses = 10\ndaily_budget = 3");
    std::fs::write(w.path().join("p.toml"), capped).unwrap();
    let out = w.run(&["run", "p.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stdout}\n{stderr}");
    let last = progress_lines(&stderr).into_iter().find(|l| l.contains("leads: stopped: "));
    assert!(last.is_some_and(|l| l.contains("calls 3/3 today (0 left)")), "{stderr}");
    assert!(stdout.starts_with("step              kind "), "the table still: {stdout}");
}
