//! The v8 Bulk APIs over the emulator's one store: `POST /crm/{v}/upload` (a ZIP for Bulk
//! Write, kept under `DATA/bulk/uploads/`), Bulk Write jobs (`/crm/bulk/{v}/write`) and Bulk
//! Read jobs (`/crm/bulk/{v}/read`), run by one background worker thread in creation order.
//!
//! | file | what |
//! |---|---|
//! | `jobs` | the tables: files, jobs, row results, page tokens |
//! | `upload` | `POST /crm/{v}/upload` |
//! | `write_plan` | `POST /crm/bulk/{v}/write`: the request checked into a plan; the status object |
//! | `write_run` | running a write job: each CSV row written as a v8 record write would |
//! | `cells` | a CSV cell as the v8 JSON value of its field |
//! | `read_plan` | `POST /crm/bulk/{v}/read`: query, criteria, paging; the status object |
//! | `read_run` | running a read job: the matching records streamed into a ZIP of CSV |
//! | `download` | result downloads (streamed from disk; 10 a minute for read results) |
//! | `worker` | the background thread, its delay, restart and stop |
//!
//! Credits (CD-20): creating a write job costs 500 and a read job 50, whatever the outcome
//! (a body that is not JSON costs 1); uploads, status calls and downloads are free. Every call
//! needs a valid token and takes a concurrency slot.

pub mod cells;
pub mod download;
pub mod jobs;
pub mod read_plan;
pub mod read_run;
pub mod upload;
pub mod worker;
pub mod write_plan;
pub mod write_run;

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{Answer, RestError};
use super::{auth, credits, router};
use crate::state::State;

/// Rows of one Bulk Read job page (Zoho's documented page).
pub const READ_PAGE_ROWS: u32 = 200_000;
/// Credits of a Bulk Write job.
pub const WRITE_JOB_CREDITS: u64 = 500;
/// Credits of a Bulk Read job.
pub const READ_JOB_CREDITS: u64 = 50;
/// Bulk Read result downloads allowed per minute (org clock).
pub const DOWNLOADS_PER_MINUTE: usize = 10;
/// The largest job request body read.
const MAX_JOB_BODY: usize = 1024 * 1024;

/// A failure inside the bulk machinery (never shown to a client as such).
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// The store.
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A file under `DATA/bulk`.
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    /// A ZIP archive.
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// A CSV file.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// The worker was asked to stop.
    #[error("stopping")]
    Stopped,
}

/// The bulk APIs' in-memory state: the worker's wake-up signal and the download window.
#[derive(Debug, Default)]
pub struct BulkState {
    signal: Mutex<Signal>,
    cv: Condvar,
    downloads: Mutex<VecDeque<i64>>,
}

#[derive(Debug, Default)]
struct Signal {
    stop: bool,
    wakes: u64,
}

impl BulkState {
    /// Wakes the worker (a job was created).
    pub fn wake(&self) {
        if let Ok(mut s) = self.signal.lock() {
            s.wakes += 1;
        }
        self.cv.notify_all();
    }

    /// Asks the worker to stop.
    pub fn stop(&self) {
        if let Ok(mut s) = self.signal.lock() {
            s.stop = true;
        }
        self.cv.notify_all();
    }

    /// Whether the worker was asked to stop.
    pub fn stopping(&self) -> bool {
        self.signal.lock().map(|s| s.stop).unwrap_or(true)
    }

    /// Waits until woken (a job was created) or stopped, at most `d`; `true` when stopping.
    fn idle(&self, d: std::time::Duration, seen: &mut u64) -> bool {
        self.wait_until(d, Some(seen))
    }

    /// Sleeps `d` unless stopped first; `true` when stopping.
    fn sleep(&self, d: std::time::Duration) -> bool {
        self.wait_until(d, None)
    }

