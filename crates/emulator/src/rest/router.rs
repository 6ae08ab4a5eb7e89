//! One v8 call: authentication (before routing, CD-2), the route (CD-23), a concurrency slot
//! (CD-22), the body, the faults of `--faults`, then the call's work and its credit charge
//! (CD-20) in one store transaction, so a kill never half-applies a call.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::Transaction;
use serde_json::Value;

use super::errors::{Answer, RestError};
use super::{
    actions, auth, coql, credits, custom_views, delete, files, meta, records, search, write,
};
use crate::schema::ModuleDef;
use crate::state::State;
use crate::store::Undo;

/// The largest request body read.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// What a path and method ask for.
#[derive(Debug, Clone, Copy)]
pub enum Route<'a> {
    /// `GET settings/fields?module=`.
    Fields,
    /// `GET settings/modules`.
    Modules,
    /// `GET settings/custom_views?module=`.
    CustomViews,
    /// `GET settings/modules/{module}`.
    ModuleInfo(&'a ModuleDef),
    /// `GET users`.
    Users,
    /// `GET org`.
    Org,
    /// `GET /{module}`.
    List(&'a ModuleDef),
    /// `GET /{module}/{id}`.
    Get(&'a ModuleDef, &'a str),
    /// `POST /{module}`.
    Insert(&'a ModuleDef),
    /// `PUT /{module}` or `PUT /{module}/{id}`.
    Update(&'a ModuleDef, Option<&'a str>),
    /// `POST /{module}/upsert`.
    Upsert(&'a ModuleDef),
    /// `DELETE /{module}?ids=` or `DELETE /{module}/{id}`.
    Delete(&'a ModuleDef, Option<&'a str>),
    /// `GET /{module}/deleted`.
    Deleted(&'a ModuleDef),
    /// `GET /{module}/search`.
    Search(&'a ModuleDef),
    /// `POST /coql`.
    Coql,
    /// Related lists, lead conversion, attachments and photos (`actions`).
    Action(actions::Action<'a>),
}

impl Route<'_> {
    fn is_write(&self) -> bool {
        match self {
            Self::Action(a) => a.is_write(),
            _ => matches!(
                self,
                Self::Insert(_) | Self::Update(..) | Self::Upsert(_) | Self::Delete(..)
            ),
        }
    }

    fn counts_records(&self) -> bool {
        matches!(self, Self::Insert(_) | Self::Update(..) | Self::Upsert(_))
    }
}

fn not_found() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "INVALID_URL_PATTERN",
        "Please check if the URL trying to access is a correct one",
    )
}

fn wrong_method() -> RestError {
    RestError::bad(
        "INVALID_REQUEST_METHOD",
        "The http request method type is not a valid one",
        serde_json::json!({}),
    )
}

/// The versions routed alike (CD-25); `/crm/{other}/...` is the XML face's.
pub const VERSIONS: [&str; 8] = ["v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"];

/// Whether `v` is one of [`VERSIONS`].
pub fn version_ok(v: &str) -> bool {
    VERSIONS.contains(&v)
}

/// The route of `method` on the segments after `/crm/{version}/`.
pub fn resolve<'a>(
    st: &'a State,
    method: &Method,
    segs: &[&'a str],
) -> Result<Route<'a>, RestError> {
    let get = *method == Method::GET;
    let only = |ok: bool, r: Route<'a>| if ok { Ok(r) } else { Err(wrong_method()) };
    match segs {
        ["settings", "fields"] => only(get, Route::Fields),
        ["settings", "modules"] => only(get, Route::Modules),
        ["settings", "custom_views"] => only(get, Route::CustomViews),
        ["settings", "modules", m] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            only(get, Route::ModuleInfo(def))
        }
        ["settings", ..] => Err(not_found()),
        ["users"] => only(get, Route::Users),
        ["org"] => only(get, Route::Org),
        ["coql"] => only(*method == Method::POST, Route::Coql),
        [m] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            match *method {
                Method::GET => Ok(Route::List(def)),
                Method::POST => Ok(Route::Insert(def)),
                Method::PUT => Ok(Route::Update(def, None)),
                Method::DELETE => Ok(Route::Delete(def, None)),
                _ => Err(wrong_method()),
            }
        }
        [m, "upsert"] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            only(*method == Method::POST, Route::Upsert(def))
        }
        [m, "deleted"] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            only(get, Route::Deleted(def))
        }
        [m, "search"] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            only(get, Route::Search(def))
        }
        [m, id] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            match *method {
                Method::GET => Ok(Route::Get(def, id)),
                Method::PUT => Ok(Route::Update(def, Some(id))),
                Method::DELETE => Ok(Route::Delete(def, Some(id))),
                _ => Err(wrong_method()),
            }
        }
        [m, id, rest @ ..] => {
            let def = super::module(st, m).ok_or_else(RestError::invalid_module)?;
            actions::resolve(st, method, def, id, rest).map(Route::Action)
        }
        _ => Err(not_found()),
    }
}

