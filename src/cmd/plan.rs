//! `zcrm plan PIPELINE.toml`: rows, payloads and calls per step, the day's budget and share,
//! and the days the pipeline needs. It sends no write call.

use anyhow::Result;
use zcrm_engine::{JournalAccess, PlannedStep};

use crate::exit::engine_error;

/// Runs the command; returns the plan to print.
pub fn run(path: &std::path::Path) -> Result<String> {
    let prepared = zcrm_engine::prepare(path, &[], JournalAccess::Shared).map_err(engine_error)?;
    let plan = zcrm_engine::plan(prepared).map_err(engine_error)?;
    let mut out =
        format!("plan for {} ({} rows per write call)\n\n", path.display(), plan.write_batch);
    out.push_str("step              rows   valid  done  to send  payloads  reads  calls  how\n");
    for step in &plan.steps {
        match step {
            PlannedStep::Import { name, rows, valid, done, calls, cost, how, method } => {
                let credits =
                    if plan.credits { format!("  ({cost} credits)") } else { String::new() };
                out.push_str(&format!(
                    "{:<16} {:>6}  {:>6}  {:>4}  {:>7}  {:>8}  {:>5}  {:>5}  {how}{credits}\n",
                    name,
                    rows,
                    valid,
                    done,
                    calls.rows,
                    calls.payloads,
                    calls.reads,
                    calls.calls()
                ));
                if method.bulk_cost.is_some() {
                    let chosen = match method.method {
                        zcrm_pipeline::Method::Bulk => "bulk",
                        zcrm_pipeline::Method::Records => "records",
                    };
                    out.push_str(&format!(
                        "{:<16} method: {chosen} — {} (records about {}, bulk about {})\n",
                        "",
                        method.why,
                        duration(method.records_secs),
                        duration(method.bulk_secs)
                    ));
                }
            }
            PlannedStep::Action {
                name,
                kind,
                module,
                rows,
                valid,
                done,
                calls,
                cost,
                warnings,
            } => {
                let credits =
                    if plan.credits { format!("  ({cost} credits)") } else { String::new() };
                let per = if *kind == "relate" {
                    "one call per record, up to 100 rows each"
                } else {
                    "one call per row"
                };
                out.push_str(&format!(
                    "{:<16} {:>6}  {:>6}  {:>4}  {:>7}  {:>8}  {:>5}  {:>5}  {kind} {module}: {per}{credits}\n",
                    name,
                    rows,
                    valid + done,
                    done,
                    valid,
                    "-",
                    0,
                    calls
                ));
                for w in warnings {
                    out.push_str(&format!("{:<16} warning: {w}\n", ""));
                }
            }
            PlannedStep::Export { name, module, to, choice, attachments } => {
                let how = match choice.method {
                    zcrm_writers::ReadMethod::Records => {
                        "1 call per 200 records, +1 for records deleted meanwhile when more than 200 (+1 metadata if not cached)"
                    }
                    zcrm_writers::ReadMethod::Bulk => {
                        "Bulk Read: 1 job per 200,000 records (+1 metadata if not cached, +1 users)"
                    }
                };
                out.push_str(&format!(
                    "{:<16} export {} → {}: {how}\n",
                    name,
                    module,
                    to.display()
                ));
                if plan.credits {
                    let page = choice.page_credits;
                    let credits = match (choice.records_credits, choice.bulk_credits) {
                        (Some(r), Some(b)) => {
                            format!("record API {r} credits, Bulk Read {b} credits; ")
                        }
                        // A criteria or a view: read page by page only.
                        (Some(r), None) => format!("{r} credits at {page} a page of 200 records; "),
                        (None, None) if page != 1 => {
                            format!("{page} credits a page of 200 records; ")
                        }
                        _ => "record API 1 credit per 200 records, Bulk Read 50 credits per 200,000; ".to_owned(),
                    };
                    let way = match choice.method {
                        zcrm_writers::ReadMethod::Records => "record API",
                        zcrm_writers::ReadMethod::Bulk => "Bulk Read",
                    };
                    out.push_str(&format!("{:<16} {credits}{way}: {}\n", "", choice.why));
                }
                if let Some(dir) = attachments {
                    let unit = if plan.credits { "credit" } else { "call" };
                    let records = match choice.last_records {
                        Some(n) => format!(" (the last run wrote {n} records)"),
                        None => String::new(),
                    };
                    out.push_str(&format!(
                        "{:<16} attachments → {}: 1 listing call per exported record{records} plus 1 download per file (1 {unit} each; +1 listing call per 200 attachments of a record; files already there are not downloaded again)\n",
                        "",
                        dir.display()
                    ));
                }
            }
        }
    }
    let b = &plan.budget;
    if plan.credits {
        out.push_str(&format!(
            "\nimport calls: {} costing {} credits; {} credits per rolling 24 hours (share limit {}), spent in the last 24 hours {}, left now {}\n",
            plan.import_calls, plan.import_cost, b.budget, b.share_limit, b.spent_by_consumer, b.remaining
        ));
        let windows = plan.days.len().max(1);
        out.push_str(&format!(
            "time needed: {} (credits free up 24 hours after they are spent)\n",
            if windows == 1 {
                "within the credits left now".to_owned()
            } else {
                format!("about {} hours", (windows - 1) * 24)
            }
        ));
        for (day, credits) in &plan.days {
            out.push_str(&format!("  from {day}: {credits} credit(s)\n"));
        }
    } else {
        out.push_str(&format!(
            "\nimport calls: {}; daily budget {} (share limit {}), spent today {}, left today {}\n",
            plan.import_calls, b.budget, b.share_limit, b.spent_by_consumer, b.remaining
        ));
        out.push_str(&format!("days needed: {}\n", plan.days.len().max(1)));
        for (day, calls) in &plan.days {
            out.push_str(&format!("  {day}: {calls} call(s)\n"));
        }
    }
    Ok(out)
}

/// An estimated duration in words (`40 s`, `12 min`, `3.5 h`).
fn duration(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{:.1} h", secs as f64 / 3600.0),
    }
}
