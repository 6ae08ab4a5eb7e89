//! `GET /{module}/search` (CD-18): one of `criteria`, `email`, `phone`, `word` (in that order
//! of priority), paged by `page`/`per_page` up to the 2,000th match, newest id first, reading
//! the search index (records written within `search_index_lag` are not in it yet).

use axum::http::StatusCode;
use rusqlite::Transaction;
use serde_json::{Value, json};
use zcrm_protocol::field::FieldType;
use zcrm_protocol::rest_limits::{MAX_PAGE_RECORDS, MAX_PER_PAGE};

use super::criteria::{self, Filter, MAX_CRITERIA};
use super::errors::{Answer, RestError};
use super::filter::{self, Kind};
use super::json;
use super::records::{number_param, requested};
use super::router::Cx;
use crate::schema::ModuleDef;
use crate::state::State;
use crate::store::records::{self, CONVERTED, LIVE, Rec};

/// Characters a `word` needs at least.
const MIN_WORD: usize = 2;

/// What a search looks for.
enum Wanted<'d> {
    Criteria(Filter<'d>),
    Email(String),
    Phone(String),
    Word(String),
}

impl Wanted<'_> {
    fn matches(&self, st: &State, def: &ModuleDef, rec: &Rec) -> bool {
        let texts = |pick: &dyn Fn(&crate::schema::FieldDef) -> bool| {
            json::fields(def)
                .filter(|f| pick(f))
                .filter_map(|f| filter::stored(f, rec))
                .collect::<Vec<_>>()
        };
        match self {
            Wanted::Criteria(f) => f.matches(st, rec),
            Wanted::Email(q) => {
                texts(&|f| f.ty == FieldType::Email).iter().any(|v| v.trim().to_lowercase() == *q)
            }
            Wanted::Phone(q) => {
                texts(&|f| f.ty == FieldType::Phone).iter().any(|v| criteria::digits(v) == *q)
            }
            Wanted::Word(q) => texts(&|f| filter::kind(f) == Kind::Text)
                .iter()
                .any(|v| v.to_lowercase().contains(q.as_str())),
        }
    }
}

fn wanted<'d>(cx: &Cx<'_>, def: &'d ModuleDef) -> Result<Wanted<'d>, RestError> {
    if let Some(text) = cx.param("criteria") {
        let tree = criteria::parse(text)
            .map_err(|reason| criteria::invalid_query(json!({"reason": reason})))?;
        if tree.conditions() > MAX_CRITERIA {
            return Err(RestError::bad(
                "LIMIT_EXCEEDED",
                "criteria limit exceeded",
                json!({"limit": MAX_CRITERIA}),
            ));
        }
        return Ok(Wanted::Criteria(criteria::check(def, &tree)?));
    }
    if let Some(e) = cx.param("email") {
        return Ok(Wanted::Email(e.to_lowercase()));
    }
    if let Some(p) = cx.param("phone") {
        let d = criteria::digits(p);
        if d.is_empty() {
            return Err(RestError::invalid_param("phone"));
        }
        return Ok(Wanted::Phone(d));
    }
    if let Some(w) = cx.param("word") {
        if w.chars().count() < MIN_WORD {
            return Err(RestError::bad(
                "INVALID_DATA",
                "the word given should have at least 2 characters",
                json!({"param_name": "word"}),
            ));
        }
        return Ok(Wanted::Word(w.to_lowercase()));
    }
    Err(missing())
}

/// The parameters a search needs one of, in order of priority.
const KINDS: [&str; 4] = ["criteria", "email", "phone", "word"];

fn missing() -> RestError {
    RestError::bad(
        "EXPECTED_PARAM_MISSING",
        "One of the expected parameter is missing",
        json!({"expected_params": KINDS}),
    )
}

/// `GET /{module}/search`.
pub fn search(cx: &Cx<'_>, tx: &Transaction<'_>, def: &ModuleDef) -> Result<Answer, RestError> {
    if KINDS.iter().all(|p| cx.param(p).is_none()) {
        return Err(missing());
    }
    let (only, _) = requested(cx, def, true)?;
    let per_page = number_param(cx, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
    let page = number_param(cx, "page", 1, 1, u32::MAX)?;
    if u64::from(page) * u64::from(per_page) > u64::from(MAX_PAGE_RECORDS) {
        return Err(RestError::bad(
            "LIMIT_REACHED",
            "Maximum response iteration limit reached",
            json!({"limit": MAX_PAGE_RECORDS}),
        ));
    }
    let states: &[i64] = match cx.param("converted") {
        None | Some("false") => &[LIVE],
        Some("true") => &[CONVERTED],
        Some("both") => &[LIVE, CONVERTED],
        Some(_) => return Err(RestError::invalid_param("converted")),
    };
    let want = wanted(cx, def)?;
    let lag = i64::try_from(cx.st.cfg.search_index_lag.as_secs()).unwrap_or(i64::MAX);
    let indexed_until = cx.now.saturating_sub(lag);
    let skip = ((page - 1) * per_page) as usize;
    let take = per_page as usize;
    let mut seen = 0usize;
    let mut hits: Vec<Rec> = Vec::with_capacity(take);
    let mut more = false;
    records::scan(tx, &def.module.api_name(), states, true, &mut |rec| {
        if (lag > 0 && rec.modified_at > indexed_until) || !want.matches(cx.st, def, &rec) {
            return true;
        }
        seen += 1;
        if seen <= skip {
            return true;
        }
        if hits.len() < take {
            hits.push(rec);
            return true;
        }
        more = true;
        false
    })?;
    if hits.is_empty() {
        return Ok(Answer::empty(StatusCode::NO_CONTENT));
    }
    let more = more && page * per_page < MAX_PAGE_RECORDS;
    let data: Vec<Value> =
        hits.iter().map(|r| json::record(cx.st, def, r, only.as_deref())).collect();
    Ok(Answer::ok(json!({
        "data": data,
        "info": {"per_page": per_page, "count": hits.len(), "page": page, "more_records": more},
    })))
}
