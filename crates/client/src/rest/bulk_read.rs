//! Bulk Read on v8: `POST /crm/bulk/v8/read` creates a job (50 credits) for the module's
//! fields, with `Modified_Time greater_equal` the watermark for incremental reads; its status
//! is polled (free) with a back-off that starts at 50 ms and doubles up to 10 s; the result ZIP
//! is streamed into a temporary file of the state dir (never held in memory), downloads paced
//! to ten a minute ([`DownloadPacer`]; a 429 waits a whole minute and tries again), a download
//! cut short is made again (downloads are free); the CSV in it is read as a stream and handed
//! on in chunks of [`BULK_CHUNK_ROWS`] rows. A job with `more_records` is followed by a new
//! job for `next_page_token`, 200,000 rows a job. A job that ends in `FAILURE` is an error
//! naming the job.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::AUTHORIZATION;
use serde_json::{Value as Json, json};
use tracing::{debug, warn};
use zcrm_protocol::Method;
use zcrm_protocol::params::UserType;

use crate::ClientError;
use crate::api::CallKind;
use crate::bulk_read::{BULK_CHUNK_ROWS, BulkReadOutcome, BulkReadRequest, ChunkSink};
use crate::rest::bulk_csv;
use crate::rest::client::{Body, Call, RestClient};
use crate::rest::names;
use crate::rest::payload::format_v8_datetime;
use crate::rest::reads::field_chunks;
use crate::rest::results::{Problem, status_error};

/// The path of the Bulk Read API.
pub const BULK_READ_PATH: &str = "/crm/bulk/v8/read";

/// Polls of a job's status wait this long at first, then twice as long each time.
const FIRST_POLL: Duration = Duration::from_millis(50);
/// The longest wait between two polls.
const MAX_POLL: Duration = Duration::from_secs(10);
/// Downloads of one result tried at most (cut short, network failures, 5xx).
const DOWNLOAD_ATTEMPTS: u32 = 5;
/// Downloads refused with 429 tried again at most.
const DOWNLOAD_REFUSALS: u32 = 5;
/// The longest one download may take.
const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(3600);

/// A finished job's result.
#[derive(Debug, Default, serde::Deserialize)]
struct JobResult {
    #[serde(default)]
    count: u64,
    download_url: Option<String>,
    #[serde(default)]
    more_records: bool,
    next_page_token: Option<String>,
    error_message: Option<Json>,
}

#[derive(Debug, serde::Deserialize)]
struct JobStatus {
    state: String,
    #[serde(default)]
    result: Option<JobResult>,
}

impl RestClient {
    /// The Bulk Read of `request`: jobs one after the other, each result's rows handed to
    /// `chunk`.
    pub(crate) fn bulk_read(
        &self,
        request: &BulkReadRequest<'_>,
        chunk: &mut ChunkSink<'_>,
    ) -> Result<BulkReadOutcome, ClientError> {
        let module = request.module;
        let schema = self.schema(module)?;
        let fields: Vec<String> = field_chunks(&schema, request.select)
            .concat()
            .into_iter()
            .filter(|f| f != "id")
            .collect();
        let owners = fields.iter().any(|f| {
            schema
                .by_api_name(f)
                .is_some_and(|t| t.field_type == zcrm_protocol::FieldType::OwnerLookup)
        });
        if owners {
            let names: HashMap<String, String> = self
                .get_users(UserType::AllUsers)?
                .into_iter()
                .map(|u| (u.id.to_string(), u.name))
                .collect();
            self.set_user_names(names);
        }
        let mut query = json!({
            "module": {"api_name": names::v8_module(module)},
            "fields": fields,
            "page": 1,
        });
        if let Some(since) = request.modified_since {
            query["criteria"] = json!({
                "field": {"api_name": "Modified_Time"},
                "comparator": "greater_equal",
                "value": format_v8_datetime(since, &self.tz),
            });
        }
        let mut out = BulkReadOutcome::default();
        loop {
            let job = self.create_read_job(module, &query)?;
            out.jobs += 1;
            let result = self.await_read_job(module, &job)?;
            let url = result
                .download_url
                .clone()
                .ok_or_else(|| failed(module, &job, "no download_url"))?;
            let file = self.download(module, &job, &url, &mut out)?;
            let (rows, flow) = self.feed(module, &job, file, chunk)?;
            out.rows += rows;
            if flow.is_break() {
                out.stopped = true;
                return Ok(out);
            }
            if rows != result.count {
                return Err(failed(
                    module,
                    &job,
                    &format!("its result holds {rows} rows, its status says {}", result.count),
                ));
            }
            match (result.more_records, result.next_page_token) {
                (true, Some(token)) => query = json!({ "page_token": token }),
                (true, None) => {
                    return Err(failed(module, &job, "more_records without a next_page_token"));
                }
                (false, _) => return Ok(out),
            }
        }
    }

