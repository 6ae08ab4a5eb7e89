//! The admin surface under `/__emulator/` (not part of the Zoho API): loopback peers only, no
//! token. JSON in and out.
//!
//! | request | answer |
//! |---|---|
//! | `GET /__emulator/health` | `{"ok":true}` |
//! | `GET /__emulator/calls` | `{"today":"2024-05-01","budget":250,"used_today":3,"search_cv_used_today":0,"by_day":{"2024-05-01":{"total":3,"by_method":{..},"by_module":{..}}},"counts":[{"day","method","module","count"}]}` |
//! | `GET /__emulator/records` | `{"Leads":10,"Accounts":2}` |
//! | `GET /__emulator/clock` | `{"now":"2024-05-01 10:00:00","today":"2024-05-01","offset_days":0,"offset_secs":0,"timezone":"America/Los_Angeles"}` |
//! | `POST /__emulator/clock/advance?days=N&seconds=S` | the clock, after moving it N days plus S seconds (default: 1 day) |
//! | `GET /__emulator/faults` | the active fault spec |
//! | `POST /__emulator/faults?spec=latency=5ms,...` (or the spec as the body) | the new spec; 400 if invalid |
//! | `DELETE /__emulator/faults` | clears them |
//! | `POST /__emulator/tokens` (optional `?token=T`) | `{"token":"..."}`: accepted from now on |
//! | `POST /__emulator/advance-clock?seconds=N` | the same as `clock/advance` (v8 tests' spelling) |
//! | `POST /__emulator/expire-tokens` | `{"expired":true}`: every v8 access token expires now |
//! | `GET /__emulator/credits` | `{"used","limit","remaining","window_secs":86400,"in_flight","concurrency_limit","complex_concurrency_limit"}` (v8) |
//! | `POST /__emulator/grant-code?client_id=ID` | `{"code":"..."}`: a single-use v8 grant code of a registered client, valid 3 minutes |
//! | `GET /__emulator/requests` / `DELETE` | the request log (the last 10,000 requests within 32 MiB, tokens redacted) / clear it |

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::faults::FaultSpec;
use crate::server::Conn;
use crate::state::State;
use crate::store::{counters, records};

type St = AxState<Arc<State>>;

/// Per day: total, by method, by module.
type DayCounts = (u64, BTreeMap<String, u64>, BTreeMap<String, u64>);

/// The admin routes.
pub fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/calls", get(calls))
        .route("/records", get(record_counts))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/advance-clock", post(advance))
        .route("/expire-tokens", post(expire_tokens))
        .route("/credits", get(credits))
        .route("/bulk-jobs", get(bulk_jobs))
        .route("/grant-code", post(grant_code))
        .route("/faults", get(get_faults).post(set_faults).delete(clear_faults))
        .route("/tokens", post(create_token))
        .route("/requests", get(requests).delete(clear_requests))
        .layer(axum::middleware::from_fn(loopback_only))
}

async fn loopback_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let ok = req.extensions().get::<Conn>().is_some_and(|c| c.peer.ip().is_loopback());
    if !ok {
        return (StatusCode::FORBIDDEN, "the admin surface answers loopback peers only")
            .into_response();
    }
    next.run(req).await
}

fn internal() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "store error").into_response()
}

/// The JSON of `GET /__emulator/calls`.
pub fn calls_json(st: &State) -> Result<Value, rusqlite::Error> {
    let all = st.store.read(counters::all)?;
    let today = st.today();
    let mut by_day: BTreeMap<String, DayCounts> = BTreeMap::new();
    for c in &all {
        let e = by_day.entry(c.day.clone()).or_default();
        e.0 += c.count;
        *e.1.entry(c.method.clone()).or_default() += c.count;
        *e.2.entry(c.module.clone()).or_default() += c.count;
    }
    let used_today = by_day.get(&today).map_or(0, |d| d.0);
    let search_cv = all
        .iter()
        .filter(|c| {
            c.day == today && (c.method == "getSearchRecords" || c.method == "getCVRecords")
        })
        .map(|c| c.count)
        .sum::<u64>();
    let by_day: BTreeMap<String, Value> = by_day
        .into_iter()
        .map(|(d, (t, m, md))| (d, json!({"total": t, "by_method": m, "by_module": md})))
        .collect();
    Ok(json!({
        "today": today,
        "budget": st.cfg.budget(),
        "used_today": used_today,
        "search_cv_used_today": search_cv,
        "by_day": by_day,
        "counts": all,
    }))
}

