//! The Zoho API surface: `/crm/private/{xml|json}/{Module}/{method}`, GET and POST, query and
//! form (or multipart) parameters merged; auth, the daily budget, faults, then one method.

pub(crate) mod convert;
mod files;
pub(crate) mod line_items;
mod meta;
mod params;
mod read;
mod related;
pub(crate) mod render;
mod search;
mod seed;
#[cfg(test)]
mod shutdown_tests;
pub(crate) mod validate;
pub(crate) mod write;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::Transaction;
use zcrm_protocol::error::{ApiCode, ApiError, ParamError};
use zcrm_protocol::messages;
use zcrm_protocol::method::UnknownMethod;
use zcrm_protocol::response::{encode_error, encode_refusal};
use zcrm_protocol::xmldata::XmlData;
use zcrm_protocol::{DecodeError, Format, Method, MethodClass, decode_xml_data};

use crate::schema::{ModuleDef, UserDef};
use crate::state::State;
use crate::store::Undo;

pub use params::Upload;
pub use seed::seed_demo;

/// A whole-call API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    /// The code.
    pub code: ApiCode,
    /// The message.
    pub message: String,
}

impl Fail {
    /// A failure with `code` and `message`.
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// 4600 with the generic message.
    pub fn bad_request() -> Self {
        Self::new(ApiCode::InvalidParameter, messages::INVALID_REQUEST)
    }

    /// 4600 naming a parameter.
    pub fn bad_param(name: &str) -> Self {
        Self::new(ApiCode::InvalidParameter, messages::invalid_parameter(name))
    }

    /// 4500 for a store failure.
    pub fn internal() -> Self {
        Self::new(ApiCode::InternalError, messages::INTERNAL_ERROR)
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(_: rusqlite::Error) -> Self {
        Self::internal()
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Self { code: e.code, message: e.message }
    }
}

impl From<ParamError> for Fail {
    fn from(e: ParamError) -> Self {
        e.api_error().into()
    }
}

/// What a method answers.
#[derive(Debug)]
pub enum Reply {
    /// An XML document (converted for `/json/`).
    Xml(String),
    /// Raw bytes (downloadFile, downloadPhoto).
    Raw {
        /// The file name.
        name: String,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// One call being served.
pub struct Call<'a> {
    /// Shared state.
    pub st: &'a State,
    /// The method.
    pub method: Method,
    /// The module path segment.
    pub module_name: &'a str,
    /// The module, when the path names one the org has.
    pub module: Option<&'a ModuleDef>,
    /// Merged parameters.
    pub params: &'a HashMap<String, String>,
    /// The uploaded file part, if any.
    pub upload: Option<&'a Upload>,
    /// The request path (the `uri` attribute).
    pub uri: &'a str,
    /// The token's user.
    pub user: &'a UserDef,
    /// Now, epoch seconds.
    pub now: i64,
    /// The `xmlData` parameter, decoded before the store's lock was taken (write methods).
    pub xml_data: std::cell::Cell<Option<Result<XmlData, DecodeError>>>,
}

impl Call<'_> {
    /// The module, or 4600.
    pub fn def(&self) -> Result<&ModuleDef, Fail> {
        self.module.ok_or_else(Fail::bad_request)
    }

    /// The org-local text of an epoch second.
    pub fn time_text(&self, epoch: i64) -> String {
        zcrm_protocol::value::format_datetime(self.st.clock.civil(epoch))
    }
}

/// The router: the API paths and the admin surface.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/crm/private/{format}/{module}/{method}", axum::routing::any(handle))
        .merge(crate::rest::router())
        .nest("/__emulator", crate::admin::router())
        .fallback(fallback)
        .layer(axum::extract::DefaultBodyLimit::max(48 * 1024 * 1024))
        .layer(axum::middleware::map_response_with_state(state.clone(), date_header))
        .with_state(state)
}

/// Every answer carries the org clock's time in its `Date` header (as Zoho's servers carry
/// theirs), so a client can relate its clock to the times records are stamped with, also
/// when a test has advanced the clock.
async fn date_header(AxumState(st): AxumState<Arc<State>>, mut resp: Response) -> Response {
    let date =
        jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&st.clock.now());
    if let Ok(date) = date
        && let Ok(value) = HeaderValue::from_str(&date)
    {
        resp.headers_mut().insert(header::DATE, value);
    }
    resp
}

async fn fallback(req: Request) -> Response {
    let uri = req.uri().path().to_owned();
    xml_response(
        Format::Xml,
        encode_error(&uri, &ApiCode::InvalidParameter, messages::INVALID_REQUEST)
            .unwrap_or_default(),
    )
}