    fn wait_until(&self, d: std::time::Duration, mut seen: Option<&mut u64>) -> bool {
        let Ok(mut s) = self.signal.lock() else { return true };
        let deadline = std::time::Instant::now() + d;
        loop {
            let woken = seen.as_ref().is_some_and(|n| s.wakes != **n);
            if s.stop || woken {
                break;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.cv.wait_timeout(s, left) {
                Ok((g, _)) => s = g,
                Err(_) => return true,
            }
        }
        if let Some(n) = seen.as_mut() {
            **n = s.wakes;
        }
        s.stop
    }

    /// Takes a download slot of the last minute (`now` on the org clock); `false` when
    /// [`DOWNLOADS_PER_MINUTE`] were already taken.
    fn take_download(&self, now: i64) -> bool {
        let Ok(mut q) = self.downloads.lock() else { return false };
        while q.front().is_some_and(|t| *t <= now - 60) {
            q.pop_front();
        }
        if q.len() >= DOWNLOADS_PER_MINUTE {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// What a bulk path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    CreateWrite,
    WriteStatus(Option<u64>),
    WriteResult(Option<u64>),
    CreateRead,
    ReadStatus(Option<u64>),
    ReadResult(Option<u64>),
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
        json!({}),
    )
}

/// 400 `RESOURCE_NOT_FOUND`: no job of that kind with that id.
pub fn no_job(id: &str) -> RestError {
    RestError::bad("RESOURCE_NOT_FOUND", "the requested job does not exist", json!({"id": id}))
}

fn resolve(method: &Method, segs: &[&str]) -> Result<Route, RestError> {
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let only = |ok: bool, r: Route| if ok { Ok(r) } else { Err(wrong_method()) };
    let id = |s: &str| s.parse::<u64>().ok();
    match segs {
        ["write"] => only(post, Route::CreateWrite),
        ["write", j] => only(get, Route::WriteStatus(id(j))),
        ["write", j, "result"] => only(get, Route::WriteResult(id(j))),
        ["read"] => only(post, Route::CreateRead),
        ["read", j] => only(get, Route::ReadStatus(id(j))),
        ["read", j, "result"] => only(get, Route::ReadResult(id(j))),
        _ => Err(not_found()),
    }
}

/// `/crm/bulk/{version}/{*rest}`.
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
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let version = segs.get(2).copied().unwrap_or_default();
    let route = if router::version_ok(version) {
        resolve(&method, segs.get(3..).unwrap_or_default())
    } else {
        Err(not_found())
    };
    let route = match route {
        Ok(r) => r,
        Err(e) => return charged(&st, 1, move |_, _| Ok(e.answer())).await,
    };
    let version = version.to_owned();
    match route {
        Route::CreateWrite | Route::CreateRead => {
            let json_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
            let bytes: Bytes =
                axum::body::to_bytes(req.into_body(), MAX_JOB_BODY).await.unwrap_or_default();
            let body: Option<Value> = serde_json::from_slice(&bytes).ok();
            let write = route == Route::CreateWrite;
            let draw = st.faults.draw(true);
            if !draw.latency.is_zero() {
                tokio::time::sleep(draw.latency).await;
            }
            if draw.error {
                return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                    .into_response();
            }
            let unreadable = body.is_none() || (!write && !json_type);
            let cost = match (unreadable, write) {
                (true, _) => 1,
                (false, true) => WRITE_JOB_CREDITS,
                (false, false) => READ_JOB_CREDITS,
            };
            let response = charged(&st, cost, move |st, tx| {
                let now = st.clock.now().as_second();
                if !write && !json_type {
                    return Ok(unsupported_media_type().answer());
                }
                let Some(body) = body else {
                    return Ok(RestError::bad(
                        "INVALID_DATA",
                        "body is not a valid JSON",
                        json!({}),
                    )
                    .answer());
                };
                let made = if write {
                    write_plan::create(st, tx, &body, &version, now)
                } else {
                    read_plan::create(st, tx, &body, &version, now)
                };
                Ok(made.unwrap_or_else(|e| e.answer()))
            })
            .await;
            st.rest.bulk.wake();
            if draw.drop
                && let Some(conn) = conn
            {
                conn.kill();
                return std::future::pending::<Response>().await;
            }
            response
        }
        Route::WriteStatus(id) | Route::ReadStatus(id) => {
            let segs_id = segs.get(4).map(|s| (*s).to_owned()).unwrap_or_default();
            let write = matches!(route, Route::WriteStatus(_));
            let st2 = st.clone();
            let answer = tokio::task::spawn_blocking(move || {
                let st = &*st2;
                let job = match id {
                    Some(id) => st.store.read(|c| jobs::job(c, id)),
                    None => Ok(None),
                };
                match job {
                    Ok(Some(job)) if (job.kind == jobs::Kind::Write) == write => {
                        if write {
                            Answer::ok(write_plan::status_json(st, &job, &version))
                        } else {
                            Answer::ok(json!({"data": [read_plan::status_json(st, &job, &version)], "info": {}}))
                        }
                    }
                    Ok(_) => no_job(&segs_id).answer(),
                    Err(_) => RestError::internal().answer(),
                }
            })
            .await
            .unwrap_or_else(|_| RestError::internal().answer());
            answer.into_response()
        }
        Route::WriteResult(id) | Route::ReadResult(id) => {
            let segs_id = segs.get(4).map(|s| (*s).to_owned()).unwrap_or_default();
            let kind = if matches!(route, Route::WriteResult(_)) {
                jobs::Kind::Write
            } else {
                jobs::Kind::Read
            };
            download::serve(&st, kind, id, &segs_id).await
        }
    }
}

/// 415 for a Bulk Read job whose body is not declared JSON.
fn unsupported_media_type() -> RestError {
    RestError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "the Content-Type must be application/json",
    )
}