async fn calls(AxState(st): St) -> Response {
    match calls_json(&st) {
        Ok(v) => Json(v).into_response(),
        Err(_) => internal(),
    }
}

async fn record_counts(AxState(st): St) -> Response {
    match st.store.read(records::counts) {
        Ok(v) => Json(v.into_iter().collect::<BTreeMap<_, _>>()).into_response(),
        Err(_) => internal(),
    }
}

fn clock_json(st: &State) -> Value {
    json!({
        "now": zcrm_protocol::value::format_datetime(st.clock.now_civil()),
        "today": st.today(),
        "offset_days": st.clock.offset_secs() / 86_400,
        "offset_secs": st.clock.offset_secs(),
        "timezone": st.cfg.timezone,
    })
}

async fn clock(AxState(st): St) -> Json<Value> {
    Json(clock_json(&st))
}

async fn advance(AxState(st): St, Query(q): Query<HashMap<String, String>>) -> Response {
    let parse = |name: &str, max: i64| match q.get(name).map(|d| d.trim().parse::<i64>()) {
        None => Ok(None),
        Some(Ok(n)) if (0..=max).contains(&n) => Ok(Some(n)),
        Some(_) => Err(format!("{name} must be an integer between 0 and {max}")),
    };
    let secs = match (parse("days", 36_500), parse("seconds", 36_500 * 86_400)) {
        (Err(e), _) | (_, Err(e)) => return (StatusCode::BAD_REQUEST, e).into_response(),
        (Ok(None), Ok(None)) => 86_400,
        (Ok(days), Ok(seconds)) => {
            days.unwrap_or(0).saturating_mul(86_400).saturating_add(seconds.unwrap_or(0))
        }
    };
    match st.advance_secs(secs) {
        Ok(()) => Json(clock_json(&st)).into_response(),
        Err(_) => internal(),
    }
}

async fn get_faults(AxState(st): St) -> Json<FaultSpec> {
    Json(st.faults.spec())
}

async fn set_faults(
    AxState(st): St,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    let text = q.get("spec").cloned().unwrap_or(body);
    match FaultSpec::parse(&text) {
        Ok(spec) => {
            st.faults.set(spec);
            Json(spec).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn clear_faults(AxState(st): St) -> Json<FaultSpec> {
    st.faults.set(FaultSpec::default());
    Json(FaultSpec::default())
}

/// A fresh 32-hex-digit token (not cryptographic; the emulator is a local test server).
pub fn fresh_token(st: &State) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i64(st.clock.now().as_nanosecond() as i64);
        h.write_u64(i);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

async fn create_token(AxState(st): St, Query(q): Query<HashMap<String, String>>) -> Response {
    let token = q
        .get("token")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| fresh_token(&st));
    match st.add_token(&token) {
        Ok(()) => Json(json!({"token": token})).into_response(),
        Err(_) => internal(),
    }
}

async fn requests(AxState(st): St) -> Json<Vec<crate::reqlog::LoggedRequest>> {
    Json(st.log.snapshot())
}

async fn clear_requests(AxState(st): St) -> StatusCode {
    st.log.clear();
    StatusCode::NO_CONTENT
}

async fn expire_tokens(AxState(st): St) -> Json<Value> {
    st.rest.tokens.expire_all();
    Json(json!({"expired": true}))
}

async fn credits(AxState(st): St) -> Response {
    match crate::rest::credits::admin_json(&st) {
        Ok(v) => Json(v).into_response(),
        Err(_) => internal(),
    }
}

async fn bulk_jobs(AxState(st): St) -> Response {
    match crate::rest::bulk::admin_json(&st) {
        Ok(v) => Json(v).into_response(),
        Err(_) => internal(),
    }
}

async fn grant_code(AxState(st): St, Query(q): Query<HashMap<String, String>>) -> Response {
    let id = q.get("client_id").map(|s| s.trim()).unwrap_or_default();
    if !st.cfg.oauth_clients.iter().any(|c| c.client_id == id) {
        return (StatusCode::BAD_REQUEST, "client_id names no registered OAuth client")
            .into_response();
    }
    let now = st.clock.now().as_second();
    Json(json!({"code": st.rest.tokens.new_code(&st, id, now)})).into_response()
}
