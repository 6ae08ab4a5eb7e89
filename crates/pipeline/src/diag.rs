//! Pipeline-file problems with their place in the file: `file:line:column`, the offending
//! text and a hint. Each [`Diagnostic`] is also a [`miette::Diagnostic`] (the file's text as
//! its source, the offending text as a label, the hint as help), so a front end can render
//! every problem with miette's report handlers (one report each); `Display` of [`Diagnostics`] is a plain text
//! rendering of the same for library users.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// One problem of a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The pipeline file.
    pub file: PathBuf,
    /// Byte range in the file, when the problem has a place.
    pub span: Option<Range<usize>>,
    /// 1-based line (0 when the problem has no place).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The line's text.
    pub snippet: Option<String>,
    /// How wide the marker under the snippet is, in characters.
    pub width: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// The file's text, named after the file (what miette renders the label in), when the
    /// problem has a place.
    pub text: Option<FileText>,
}

/// A pipeline file's text as miette reads it for one problem: shared (one copy for every
/// problem of the file) and anchored at the problem's place, whose line is known, so drawing
/// a problem reads only the lines around it (miette's own sources count lines from the start
/// of the file for each problem: thousands of problems of a large file took minutes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileText {
    name: String,
    text: Arc<str>,
    /// A byte offset whose 0-based line is `anchor_line`.
    anchor: usize,
    anchor_line: usize,
}

impl FileText {
    /// The whole text.
    pub fn inner(&self) -> &Arc<str> {
        &self.text
    }

    /// The 0-based line of byte `at`, counted from the anchor.
    fn line_of(&self, at: usize) -> usize {
        let b = self.text.as_bytes();
        if at >= self.anchor {
            self.anchor_line + b[self.anchor..at].iter().filter(|&&c| c == b'\n').count()
        } else {
            self.anchor_line - b[at..self.anchor].iter().filter(|&&c| c == b'\n').count()
        }
    }
}

impl SourceCode for FileText {
    /// miette's own reading of the span, done on a window of the lines around it (so it is
    /// exactly miette's result), with offsets and lines moved back to the whole file's.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let b = self.text.as_bytes();
        let (offset, len) = (span.offset(), span.len());
        if offset + len > b.len() {
            return Err(MietteError::OutOfBounds);
        }
        let line_start = |at: usize| b[..at].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
        let next_line =
            |at: usize| b[at..].iter().position(|&c| c == b'\n').map_or(b.len(), |i| at + i + 1);
        let mut start = line_start(offset);
        for _ in 0..context_lines_before {
            if start == 0 {
                break;
            }
            start = line_start(start - 1);
        }
        let mut end = next_line((offset + len).saturating_sub(1).max(offset).min(b.len()));
        for _ in 0..=context_lines_after {
            if end >= b.len() {
                break;
            }
            end = next_line(end);
        }
        let window = &b[start..end];
        let local = SourceSpan::new((offset - start).into(), len);
        let c = window.read_span(&local, context_lines_before, context_lines_after)?;
        let first_line = self.line_of(start);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            SourceSpan::new((c.span().offset() + start).into(), c.span().len()),
            c.line() + first_line,
            c.column(),
            c.line_count() + first_line,
        )))
    }
}

/// Line and column (1-based; the column counts characters) of byte `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// A pipeline file's text as a [`Diagnostic`] takes it: a `str` is copied once per problem, an
/// `Arc<str>` (what [`crate::Pipeline::text`] holds) is shared, so thousands of problems of one
/// file hold one copy of it.
pub trait SourceText {
    /// The text.
    fn as_text(&self) -> &str;
    /// The text as the diagnostic keeps it.
    fn shared(&self) -> Arc<str>;
}

impl SourceText for str {
    fn as_text(&self) -> &str {
        self
    }
    fn shared(&self) -> Arc<str> {
        Arc::from(self)
    }
}

impl SourceText for String {
    fn as_text(&self) -> &str {
        self
    }
    fn shared(&self) -> Arc<str> {
        Arc::from(self.as_str())
    }
}

