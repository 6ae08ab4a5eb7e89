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
    rendered_by_chromium(&w.path().join("report.html"), &s);
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

/// The Chromium to render with: `ZCRM_CHROMIUM`, else Debian's `chromium` (installed by
/// `scripts/install-test-deps.sh`, which `.ci/run` runs).
fn chromium() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("ZCRM_CHROMIUM") {
        return Some(p.into());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

/// The report as a browser shows it: headless Chromium (no network: the flags keep it from
/// calling home) parses it, and the table it builds holds each step's figures of the JSON
/// summary, in the right columns; a screenshot of the page is a PNG of the window's size.
fn rendered_by_chromium(html: &std::path::Path, s: &serde_json::Value) {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs scripts/install-test-deps.sh, which installs chromium"
        );
        eprintln!(
            "no chromium: the report's browser check is skipped (scripts/install-test-deps.sh)"
        );
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let shot = profile.path().join("report.png");
    let browser = |extra: &[String]| {
        let out = std::process::Command::new(&bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let dom = browser(&["--dump-dom".to_owned()]);
    // The steps table as the browser built it (it adds the tbody the file leaves out).
    let steps = dom.split("<h2>Steps</h2>").nth(1).and_then(|t| t.split("</table>").next());
    let steps = steps.unwrap_or_else(|| panic!("no steps table in the rendered page: {dom}"));
    assert!(steps.contains("<tbody>"), "the browser's own DOM, not the file: {steps}");
    let rows: Vec<Vec<String>> = steps
        .split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let text = td.split_once('>').map_or("", |(_, rest)| rest);
                    text.split("</td>").next().unwrap_or_default().to_owned()
                })
                .collect()
        })
        .filter(|cells: &Vec<String>| !cells.is_empty())
        .collect();
    let want: Vec<Vec<String>> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            let mut cells = vec![
                st["name"].as_str().unwrap().to_owned(),
                st["kind"].as_str().unwrap().to_owned(),
            ];
            for k in ["rows", "created", "updated", "rejected", "calls"] {
                cells.push(st[k].to_string());
            }
            cells
        })
        .collect();
    let shown: Vec<Vec<String>> = rows.iter().map(|r| r[..7].to_vec()).collect();
    assert_eq!(shown, want, "the rendered table shows the summary's figures");
    browser(&[format!("--screenshot={}", shot.display()), "--window-size=1000,1200".to_owned()]);
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1000, 1200), "the window's size");
}