    /// `POST /crm/bulk/v8/read`: the new job's id.
    fn create_read_job(&self, module: &str, query: &Json) -> Result<String, ClientError> {
        let body = json!({ "query": query, "file_type": "csv" }).to_string();
        let call = Call {
            method: Method::GetRecords,
            http: reqwest::Method::POST,
            path: BULK_READ_PATH.to_owned(),
            query: Vec::new(),
            if_modified_since: None,
            body: Body::Json(&body),
            kind: CallKind::BulkRead,
            module,
            rows: 0,
            host: crate::rest::client::Host::Api,
        };
        self.call(&call, |a| match a.status {
            200 | 201 => {
                let v: Json = serde_json::from_slice(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("bulk read job: {e}")))?;
                let id = &v["data"][0]["details"]["id"];
                match id {
                    Json::String(s) => Ok(s.clone()),
                    Json::Number(n) => Ok(n.to_string()),
                    _ => Err(Problem::Undecodable("bulk read job: no details.id".into())),
                }
            }
            s => Err(Problem::Api(status_error(s, &a.body))),
        })
    }

    /// Polls `job` until it is `COMPLETED` (its result) or `FAILURE` (an error).
    fn await_read_job(&self, module: &str, job: &str) -> Result<JobResult, ClientError> {
        let mut wait = FIRST_POLL;
        loop {
            let call = Call {
                method: Method::GetRecords,
                http: reqwest::Method::GET,
                path: format!("{BULK_READ_PATH}/{job}"),
                query: Vec::new(),
                if_modified_since: None,
                body: Body::None,
                kind: CallKind::BulkStatus,
                module,
                rows: 0,
                host: crate::rest::client::Host::Api,
            };
            let status = self.call(&call, |a| match a.status {
                200 => {
                    #[derive(serde::Deserialize)]
                    struct Answer {
                        data: Vec<JobStatus>,
                    }
                    let mut v: Answer = serde_json::from_slice(&a.body)
                        .map_err(|e| Problem::Undecodable(format!("bulk read status: {e}")))?;
                    v.data
                        .pop()
                        .ok_or_else(|| Problem::Undecodable("bulk read status: no data".into()))
                }
                s => Err(Problem::Api(status_error(s, &a.body))),
            })?;
            match status.state.as_str() {
                "COMPLETED" => return Ok(status.result.unwrap_or_default()),
                "FAILURE" | "FAILED" => {
                    let why = status
                        .result
                        .and_then(|r| r.error_message)
                        .map(|m| match &m["message"] {
                            Json::String(s) => {
                                format!("{} ({})", s, m["code"].as_str().unwrap_or("?"))
                            }
                            _ => m.to_string(),
                        })
                        .unwrap_or_else(|| "the job failed".to_owned());
                    return Err(failed(module, job, &why));
                }
                state => debug!(job, state, "bulk read job not done yet"),
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(MAX_POLL);
        }
    }

    /// Downloads `job`'s result into a temporary file of the state dir (deleted when closed),
    /// paced, made again when cut short.
    fn download(
        &self,
        module: &str,
        job: &str,
        url: &str,
        out: &mut BulkReadOutcome,
    ) -> Result<std::fs::File, ClientError> {
        let file_err = |source| ClientError::BulkFile { job: job.to_owned(), source };
        std::fs::create_dir_all(&self.bulk_dir).map_err(file_err)?;
        let mut file = tempfile::tempfile_in(&self.bulk_dir).map_err(file_err)?;
        let (mut attempts, mut refusals, mut renewed) = (0u32, 0u32, false);
        loop {
            self.pacer.acquire(&Instant::now, &mut std::thread::sleep);
            let token = self.token()?;
            let base = self.base(&token)?;
            out.downloads += 1;
            let sent = self
                .transport
                .request(reqwest::Method::GET, &format!("{}{}", base.base(), url))
                .header(AUTHORIZATION, format!("Zoho-oauthtoken {}", token.token.expose()))
                .timeout(DOWNLOAD_DEADLINE)
                .send();
            let problem = match sent {
                Err(e) => format!("the download failed: {}", e),
                Ok(mut resp) => match resp.status().as_u16() {
                    200 => {
                        let expected = resp.content_length();
                        file.set_len(0).map_err(file_err)?;
                        file.rewind().map_err(file_err)?;
                        let mut w = std::io::BufWriter::with_capacity(256 * 1024, &mut file);
                        let copied = std::io::copy(&mut resp, &mut w);
                        w.flush().map_err(file_err)?;
                        drop(w);
                        match copied {
                            Ok(n) if expected.is_none_or(|e| e == n) => {
                                file.rewind().map_err(file_err)?;
                                return Ok(file);
                            }
                            Ok(n) => {
                                format!("the download was cut short ({n} of {expected:?} bytes)")
                            }
                            Err(e) => format!("the download was cut short: {}", e),
                        }
                    }
                    429 if refusals < DOWNLOAD_REFUSALS => {
                        refusals += 1;
                        warn!(job, "result download refused with 429; waiting a minute");
                        self.pacer.refused(Instant::now());
                        continue;
                    }
                    401 if !renewed => {
                        renewed = true;
                        self.replace_token(&token)?;
                        continue;
                    }
                    s if s >= 500 => format!("HTTP {s}"),
                    s => {
                        let mut body = Vec::new();
                        let _ = resp.take(64 * 1024).read_to_end(&mut body);
                        return Err(ClientError::Api {
                            method: Method::GetRecords,
                            error: status_error(s, &body),
                        });
                    }
                },
            };
            attempts += 1;
            if attempts >= DOWNLOAD_ATTEMPTS {
                return Err(failed(module, job, &format!("{problem} ({attempts} attempts)")));
            }
            warn!(job, attempt = attempts, %problem, "downloading the result again");
        }
    }

    /// Reads the ZIP's CSV as a stream and hands it on in chunks; the rows read.
    fn feed(
        &self,
        module: &str,
        job: &str,
        file: std::fs::File,
        chunk: &mut ChunkSink<'_>,
    ) -> Result<(u64, ControlFlow<()>), ClientError> {
        let bad = |e: &dyn std::fmt::Display| failed(module, job, &format!("its result: {e}"));
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| bad(&e))?;
        if zip.is_empty() {
            return Err(bad(&"an empty ZIP"));
        }
        let entry = zip.by_index(0).map_err(|e| bad(&e))?;
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(entry);
        let mut rec = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut rec).map_err(|e| bad(&e))? {
            return Err(bad(&"no header"));
        }
        if rec.get(0) != Some(b"id".as_slice()) {
            return Err(bad(&"the header does not start with id"));
        }
        let writer = |buf: Vec<u8>| csv::WriterBuilder::new().from_writer(buf);
        let done = |w: csv::Writer<Vec<u8>>| w.into_inner().map_err(|e| bad(&e.into_error()));
        let mut w = writer(Vec::new());
        w.write_byte_record(&rec).map_err(|e| bad(&e))?;
        let header = done(w)?;
        let mut w = writer(Vec::with_capacity(256 * 1024));
        let mut rows = 0u64;
        let mut n = 0usize;
        let mut flow = ControlFlow::Continue(());
        while reader.read_byte_record(&mut rec).map_err(|e| bad(&e))? {
            w.write_byte_record(&rec).map_err(|e| bad(&e))?;
            n += 1;
            rows += 1;
            if n == BULK_CHUNK_ROWS {
                let mut buf = done(w)?;
                flow = chunk(bulk_csv::envelope(module, &header, &buf), n);
                buf.clear();
                w = writer(buf);
                n = 0;
                if flow.is_break() {
                    return Ok((rows, flow));
                }
            }
        }
        if n > 0 {
            let buf = done(w)?;
            flow = chunk(bulk_csv::envelope(module, &header, &buf), n);
        }
        Ok((rows, flow))
    }

    /// Keeps the org's user names (id → name) for the owners of Bulk Read rows.
    fn set_user_names(&self, names: HashMap<String, String>) {
        *self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(names);
    }

    /// The org's user names a Bulk Read fetched (empty before one).
    pub(crate) fn user_names(&self) -> Arc<HashMap<String, String>> {
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

fn failed(module: &str, job: &str, reason: &str) -> ClientError {
    ClientError::BulkJob {
        operation: "read",
        job: format!("{job} on {module}"),
        reason: reason.to_owned(),
    }
}
