//! `POST /coql` (CD-19): `{"select_query": "..."}` in the subset [`super::coql_parse`] reads,
//! run over the module's live records; lookup columns answer `{"id"}` and one-level dotted
//! columns (`Account_Name.Account_Name`) are keyed by their path. Credits follow the LIMIT
//! (CD-20, [`credits`]).

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;

use axum::http::StatusCode;
use rusqlite::Transaction;
use serde_json::{Map, Value, json};
use zcrm_protocol::field::FieldType;

use super::coql_parse::{self, CmpOp, Col, Expr, Lit, Test};
use super::errors::{Answer, RestError};
use super::filter::{self, Kind, Val};
use super::json as v8json;
use super::router::Cx;
use crate::schema::{FieldDef, LookupTarget, ModuleDef};
use crate::state::State;
use crate::store::records::{self, LIVE, Rec};

/// LIMIT when none is given.
pub const DEFAULT_LIMIT: u64 = 200;
/// The largest LIMIT.
pub const MAX_LIMIT: u64 = 2_000;
/// The furthest OFFSET + LIMIT may reach.
pub const MAX_REACH: u64 = 100_000;
/// Values an `in` may list.
pub const MAX_IN: usize = 100;
/// SELECT columns at most (Kaizen #183).
pub const MAX_COLUMNS: usize = 500;
/// Target records kept while a query runs.
const CACHE: usize = 4_096;

/// The credits a COQL call costs by its LIMIT: 1 for 1–200, 2 for 201–1,000, 3 for
/// 1,001–2,000; 1 when the body or query cannot be read or the LIMIT is out of range.
pub fn credits(body: Option<&Value>) -> u64 {
    let Some(q) = body.and_then(|b| b.get("select_query")).and_then(Value::as_str) else {
        return 1;
    };
    match coql_parse::parse(q).map(|q| q.limit.unwrap_or(DEFAULT_LIMIT)) {
        Ok(201..=1_000) => 2,
        Ok(1_001..=MAX_LIMIT) => 3,
        _ => 1,
    }
}

/// What a dotted column reads of its lookup's target.
#[derive(Debug, Clone, Copy)]
enum Target<'d> {
    Id,
    Field(&'d ModuleDef, &'d FieldDef),
    UserName,
    UserEmail,
}

/// A resolved column.
#[derive(Debug, Clone, Copy)]
enum Column<'d> {
    Id,
    Field(&'d FieldDef),
    Join(&'d FieldDef, Target<'d>),
}

impl Column<'_> {
    fn kind(&self) -> Kind {
        match self {
            Column::Id => Kind::Id,
            Column::Field(f) | Column::Join(_, Target::Field(_, f)) => filter::kind(f),
            Column::Join(_, Target::Id) => Kind::Ref,
            Column::Join(_, Target::UserName | Target::UserEmail) => Kind::Text,
        }
    }

    /// The field whose type decides what WHERE may do with it.
    fn field(&self) -> Option<&FieldDef> {
        match self {
            Column::Field(f) | Column::Join(_, Target::Field(_, f)) => Some(f),
            _ => None,
        }
    }
}

fn invalid_query(details: Value) -> RestError {
    RestError::bad("INVALID_QUERY", "invalid query formed", details)
}

fn unknown_column(path: &str) -> RestError {
    invalid_query(json!({"column_name": path, "reason": "the column given seems to be invalid"}))
}

fn field_of<'d>(def: &'d ModuleDef, name: &str) -> Option<&'d FieldDef> {
    v8json::fields(def).find(|f| f.api_name.eq_ignore_ascii_case(name))
}

/// Resolves a column and the key it answers under.
fn resolve<'d>(
    st: &'d State,
    def: &'d ModuleDef,
    col: &Col,
) -> Result<(String, Column<'d>), RestError> {
    let path = col.path.as_str();
    if path.eq_ignore_ascii_case("id") {
        return Ok(("id".to_owned(), Column::Id));
    }
    let Some((head, tail)) = path.split_once('.') else {
        let f = field_of(def, path).ok_or_else(|| unknown_column(path))?;
        return Ok((f.api_name.clone(), Column::Field(f)));
    };
    let lookup = field_of(def, head).ok_or_else(|| unknown_column(path))?;
    let target = match &lookup.lookup {
        Some((LookupTarget::Module(m), _)) => {
            let tdef = super::module(st, &m.api_name()).ok_or_else(|| unknown_column(path))?;
            if tail.eq_ignore_ascii_case("id") {
                Target::Id
            } else {
                let tf = field_of(tdef, tail).ok_or_else(|| unknown_column(path))?;
                Target::Field(tdef, tf)
            }
        }
        Some((LookupTarget::User, _)) => match tail.to_ascii_lowercase().as_str() {
            "id" => Target::Id,
            "name" | "full_name" => Target::UserName,
            "email" => Target::UserEmail,
            _ => return Err(unknown_column(path)),
        },
        _ => return Err(unknown_column(path)),
    };
    let tail = match target {
        Target::Field(_, tf) => tf.api_name.clone(),
        Target::Id => "id".to_owned(),
        Target::UserName => "name".to_owned(),
        Target::UserEmail => "email".to_owned(),
    };
    Ok((format!("{}.{tail}", lookup.api_name), Column::Join(lookup, target)))
}

