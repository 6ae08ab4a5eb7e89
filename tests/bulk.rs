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
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
