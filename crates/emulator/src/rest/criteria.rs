//! The `criteria` of `GET /{module}/search` (CD-18): `((Field:operator:value)and(...))`, `and`
//! binding tighter than `or`, values escaped with `\` (`\,` `\(` `\)` `\\`), at most
//! [`MAX_CRITERIA`] conditions; parsed, then checked against the module (fields, operators per
//! type, values) into a [`Filter`] that matches records.

use serde_json::{Value, json};

use super::errors::RestError;
use super::filter::{self, Kind, Val};
use super::json as v8json;
use crate::schema::{FieldDef, ModuleDef};
use crate::state::State;
use crate::store::records::Rec;
use zcrm_protocol::field::FieldType;

/// Conditions a criteria may hold.
pub const MAX_CRITERIA: usize = 10;
/// Values an `in` may list.
pub const MAX_IN_VALUES: usize = 100;

/// A parsed criteria, before it meets the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tree {
    /// `(field:operator:value)`, the value still escaped.
    Cond {
        /// The field's API name.
        field: String,
        /// The operator as given.
        op: String,
        /// The value, escapes kept.
        raw: String,
    },
    /// All of.
    And(Vec<Tree>),
    /// Any of.
    Or(Vec<Tree>),
}

impl Tree {
    /// Conditions in the tree.
    pub fn conditions(&self) -> usize {
        match self {
            Tree::Cond { .. } => 1,
            Tree::And(v) | Tree::Or(v) => v.iter().map(Tree::conditions).sum(),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.ws();
        let end = self.pos + word.len();
        let fits =
            self.s.get(self.pos..end).is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()));
        let bounded = matches!(self.s.get(end), Some(b'(') | Some(b' ' | b'\t' | b'\n' | b'\r'));
        if fits && bounded {
            self.pos = end;
        }
        fits && bounded
    }

    fn or(&mut self) -> Result<Tree, String> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Tree::Or(parts) })
    }

    fn and(&mut self) -> Result<Tree, String> {
        let mut parts = vec![self.factor()?];
        while self.keyword("and") {
            parts.push(self.factor()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Tree::And(parts) })
    }

    fn factor(&mut self) -> Result<Tree, String> {
        self.ws();
        if self.s.get(self.pos) != Some(&b'(') {
            return Err(format!("expected ( at position {}", self.pos + 1));
        }
        self.pos += 1;
        self.ws();
        if self.s.get(self.pos) == Some(&b'(') {
            let inner = self.or()?;
            self.ws();
            if self.s.get(self.pos) != Some(&b')') {
                return Err(format!("expected ) at position {}", self.pos + 1));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let start = self.pos;
        loop {
            match self.s.get(self.pos) {
                None => return Err("a condition is not closed".to_owned()),
                Some(b'\\') => self.pos += 2,
                Some(b')') => break,
                Some(b'(') => return Err(format!("unescaped ( at position {}", self.pos + 1)),
                Some(_) => self.pos += 1,
            }
        }
        let body = self.text.get(start..self.pos).unwrap_or_default();
        self.pos += 1;
        let mut parts = body.splitn(3, ':');
        let (Some(field), Some(op), Some(raw)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("the condition {body:?} is not field:operator:value"));
        };
        Ok(Tree::Cond {
            field: field.trim().to_owned(),
            op: op.trim().to_owned(),
            raw: raw.to_owned(),
        })
    }
}

/// Parses a criteria; the error says why it is not one.
pub fn parse(text: &str) -> Result<Tree, String> {
    let mut p = Parser { s: text.as_bytes(), text, pos: 0 };
    let tree = p.or()?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(format!("unexpected text at position {}", p.pos + 1));
    }
    Ok(tree)
}

/// The escaped value's pieces between unescaped commas, unescaped and trimmed.
pub fn pieces(raw: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(last)) = (chars.next(), out.last_mut()) {
                    last.push(n);
                }
            }
            ',' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// The whole escaped value, unescaped and trimmed (commas kept).
pub fn unescaped(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// A search operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `equals`.
    Equals,
    /// `not_equal`.
    NotEqual,
    /// `starts_with`.
    StartsWith,
    /// `in`.
    In,
    /// `greater_than`.
    Gt,
    /// `greater_equal`.
    Ge,
    /// `less_than`.
    Lt,
    /// `less_equal`.
    Le,
    /// `between` (both ends included).
    Between,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s.to_ascii_lowercase().as_str() {
            "equals" => Op::Equals,
            "not_equal" => Op::NotEqual,
            "starts_with" => Op::StartsWith,
            "in" => Op::In,
            "greater_than" => Op::Gt,
            "greater_equal" => Op::Ge,
            "less_than" => Op::Lt,
            "less_equal" => Op::Le,
            "between" => Op::Between,
            _ => return None,
        })
    }
}

