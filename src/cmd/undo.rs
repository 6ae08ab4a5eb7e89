//! `zcrm undo PIPELINE.toml`: deletes the records the pipeline's runs created, newest step
//! first, after showing what it will delete and what that costs.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use zcrm_engine::{Stop, UndoPlan};

use crate::exit;
use crate::progress::Progress;

/// Examples for `--help`.
pub const EXAMPLES: &str = "Examples:\n  zcrm undo rehearsal.toml            # shows what it deletes, then asks\n  \
zcrm undo migration.toml --step contacts --yes\n\n\
Deletes the records this pipeline's runs created (from its journal), newest step first; records \
they only updated or matched are kept and listed. The journal forgets each deleted row, so a later \
run imports it again.\n\nExit codes: 0 done (or declined); 2 usage, or --yes missing without a \
terminal (nothing deleted); 3 CRM or network failure; 4 a run of this pipeline is in progress; \
75 the budget stopped it (rerun the undo to continue).";

/// Arguments of `zcrm undo`.
#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// Only these import steps (repeatable).
    #[arg(long = "step", value_name = "NAME")]
    pub steps: Vec<String>,
    /// Delete without asking.
    #[arg(long)]
    pub yes: bool,
}

/// What the plan says, for the user to confirm.
fn describe(plan: &UndoPlan) -> String {
    let mut out = String::from("undo will delete:\n");
    for s in &plan.steps {
        if !s.created.is_empty() || s.note.is_none() {
            let _ = writeln!(
                out,
                "  {:<16} {:>7} {} record(s) created by its runs",
                s.name,
                s.created.len(),
                s.module
            );
        }
        if let Some(note) = &s.note {
            let _ = writeln!(out, "  {:<16} note: {note}", s.name);
        }
    }
    let unit = if plan.credits { "credits" } else { "calls" };
    let total: usize = plan.steps.iter().map(|s| s.created.len()).sum();
    let _ = writeln!(out, "  total {total} record(s), {} {unit}", plan.cost);
    let kept: Vec<_> = plan.steps.iter().flat_map(|s| s.kept.iter().map(move |k| (s, k))).collect();
    if !kept.is_empty() {
        let _ = writeln!(
            out,
            "kept (they existed before the runs, which only updated or matched them; not undone):"
        );
        for (s, (row, id, action)) in kept.iter().take(20) {
            let _ =
                writeln!(out, "  {} row {row}: {} {id} ({})", s.name, s.module, action.as_str());
        }
        if kept.len() > 20 {
            let _ = writeln!(out, "  ... and {} more", kept.len() - 20);
        }
    }
    out
}

/// Runs the command, prints, and returns the exit code.
pub fn main(args: &UndoArgs, progress: &Progress) -> ExitCode {
    let mut refused = None;
    let mut confirm = |plan: &UndoPlan| -> bool {
        eprint!("{}", describe(plan));
        if plan.steps.iter().all(|s| s.created.is_empty()) {
            return true;
        }
        if args.yes {
            return true;
        }
        if !std::io::stdin().is_terminal() {
            refused = Some(anyhow!(
                "{}: undo deletes records: confirm with --yes when not run from a terminal (nothing was deleted)",
                args.pipeline.display()
            ));
            return false;
        }
        eprint!("delete them? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES")
    };
    let outcome = zcrm_engine::undo(&args.pipeline, &args.steps, &mut confirm, progress);
    if let Some(e) = refused {
        crate::report(&e);
        return ExitCode::from(exit::USAGE);
    }
    match outcome.map_err(exit::engine_error) {
        Ok(None) => {
            eprintln!("nothing was deleted");
            ExitCode::from(exit::OK)
        }
        Ok(Some(r)) => {
            let mut text = String::new();
            for (step, module, n) in &r.deleted {
                let _ = writeln!(text, "{step}: {n} record(s) deleted ({module})");
            }
            let printed = crate::print(&text);
            match r.stopped {
                Some(Stop::Budget(msg)) => {
                    eprintln!("zcrm: {msg}");
                    ExitCode::from(exit::BUDGET)
                }
                // An undo stops only for the budget.
                Some(Stop::Rejects(msg)) => {
                    eprintln!("zcrm: {msg}");
                    ExitCode::from(exit::REJECTS)
                }
                None => printed,
            }
        }
        Err(e) => {
            crate::report(&e);
            ExitCode::from(exit::code(&e))
        }
    }
}
