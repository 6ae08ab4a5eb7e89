//! After a run: a machine-readable summary (`--summary-json FILE`) and a one-file HTML report
//! (`--report FILE.html`: counts, the top reject reasons with example rows, calls or credits
//! against the budget per day, and the run's timeline; no external scripts or fonts).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use zcrm_engine::{RunResult, StepSummary};

/// Example rows kept per reject reason.
const EXAMPLES: usize = 3;
/// Reasons shown per step.
const TOP_REASONS: usize = 10;

/// A reject reason without the row's own values: quoted text becomes `…` and parenthesised
/// detail is dropped (`Email: "x" is not an e-mail (…)` → `Email: … is not an e-mail`).
fn reason_key(problem: &str) -> String {
    let mut out = String::new();
    let (mut quoted, mut depth) = (false, 0u32);
    for c in problem.chars() {
        match c {
            '"' if depth == 0 => {
                if !quoted {
                    out.push('…');
                }
                quoted = !quoted;
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if quoted || depth > 0 => {}
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One reason of a step's reject file: how many rows, and the first few (row number and
/// the row's full `_errors`).
#[derive(Debug, Default)]
struct Reason {
    rows: u64,
    examples: Vec<(String, String)>,
}

/// The reasons in a reject file, most frequent first (a row counts once per reason).
fn reasons(path: &Path) -> Vec<(String, Reason)> {
    let Ok(mut r) = csv::Reader::from_path(path) else { return Vec::new() };
    let Ok(headers) = r.headers().cloned() else { return Vec::new() };
    let (Some(errors), Some(row)) =
        (headers.iter().position(|h| h == "_errors"), headers.iter().position(|h| h == "_row"))
    else {
        return Vec::new();
    };
    let mut by: BTreeMap<String, Reason> = BTreeMap::new();
    for rec in r.records().map_while(Result::ok) {
        let text = rec.get(errors).unwrap_or_default();
        let mut seen = Vec::new();
        for p in text.split(" | ") {
            let key = reason_key(p);
            if key.is_empty() || seen.contains(&key) {
                continue;
            }
            let e = by.entry(key.clone()).or_default();
            e.rows += 1;
            if e.examples.len() < EXAMPLES {
                e.examples.push((rec.get(row).unwrap_or_default().to_owned(), text.to_owned()));
            }
            seen.push(key);
        }
    }
    let mut v: Vec<(String, Reason)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.rows.cmp(&a.1.rows).then_with(|| a.0.cmp(&b.0)));
    v
}

fn reject_file(s: &StepSummary) -> Option<&Path> {
    s.files.iter().map(|p| p.as_path()).find(|p| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("rejects.csv"))
    })
}

/// The summary as JSON: per step rows, created, updated, rejected by reason, spend, duration;
/// spend by day; the exit code.
pub fn summary_json(r: &RunResult, path: &Path, exit_code: u8) -> Value {
    let unit = if r.credits { "credits" } else { "calls" };
    let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| {
            let day = s.started_at.map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
            *by_day.entry(day).or_default() += s.calls;
            let reasons: Vec<Value> = reject_file(s)
                .map(reasons)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| json!({"reason": k, "rows": v.rows}))
                .collect();
            json!({
                "name": s.name,
                "kind": s.kind,
                "rows": s.rows,
                "created": s.created,
                "updated": s.updated,
                "rejected": s.rejected,
                "allowed_rejects": s.allowed_rejects,
                "rejected_by_reason": reasons,
                unit: s.calls,
                "started_at": s.started_at.map(|t| t.to_string()),
                "seconds": s.elapsed,
                "files": s.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                "notes": s.notes,
            })
        })
        .collect();
    let days: Vec<Value> = by_day.into_iter().map(|(d, n)| json!({"day": d, unit: n})).collect();
    json!({
        "pipeline": path.display().to_string(),
        "exit_code": exit_code,
        "unit": unit,
        "stopped": r.stopped.as_ref().map(|s| match s {
            zcrm_engine::Stop::Budget(m) | zcrm_engine::Stop::Rejects(m) => m.clone(),
        }),
        "steps": steps,
        "by_day": days,
        "budget": r.budget,
        "seconds": r.steps.iter().map(|s| s.elapsed).sum::<f64>(),
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The one-file HTML report.
pub fn html(r: &RunResult, path: &Path, exit_code: u8) -> String {
    let unit = if r.credits { "credits" } else { "calls" };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>zcrm run: {}</title>\
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}th{{background:#f3f3f3}}td.l,th.l{{text-align:left}}\
.bar{{fill:#4a7bd0}}.bad{{color:#a00}}code{{background:#f6f6f6;padding:0 3px}}</style></head><body>",
        esc(&path.display().to_string())
    );
    let _ = write!(
        out,
        "<h1>zcrm run: <code>{}</code></h1><p>exit code <b>{exit_code}</b>{}</p>",
        esc(&path.display().to_string()),
        r.stopped.as_ref().map_or(String::new(), |s| match s {
            zcrm_engine::Stop::Budget(m) | zcrm_engine::Stop::Rejects(m) => {
                format!(" — <span class=\"bad\">{}</span>", esc(m))
            }
        })
    );
    out.push_str("<h2>Steps</h2><table><tr><th class=\"l\">step</th><th class=\"l\">kind</th><th>rows</th><th>in CRM</th><th>updated</th><th>rejected</th>");
    let _ = write!(out, "<th>{unit}</th><th>seconds</th></tr>");
    for s in &r.steps {
        let _ = write!(
            out,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
            esc(&s.name),
            esc(s.kind),
            s.rows,
            s.created,
            s.updated,
            s.rejected,
            s.calls,
            s.elapsed
        );
    }
    out.push_str("</table>");
    // Spend per day against the budget.
    let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
    for s in &r.steps {
        let day = s.started_at.map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
        *by_day.entry(day).or_default() += s.calls;
    }
    let _ =
        write!(out, "<h2>{unit} per day</h2><table><tr><th class=\"l\">day</th><th>this run</th>");
    if let Some(b) = &r.budget {
        let _ = write!(
            out,
            "<th>budget</th><th>share limit</th></tr>{}",
            by_day
                .iter()
                .map(|(d, n)| format!(
                    "<tr><td class=\"l\">{}</td><td>{n}</td><td>{}</td><td>{}</td></tr>",
                    esc(d),
                    b.budget,
                    b.share_limit
                ))
                .collect::<String>()
        );
    } else {
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    // The timeline: one bar per step, by start and duration.
    let start = r.steps.iter().filter_map(|s| s.started_at).min();
    let total: f64 = r
        .steps
        .iter()
        .filter_map(|s| {
            let at = s.started_at?;
            Some((at - start?).as_secs_f64() + s.elapsed)
        })
        .fold(0.0, f64::max)
        .max(0.001);
    let (w, row) = (600.0, 22.0);
    let bottom = row * r.steps.len() as f64 + 10.0;
    let _ = write!(
        out,
        "<h2>Timeline</h2><svg width=\"{}\" height=\"{}\" role=\"img\">",
        w + 180.0,
        bottom + 16.0
    );
    // The axis: the run's start and its end, in seconds.
    let _ = write!(
        out,
        "<line x1=\"170\" y1=\"{bottom}\" x2=\"{x2}\" y2=\"{bottom}\" stroke=\"#999\"/>\
<text x=\"170\" y=\"{ty}\" font-size=\"11\">0 s</text>\
<text x=\"{x2}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\">{end} s</text>",
        x2 = 170.0 + w,
        ty = bottom + 13.0,
        end = if total < 1.0 { format!("{total:.3}") } else { format!("{total:.1}") },
    );
    for (i, s) in r.steps.iter().enumerate() {
        let off = match (s.started_at, start) {
            (Some(a), Some(b)) => (a - b).as_secs_f64(),
            _ => 0.0,
        };
        let y = i as f64 * row + 4.0;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect class=\"bar\" x=\"{:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"14\"><title>{} s</title></rect>",
            y + 12.0,
            esc(&s.name),
            170.0 + off / total * w,
            (s.elapsed / total * w).max(1.0),
            s.elapsed
        );
    }
    out.push_str("</svg>");
    // The top reject reasons, with example rows.
    out.push_str("<h2>Rejected rows</h2>");
    let mut any = false;
    for s in &r.steps {
        let Some(file) = reject_file(s) else { continue };
        let rs = reasons(file);
        if rs.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(
            out,
            "<h3>{} <small>(<code>{}</code>)</small></h3><table><tr><th class=\"l\">reason</th><th>rows</th><th class=\"l\">example rows (<code>_row</code>: problems)</th></tr>",
            esc(&s.name),
            esc(&file.display().to_string())
        );
        for (k, v) in rs.iter().take(TOP_REASONS) {
            let ex: Vec<String> = v
                .examples
                .iter()
                .map(|(row, text)| format!("{}: {}", esc(row), esc(text)))
                .collect();
            let _ = write!(
                out,
                "<tr><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
                esc(k),
                v.rows,
                ex.join("<br>")
            );
        }
        out.push_str("</table>");
    }
    if !any {
        out.push_str("<p>none</p>");
    }
    out.push_str("</body></html>\n");
    out
}

/// Writes the files the run was asked for.
pub fn write(
    r: &RunResult,
    pipeline: &Path,
    exit_code: u8,
    json_path: Option<&Path>,
    html_path: Option<&Path>,
) -> Result<()> {
    if let Some(p) = json_path {
        let text = serde_json::to_string_pretty(&summary_json(r, pipeline, exit_code))?;
        std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = html_path {
        std::fs::write(p, html(r, pipeline, exit_code))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::reason_key;

    #[test]
    fn reasons_drop_the_rows_own_values() {
        assert_eq!(
            reason_key("Industry: \"Retail\" is not in the picklist (choices: A, B)"),
            "Industry: … is not in the picklist"
        );
        assert_eq!(reason_key("Last Name: required"), "Last Name: required");
        assert_eq!(
            reason_key(
                "ACCOUNTID: no CRM Id for key \"A-01\" in step \"accounts\" (that row was rejected)"
            ),
            "ACCOUNTID: no CRM Id for key … in step …"
        );
    }
}
