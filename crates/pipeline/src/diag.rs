//! Pipeline-file problems with their place in the file: `file:line:column`, the offending
//! text and a hint.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

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

impl Diagnostic {
    /// A problem at `span` of `text` (the file's contents).
    pub fn at(
        file: &std::path::Path,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        let (line, column, snippet, width) = match &span {
            Some(s) => {
                let (line, column) = line_col(text, s.start);
                let snippet = text.lines().nth(line - 1).map(str::to_owned);
                let width = text
                    .get(s.clone())
                    .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1));
                (line, column, snippet, width)
            }
            None => (0, 0, None, 0),
        };
        Self {
            file: file.to_owned(),
            span,
            line,
            column,
            snippet,
            width,
            message: message.into(),
            hint,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            writeln!(
                f,
                "error: {}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )?;
        } else {
            writeln!(f, "error: {}: {}", self.file.display(), self.message)?;
        }
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

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        write!(
            f,
            "{} problem{} in the pipeline",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let t = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        let at = t.find('"').unwrap();
        assert_eq!(line_col(t, at), (2, 6));
    }
}
