//! The COQL subset's grammar (CD-19), keywords in any case:
//!
//! ```text
//! query   := SELECT col {, col} FROM module [WHERE expr] [ORDER BY col [ASC|DESC] {, ...}]
//!            [LIMIT n [OFFSET m] | LIMIT m, n]
//! expr    := operand [(AND|OR) operand]            -- more than two need parentheses
//! operand := ( expr ) | col test
//! test    := (= | != | <> | < | <= | > | >=) lit | [NOT] IN ( lit {, lit} ) | [NOT] LIKE 'text'
//!          | [NOT] BETWEEN lit AND lit | IS [NOT] NULL
//! col     := name | name.name | 'quoted name'
//! lit     := 'text' | number | true | false
//! ```

/// A column as written, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Col {
    /// `Field` or `Lookup.Field`.
    pub path: String,
    /// Byte offset in the query.
    pub at: usize,
}

/// A literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit {
    /// `'text'`.
    Str(String),
    /// A number as written.
    Num(String),
    /// `true` / `false`.
    Bool(bool),
}

impl Lit {
    /// The literal's text.
    pub fn text(&self) -> String {
        match self {
            Lit::Str(s) | Lit::Num(s) => s.clone(),
            Lit::Bool(b) => b.to_string(),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`.
    Eq,
    /// `!=` or `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// What a condition tests of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// A comparison.
    Cmp(CmpOp, Lit),
    /// `[not] in (...)`.
    In(bool, Vec<Lit>),
    /// `[not] like '...'`.
    Like(bool, String),
    /// `[not] between a and b`.
    Between(bool, Lit, Lit),
    /// `is [not] null`.
    Null(bool),
}

/// A WHERE expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A condition on a column.
    Cond(Col, Test),
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// SELECT columns.
    pub columns: Vec<Col>,
    /// FROM module, as written.
    pub module: String,
    /// WHERE.
    pub filter: Option<Expr>,
    /// ORDER BY columns, descending when `true`.
    pub order: Vec<(Col, bool)>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

/// Where a query stops being COQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// The text there (empty at the end).
    pub near: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

const SYMS: [&str; 11] = ["<=", ">=", "!=", "<>", "=", "<", ">", "(", ")", ",", "*"];

fn lex(q: &str) -> Result<Vec<(Tok, usize)>, usize> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(start),
                    Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some(b'\\') if b.get(i + 1) == Some(&b'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let ch = q.get(i..).and_then(|r| r.chars().next()).ok_or(i)?;
                        s.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push((Tok::Str(s), start));
        } else if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
            while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                i += 1;
            }
            out.push((Tok::Num(q.get(start..i).unwrap_or_default().to_owned()), start));
        } else if c.is_ascii_alphabetic()
            || c == b'_'
            || c == b'$'
            || (c == b'!' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
        {
            i += 1;
            while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || b"_.$".contains(c)) {
                i += 1;
            }
            out.push((Tok::Word(q.get(start..i).unwrap_or_default().to_owned()), start));
        } else if let Some(s) = SYMS.iter().find(|s| b[i..].starts_with(s.as_bytes())) {
            i += s.len();
            out.push((Tok::Sym(s), start));
        } else {
            return Err(start);
        }
    }
    Ok(out)
}

struct P<'a> {
    q: &'a str,
    toks: Vec<(Tok, usize)>,
    i: usize,
}

