//! Problems of rows (for reject files) and of the spec itself (for the pipeline's diagnostics).

use std::fmt;
use std::sync::Arc;

use crate::Span;

/// One problem of one row: which field (and column) and why, for a person to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The CRM field (or `row` for problems of the whole row).
    pub field: Arc<str>,
    /// The source column(s) the value came from, when there is one.
    pub column: Option<Arc<str>>,
    /// A short, stable name of the rule (for summaries: "not an e-mail address").
    pub rule: &'static str,
    /// The full reason, with the offending value.
    pub reason: String,
}

impl Problem {
    /// The summary key: `field: rule`.
    pub fn summary_key(&self) -> String {
        format!("{}: {}", self.field, self.rule)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)?;
        if let Some(c) = &self.column {
            write!(f, " (column {c})")?;
        }
        Ok(())
    }
}

/// A problem of the mapping spec, found before any row is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SpecError {
    /// What is wrong.
    pub message: String,
    /// How to fix it (a did-you-mean suggestion, the list of choices...).
    pub hint: Option<String>,
    /// Where in the pipeline file, when known.
    pub span: Option<Span>,
}