/// The operators a field's type allows (contract §3.8).
fn allowed(f: Option<&FieldDef>, op: Op) -> bool {
    use Op::*;
    let ordered = [Equals, NotEqual, Ge, Gt, Le, Lt, Between, In];
    let list: &[Op] = match f {
        None => &ordered,
        Some(f) => match (filter::kind(f), &f.ty) {
            (Kind::Ref, _) => &[Equals, NotEqual, In],
            (Kind::Number | Kind::Date | Kind::DateTime | Kind::Id, _) => &ordered,
            (Kind::Bool, _) => &[Equals, NotEqual],
            (_, FieldType::TextArea) => &[Equals, NotEqual, StartsWith],
            (_, FieldType::PickList | FieldType::AutoNumber) => &[Equals, NotEqual, In],
            (_, FieldType::MultiPickList) => &[Equals, NotEqual, In, StartsWith],
            _ => &[Equals, NotEqual, StartsWith, In],
        },
    };
    list.contains(&op)
}

/// A condition checked against the module.
#[derive(Debug, Clone)]
pub struct Cond<'d> {
    /// The field (`None`: the record id).
    pub field: Option<&'d FieldDef>,
    /// The operator.
    pub op: Op,
    /// Its operands (one; two for `between`; one or more for `in`).
    pub vals: Vec<Val>,
}

/// A criteria checked against the module.
#[derive(Debug, Clone)]
pub enum Filter<'d> {
    /// One condition.
    Cond(Cond<'d>),
    /// All of.
    And(Vec<Filter<'d>>),
    /// Any of.
    Or(Vec<Filter<'d>>),
}

/// 400 `INVALID_QUERY` with `details`.
pub fn invalid_query(details: Value) -> RestError {
    RestError::bad("INVALID_QUERY", "invalid query formed", details)
}

fn check_cond<'d>(
    def: &'d ModuleDef,
    field: &str,
    op: &str,
    raw: &str,
) -> Result<Cond<'d>, RestError> {
    let f = if field == "id" {
        None
    } else {
        Some(v8json::fields(def).find(|f| f.api_name == field).ok_or_else(|| {
            invalid_query(
                json!({"api_name": field, "reason": "the field is not available for search"}),
            )
        })?)
    };
    let Some(o) = Op::parse(op) else {
        return Err(invalid_query(
            json!({"api_name": field, "operator": op, "reason": "invalid operator found"}),
        ));
    };
    if !allowed(f, o) {
        return Err(invalid_query(json!({
            "api_name": field,
            "operator": op,
            "reason": "the operator is not supported for the field's data type",
        })));
    }
    let k = f.map_or(Kind::Id, filter::kind);
    let texts = match o {
        Op::In | Op::Between => pieces(raw),
        _ => vec![unescaped(raw)],
    };
    let bad_value =
        |reason: &str| invalid_query(json!({"api_name": field, "operator": op, "reason": reason}));
    match o {
        Op::Between if texts.len() != 2 => return Err(bad_value("between takes two values")),
        Op::In if texts.len() > MAX_IN_VALUES => {
            return Err(bad_value("in takes at most 100 values"));
        }
        _ => {}
    }
    let mut vals = Vec::with_capacity(texts.len());
    for t in &texts {
        if t.is_empty() {
            return Err(bad_value("a value is empty"));
        }
        vals.push(
            filter::operand(k, t)
                .ok_or_else(|| bad_value("the value does not suit the field's data type"))?,
        );
    }
    Ok(Cond { field: f, op: o, vals })
}

/// Checks a parsed criteria against `def`.
pub fn check<'d>(def: &'d ModuleDef, tree: &Tree) -> Result<Filter<'d>, RestError> {
    Ok(match tree {
        Tree::Cond { field, op, raw } => Filter::Cond(check_cond(def, field, op, raw)?),
        Tree::And(v) => Filter::And(v.iter().map(|t| check(def, t)).collect::<Result<_, _>>()?),
        Tree::Or(v) => Filter::Or(v.iter().map(|t| check(def, t)).collect::<Result<_, _>>()?),
    })
}

/// Lower-case runs of letters and digits.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The digits of a text.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Text `equals`: the whole value without regard to case, or (text and textarea) a run of whole
/// words; phone numbers compare their digits.
fn text_equals(f: Option<&FieldDef>, value: &str, query: &str) -> bool {
    if value.trim().to_lowercase() == query.trim().to_lowercase() {
        return true;
    }
    match f.map(|f| &f.ty) {
        Some(FieldType::Phone) => {
            let q = digits(query);
            !q.is_empty() && digits(value) == q
        }
        Some(FieldType::Text | FieldType::TextArea) => {
            let q = words(query);
            let v = words(value);
            !q.is_empty() && v.windows(q.len()).any(|w| w == q.as_slice())
        }
        _ => false,
    }
}

