//! Bulk Write on v8: the planner picks the record API for small steps and Bulk Write for large
//! ones, and says why; `method` overrides it.

use crate::v8::{LEADS_STEP, emulator, leads_csv, pipeline, workdir};

/// The plan's method line of the `leads` step.
fn method_line(plan: &str) -> String {
    plan.lines()
        .find(|l| l.trim_start().starts_with("method: "))
        .unwrap_or_else(|| panic!("no method line: {plan}"))
        .trim()
        .to_owned()
}

#[test]
fn the_plan_picks_records_at_a_thousand_rows_and_bulk_at_a_hundred_thousand_and_says_why() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);

    let bad = leads_csv(&w.path().join("leads.csv"), 1_000);
    let plan = w.expect(&["plan", &p], 0);
    let line = method_line(&plan);
    let valid = 1_000 - bad as u64;
    assert!(line.starts_with("method: records — records: "), "{line}");
    assert!(
        line.contains(&format!("records: {} credits vs bulk: 1 job = ", valid.div_ceil(10))),
        "{line}"
    );

    let bad = leads_csv(&w.path().join("leads.csv"), 100_000);
    let plan = w.expect(&["plan", &p], 0);
    let line = method_line(&plan);
    let valid = 100_000 - bad as u64;
    assert!(line.starts_with("method: bulk — bulk: 4 jobs = 2,000 credits vs records: "), "{line}");
    let records = (valid / 100) * 10 + (valid % 100).div_ceil(10);
    assert!(line.contains(&crate::bulk::thousands(records)), "{line}: {records}");
    assert!(plan.contains("2001 credits"), "the step costs the bulk jobs and the org's id: {plan}");

    // `method` wins over the planner, and says so.
    let text = std::fs::read_to_string(w.path().join(&p)).unwrap();
    std::fs::write(
        w.path().join(&p),
        text.replace("key = \"id\"", "key = \"id\"\nmethod = \"records\""),
    )
    .unwrap();
    let line = method_line(&w.expect(&["plan", &p], 0));
    assert!(line.starts_with("method: records — method = \"records\" (records: "), "{line}");
}

/// `n` with thousands separators.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The emulator's Bulk Write jobs.
fn bulk_jobs(emu: &zcrm_emulator::EmulatorHandle) -> Vec<serde_json::Value> {
    crate::v8::admin(emu, "GET", "bulk-jobs").as_array().cloned().unwrap_or_default()
}

#[test]
fn sixty_thousand_rows_on_v8_cost_three_bulk_jobs_each_row_once_and_every_id_in_the_success_file() {
    // About 45 s in a debug build: run with ZCRM_BULK_SOAK=1.
    if std::env::var_os("ZCRM_BULK_SOAK").is_none() {
        return;
    }
    let w = workdir();
    let emu = emulator(w.path(), |mut c| {
        c.bulk_job_delay = std::time::Duration::ZERO;
        c
    });
    let n = 60_000;
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);
    let before = crate::v8::credits(&emu).0;
    let out = w.expect(&["run", &p], 1);
    assert!(out.contains("bulk: 3 jobs = 1,500 credits vs records: "), "{out}");
    let used = crate::v8::credits(&emu).0 - before;
    // 3 jobs of 500; the metadata and the org's id one credit each.
    assert_eq!(used, 3 * 500 + 2, "credits the emulator charged");
    let jobs = bulk_jobs(&emu);
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    crate::v8::assert_accounted(&w, n);
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len(), n - bad);
    assert!(keys.values().all(|c| *c == 1), "no duplicates");
    let ok = crate::crm::report(&w.path().join("out/leads.success.csv"));
    assert_eq!(ok.len(), n - bad);
    assert!(ok.iter().all(|r| r["_id"].parse::<u64>().is_ok()), "every success row has its Id");
    // A rerun sends nothing.
    w.expect(&["run", &p], 1);
    assert_eq!(bulk_jobs(&emu).len(), 3);
}
