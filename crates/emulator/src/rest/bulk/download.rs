//! Result downloads, streamed from disk: `GET /crm/bulk/{v}/write/{id}/result` and
//! `GET /crm/bulk/{v}/read/{id}/result` answer 200 `application/zip` with the job's ZIP and an
//! exact `Content-Length`. Read results are limited to [`super::DOWNLOADS_PER_MINUTE`] in any
//! 60 seconds of the org clock (then 429 `TOO_MANY_REQUESTS`, the CD-21 body; a refused
//! download takes no place in the window). An unknown job, or one not `COMPLETED`, is 400
//! `RESOURCE_NOT_FOUND`. The `bulk_cut` fault sends half the body and then breaks the
//! connection (the declared length is never reached).

use std::io::Read;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper::body::{Frame, SizeHint};
use serde_json::json;

use super::jobs::{self, Kind, states};
use super::no_job;
use crate::rest::errors::RestError;
use crate::state::State;

const CHUNK: usize = 64 * 1024;

/// A file's bytes as a response body, `left` of them, then (when `cut`) an error that breaks
/// the connection.
struct FileBody {
    file: std::fs::File,
    left: u64,
    size: u64,
    cut: bool,
    ended: bool,
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.left == 0 {
            self.ended = true;
            if self.cut {
                return Poll::Ready(Some(Err(std::io::Error::other("download cut short"))));
            }
            return Poll::Ready(None);
        }
        let want = usize::try_from(self.left).unwrap_or(CHUNK).min(CHUNK);
        let mut buf = vec![0u8; want];
        match self.file.read(&mut buf) {
            Ok(0) => {
                self.ended = true;
                Poll::Ready(Some(Err(std::io::Error::other("result file shrank"))))
            }
            Ok(n) => {
                buf.truncate(n);
                self.left -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
            }
            Err(e) => {
                self.ended = true;
                Poll::Ready(Some(Err(e)))
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.size)
    }
}

/// Serves a job's result.
pub async fn serve(st: &Arc<State>, kind: Kind, id: Option<u64>, id_text: &str) -> Response {
    let job = match id {
        Some(id) => st.store.read(|c| jobs::job(c, id)),
        None => Ok(None),
    };
    let job = match job {
        Ok(Some(j)) if j.kind == kind => j,
        Ok(_) => return no_job(id_text).answer().into_response(),
        Err(_) => return RestError::internal().answer().into_response(),
    };
    if job.state != states::COMPLETED {
        return RestError::bad(
            "RESOURCE_NOT_FOUND",
            "the job has no result yet",
            json!({"id": id_text, "state": job.state}),
        )
        .answer()
        .into_response();
    }
    if kind == Kind::Read && !st.rest.bulk.take_download(st.clock.now().as_second()) {
        return RestError::too_many_requests().answer().into_response();
    }
    let path = jobs::result_path(st, job.id);
    let Ok(file) = std::fs::File::open(&path) else {
        return RestError::internal().answer().into_response();
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let cut = st.faults.draw_bulk_cut();
    let left = if cut { size / 2 } else { size };
    let body = FileBody { file, left, size, cut, ended: false };
    let mut r = Response::new(Body::new(body));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&size.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment;filename=\"{}.zip\"", job.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
