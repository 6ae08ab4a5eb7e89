//! `zcrm run --summary-json FILE --report FILE.html`: the machine-readable summary (per step
//! rows, created, rejected by reason, spend by day, exit code) and a one-file HTML report that
//! needs nothing from the network.

use crate::harness::Workdir;

#[test]
fn a_run_writes_its_summary_and_a_self_contained_report() {
    let w = Workdir::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["pipelines", "samples"] {
        std::fs::create_dir_all(w.path().join(d)).unwrap();
        for e in std::fs::read_dir(repo.join(d)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), w.path().join(d).join(e.file_name())).unwrap();
            }
        }
    }
    w.expect(
        &[
            "run",
            "pipelines/quickstart.toml",
            "--summary-json",
            "summary.json",
            "--report",
            "report.html",
        ],
        0,
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["exit_code"], 0);
    assert_eq!(s["unit"], "calls");
    let leads = &s["steps"][0];
    assert_eq!(leads["name"], "leads");
    assert_eq!(leads["rejected"], 3);
    assert_eq!(leads["allowed_rejects"], 3);
    assert_eq!(leads["rows"].as_u64(), Some(leads["created"].as_u64().unwrap() + 3));
    let reasons = leads["rejected_by_reason"].as_array().unwrap();
    assert!(!reasons.is_empty(), "{s}");
    assert!(reasons.iter().all(|r| r["rows"].as_u64().is_some_and(|n| n > 0)), "{s}");
    assert!(s["by_day"][0]["calls"].as_u64().is_some_and(|n| n > 0), "{s}");
    assert!(s["budget"]["budget"].as_u64().is_some(), "{s}");

    let html = std::fs::read_to_string(w.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<svg"), "the timeline");
    // The report shows the summary's figures: each step's row of the table.
    for st in s["steps"].as_array().unwrap() {
        let row = format!(
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            st["name"].as_str().unwrap(),
            st["kind"].as_str().unwrap(),
            st["rows"],
            st["created"],
            st["updated"],
            st["rejected"],
            st["calls"]
        );
        assert!(html.contains(&row), "{row} not in the report");
    }
    assert!(html.contains("quickstart-leads.rejects.csv"), "the top reasons name their file");
    for external in ["<script", "<link", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(external), "{external} in the report");
    }
    // A failing run still leaves a summary with its exit code.
    std::fs::write(
        w.path().join("pipelines/broken.toml"),
        "[[steps]]\nname = \"x\"\nimport = \"Leeds\"\n",
    )
    .unwrap();
    let out = w.run(&["run", "pipelines/broken.toml", "--summary-json", "broken.json"]);
    assert_eq!(out.status.code(), Some(2));
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path().join("broken.json")).unwrap())
            .unwrap();
    assert_eq!(b["exit_code"], 2);
    assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()), "{b}");
}