fn xml_response(format: Format, xml: String) -> Response {
    let body = match format {
        Format::Xml => xml,
        Format::Json => zcrm_protocol::json::xml_to_json_string(xml.as_bytes()).unwrap_or(xml),
    };
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    r
}

async fn handle(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    Path((format, module, method)): Path<(String, String, String)>,
    req: Request,
) -> Response {
    let conn = req.extensions().get::<crate::server::Conn>().cloned();
    let uri = req.uri().path().to_owned();
    let http_method = req.method().to_string();
    let format = match format.as_str() {
        "xml" => Format::Xml,
        "json" => Format::Json,
        _ => {
            return xml_response(
                Format::Xml,
                encode_error(&uri, &ApiCode::InvalidParameter, messages::INVALID_REQUEST)
                    .unwrap_or_default(),
            );
        }
    };
    let (params, upload) = match params::read(req, &st).await {
        Ok(p) => p,
        Err(()) => {
            return xml_response(
                format,
                encode_error(&uri, &ApiCode::InvalidParameter, messages::INVALID_REQUEST)
                    .unwrap_or_default(),
            );
        }
    };
    st.log.push(params::log_entry(
        &http_method,
        format,
        &module,
        &method,
        &params,
        upload.as_ref(),
    ));
    let is_write = method.parse::<Method>().is_ok_and(|m| m.is_write());
    let draw = st.faults.draw(is_write);
    if !draw.latency.is_zero() {
        tokio::time::sleep(draw.latency).await;
    }
    if draw.error {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let st2 = st.clone();
    let uri2 = uri.clone();
    let joined = tokio::task::spawn_blocking(move || {
        serve_call(&st2, &module, &method, &params, upload.as_ref(), &uri2)
    })
    .await;
    let reply = match joined {
        Ok(r) => r,
        // The emulator is stopping (its runtime no longer runs blocking work): the call never
        // ran, and a server going away closes the connection rather than claim an internal
        // error, which a client must take for the call's answer.
        Err(e) if e.is_cancelled() => {
            if let Some(conn) = &conn {
                conn.kill();
                return std::future::pending::<Response>().await;
            }
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Err(_) => Reply::Xml(
            encode_error(&uri, &ApiCode::InternalError, messages::INTERNAL_ERROR)
                .unwrap_or_default(),
        ),
    };
    if draw.drop
        && let Some(conn) = conn
    {
        conn.kill();
        return std::future::pending::<Response>().await;
    }
    let mut response = match reply {
        Reply::Xml(xml) => xml_response(format, xml),
        Reply::Raw { name, bytes } => {
            let mut r = Response::new(Body::from(bytes));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            let disposition =
                format!("attachment;filename=\"{}\"", name.replace(['"', '\r', '\n'], "_"));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
    };
    if draw.truncate {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let cut = bytes.slice(0..bytes.len() / 2);
        response = Response::from_parts(parts, Body::from(cut));
    }
    response
}

fn error_xml(uri: &str, fail: &Fail) -> Reply {
    Reply::Xml(encode_error(uri, &fail.code, &fail.message).unwrap_or_default())
}

/// Auth, counting, dispatch: everything of one call, inside one transaction.
fn serve_call(
    st: &State,
    module_name: &str,
    method_name: &str,
    params: &HashMap<String, String>,
    upload: Option<&Upload>,
    uri: &str,
) -> Reply {
    let token = params.get("authtoken").map(|t| t.trim()).unwrap_or_default();
    if token.is_empty() || !st.token_ok(token) {
        return error_xml(uri, &Fail::new(ApiCode::InvalidTicket, messages::INVALID_TICKET));
    }
    let parsed = method_name.parse::<Method>();
    let class = parsed.as_ref().map(|m| m.class()).unwrap_or(MethodClass::General);
    let now = st.clock.now().as_second();
    let day = st.today();
    // Decoding a write's payload needs no store, so it happens before the lock is taken.
    let xml_data = match parsed {
        Ok(Method::InsertRecords | Method::UpdateRecords | Method::UpdateRelatedRecords) => {
            params.get("xmlData").map(|x| decode_xml_data(x))
        }
        _ => None,
    };
    let keep = |r: Result<Reply, Fail>| Ok(Undo::Keep(r));
    let first = |tx: &Transaction<'_>| -> Result<Undo<Result<Reply, Fail>>, rusqlite::Error> {
        if let Err(fail) = charge(st, tx, &day, method_name, module_name, class)? {
            return keep(Err(fail));
        }
        if params.get("scope").map(|s| s.trim()) != Some("crmapi") {
            return keep(Err(Fail::from(ParamError::Missing("scope"))));
        }
        let method = match parsed {
            Ok(m) => m,
            Err(UnknownMethod::Deprecated(_)) => return keep(Ok(Reply::Xml(encode_refusal()))),
            Err(UnknownMethod::Unknown(_)) => return keep(Err(Fail::bad_request())),
        };
        let module = st.schema.module(module_name);
        let module_ok = match method.fixed_module() {
            Some(fixed) => fixed == module_name,
            None => module.is_some(),
        };
        if !module_ok {
            return keep(Err(Fail::bad_request()));
        }
        if !st.rate.admit(&st.cfg.rate_limits, method, now) {
            return keep(Err(Fail::new(ApiCode::RateLimited, messages::RATE_LIMIT_EXCEEDED)));
        }
        let call = Call {
            st,
            method,
            module_name,
            module,
            params,
            upload,
            uri,
            user: st.schema.admin(),
            now,
            xml_data: std::cell::Cell::new(xml_data),
        };
        // A failed method leaves nothing behind: its writes are rolled back...
        Ok(match dispatch(&call, tx) {
            Ok(reply) => Undo::Keep(Ok(reply)),
            Err(fail) => Undo::RollBack(Err(fail)),
        })
    };
    // ...and the call is counted again on its own: a failed call still costs one.
    let recount =
        |tx: &Transaction<'_>| crate::store::counters::bump(tx, &day, method_name, module_name);
    let result = st.store.write_or_undo(first, recount);
    match result {
        Ok(Ok(reply)) => reply,
        Ok(Err(fail)) => error_xml(uri, &fail),
        Err(_) => error_xml(uri, &Fail::internal()),
    }
}

/// Counts the call; over the daily budget (or the 250 cap) → 4421.
fn charge(
    st: &State,
    tx: &Transaction<'_>,
    day: &str,
    method: &str,
    module: &str,
    class: MethodClass,
) -> rusqlite::Result<Result<(), Fail>> {
    use crate::store::counters;
    let used = counters::day_total(tx, day, None)?;
    let capped = match class {
        MethodClass::SearchCv => {
            counters::day_total(
                tx,
                day,
                Some(&[Method::GetSearchRecords.name(), Method::GetCvRecords.name()]),
            )? >= u64::from(zcrm_protocol::limits::SEARCH_CV_DAILY_CAP)
        }
        MethodClass::General => false,
    };
    counters::bump(tx, day, method, module)?;
    if used >= u64::from(st.cfg.budget()) {
        return Ok(Err(Fail::new(ApiCode::ApiLimitExceeded, messages::DAILY_LIMIT_EXCEEDED)));
    }
    if capped {
        return Ok(Err(Fail::new(
            ApiCode::ApiLimitExceeded,
            messages::method_daily_cap_exceeded(zcrm_protocol::limits::SEARCH_CV_DAILY_CAP, method),
        )));
    }
    Ok(Ok(()))
}

fn dispatch(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    match c.method {
        Method::GetFields => meta::get_fields(c),
        Method::GetUsers => meta::get_users(c),
        Method::GetModules => meta::get_modules(c),
        Method::GetRecords => read::get_records(c, tx, false),
        Method::GetMyRecords => read::get_records(c, tx, true),
        Method::GetRecordById => read::get_record_by_id(c, tx),
        Method::GetDeletedRecordIds => read::get_deleted_ids(c, tx),
        Method::InsertRecords => write::insert_records(c, tx),
        Method::UpdateRecords => write::update_records(c, tx),
        Method::DeleteRecords => write::delete_records(c, tx),
        Method::SearchRecords => search::search_records(c, tx),
        Method::GetSearchRecords => search::get_search_records(c, tx),
        Method::GetSearchRecordsByPdc => search::get_search_records_by_pdc(c, tx),
        Method::GetCvRecords => search::get_cv_records(c, tx),
        Method::GetRelatedRecords => related::get_related_records(c, tx),
        Method::UpdateRelatedRecords => related::update_related_records(c, tx),
        Method::ConvertLead => convert::convert_lead(c, tx),
        Method::UploadFile => files::upload_file(c, tx),
        Method::DownloadFile => files::download_file(c, tx),
        Method::DeleteFile => files::delete_file(c, tx),
        Method::UploadPhoto => files::upload_photo(c, tx),
        Method::DownloadPhoto => files::download_photo(c, tx),
        Method::DeletePhoto => files::delete_photo(c, tx),
    }
}