/// Runs `work` in one store transaction after charging `cost` credits (CD-20: refused with 429,
/// charging nothing, when they do not fit); adds `X-API-CREDITS-REMAINING` once half is used.
async fn charged(
    st: &Arc<State>,
    cost: u64,
    work: impl FnOnce(&State, &rusqlite::Transaction<'_>) -> Result<Answer, rusqlite::Error>
    + Send
    + 'static,
) -> Response {
    let st2 = st.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let st = &*st2;
        let now = st.clock.now().as_second();
        st.store.write(|tx| -> Result<(Answer, Option<u64>), rusqlite::Error> {
            let Some(used) = credits::charge(st, tx, now, cost)? else {
                return Ok((RestError::too_many_requests().answer(), None));
            };
            Ok((work(st, tx)?, Some(used)))
        })
    })
    .await;
    let (answer, used) = match joined {
        Ok(Ok(r)) => r,
        _ => (RestError::internal().answer(), None),
    };
    let mut response = answer.into_response();
    let limit = st.cfg.credits();
    if let Some(used) = used
        && used.saturating_mul(2) >= limit
        && let Ok(v) = HeaderValue::from_str(&limit.saturating_sub(used).to_string())
    {
        response.headers_mut().insert("X-API-CREDITS-REMAINING", v);
    }
    response
}

/// `{"id","name"}` of the org's admin, the creator of every job.
pub fn created_by(st: &State) -> Value {
    let admin = st.schema.admin();
    json!({"id": admin.id.to_string(), "name": admin.name})
}

/// The JSON of `GET /__emulator/bulk-jobs`: every job, oldest first.
pub fn admin_json(st: &State) -> Result<Value, rusqlite::Error> {
    let all = st.store.read(jobs::all)?;
    Ok(Value::Array(
        all.iter()
            .map(|j| {
                json!({
                    "id": j.id.to_string(),
                    "kind": j.kind.as_str(),
                    "state": j.state,
                    "rows": j.total,
                    "written": j.next_row,
                    "added": j.added,
                    "updated": j.updated,
                    "skipped": j.skipped,
                    "module": j.request.get("module"),
                    "file_id": j.request.get("file_id"),
                    "created_at": j.created_at,
                    "error": j.error,
                })
            })
            .collect(),
    ))
}
