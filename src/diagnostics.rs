//! Pipeline-file problems on stderr, rendered by miette's graphical report handler: each with
//! `file:line:column`, the offending text underlined and labelled, and the hint as help; then
//! how many there were. Colors and box drawing only on a terminal; plain ASCII otherwise, so
//! logs and tests stay readable.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};
use zcrm_pipeline::{Diagnostic, Diagnostics};

/// How reports are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unicode box drawing, with ANSI colors unless `color` is false.
    Terminal {
        /// Whether to color (false under `NO_COLOR`).
        color: bool,
    },
    /// ASCII art, no escape codes.
    Plain,
}

impl Style {
    /// The style for stderr: a terminal gets box drawing (and colors unless `NO_COLOR` is set).
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            Self::Terminal { color: !no_color }
        } else {
            Self::Plain
        }
    }
}

/// Every problem in file order (those without a place last), one report each, then
/// `N problem(s) in the pipeline`.
pub fn render(diags: &Diagnostics, style: Style) -> String {
    let mut ordered: Vec<&Diagnostic> = diags.0.iter().collect();
    ordered.sort_by_key(|d| (d.line == 0, d.line, d.column));
    let theme = match style {
        Style::Terminal { color: true } => GraphicalTheme::unicode(),
        Style::Terminal { color: false } => GraphicalTheme::unicode_nocolor(),
        Style::Plain => GraphicalTheme::none(),
    };
    // Lines are not wrapped: a terminal wraps at its own width, and grep finds whole messages.
    let handler =
        GraphicalReportHandler::new_themed(theme).with_wrap_lines(false).with_links(false);
    let mut out = String::new();
    for d in ordered {
        let mut one = String::new();
        match handler.render_report(&mut one, d) {
            Ok(()) => out.push_str(&one),
            // miette could not lay the snippet out: the plain one-line form still says it all.
            Err(_) => {
                out.push_str(&format!("  x {d}\n"));
                if let Some(h) = &d.hint {
                    out.push_str(&format!("  help: {h}\n"));
                }
            }
        }
        out.push('\n');
    }
    out.push_str(&diags.count_line());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn diags(text: &str) -> Diagnostics {
        let at = text.find("mod").unwrap_or_default();
        Diagnostics(vec![
            Diagnostic::at(
                Path::new("p.toml"),
                text,
                Some(at..at + 3),
                "unknown field `mod`",
                Some("did you mean `mode`?".to_owned()),
            ),
            Diagnostic::at(Path::new("p.toml"), text, None, "the pipeline has no steps", None),
        ])
    }

    #[test]
    fn plain_reports_are_ascii_with_place_label_and_help() {
        let text = "[[steps]]\nname = \"x\"\nmod = \"insert\"\n";
        let out = render(&diags(text), Style::Plain);
        assert!(out.is_ascii(), "{out}");
        assert!(!out.contains('\u{1b}'), "no escape codes: {out}");
        assert!(out.contains("p.toml:3:1: unknown field `mod`"), "{out}");
        assert!(out.contains("[p.toml:3:1]"), "{out}");
        assert!(out.contains("3 | mod = \"insert\""), "{out}");
        assert!(out.contains("here"), "{out}");
        assert!(out.contains("help: did you mean `mode`?"), "{out}");
        assert!(out.contains("p.toml: the pipeline has no steps"), "{out}");
        assert!(out.ends_with("2 problems in the pipeline\n"), "{out}");
    }

    #[test]
    fn terminal_reports_draw_boxes_and_color_unless_told_not_to() {
        let text = "[[steps]]\nname = \"x\"\nmod = \"insert\"\n";
        let colored = render(&diags(text), Style::Terminal { color: true });
        assert!(colored.contains('\u{1b}') && colored.contains('╭'), "{colored}");
        let mono = render(&diags(text), Style::Terminal { color: false });
        assert!(!mono.contains('\u{1b}') && mono.contains('╭'), "{mono}");
    }

    #[test]
    fn long_messages_stay_on_one_line() {
        let text = "[[steps]]\nname = \"x\"\nmod = \"insert\"\n";
        let long = format!("unknown field `mod`, expected one of {}", "`name`, ".repeat(30));
        let at = text.find("mod").unwrap_or_default();
        let d = Diagnostic::at(Path::new("p.toml"), text, Some(at..at + 3), &long, None);
        for style in [Style::Plain, Style::Terminal { color: false }] {
            let out = render(&Diagnostics(vec![d.clone()]), style);
            assert!(out.contains(&format!("p.toml:3:1: {long}\n")), "{out}");
        }
    }

    #[test]
    fn a_problem_at_the_end_of_the_file_still_renders() {
        let text = "[connection]\nurl = ";
        let d = Diagnostic::at(Path::new("p.toml"), text, Some(text.len()..text.len()), "x", None);
        let out = render(&Diagnostics(vec![d]), Style::Plain);
        assert!(out.contains("p.toml:2:7: x"), "{out}");
        assert!(out.contains("1 problem in the pipeline"), "{out}");
    }
}