/// A WHERE test with typed operands.
#[derive(Debug, Clone)]
enum Check {
    Cmp(CmpOp, Val),
    In(bool, Vec<Val>),
    Like(bool, String),
    Between(bool, Val, Val),
    Null(bool),
}

#[derive(Debug, Clone)]
enum Cond<'d> {
    One(Column<'d>, Check),
    And(Box<Cond<'d>>, Box<Cond<'d>>),
    Or(Box<Cond<'d>>, Box<Cond<'d>>),
}

fn check<'d>(st: &'d State, def: &'d ModuleDef, e: &Expr) -> Result<Cond<'d>, RestError> {
    let (col, test) = match e {
        Expr::And(a, b) => {
            return Ok(Cond::And(Box::new(check(st, def, a)?), Box::new(check(st, def, b)?)));
        }
        Expr::Or(a, b) => {
            return Ok(Cond::Or(Box::new(check(st, def, a)?), Box::new(check(st, def, b)?)));
        }
        Expr::Cond(col, test) => (col, test),
    };
    let (_, column) = resolve(st, def, col)?;
    let name = col.path.as_str();
    if let Some(f) = column.field()
        && matches!(f.ty, FieldType::TextArea | FieldType::MultiPickList)
    {
        return Err(invalid_query(json!({
            "column_name": name,
            "data_type": v8json::data_type(f),
            "reason": "the field is not supported in criteria",
        })));
    }
    let k = column.kind();
    let expected = column.field().map_or("bigint", v8json::data_type);
    let value = |lit: &Lit| -> Result<Val, RestError> {
        let fits = match lit {
            Lit::Bool(_) => k == Kind::Bool,
            Lit::Num(_) => k != Kind::Bool,
            Lit::Str(_) => true,
        };
        fits.then(|| filter::operand(k, &lit.text())).flatten().ok_or_else(|| {
            invalid_query(json!({
                "column_name": name,
                "expected_data_type": expected,
                "reason": "the value does not suit the column's type",
            }))
        })
    };
    let refuse = |operator: &str| {
        invalid_query(json!({
            "column_name": name,
            "operator": operator,
            "reason": "the operator is not supported for the column's type",
        }))
    };
    let c = match test {
        Test::Cmp(op, lit) => {
            let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            if ordering && !filter::ordered(k) {
                return Err(refuse("comparison"));
            }
            Check::Cmp(*op, value(lit)?)
        }
        Test::In(not, lits) => {
            if lits.len() > MAX_IN {
                return Err(RestError::bad(
                    "LIMIT_EXCEEDED",
                    "in accepts at most 100 values",
                    json!({"column_name": name, "limit": MAX_IN}),
                ));
            }
            Check::In(*not, lits.iter().map(value).collect::<Result<_, _>>()?)
        }
        Test::Like(not, pat) => {
            if k != Kind::Text {
                return Err(refuse("like"));
            }
            Check::Like(*not, pat.to_lowercase())
        }
        Test::Between(not, lo, hi) => {
            if !filter::ordered(k) {
                return Err(refuse("between"));
            }
            Check::Between(*not, value(lo)?, value(hi)?)
        }
        Test::Null(not) => Check::Null(*not),
    };
    Ok(Cond::One(column, c))
}