impl SourceText for Arc<str> {
    fn as_text(&self) -> &str {
        self
    }
    fn shared(&self) -> Arc<str> {
        Arc::clone(self)
    }
}

impl Diagnostic {
    /// A problem at `span` of `source` (the file's contents; pass an `Arc<str>` to share it).
    pub fn at(
        file: &std::path::Path,
        source: &(impl SourceText + ?Sized),
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        let text = source.as_text();
        let (line, column, snippet, width) = match &span {
            Some(s) => {
                let (line, column) = line_col(text, s.start);
                let at = s.start.min(text.len());
                let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
                // As `text.lines()` has it: no line past the last newline.
                let line_text = &text[from..to];
                let snippet = (from < text.len())
                    .then(|| line_text.strip_suffix('\r').unwrap_or(line_text).to_owned());
                let width = text
                    .get(s.clone())
                    .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1));
                (line, column, snippet, width)
            }
            None => (0, 0, None, 0),
        };
        let named = span.as_ref().map(|s| FileText {
            name: file.display().to_string(),
            text: source.shared(),
            anchor: s.start.min(text.len()),
            anchor_line: line.saturating_sub(1),
        });
        Self {
            file: file.to_owned(),
            span,
            line,
            column,
            snippet,
            width,
            message: message.into(),
            hint,
            text: named,
        }
    }

    /// The same problem drawn from `text` instead (the file's text with its secrets masked,
    /// byte for byte as long): a problem shown without text stays so.
    pub fn retext(&mut self, text: &Arc<str>) {
        if self.text.is_some() {
            *self = Self::at(
                &self.file,
                text,
                self.span.clone(),
                self.message.clone(),
                self.hint.clone(),
            );
        }
    }

    /// The same problem without the file's text: the place (`file:line:column`) stays, the
    /// line is not shown. For problems whose line holds a secret (a token pasted into a URL).
    pub fn without_text(mut self) -> Self {
        self.snippet = None;
        self.text = None;
        self
    }

    /// The labelled range: the span's first line (a span over a whole table would otherwise
    /// underline every line of it), at least one character wide where the text has one.
    fn label_span(&self) -> Option<Range<usize>> {
        let span = self.span.clone()?;
        let text = self.text.as_ref().map(|s| &**s.inner())?;
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let first_line = text.get(start..end).map_or(0, |t| t.find('\n').unwrap_or(t.len()));
        let end = if first_line > 0 {
            start + first_line
        } else {
            // An empty span (an unexpected end of file, say): mark the character there.
            text.get(start..).and_then(|t| t.chars().next()).map_or(start, |c| start + c.len_utf8())
        };
        Some(start..end)
    }

    /// The plain-text rendering: `error: file:line:column: message`, the line with the
    /// offending text marked by `^`, and the hint.
    fn render_plain(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {self}")?;
        if let Some(s) = &self.snippet {
            let n = self.line.to_string();
            let pad = " ".repeat(n.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{n} | {s}")?;
            let avail = s.chars().count().saturating_sub(self.column - 1).max(1);
            writeln!(
                f,
                "{pad} | {}{}",
                " ".repeat(self.column - 1),
                "^".repeat(self.width.min(avail))
            )?;
        }
        if let Some(h) = &self.hint {
            writeln!(f, "  = help: {h}")?;
        }
        Ok(())
    }
}

/// One line: `file:line:column: message` (or `file: message` when the problem has no place).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.text.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.label_span()?;
        let label = LabeledSpan::new_primary_with_span(Some("here".to_owned()), span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// `N problem(s) in the pipeline`: the closing line of a report.
    pub fn count_line(&self) -> String {
        format!(
            "{} problem{} in the pipeline",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )
    }
}