fn one_matches(f: Option<&FieldDef>, op: Op, have: &Val, want: &Val) -> bool {
    match (op, have, want) {
        (Op::Equals | Op::In, Val::Text(h), Val::Text(w)) => text_equals(f, h, w),
        (Op::StartsWith, Val::Text(h), Val::Text(w)) => {
            h.trim().to_lowercase().starts_with(&w.to_lowercase())
        }
        (Op::Equals | Op::In, h, w) => h.same(w),
        _ => false,
    }
}

impl Cond<'_> {
    /// Whether `rec` meets the condition.
    pub fn matches(&self, st: &State, rec: &Rec) -> bool {
        let have: Vec<Val> = match self.field {
            None => vec![Val::Num(rec.id.into())],
            Some(f) if filter::is_multi(f) => match filter::stored(f, rec) {
                Some(t) => filter::items(t).map(|i| Val::Text(i.to_owned())).collect(),
                None => Vec::new(),
            },
            Some(f) => filter::record_val(st, f, rec).into_iter().collect(),
        };
        let any = |op: Op| {
            have.iter().any(|h| self.vals.iter().any(|w| one_matches(self.field, op, h, w)))
        };
        let ord = |test: fn(std::cmp::Ordering) -> bool| {
            have.iter().any(|h| self.vals.first().and_then(|w| h.cmp_to(w)).is_some_and(test))
        };
        match self.op {
            Op::Equals | Op::In | Op::StartsWith => any(self.op),
            Op::NotEqual => !any(Op::Equals),
            Op::Gt => ord(|o| o.is_gt()),
            Op::Ge => ord(|o| o.is_ge()),
            Op::Lt => ord(|o| o.is_lt()),
            Op::Le => ord(|o| o.is_le()),
            Op::Between => have.iter().any(|h| {
                let (Some(lo), Some(hi)) = (self.vals.first(), self.vals.get(1)) else {
                    return false;
                };
                h.cmp_to(lo).is_some_and(|o| o.is_ge()) && h.cmp_to(hi).is_some_and(|o| o.is_le())
            }),
        }
    }
}

impl Filter<'_> {
    /// Whether `rec` meets the criteria.
    pub fn matches(&self, st: &State, rec: &Rec) -> bool {
        match self {
            Filter::Cond(c) => c.matches(st, rec),
            Filter::And(v) => v.iter().all(|f| f.matches(st, rec)),
            Filter::Or(v) => v.iter().any(|f| f.matches(st, rec)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cond(field: &str, op: &str, raw: &str) -> Tree {
        Tree::Cond { field: field.into(), op: op.into(), raw: raw.into() }
    }

    #[test]
    fn and_binds_tighter_than_or_and_outer_parentheses_are_optional() {
        let t = parse("((A:equals:1)or(B:equals:2)and(C:equals:3))").unwrap();
        assert_eq!(
            t,
            Tree::Or(vec![
                cond("A", "equals", "1"),
                Tree::And(vec![cond("B", "equals", "2"), cond("C", "equals", "3")])
            ])
        );
        let t = parse("(A:equals:1) AND (B:equals:2)").unwrap();
        assert_eq!(t, Tree::And(vec![cond("A", "equals", "1"), cond("B", "equals", "2")]));
        assert_eq!(t.conditions(), 2);
    }

    #[test]
    fn escapes_keep_parentheses_commas_and_backslashes_in_values() {
        let t = parse(r"(Last_Name:in:Burns\,B,Smith \(Jr\),a\\)").unwrap();
        let Tree::Cond { raw, .. } = &t else { panic!("{t:?}") };
        assert_eq!(pieces(raw), vec!["Burns,B", "Smith (Jr)", r"a\"]);
        assert_eq!(unescaped(r"Burns\,B"), "Burns,B");
        let t = parse("(Created_Time:between:2024-02-01T18:52:56+00:00,2024-02-20T18:52:56+00:00)")
            .unwrap();
        let Tree::Cond { raw, .. } = &t else { panic!("{t:?}") };
        assert_eq!(pieces(raw).len(), 2);
    }

    #[test]
    fn malformed_criteria_are_refused() {
        for bad in [
            "",
            "Last_Name:equals:x",
            "(Last_Name:equals:(x))",
            "(A:equals:1)xor(B:equals:2)",
            "((A:equals:1)",
            "(A:equals)",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn equals_matches_whole_words_only() {
        let f = FieldDef::new("Company", FieldType::Text);
        assert!(text_equals(Some(&f), "ABC Inc", "abc"));
        assert!(text_equals(Some(&f), "The ABC Inc.", "abc inc"));
        assert!(!text_equals(Some(&f), "ABCD Inc", "abc"));
        let p = FieldDef::new("Phone", FieldType::Phone);
        assert!(text_equals(Some(&p), "+1 (555) 010-0199", "15550100199"));
    }
}
