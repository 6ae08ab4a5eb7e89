//! `POST /crm/{v}/upload` (the "content" host is this listener): headers `feature: bulk-write`
//! and `X-CRM-ORG` (the `zgid` of `GET /crm/v8/org`), multipart part `file` = a ZIP of at most
//! 25 MB, streamed to `DATA/bulk/uploads/{file_id}.zip` (never held in memory) and referenced
//! from the store. Free of credits.

use std::io::Write;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::jobs;
use crate::rest::errors::{Answer, RestError};
use crate::rest::json::epoch_out;
use crate::rest::{auth, meta};
use crate::state::State;

/// The largest file accepted (25 MB).
pub const MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;

fn header_text<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn missing_header(name: &str) -> RestError {
    RestError::bad("MANDATORY_NOT_FOUND", "required header not found", json!({"header_name": name}))
}

fn invalid_header(name: &str) -> RestError {
    RestError::bad("INVALID_DATA", "invalid data", json!({"header_name": name}))
}

fn check_headers(h: &HeaderMap) -> Result<(), RestError> {
    match header_text(h, "feature") {
        None => return Err(missing_header("feature")),
        Some(f) if !f.eq_ignore_ascii_case("bulk-write") => return Err(invalid_header("feature")),
        Some(_) => {}
    }
    match header_text(h, "X-CRM-ORG") {
        None => Err(missing_header("X-CRM-ORG")),
        Some(org) if org != meta::ZGID => Err(invalid_header("X-CRM-ORG")),
        Some(_) => Ok(()),
    }
}

fn too_large() -> RestError {
    RestError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "FILE_TOO_LARGE",
        "the file size should not exceed 25 MB",
    )
}

fn not_zip() -> RestError {
    RestError::bad("INVALID_FILE_FORMAT", "the file is not a ZIP archive", json!({}))
}

/// What streaming the part `file` gave.
enum Received {
    /// Written to the temporary file: its size and name.
    File(u64, String),
    /// Larger than the limit (the rest of the body was read and dropped).
    TooLarge,
    /// No part `file`.
    Missing,
    /// The multipart body could not be read.
    Unreadable,
}

fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

async fn receive(mut mp: Multipart, tmp: &std::path::Path) -> Result<Received, std::io::Error> {
    let mut out = Received::Missing;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(out),
            Err(_) => return Ok(Received::Unreadable),
        };
        if field.name() != Some("file") || !matches!(out, Received::Missing) {
            while let Ok(Some(_)) = field.chunk().await {}
            continue;
        }
        let name = field.file_name().unwrap_or("file.zip").to_owned();
        let mut file = blocking(|| std::fs::File::create(tmp))?;
        let mut size = 0u64;
        let mut too_big = false;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    if size > MAX_UPLOAD_BYTES {
                        too_big = true;
                    } else {
                        blocking(|| file.write_all(&chunk))?;
                    }
                }
                Ok(None) => break,
                Err(_) => return Ok(Received::Unreadable),
            }
        }
        blocking(|| file.sync_all())?;
        out = if too_big { Received::TooLarge } else { Received::File(size, name) };
    }
}

fn is_zip(path: &std::path::Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|z| !z.is_empty())
}

/// `POST /crm/{v}/upload`.
pub async fn handle(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Err(e) = auth::check(&st, req.headers()) {
        return e.answer().into_response();
    }
    let Some(_slot) = st.rest.slots.take(st.cfg.concurrency_cap()) else {
        return RestError::too_many_requests().answer().into_response();
    };
    if let Err(e) = check_headers(req.headers()) {
        return e.answer().into_response();
    }
    let multipart =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data")
        });
    if !multipart {
        return RestError::missing_param("file").answer().into_response();
    }
    let Ok(mp) = Multipart::from_request(req, &st).await else {
        return RestError::missing_param("file").answer().into_response();
    };
    let dir = jobs::dir(&st).join("uploads");
    if blocking(|| std::fs::create_dir_all(&dir)).is_err() {
        return RestError::internal().answer().into_response();
    }
    let tmp = dir.join(format!(
        "upload-{}-{}.part",
        std::process::id(),
        st.clock.now().as_nanosecond().unsigned_abs()
    ));
    let received = receive(mp, &tmp).await;
    let answer = match received {
        Err(_) => RestError::internal().answer(),
        Ok(Received::Missing) => RestError::missing_param("file").answer(),
        Ok(Received::Unreadable) => {
            RestError::bad("INVALID_DATA", "the multipart body could not be read", json!({}))
                .answer()
        }
        Ok(Received::TooLarge) => too_large().answer(),
        Ok(Received::File(size, name)) => {
            if blocking(|| is_zip(&tmp)) {
                let st2 = st.clone();
                let tmp2 = tmp.clone();
                tokio::task::spawn_blocking(move || store(&st2, &tmp2, &name, size))
                    .await
                    .unwrap_or_else(|_| RestError::internal().answer())
            } else {
                not_zip().answer()
            }
        }
    };
    let _ = blocking(|| std::fs::remove_file(&tmp));
    answer.into_response()
}

/// Gives the file its id and its place, in one transaction.
fn store(st: &State, tmp: &std::path::Path, name: &str, size: u64) -> Answer {
    let now = st.clock.now().as_second();
    let done = st.store.write(|tx| -> Result<u64, super::BulkError> {
        let id = jobs::next_id(tx)?;
        std::fs::rename(tmp, jobs::upload_path(st, id))?;
        jobs::add_file(tx, id, name, size, now)?;
        Ok(id)
    });
    match done {
        Ok(id) => Answer::ok(json!({
            "status": "success",
            "code": "FILE_UPLOAD_SUCCESS",
            "message": "file uploaded.",
            "details": {"file_id": id.to_string(), "created_time": epoch_out(st, now)},
        })),
        Err(_) => RestError::internal().answer(),
    }
}