/// Everything one call's work reads.
pub struct Cx<'a> {
    /// Shared state.
    pub st: &'a State,
    /// Query parameters (the last of a repeated name wins).
    pub query: &'a HashMap<String, String>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The body, parsed as JSON when it is (`None`: not JSON or empty).
    pub body: Option<&'a Value>,
    /// Whether the body was given but is not JSON.
    pub body_unreadable: bool,
    /// Now, epoch seconds.
    pub now: i64,
    /// `fields` may be left out of a list (v2, v2.1).
    pub fields_optional: bool,
    /// A multipart body's parts (attachments, photos).
    pub form: Option<&'a files::Form>,
}

impl Cx<'_> {
    /// A query parameter, trimmed, when non-empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The records a write body carries, if it is readable and within the limit.
fn write_records(body: Option<&Value>) -> Option<u32> {
    let n = body?.get("data")?.as_array()?.len();
    let n = u32::try_from(n).ok()?;
    (1..=zcrm_protocol::rest_limits::MAX_WRITE_RECORDS).contains(&n).then_some(n)
}

fn dispatch(cx: &Cx<'_>, route: Route<'_>, tx: &Transaction<'_>) -> Result<Answer, RestError> {
    match route {
        Route::Fields => meta::fields(cx),
        Route::Modules => meta::modules(cx, None),
        Route::CustomViews => custom_views::list(cx),
        Route::ModuleInfo(def) => meta::modules(cx, Some(def)),
        Route::Users => meta::users(cx),
        Route::Org => meta::org(cx),
        Route::List(def) => records::list(cx, tx, def),
        Route::Get(def, id) => records::get(cx, tx, def, id),
        Route::Insert(def) => write::insert(cx, tx, def),
        Route::Update(def, id) => write::update(cx, tx, def, id),
        Route::Upsert(def) => write::upsert(cx, tx, def),
        Route::Delete(def, id) => delete::delete(cx, tx, def, id),
        Route::Deleted(def) => delete::deleted(cx, tx, def),
        Route::Search(def) => search::search(cx, tx, def),
        Route::Coql => coql::coql(cx, tx),
        Route::Action(a) => actions::dispatch(cx, tx, a),
    }
}

