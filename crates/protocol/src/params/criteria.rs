//! searchRecords `criteria`: its model, parser, matcher and text.

use std::fmt;

use crate::error::ParamError;

/// searchRecords `criteria`: `(Field:value)` atoms combined with AND/OR; at most 5 atoms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criteria {
    /// `(Field:value)`: equals, or "starts with" when the value ends in `*`.
    Atom {
        /// Field label.
        field: String,
        /// The value.
        value: String,
    },
    /// All of the parts.
    And(Vec<Criteria>),
    /// Any of the parts.
    Or(Vec<Criteria>),
}

/// The most atoms a criteria may hold.
pub const MAX_CRITERIA_ATOMS: usize = 5;

impl Criteria {
    /// `(field:value)`.
    pub fn eq(field: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Atom { field: field.into(), value: value.into() }
    }

    /// Number of atoms.
    pub fn atoms(&self) -> usize {
        match self {
            Self::Atom { .. } => 1,
            Self::And(p) | Self::Or(p) => p.iter().map(Self::atoms).sum(),
        }
    }

    /// Parses the parameter text.
    pub fn parse(text: &str) -> Result<Self, ParamError> {
        let bytes = text.trim();
        let mut pos = 0;
        let c = parse_group(bytes, &mut pos)?;
        if pos != bytes.len() {
            return Err(ParamError::invalid(
                "criteria",
                text,
                "unexpected text after the criteria",
            ));
        }
        if c.atoms() > MAX_CRITERIA_ATOMS {
            return Err(ParamError::invalid(
                "criteria",
                text,
                format!("at most {MAX_CRITERIA_ATOMS} criteria"),
            ));
        }
        Ok(c)
    }

    /// Whether a record (label → value) matches: equals, or "starts with" for `value*`, both
    /// case-insensitive.
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Self::Atom { field, value } => {
                let Some(actual) = get(field) else { return false };
                let actual = actual.to_lowercase();
                match value.strip_suffix('*') {
                    Some(prefix) => actual.starts_with(&prefix.to_lowercase()),
                    None => actual == value.to_lowercase(),
                }
            }
            Self::And(p) => p.iter().all(|c| c.matches(get)),
            Self::Or(p) => p.iter().any(|c| c.matches(get)),
        }
    }
}

fn parse_group(s: &str, pos: &mut usize) -> Result<Criteria, ParamError> {
    let bad = |why: &str| ParamError::invalid("criteria", s, why);
    if !s[*pos..].starts_with('(') {
        return Err(bad("expected '('"));
    }
    *pos += 1;
    if s[*pos..].starts_with('(') {
        let first = parse_group(s, pos)?;
        let mut parts = vec![first];
        let mut op: Option<bool> = None; // true = AND
        loop {
            let rest = &s[*pos..];
            if rest.starts_with(')') {
                *pos += 1;
                break;
            }
            let is_and = if rest.starts_with("AND") {
                *pos += 3;
                true
            } else if rest.starts_with("OR") {
                *pos += 2;
                false
            } else {
                return Err(bad("expected AND, OR or ')'"));
            };
            if op.is_some_and(|o| o != is_and) {
                return Err(bad("mixing AND and OR needs parentheses"));
            }
            op = Some(is_and);
            parts.push(parse_group(s, pos)?);
        }
        return Ok(match (op, parts.len()) {
            (_, 1) => parts.remove(0),
            (Some(true), _) => Criteria::And(parts),
            _ => Criteria::Or(parts),
        });
    }
    let end = s[*pos..].find(')').ok_or_else(|| bad("missing ')'"))? + *pos;
    let atom = &s[*pos..end];
    let (field, value) = atom.split_once(':').ok_or_else(|| bad("an atom is (Field:value)"))?;
    if field.trim().is_empty() {
        return Err(bad("contains empty field name"));
    }
    *pos = end + 1;
    Ok(Criteria::Atom { field: field.trim().to_owned(), value: value.trim().to_owned() })
}

impl fmt::Display for Criteria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Atom { field, value } => write!(f, "({field}:{value})"),
            Self::And(p) | Self::Or(p) => {
                let op = if matches!(self, Self::And(_)) { "AND" } else { "OR" };
                f.write_str("(")?;
                for (i, c) in p.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
        }
    }
}
