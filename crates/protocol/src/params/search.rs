//! getSearchRecords `searchCondition`: operators, parser and matcher.

use crate::error::ParamError;

/// getSearchRecords operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOp {
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `contains` (value `*x*`).
    Contains,
    /// `doesn't contain` (value `*x*`).
    NotContains,
    /// `starts with` (value `x*`).
    StartsWith,
    /// `ends with` (value `*x`).
    EndsWith,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
}

impl SearchOp {
    const ALL: [SearchOp; 10] = [
        Self::Eq,
        Self::Ne,
        Self::Contains,
        Self::NotContains,
        Self::StartsWith,
        Self::EndsWith,
        Self::Lt,
        Self::Gt,
        Self::Le,
        Self::Ge,
    ];

    /// The operator text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Contains => "contains",
            Self::NotContains => "doesn't contain",
            Self::StartsWith => "starts with",
            Self::EndsWith => "ends with",
            Self::Lt => "<",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Ge => ">=",
        }
    }
}

/// getSearchRecords `searchCondition=(Label|op|value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCondition {
    /// Field label.
    pub field: String,
    /// Operator.
    pub op: SearchOp,
    /// Value (with `*` wildcards for the contains/starts/ends operators).
    pub value: String,
}

impl SearchCondition {
    /// The parameter text.
    pub fn to_param(&self) -> String {
        format!("({}|{}|{})", self.field, self.op.as_str(), self.value)
    }

    /// Parses the parameter text.
    pub fn parse(text: &str) -> Result<Self, ParamError> {
        let bad = |why: &str| ParamError::invalid("searchCondition", text, why);
        let inner = text
            .trim()
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .ok_or_else(|| bad("expected (Field|operator|value)"))?;
        let mut parts = inner.splitn(3, '|');
        let (field, op, value) = match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(o), Some(v)) if !f.trim().is_empty() => (f.trim(), o.trim(), v.trim()),
            _ => return Err(bad("expected (Field|operator|value)")),
        };
        let op = SearchOp::ALL
            .into_iter()
            .find(|o| o.as_str() == op)
            .ok_or_else(|| bad("unknown operator"))?;
        Ok(Self { field: field.to_owned(), op, value: value.to_owned() })
    }

    /// Whether a record whose field holds `actual` (`None`: empty or absent) meets the
    /// condition. Text compares case-insensitively, with `*` wildcards trimmed for the
    /// contains/starts/ends operators; `numeric` fields compare as numbers for `=`, `<>`, `<`,
    /// `>`, `<=`, `>=` (a value that is not a number never matches an ordering). An absent value
    /// matches only `<>` and `doesn't contain`.
    pub fn matches(&self, actual: Option<&str>, numeric: bool) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let Some(actual) = actual else {
            return matches!(self.op, SearchOp::Ne | SearchOp::NotContains);
        };
        let a = actual.to_lowercase();
        let v = self.value.to_lowercase();
        let inner = v.trim_matches('*');
        let cmp = || -> Option<std::cmp::Ordering> {
            if numeric {
                let x = actual.trim().parse::<f64>().ok()?;
                x.partial_cmp(&self.value.trim().parse::<f64>().ok()?)
            } else {
                Some(a.as_str().cmp(v.as_str()))
            }
        };
        match self.op {
            SearchOp::Eq if numeric => cmp() == Some(Equal),
            SearchOp::Eq => a == v,
            SearchOp::Ne if numeric => cmp() != Some(Equal),
            SearchOp::Ne => a != v,
            SearchOp::Contains => a.contains(inner),
            SearchOp::NotContains => !a.contains(inner),
            SearchOp::StartsWith => a.starts_with(inner),
            SearchOp::EndsWith => a.ends_with(inner),
            SearchOp::Lt => cmp() == Some(Less),
            SearchOp::Gt => cmp() == Some(Greater),
            SearchOp::Le => matches!(cmp(), Some(Less | Equal)),
            SearchOp::Ge => matches!(cmp(), Some(Greater | Equal)),
        }
    }
}
