//! The pipeline loader on damaged pipeline files: the example pipelines of `pipelines/` with
//! random edits (bytes deleted, TOML punctuation, keys and non-ASCII text inserted, lines
//! repeated). Whatever the text, loading never panics and either succeeds or reports problems
//! whose place is inside the text, whose line and snippet agree with it, and which miette's
//! report handler can draw.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};
use proptest::prelude::*;
use zcrm_pipeline::{LoadError, load_str};

const EXAMPLES: [&str; 7] = [
    include_str!("../../../pipelines/quickstart.toml"),
    include_str!("../../../pipelines/migration.toml"),
    include_str!("../../../pipelines/nightly-export.toml"),
    include_str!("../../../pipelines/org-copy-export.toml"),
    include_str!("../../../pipelines/org-copy-import.toml"),
    include_str!("../../../pipelines/upsert-sync.toml"),
    include_str!("../../../pipelines/validate-leads.toml"),
];

/// Text worth inserting into a pipeline: TOML punctuation, keys the loader knows with wrong
/// or odd values, and characters that are more than one byte.
const PIECES: &[&str] = &[
    "\"",
    "'",
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ".",
    "#",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\u{0}",
    "é",
    "😀",
    "\u{FEFF}",
    "\"\"\"",
    "[[steps]]\n",
    "[steps.map]\n",
    "[connection]\n",
    "mode = \"upsert\"\n",
    "mode = \"nope\"\n",
    "sheet = 0\n",
    "sheet = \"\"\n",
    "picklist = \"maybe\"\n",
    "encoding = \"ebcdic\"\n",
    "delimiter = \"ab\"\n",
    "budget_share = 1.5\n",
    "daily_budget = -3\n",
    "licenses = 0\n",
    "edition = \"gold\"\n",
    "url = \"ftp://x\"\n",
    "url = \"\"\n",
    "source = \"\"\n",
    "source = \"x.pdf\"\n",
    "key = \"\"\n",
    "import = \"Nope\"\n",
    "export = \"Leads\"\n",
    "name = \"leads\"\n",
    "\"Last Name\" = { column = \"last\", lookup = \"nowhere\" }\n",
    "\"Email\" = { template = \"{unclosed\" }\n",
    "\"X\" = { }\n",
    "\"\" = \"\"\n",
    "columns = [\"\"]\n",
    "columns = 3\n",
    "since = \"yesterday\"\n",
    "to = \"\"\n",
];

#[derive(Debug, Clone)]
enum Edit {
    /// Delete up to `len` bytes at a fraction of the text.
    Delete { at: f64, len: usize },
    /// Insert `PIECES[piece]` at a fraction of the text.
    Insert { at: f64, piece: usize },
    /// Insert `PIECES[piece]` at the start of the line at a fraction of the text (keys stay
    /// keys, so the edit reaches the checks after TOML parsing more often).
    InsertLine { at: f64, piece: usize },
    /// Repeat the line at a fraction of the text.
    RepeatLine { at: f64 },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (0.0..1.0f64, 1usize..6).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (0.0..1.0f64, 0..PIECES.len()).prop_map(|(at, piece)| Edit::Insert { at, piece }),
        2 => (0.0..1.0f64, 0..PIECES.len()).prop_map(|(at, piece)| Edit::InsertLine { at, piece }),
        1 => (0.0..1.0f64).prop_map(|at| Edit::RepeatLine { at }),
    ]
}

/// The char boundary at or before the fraction `at` of `text`.
fn boundary(text: &str, at: f64) -> usize {
    let mut i = ((text.len() as f64) * at) as usize;
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, e: &Edit) {
    match *e {
        Edit::Delete { at, len } => {
            let a = boundary(text, at);
            let mut b = (a + len).min(text.len());
            while !text.is_char_boundary(b) {
                b += 1;
            }
            text.replace_range(a..b, "");
        }
        Edit::Insert { at, piece } => {
            let a = boundary(text, at);
            text.insert_str(a, PIECES[piece]);
        }
        Edit::InsertLine { at, piece } => {
            let a = boundary(text, at);
            let start = text[..a].rfind('\n').map_or(0, |i| i + 1);
            text.insert_str(start, PIECES[piece]);
        }
        Edit::RepeatLine { at } => {
            let a = boundary(text, at);
            let start = text[..a].rfind('\n').map_or(0, |i| i + 1);
            let end = text[a..].find('\n').map_or(text.len(), |i| a + i + 1);
            let line = text[start..end].to_owned();
            text.insert_str(end, &line);
        }
    }
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let file = Path::new("pipelines/edited.toml");
    let diags = match load_str(file, text) {
        Ok(_) => return Ok(()),
        Err(LoadError::Invalid(d)) => d,
        Err(e) => return Err(TestCaseError::fail(format!("not a file problem: {e}"))),
    };
    prop_assert!(!diags.0.is_empty(), "an invalid pipeline names at least one problem");
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::none()).with_wrap_lines(false);
    for d in &diags.0 {
        prop_assert!(!d.message.trim().is_empty());
        if let Some(span) = &d.span {
            prop_assert!(
                span.start <= span.end && span.end <= text.len(),
                "{span:?} of {}",
                text.len()
            );
            prop_assert!(d.line >= 1 && d.column >= 1);
            let line = text.lines().nth(d.line - 1);
            // The line is left out only where it may hold a secret (a token in a URL, or a
            // value where a variable name belongs); elsewhere the snippet is the problem's line,
            // with a secret of the file masked (`*`, byte for byte) where the line holds one.
            if d.snippet.is_some() || d.text.is_some() {
                let snippet = d.snippet.as_deref();
                let same = match (snippet, line) {
                    (None, None) => true,
                    (Some(s), Some(l)) => {
                        l.len() == s.len()
                            && l.bytes().zip(s.bytes()).all(|(a, b)| a == b || b == b'*')
                    }
                    _ => false,
                };
                prop_assert!(same, "the snippet {snippet:?} is the problem's line {line:?}");
            } else {
                prop_assert!(
                    line.is_some_and(|l| l.contains(['@', '?', '#']))
                        || d.message.contains("is not a variable name"),
                    "{d:?}"
                );
            }
        } else {
            prop_assert_eq!((d.line, d.column), (0, 0));
        }
        let mut drawn = String::new();
        // A snippet miette cannot lay out is an error the CLI falls back from, not a panic.
        let _ = handler.render_report(&mut drawn, d);
    }
    let plain = diags.to_string();
    prop_assert!(plain.contains("pipelines/edited.toml"), "{plain}");
    Ok(())
}

#[test]
fn the_examples_load_as_they_are() {
    for text in EXAMPLES {
        let p = load_str(Path::new("pipelines/example.toml"), text);
        assert!(p.is_ok(), "{:?}", p.err().map(|e| e.to_string()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn damaged_pipelines_are_reported_not_panicked_on(
        which in 0..EXAMPLES.len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut text = EXAMPLES[which].to_owned();
        for e in &edits {
            apply(&mut text, e);
        }
        check(&text)?;
    }
}
