//! A field's text from a row: its cells (formula guard undone), then trim, value
//! replacement, case and default.

use std::borrow::Cow;

use zcrm_protocol::formula_guard::unguard;
use zcrm_readers::{Cells, RowRef};

use super::{Input, Plan, TemplatePiece};
use crate::Case;

/// A row's cells, however they are held. A cell zcrm's formula guard wrote (`'` before text
/// a spreadsheet would evaluate) reads as the text it guarded, so zcrm's own CSV exports
/// import back unchanged.
pub(crate) trait CellSource {
    /// Cell `i`, or `""` past the end.
    fn cell(&self, i: usize) -> &str;
}

impl CellSource for Cells {
    fn cell(&self, i: usize) -> &str {
        unguard(self.get(i))
    }
}

impl CellSource for RowRef<'_> {
    fn cell(&self, i: usize) -> &str {
        unguard(self.get(i))
    }
}

fn apply_case(s: &str, case: Case) -> String {
    match case {
        Case::Upper => s.to_uppercase(),
        Case::Lower => s.to_lowercase(),
        Case::Title => {
            let mut out = String::with_capacity(s.len());
            let mut start = true;
            for c in s.chars() {
                if c.is_alphanumeric() {
                    if start {
                        out.extend(c.to_uppercase());
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    start = false;
                } else {
                    out.push(c);
                    start = true;
                }
            }
            out
        }
    }
}

impl Plan {
    /// The field's text after every transform.
    pub(super) fn text<'a, R: CellSource>(&'a self, row: &'a R) -> Cow<'a, str> {
        if let Some(i) = self.plain {
            return Cow::Borrowed(row.cell(i));
        }
        let raw: Cow<'a, str> = match &self.input {
            Input::Column(i) => Cow::Borrowed(row.cell(*i)),
            Input::Const(v) => Cow::Borrowed(v.as_str()),
            Input::Template(pieces) => {
                let len = pieces
                    .iter()
                    .map(|p| match p {
                        TemplatePiece::Text(t) => t.len(),
                        TemplatePiece::Column(i) => row.cell(*i).len(),
                    })
                    .sum();
                let mut s = String::with_capacity(len);
                for p in pieces {
                    match p {
                        TemplatePiece::Text(t) => s.push_str(t),
                        TemplatePiece::Column(i) => s.push_str(row.cell(*i)),
                    }
                }
                Cow::Owned(s)
            }
        };
        let trimmed = if self.trim {
            match raw {
                Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
                Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
            }
        } else {
            raw
        };
        let replaced = match self.values.is_empty() {
            true => trimmed,
            false => match self.values.get(trimmed.as_ref()) {
                Some(v) => Cow::Borrowed(v.as_str()),
                None => trimmed,
            },
        };
        let cased = match self.case {
            Some(c) => Cow::Owned(apply_case(&replaced, c)),
            None => replaced,
        };
        match &self.default {
            Some(d) if cased.is_empty() => Cow::Borrowed(d.as_str()),
            _ => cased,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_case() {
        assert_eq!(apply_case("hello wORLD-wide", Case::Title), "Hello World-Wide");
    }
}