/// Every problem in plain text (see [`Diagnostic`]), then the count.
impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            d.render_plain(f)?;
            writeln!(f)?;
        }
        write!(f, "{}", self.count_line())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_anchored_text_reads_spans_as_mietes_own_source_does() {
        let text: Arc<str> = Arc::from("a = 1\n\n[[steps]]\nname = \"é\"\nmod = 1\nx = 2\n");
        let whole = miette::NamedSource::new("p.toml", Arc::clone(&text));
        for at in [0, 4, 6, 7, 17, 30, text.len() - 2] {
            let d = Diagnostic::at(Path::new("p.toml"), &text, Some(at..at + 1), "x", None);
            let ours = d.text.as_ref().unwrap_or_else(|| unreachable!());
            for ctx in [0, 1, 2, 5] {
                let span = SourceSpan::new(at.into(), 1);
                let a = ours.read_span(&span, ctx, ctx).map_err(|e| e.to_string());
                let b = whole.read_span(&span, ctx, ctx).map_err(|e| e.to_string());
                let (a, b) =
                    (a.unwrap_or_else(|e| panic!("{e}")), b.unwrap_or_else(|e| panic!("{e}")));
                assert_eq!(
                    (a.data(), a.line(), a.column(), a.line_count(), a.span(), a.name()),
                    (b.data(), b.line(), b.column(), b.line_count(), b.span(), b.name()),
                    "at {at}, {ctx} lines of context"
                );
            }
        }
    }

    #[test]
    fn lines_and_columns() {
        let t = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        let at = t.find('"').unwrap();
        assert_eq!(line_col(t, at), (2, 6));
    }

    #[test]
    fn miette_sees_the_file_the_first_line_of_the_span_and_the_hint() {
        use miette::Diagnostic as _;
        let text = "[[steps]]\nname = \"x\"\nmod = 1\n";
        let at = text.find("mod").unwrap_or_default();
        // A span running over two lines is labelled on its first line only.
        let d = Diagnostic::at(
            Path::new("p.toml"),
            text,
            Some(at..text.len()),
            "unknown field `mod`",
            Some("did you mean `mode`?".to_owned()),
        );
        assert_eq!(d.to_string(), "p.toml:3:1: unknown field `mod`");
        let labels: Vec<_> = d.labels().into_iter().flatten().collect();
        assert_eq!(labels.len(), 1);
        assert_eq!((labels[0].offset(), labels[0].len()), (at, "mod = 1".len()));
        assert_eq!(d.help().map(|h| h.to_string()).as_deref(), Some("did you mean `mode`?"));
        let code = d.source_code().and_then(|c| c.read_span(labels[0].inner(), 0, 0).ok());
        assert_eq!(code.as_ref().and_then(|c| c.name()), Some("p.toml"));
        assert_eq!(code.map(|c| c.line()), Some(2), "0-based in miette");

        // At the end of the file the label still has a place; without a span there is none.
        let eof = Diagnostic::at(Path::new("p.toml"), "a = ", Some(4..4), "expected a value", None);
        let label = eof.labels().into_iter().flatten().next().map(|l| (l.offset(), l.len()));
        assert_eq!(label, Some((4, 0)));
        let nowhere = Diagnostic::at(Path::new("p.toml"), text, None, "no steps", None);
        assert!(nowhere.labels().is_none() && nowhere.source_code().is_none());
        assert_eq!(nowhere.to_string(), "p.toml: no steps");
    }

    #[test]
    fn the_plain_rendering_is_unchanged() {
        let text = "[[steps]]\nname = \"x\"\nmod = 1\n";
        let at = text.find("mod").unwrap_or_default();
        let d = Diagnostic::at(
            Path::new("p.toml"),
            text,
            Some(at..at + 3),
            "unknown field `mod`",
            Some("see README.md".to_owned()),
        );
        let all = Diagnostics(vec![d]);
        assert_eq!(
            all.to_string(),
            "error: p.toml:3:1: unknown field `mod`\n  |\n3 | mod = 1\n  | ^^^\n  = help: see README.md\n\n1 problem in the pipeline"
        );
    }
}
