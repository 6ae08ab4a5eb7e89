//! `zcrm validate PIPELINE.toml`: every import step's rows read, mapped and checked locally;
//! reject files written; a summary per step. Exit 0 all valid, 1 some rejected, 2 the
//! pipeline or a mapping is wrong (or a source or reject file cannot be read or written), 3 the
//! CRM could not be reached for metadata, 75 budget.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use zcrm_pipeline::StepSummary;

/// Examples for `--help`.
pub const EXAMPLES: &str = "Examples:\n  zcrm validate pipelines/validate-leads.toml\n  \
zcrm validate migration.toml --step contacts\n\n\
Exit codes: 0 every row valid; 1 some rows rejected (see the reject files); 2 the pipeline or a mapping \
is wrong, or a source or reject file cannot be read or written; 3 the CRM could not be reached for metadata; 75 today's budget is spent.";

/// Arguments of `zcrm validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// Only these steps (repeatable).
    #[arg(long = "step")]
    pub steps: Vec<String>,
}

fn summary(steps: &[StepSummary]) -> String {
    let mut out = String::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    let show = |p: &std::path::Path| p.strip_prefix(&cwd).unwrap_or(p).display().to_string();
    for s in steps {
        let _ = writeln!(out, "step {} ({} ← {})", s.name, s.module, show(&s.source));
        let _ = writeln!(out, "  rows read  {:>10}", s.rows_read);
        let _ = writeln!(out, "  valid      {:>10}", s.valid);
        let _ = writeln!(out, "  rejected   {:>10}   → {}", s.rejected, show(&s.rejects));
        if !s.reasons.is_empty() {
            let _ = writeln!(out, "  top reasons:");
            for (r, n) in s.reasons.iter().take(10) {
                let _ = writeln!(out, "    {n:>8}  {r}");
            }
            if s.reasons.len() > 10 {
                let _ = writeln!(out, "    ... and {} more reasons", s.reasons.len() - 10);
            }
        }
        if !s.warnings.is_empty() {
            let _ = writeln!(out, "  warnings (rows kept):");
            for (r, n) in s.warnings.iter().take(10) {
                let _ = writeln!(out, "    {n:>8}  {r}");
            }
        }
    }
    let (read, valid, rejected) =
        steps.iter().fold((0, 0, 0), |a, s| (a.0 + s.rows_read, a.1 + s.valid, a.2 + s.rejected));
    let _ = writeln!(
        out,
        "total: {read} rows read, {valid} valid, {rejected} rejected in {} step{}",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" }
    );
    out
}

/// Runs the command, prints, and returns the exit code.
pub fn main(args: &ValidateArgs) -> ExitCode {
    match zcrm_engine::validate(&args.pipeline, &args.steps).map_err(crate::exit::engine_error) {
        Ok(steps) => {
            let text = summary(&steps);
            let code = if steps.iter().any(|s| s.rejected > 0) { 1 } else { 0 };
            let printed = crate::print(&text);
            if code == 0 { printed } else { ExitCode::from(code) }
        }
        Err(e) => {
            crate::report(&e);
            ExitCode::from(crate::exit::code(&e))
        }
    }
}