/// `%` matches any run of characters; everything else itself (both lower-case).
fn like(text: &str, pat: &str) -> bool {
    let parts: Vec<&str> = pat.split('%').collect();
    if parts.len() == 1 {
        return text == pat;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Reads column values of records, fetching lookup targets once.
struct Reader<'a> {
    st: &'a State,
    tx: &'a Transaction<'a>,
    cache: RefCell<HashMap<u64, Option<Rec>>>,
}

impl Reader<'_> {
    fn ref_id(f: &FieldDef, rec: &Rec) -> Option<u64> {
        filter::stored(f, rec).and_then(|t| t.trim().parse().ok())
    }

    fn target<T>(&self, module: &ModuleDef, id: u64, f: impl FnOnce(&Rec) -> T) -> Option<T> {
        let mut cache = self.cache.borrow_mut();
        if !cache.contains_key(&id) {
            if cache.len() >= CACHE {
                cache.clear();
            }
            let rec =
                records::get_live(self.tx, Some(&module.module.api_name()), id).ok().flatten();
            cache.insert(id, rec);
        }
        cache.get(&id).and_then(Option::as_ref).map(f)
    }

    fn val(&self, col: &Column<'_>, rec: &Rec) -> Option<Val> {
        match col {
            Column::Id => Some(Val::Num(rec.id.into())),
            Column::Field(f) => filter::record_val(self.st, f, rec),
            Column::Join(lk, t) => {
                let id = Self::ref_id(lk, rec)?;
                match t {
                    Target::Id => Some(Val::Num(id.into())),
                    Target::Field(tdef, tf) => {
                        self.target(tdef, id, |r| filter::record_val(self.st, tf, r)).flatten()
                    }
                    Target::UserName => self.st.schema.user(id).map(|u| Val::Text(u.name.clone())),
                    Target::UserEmail => {
                        self.st.schema.user(id).map(|u| Val::Text(u.email.clone()))
                    }
                }
            }
        }
    }

    fn out_field(&self, f: &FieldDef, rec: &Rec) -> Value {
        if f.lookup.is_some() {
            return match Self::ref_id(f, rec) {
                Some(id) => json!({"id": id.to_string()}),
                None => Value::Null,
            };
        }
        v8json::value(self.st, f, rec)
    }

    fn out(&self, col: &Column<'_>, rec: &Rec) -> Value {
        match col {
            Column::Id => Value::String(rec.id.to_string()),
            Column::Field(f) => self.out_field(f, rec),
            Column::Join(lk, t) => {
                let Some(id) = Self::ref_id(lk, rec) else { return Value::Null };
                let user = || self.st.schema.user(id);
                match t {
                    Target::Id => Value::String(id.to_string()),
                    Target::Field(tdef, tf) => {
                        self.target(tdef, id, |r| self.out_field(tf, r)).unwrap_or(Value::Null)
                    }
                    Target::UserName => user().map_or(Value::Null, |u| json!(u.name)),
                    Target::UserEmail => user().map_or(Value::Null, |u| json!(u.email)),
                }
            }
        }
    }

    fn meets(&self, c: &Cond<'_>, rec: &Rec) -> bool {
        let (col, check) = match c {
            Cond::And(a, b) => return self.meets(a, rec) && self.meets(b, rec),
            Cond::Or(a, b) => return self.meets(a, rec) || self.meets(b, rec),
            Cond::One(col, check) => (col, check),
        };
        let v = self.val(col, rec);
        let Some(v) = v else { return matches!(check, Check::Null(false)) };
        match check {
            Check::Null(not) => *not,
            Check::Cmp(op, w) => v.cmp_to(w).is_some_and(|o| match op {
                CmpOp::Eq => o.is_eq(),
                CmpOp::Ne => o.is_ne(),
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                CmpOp::Ge => o.is_ge(),
            }),
            Check::In(not, ws) => ws.iter().any(|w| v.same(w)) != *not,
            Check::Like(not, pat) => match &v {
                Val::Text(t) => like(&t.to_lowercase(), pat) != *not,
                _ => false,
            },
            Check::Between(not, lo, hi) => {
                let inside = v.cmp_to(lo).is_some_and(Ordering::is_ge)
                    && v.cmp_to(hi).is_some_and(Ordering::is_le);
                inside != *not
            }
        }
    }
}