/// `/crm/{version}/{*rest}`.
pub async fn handle(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    let conn = req.extensions().get::<crate::server::Conn>().cloned();
    if let Err(e) = auth::check(&st, req.headers()) {
        return e.answer().into_response();
    }
    let Some(_slot) = st.rest.slots.take(st.cfg.concurrency_cap()) else {
        return RestError::too_many_requests().answer().into_response();
    };
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: HashMap<String, String> = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
        .map(|Query(q)| q.into_iter().collect())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let (bytes, form): (Bytes, Option<files::Form>) = files::read_body(req, MAX_BODY, &st).await;
    let body: Option<Value> =
        if bytes.is_empty() { None } else { serde_json::from_slice(&bytes).ok() };
    let body_unreadable = !bytes.is_empty() && body.is_none();

    let st2 = st.clone();
    let (route_ok, is_write, cost, complex) = {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let version_fine = segs.get(1).is_some_and(|v| version_ok(v));
        let route = if version_fine {
            resolve(&st, &method, segs.get(2..).unwrap_or_default())
        } else {
            Err(not_found())
        };
        let (is_write, counted, is_coql) = match &route {
            Ok(r) => (r.is_write(), r.counts_records(), matches!(r, Route::Coql)),
            Err(_) => (false, false, false),
        };
        let view_list = matches!(route, Ok(Route::List(_)))
            && query.get("cvid").is_some_and(|v| !v.trim().is_empty());
        let n = if counted { write_records(body.as_ref()) } else { None };
        let cost = if let Ok(Route::Action(a)) = &route {
            a.credits()
        } else if is_coql {
            coql::credits(body.as_ref())
        } else if view_list {
            u64::from(zcrm_protocol::rest_limits::VIEW_LIST_CREDITS)
        } else {
            u64::from(n.map_or(1, zcrm_protocol::rest_limits::write_credits))
        };
        (route.map(|_| ()), is_write, cost, is_coql || n.is_some_and(|n| n > 10))
    };
    let _complex_slot = if complex {
        match st.rest.slots.take_complex() {
            Some(s) => Some(s),
            None => return RestError::too_many_requests().answer().into_response(),
        }
    } else {
        None
    };
    let draw = st.faults.draw(is_write);
    if !draw.latency.is_zero() {
        tokio::time::sleep(draw.latency).await;
    }
    if draw.error {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let joined = tokio::task::spawn_blocking(move || {
        let st = &*st2;
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let fields_optional = matches!(segs.get(1).copied(), Some("v2" | "v2.1"));
        let route = route_ok.and_then(|()| resolve(st, &method, segs.get(2..).unwrap_or_default()));
        let now = st.clock.now().as_second();
        let cx = Cx {
            st,
            query: &query,
            headers: &headers,
            body: body.as_ref(),
            body_unreadable,
            now,
            fields_optional,
            form: form.as_ref(),
        };
        serve(&cx, route, cost)
    })
    .await;
    let (answer, used) = match joined {
        Ok(r) => r,
        Err(e) if e.is_cancelled() => {
            if let Some(conn) = &conn {
                conn.kill();
                return std::future::pending::<Response>().await;
            }
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Err(_) => (RestError::internal().answer(), None),
    };
    if draw.drop
        && let Some(conn) = conn
    {
        conn.kill();
        return std::future::pending::<Response>().await;
    }
    let mut response = answer.into_response();
    let limit = st.cfg.credits();
    if let Some(used) = used
        && used.saturating_mul(2) >= limit
        && let Ok(v) = HeaderValue::from_str(&limit.saturating_sub(used).to_string())
    {
        response.headers_mut().insert("X-API-CREDITS-REMAINING", v);
    }
    if draw.truncate {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let cut = bytes.slice(0..bytes.len() / 2);
        response = Response::from_parts(parts, Body::from(cut));
    }
    response
}

/// Charges and runs the call in one transaction; the answer and the credits used after it
/// (`None` when refused for credits).
fn serve(cx: &Cx<'_>, route: Result<Route<'_>, RestError>, cost: u64) -> (Answer, Option<u64>) {
    let st = cx.st;
    let mut used_after = None;
    let first = |tx: &Transaction<'_>| -> Result<Undo<Answer>, rusqlite::Error> {
        let Some(used) = credits::charge(st, tx, cx.now, cost)? else {
            return Ok(Undo::Keep(RestError::too_many_requests().answer()));
        };
        used_after = Some(used);
        let route = match route {
            Ok(r) => r,
            Err(e) => return Ok(Undo::Keep(e.answer())),
        };
        Ok(match dispatch(cx, route, tx) {
            Ok(a) => Undo::Keep(a),
            Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Undo::RollBack(e.answer()),
            Err(e) => Undo::Keep(e.answer()),
        })
    };
    let redo = |tx: &Transaction<'_>| credits::charge(st, tx, cx.now, cost).map(|_| ());
    match st.store.write_or_undo(first, redo) {
        Ok(a) => (a, used_after),
        Err(_) => (RestError::internal().answer(), None),
    }
}