impl P<'_> {
    fn err(&self) -> SyntaxError {
        let at = self.toks.get(self.i).map_or(self.q.len(), |t| t.1);
        error_at(self.q, at)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.0)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn need_kw(&mut self, kw: &str) -> Result<(), SyntaxError> {
        if self.kw(kw) { Ok(()) } else { Err(self.err()) }
    }

    fn sym(&mut self, s: &str) -> bool {
        let yes = matches!(self.peek(), Some(Tok::Sym(x)) if *x == s);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn need_sym(&mut self, s: &str) -> Result<(), SyntaxError> {
        if self.sym(s) { Ok(()) } else { Err(self.err()) }
    }

    fn col(&mut self) -> Result<Col, SyntaxError> {
        let at = self.toks.get(self.i).map_or(self.q.len(), |t| t.1);
        match self.peek() {
            Some(Tok::Word(w)) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w)) => {
                let path = w.clone();
                self.i += 1;
                Ok(Col { path, at })
            }
            Some(Tok::Str(s)) => {
                let path = s.clone();
                self.i += 1;
                Ok(Col { path, at })
            }
            _ => Err(self.err()),
        }
    }

    fn lit(&mut self) -> Result<Lit, SyntaxError> {
        let lit = match self.peek() {
            Some(Tok::Str(s)) => Lit::Str(s.clone()),
            Some(Tok::Num(n)) => Lit::Num(n.clone()),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Lit::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Lit::Bool(false),
            _ => return Err(self.err()),
        };
        self.i += 1;
        Ok(lit)
    }

    fn number(&mut self) -> Result<u64, SyntaxError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let v = n.parse::<u64>().map_err(|_| self.err())?;
                self.i += 1;
                Ok(v)
            }
            _ => Err(self.err()),
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.operand()?;
        if self.kw("and") {
            return Ok(Expr::And(Box::new(left), Box::new(self.operand()?)));
        }
        if self.kw("or") {
            return Ok(Expr::Or(Box::new(left), Box::new(self.operand()?)));
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expr, SyntaxError> {
        if self.sym("(") {
            let e = self.expr()?;
            self.need_sym(")")?;
            return Ok(e);
        }
        let col = self.col()?;
        let test = self.test()?;
        Ok(Expr::Cond(col, test))
    }

    fn test(&mut self) -> Result<Test, SyntaxError> {
        let ops = [
            ("=", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<>", CmpOp::Ne),
            ("<", CmpOp::Lt),
            ("<=", CmpOp::Le),
            (">", CmpOp::Gt),
            (">=", CmpOp::Ge),
        ];
        for (s, op) in ops {
            if self.sym(s) {
                return Ok(Test::Cmp(op, self.lit()?));
            }
        }
        if self.kw("is") {
            let not = self.kw("not");
            self.need_kw("null")?;
            return Ok(Test::Null(not));
        }
        let not = self.kw("not");
        if self.kw("in") {
            self.need_sym("(")?;
            let mut vals = vec![self.lit()?];
            while self.sym(",") {
                vals.push(self.lit()?);
            }
            self.need_sym(")")?;
            return Ok(Test::In(not, vals));
        }
        if self.kw("like") {
            return match self.peek() {
                Some(Tok::Str(s)) => {
                    let s = s.clone();
                    self.i += 1;
                    Ok(Test::Like(not, s))
                }
                _ => Err(self.err()),
            };
        }
        if self.kw("between") {
            let lo = self.lit()?;
            self.need_kw("and")?;
            let hi = self.lit()?;
            return Ok(Test::Between(not, lo, hi));
        }
        Err(self.err())
    }

    fn query(&mut self) -> Result<Query, SyntaxError> {
        self.need_kw("select")?;
        let mut columns = vec![self.col()?];
        while self.sym(",") {
            columns.push(self.col()?);
        }
        self.need_kw("from")?;
        let module = match self.peek() {
            Some(Tok::Word(w)) => w.clone(),
            _ => return Err(self.err()),
        };
        self.i += 1;
        let filter = if self.kw("where") { Some(self.expr()?) } else { None };
        let mut order = Vec::new();
        if self.kw("order") {
            self.need_kw("by")?;
            loop {
                let c = self.col()?;
                let desc = if self.kw("desc") {
                    true
                } else {
                    self.kw("asc");
                    false
                };
                order.push((c, desc));
                if !self.sym(",") {
                    break;
                }
            }
        }
        let (mut limit, mut offset) = (None, None);
        if self.kw("limit") {
            let first = self.number()?;
            if self.sym(",") {
                offset = Some(first);
                limit = Some(self.number()?);
            } else {
                limit = Some(first);
                if self.kw("offset") {
                    offset = Some(self.number()?);
                }
            }
        }
        if self.i < self.toks.len() {
            return Err(self.err());
        }
        Ok(Query { columns, module, filter, order, limit, offset })
    }
}

/// Words that cannot name a column unquoted.
const RESERVED: [&str; 15] = [
    "select", "from", "where", "order", "by", "limit", "offset", "and", "or", "not", "in", "like",
    "between", "is", "null",
];

fn error_at(q: &str, at: usize) -> SyntaxError {
    let before = q.get(..at).unwrap_or(q);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let near = q.get(at..).unwrap_or_default().split_whitespace().next().unwrap_or_default();
    SyntaxError { line, column, near: near.chars().take(40).collect() }
}

/// Parses a query.
pub fn parse(q: &str) -> Result<Query, SyntaxError> {
    let toks = lex(q).map_err(|at| error_at(q, at))?;
    P { q, toks, i: 0 }.query()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_full_query_parses() {
        let q = parse(
            "SELECT Last_Name, Account_Name.Account_Name from Contacts where (Last_Name like '%it''s%' \
             and Age not between 1 and 5) or Email is not null order by Last_Name desc, id limit 10, 20",
        )
        .unwrap();
        assert_eq!(q.columns.len(), 2);
        assert_eq!(q.columns[1].path, "Account_Name.Account_Name");
        assert_eq!(q.module, "Contacts");
        assert_eq!((q.limit, q.offset), (Some(20), Some(10)));
        assert_eq!(q.order.len(), 2);
        assert!(q.order[0].1 && !q.order[1].1);
        let Some(Expr::Or(l, r)) = q.filter else { panic!() };
        assert!(matches!(*r, Expr::Cond(_, Test::Null(true))));
        let Expr::And(a, b) = *l else { panic!() };
        assert_eq!(
            *a,
            Expr::Cond(
                Col { path: "Last_Name".into(), at: 65 },
                Test::Like(false, "%it's%".into())
            )
        );
        assert!(matches!(*b, Expr::Cond(_, Test::Between(true, _, _))));
        let q = parse("select id from Leads limit 5 offset 7").unwrap();
        assert_eq!((q.limit, q.offset), (Some(5), Some(7)));
    }

    #[test]
    fn three_conditions_at_one_level_are_a_syntax_error() {
        let e = parse("select id from Leads where a = 1 and b = 2 and c = 3").unwrap_err();
        assert_eq!((e.line, e.column, e.near.as_str()), (1, 44, "and"));
        assert!(parse("select id from Leads where (a = 1 and b = 2) and c = 3").is_ok());
        for bad in [
            "select from Leads",
            "select id Leads",
            "select id from Leads where",
            "select id from Leads limit",
            "select id from Leads where a = 'x",
            "select * from Leads",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