/// Orders optional values: a missing value after every present one, in either direction.
fn cmp_opt(a: &Option<Val>, b: &Option<Val>, desc: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            let o = a.cmp_to(b).unwrap_or(Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// `POST /coql`.
pub fn coql(cx: &Cx<'_>, tx: &Transaction<'_>) -> Result<Answer, RestError> {
    let st = cx.st;
    if cx.body_unreadable {
        return Err(RestError::bad("INVALID_DATA", "the body is not JSON", json!({})));
    }
    let Some(text) = cx
        .body
        .and_then(|b| b.get("select_query"))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    else {
        return Err(RestError::bad(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({"api_name": "select_query", "json_path": "$.select_query"}),
        ));
    };
    let q = coql_parse::parse(text).map_err(|e| {
        RestError::bad(
            "SYNTAX_ERROR",
            "error occured while parsing the query",
            json!({"line": e.line, "column": e.column, "near": e.near}),
        )
    })?;
    let def = super::module(st, &q.module).ok_or_else(|| {
        invalid_query(
            json!({"module_name": q.module, "reason": "the module name given seems to be invalid"}),
        )
    })?;
    if q.columns.len() > MAX_COLUMNS {
        return Err(RestError::bad(
            "LIMIT_EXCEEDED",
            "select columns limit exceeded",
            json!({"limit": MAX_COLUMNS}),
        ));
    }
    let mut columns: Vec<(String, Column<'_>)> = Vec::with_capacity(q.columns.len());
    for c in &q.columns {
        let (key, col) = resolve(st, def, c)?;
        if columns.iter().any(|(k, _)| *k == key) {
            return Err(RestError::bad(
                "DUPLICATE_DATA",
                "duplicate column found",
                json!({"column_name": c.path}),
            ));
        }
        columns.push((key, col));
    }
    let cond = q.filter.as_ref().map(|e| check(st, def, e)).transpose()?;
    let mut order: Vec<(Column<'_>, bool)> = Vec::with_capacity(q.order.len());
    for (c, desc) in &q.order {
        order.push((resolve(st, def, c)?.1, *desc));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(RestError::bad(
            "LIMIT_EXCEEDED",
            "Max records limit exceeded",
            json!({"limit": MAX_LIMIT}),
        ));
    }
    if offset.saturating_add(limit) > MAX_REACH {
        return Err(RestError::bad(
            "LIMIT_EXCEEDED",
            "Max offset limit exceeded",
            json!({"limit": MAX_REACH}),
        ));
    }
    let reader = Reader { st, tx, cache: RefCell::new(HashMap::new()) };
    let module = def.module.api_name();
    let keep = |r: &Rec| cond.as_ref().is_none_or(|c| reader.meets(c, r));
    let (skip, take) = (offset as usize, limit as usize);
    let mut rows: Vec<Rec> = Vec::with_capacity(take.min(256));
    let mut more = false;
    let by_id = match order.as_slice() {
        [] => Some(false),
        [(Column::Id, desc)] => Some(*desc),
        _ => None,
    };
    if let Some(desc) = by_id {
        let mut seen = 0usize;
        records::scan(tx, &module, &[LIVE], desc, &mut |rec| {
            if !keep(&rec) {
                return true;
            }
            seen += 1;
            if seen <= skip {
                return true;
            }
            if rows.len() < take {
                rows.push(rec);
                return true;
            }
            more = true;
            false
        })?;
    } else {
        let mut keyed: Vec<(Vec<Option<Val>>, u64)> = Vec::new();
        records::scan(tx, &module, &[LIVE], false, &mut |rec| {
            if keep(&rec) {
                keyed.push((order.iter().map(|(c, _)| reader.val(c, &rec)).collect(), rec.id));
            }
            true
        })?;
        keyed.sort_by(|a, b| {
            for (i, (_, desc)) in order.iter().enumerate() {
                let o = cmp_opt(&a.0[i], &b.0[i], *desc);
                if o.is_ne() {
                    return o;
                }
            }
            a.1.cmp(&b.1)
        });
        more = keyed.len() > skip + take;
        for (_, id) in keyed.iter().skip(skip).take(take) {
            if let Some(r) = records::get_live(tx, Some(&module), *id)? {
                rows.push(r);
            }
        }
    }
    if rows.is_empty() {
        return Ok(Answer::empty(StatusCode::NO_CONTENT));
    }
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            for (key, col) in &columns {
                m.insert(key.clone(), reader.out(col, r));
            }
            m.insert("id".to_owned(), Value::String(r.id.to_string()));
            Value::Object(m)
        })
        .collect();
    Ok(Answer::ok(json!({"data": data, "info": {"count": rows.len(), "more_records": more}})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_takes_percent_as_any_run() {
        assert!(like("burns, b", "%urn%"));
        assert!(like("burns, b", "burns%"));
        assert!(like("burns, b", "%, b"));
        assert!(like("burns, b", "b%n%b"));
        assert!(!like("burns, b", "urn%"));
        assert!(!like("ab", "a%b%b"));
        assert!(like("abc", "abc"));
    }

    #[test]
    fn credits_follow_the_limit() {
        let c = |q: &str| credits(Some(&json!({ "select_query": q })));
        assert_eq!(c("select id from Leads"), 1);
        assert_eq!(c("select id from Leads limit 200"), 1);
        assert_eq!(c("select id from Leads limit 201"), 2);
        assert_eq!(c("select id from Leads limit 0, 1000"), 2);
        assert_eq!(c("select id from Leads limit 1001 offset 5"), 3);
        assert_eq!(c("select id from Leads limit 2000"), 3);
        assert_eq!(c("select id from Leads limit 2001"), 1);
        assert_eq!(c("select"), 1);
        assert_eq!(credits(None), 1);
    }
}
