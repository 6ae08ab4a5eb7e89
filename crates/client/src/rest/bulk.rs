//! Bulk Write on v8: the org id for uploads, the upload (a ZIP streamed from disk to the data
//! centre's upload host), the job's creation, its status, the search for a job whose creation
//! answer was lost, the result's download, and the CSV cells of typed values.

use std::path::Path;
use std::sync::Arc;

use jiff::tz::TimeZone;
use serde_json::Value as Json;
use zcrm_protocol::{EncodeError, FieldType, Method, Value};

use crate::ClientError;
use crate::api::CallKind;
use crate::bulk::{
    BulkColumn, BulkEncoder, BulkJob, BulkState, DATE_FORMAT, DATETIME_FORMAT, download_allowed,
};
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::fields::{Resolved, Schema};
use crate::rest::names;
use crate::rest::payload::render;
use crate::rest::results::{Problem, status_error};
use crate::transport::Answer;

/// The path of Bulk Write jobs.
const BULK_WRITE: &str = "/crm/bulk/v8/write";

/// A call with no body on the API domain.
fn get<'a>(method: Method, path: String, kind: CallKind, host: Host) -> Call<'a> {
    Call {
        method,
        http: reqwest::Method::GET,
        path,
        query: Vec::new(),
        if_modified_since: None,
        body: Body::None,
        kind,
        module: "",
        rows: 0,
        host,
    }
}

/// A string or number as text.
fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The answer's JSON, or what the server refused.
fn json(a: &Answer) -> Result<Json, Problem> {
    if !(200..300).contains(&a.status) {
        return Err(Problem::Api(status_error(a.status, &a.body)));
    }
    serde_json::from_slice(&a.body).map_err(|e| {
        Problem::Undecodable(format!("HTTP {} with a body that is not JSON: {e}", a.status))
    })
}

/// An object, or the first item of its `data` array (some answers are wrapped).
fn unwrap_data(j: &Json) -> &Json {
    match j.get("data").and_then(Json::as_array).and_then(|d| d.first()) {
        Some(first) => first,
        None => j,
    }
}

/// A refusal carried in a 2xx answer (`{"status":"error","code":...}`).
fn refused(j: &Json) -> Option<Problem> {
    let status = j.get("status").and_then(Json::as_str)?;
    if !status.eq_ignore_ascii_case("error") {
        return None;
    }
    let body = j.to_string();
    Some(Problem::Api(status_error(400, body.as_bytes())))
}

/// A job's state from its status object (top level, or wrapped in `data`).
pub(crate) fn parse_state(j: &Json) -> Result<BulkState, Problem> {
    let j = unwrap_data(j);
    let status = j
        .get("status")
        .or_else(|| j.get("state"))
        .and_then(Json::as_str)
        .ok_or_else(|| Problem::Undecodable("a Bulk Write status without `status`".into()))?;
    let word: String = status
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect::<String>()
        .to_uppercase();
    Ok(match word.as_str() {
        "ADDED" | "QUEUED" => BulkState::Added,
        "INPROGRESS" | "RUNNING" => BulkState::InProgress,
        "COMPLETED" => {
            let url = j
                .pointer("/result/download_url")
                .and_then(Json::as_str)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    Problem::Undecodable(
                        "a COMPLETED Bulk Write job without result.download_url".into(),
                    )
                })?;
            BulkState::Completed { download_url: url.to_owned() }
        }
        "FAILED" | "FAILURE" => {
            let reason = [
                "/result/error_message/message",
                "/result/error_message",
                "/resource/0/message",
                "/resource/0/code",
                "/message",
            ]
            .iter()
            .find_map(|p| j.pointer(p).and_then(Json::as_str).map(str::to_owned))
            .unwrap_or_else(|| "the job failed (the server gave no reason)".to_owned());
            BulkState::Failed { reason }
        }
        other => return Err(Problem::Undecodable(format!("unknown Bulk Write status {other:?}"))),
    })
}

/// Whether status object `j` is a job created from file `file_id`; its id when it is.
fn job_of_file(j: &Json, file_id: &str) -> Option<String> {
    let uses = j.get("resource").and_then(Json::as_array).is_some_and(|rs| {
        rs.iter().any(|r| {
            [r.get("file_id"), r.pointer("/file/id"), r.pointer("/file/file_id")]
                .into_iter()
                .flatten()
                .any(|v| text(v).as_deref() == Some(file_id))
        })
    });
    if uses { j.get("id").and_then(text) } else { None }
}

impl RestClient {
    /// The org's id (`zgid`, else `id`) from `GET /crm/v8/org`, read once.
    fn org_id(&self) -> Result<String, ClientError> {
        if let Some(id) = self.org_id.get() {
            return Ok(id.clone());
        }
        let call =
            get(Method::GetModules, format!("{API_PREFIX}/org"), CallKind::Settings, Host::Api);
        let id = self.call(&call, |a| {
            let j = json(a)?;
            let org = j.pointer("/org/0").unwrap_or(&j);
            org.get("zgid")
                .and_then(text)
                .or_else(|| org.get("id").and_then(text))
                .ok_or_else(|| Problem::Undecodable("GET /org without org[0].zgid".into()))
        })?;
        Ok(self.org_id.get_or_init(|| id).clone())
    }

    /// `POST {upload host}/crm/v8/upload`, multipart `file` from disk.
    pub(crate) fn bulk_upload_zip(&self, zip: &Path) -> Result<String, ClientError> {
        let org = self.org_id()?;
        let call = Call {
            method: Method::UploadFile,
            http: reqwest::Method::POST,
            path: format!("{API_PREFIX}/upload"),
            query: Vec::new(),
            if_modified_since: None,
            body: Body::Upload { zip, org: &org },
            kind: CallKind::BulkUpload,
            module: "",
            rows: 0,
            host: Host::Upload,
        };
        self.call(&call, |a| {
            let j = json(a)?;
            if let Some(p) = refused(&j) {
                return Err(p);
            }
            let j = unwrap_data(&j);
            j.pointer("/details/file_id").or_else(|| j.get("file_id")).and_then(text).ok_or_else(
                || Problem::Undecodable("an upload answer without details.file_id".into()),
            )
        })
    }

    /// `POST /crm/bulk/v8/write`.
    pub(crate) fn bulk_create_job(&self, job: &BulkJob) -> Result<String, ClientError> {
        let mappings: Vec<Json> = job
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut m = serde_json::Map::new();
                m.insert("api_name".into(), Json::String(c.api_name.clone()));
                m.insert("index".into(), Json::from(i));
                if let Some(f) = c.format {
                    m.insert("format".into(), Json::String(f.to_owned()));
                }
                if let Some(f) = c.find_by {
                    m.insert("find_by".into(), Json::String(f.to_owned()));
                }
                Json::Object(m)
            })
            .collect();
        let mut resource = serde_json::json!({
            "type": "data",
            "module": { "api_name": names::v8_module(&job.module) },
            "file_id": job.file_id,
            "field_mappings": mappings,
        });
        if let (Some(f), Some(r)) = (&job.find_by, resource.as_object_mut()) {
            r.insert("find_by".into(), Json::String(f.clone()));
        }
        let body = serde_json::json!({
            "operation": job.operation.as_str(),
            "ignore_empty": true,
            "character_encoding": "UTF-8",
            "resource": [resource],
        })
        .to_string();
        let call = Call {
            method: Method::InsertRecords,
            http: reqwest::Method::POST,
            path: BULK_WRITE.to_owned(),
            query: Vec::new(),
            if_modified_since: None,
            body: Body::Json(&body),
            kind: CallKind::BulkJob,
            module: &job.module,
            rows: 0,
            host: Host::Api,
        };
        self.call(&call, |a| {
            let j = json(a)?;
            let item = unwrap_data(&j);
            if let Some(p) = refused(item) {
                return Err(p);
            }
            item.pointer("/details/id").or_else(|| item.get("id")).and_then(text).ok_or_else(|| {
                Problem::Undecodable("a created Bulk Write job without details.id".into())
            })
        })
    }

    /// `GET /crm/bulk/v8/write/{id}`.
    pub(crate) fn bulk_job_status(&self, job_id: &str) -> Result<BulkState, ClientError> {
        let id: String = job_id.chars().filter(char::is_ascii_digit).collect();
        let call =
            get(Method::GetRecords, format!("{BULK_WRITE}/{id}"), CallKind::BulkStatus, Host::Api);
        self.call(&call, |a| parse_state(&json(a)?))
    }

    /// `GET /crm/bulk/v8/write?file_id=` (zcrm's decision: the list of the org's Bulk Write
    /// jobs, each in its status shape, in `data`; the file filter is a hint, every job is
    /// checked). A server without the list (404, `INVALID_URL_PATTERN`,
    /// `INVALID_REQUEST_METHOD`) is [`ClientError::Unsupported`].
    pub(crate) fn bulk_find_job(&self, file_id: &str) -> Result<Option<String>, ClientError> {
        let mut call =
            get(Method::GetRecords, BULK_WRITE.to_owned(), CallKind::BulkStatus, Host::Api);
        call.query.push(("file_id", file_id.to_owned()));
        let found = self.call(&call, |a| {
            if a.status == 204 {
                return Ok(Some(None));
            }
            if a.status == 404 {
                return Ok(None);
            }
            let j = match json(a) {
                Ok(j) => j,
                Err(Problem::Api(e))
                    if matches!(
                        e.code.as_str(),
                        "INVALID_URL_PATTERN" | "INVALID_REQUEST_METHOD"
                    ) =>
                {
                    return Ok(None);
                }
                Err(p) => return Err(p),
            };
            let jobs = j.get("data").and_then(Json::as_array).or_else(|| j.as_array());
            Ok(Some(jobs.and_then(|js| js.iter().find_map(|job| job_of_file(job, file_id)))))
        })?;
        found.ok_or_else(|| ClientError::Unsupported {
            dialect: "v8",
            what: "listing Bulk Write jobs (to find a job whose creation answer was lost)".into(),
        })
    }

    /// Downloads `url` (relative to the API domain, or a Zoho host) into `to`.
    pub(crate) fn bulk_download_result(&self, url: &str, to: &Path) -> Result<(), ClientError> {
        let api = self.api_origin()?;
        if !download_allowed(&api, url) {
            return Err(ClientError::Unsupported {
                dialect: "v8",
                what: "a Bulk Write download_url outside Zoho's hosts and the API's origin (the token is not sent there)".into(),
            });
        }
        let (path, host) = if url.starts_with('/') {
            (url.to_owned(), Host::Api)
        } else {
            (url.to_owned(), Host::Absolute)
        };
        let call = get(Method::DownloadFile, path, CallKind::BulkStatus, host);
        let body = self.call(&call, |a| {
            if (200..300).contains(&a.status) {
                Ok(a.body.clone())
            } else {
                Err(Problem::Api(status_error(a.status, &a.body)))
            }
        })?;
        let write = |p: &Path| -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = std::fs::File::create(p)?;
            f.write_all(&body)?;
            f.sync_all()
        };
        write(to).map_err(|e| ClientError::Transport {
            method: Method::DownloadFile,
            attempts: 1,
            reason: format!("writing the Bulk Write result to {}: {e}", to.display()),
        })
    }

    /// The CSV encoder of `module` (its metadata remembered, or one `settings/fields` call).
    pub(crate) fn csv_encoder(&self, module: &str) -> Result<CsvEncoder, ClientError> {
        Ok(CsvEncoder { schema: self.schema(module)?, tz: self.tz.clone() })
    }
}

/// Bulk Write CSV cells of one module.
pub(crate) struct CsvEncoder {
    schema: Arc<Schema>,
    tz: TimeZone,
}

impl CsvEncoder {
    fn unknown(&self, name: &str) -> EncodeError {
        EncodeError::UnknownField {
            field: name.to_owned(),
            module: self.schema.fields.module.clone(),
        }
    }
}

impl BulkEncoder for CsvEncoder {
    fn column(&self, name: &str) -> Result<BulkColumn, EncodeError> {
        let r = self.schema.resolve(name).ok_or_else(|| self.unknown(name))?;
        Ok(match r {
            Resolved::RecordId => BulkColumn { api_name: "id".into(), format: None, find_by: None },
            Resolved::IdColumn(t) => {
                BulkColumn { api_name: t.api_name.clone(), format: None, find_by: Some("id") }
            }
            Resolved::Field(t) => BulkColumn {
                api_name: t.api_name.clone(),
                format: match t.field_type {
                    FieldType::Date => Some(DATE_FORMAT),
                    FieldType::DateTime => Some(DATETIME_FORMAT),
                    _ => None,
                },
                find_by: t.field_type.is_id().then_some("id"),
            },
        })
    }

    fn cell(&self, name: &str, value: &Value) -> Result<String, EncodeError> {
        let r = self.schema.resolve(name).ok_or_else(|| self.unknown(name))?;
        let t = match r {
            Resolved::RecordId | Resolved::IdColumn(_) => {
                let text = value.to_text(zcrm_protocol::Direction::Output)?;
                return Ok(text.trim().to_owned());
            }
            Resolved::Field(t) => t,
        };
        // The JSON form of the record API, read back as one cell.
        let mut json = String::new();
        render(&mut json, &t.field_type, value, &self.tz)?;
        let cell = match serde_json::from_str::<Json>(&json) {
            Ok(Json::Null) => String::new(),
            Ok(Json::String(s)) => s,
            Ok(Json::Array(items)) => {
                items.iter().map(|i| text(i).unwrap_or_default()).collect::<Vec<_>>().join(";")
            }
            Ok(Json::Object(o)) => o.get("id").and_then(text).unwrap_or_default(),
            Ok(other) => other.to_string(),
            Err(_) => json,
        };
        Ok(cell)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn statuses_in_both_spellings_and_a_failure_with_its_reason() {
        let s = |b: &str| parse_state(&serde_json::from_str(b).unwrap()).map_err(|_| ());
        assert_eq!(s(r#"{"status":"ADDED","id":"1"}"#), Ok(BulkState::Added));
        assert_eq!(s(r#"{"status":"IN PROGRESS"}"#), Ok(BulkState::InProgress));
        assert_eq!(s(r#"{"status":"INPROGRESS"}"#), Ok(BulkState::InProgress));
        assert_eq!(
            s(r#"{"status":"COMPLETED","result":{"download_url":"/crm/bulk/v8/write/1/result"}}"#),
            Ok(BulkState::Completed { download_url: "/crm/bulk/v8/write/1/result".into() })
        );
        assert_eq!(
            s(r#"{"data":[{"status":"FAILED","resource":[{"message":"bad file"}]}]}"#),
            Ok(BulkState::Failed { reason: "bad file".into() })
        );
        assert!(s(r#"{"status":"COMPLETED","result":{}}"#).is_err());
        assert!(s(r#"{"status":"WHATEVER"}"#).is_err());
    }

    #[test]
    fn a_job_is_found_by_the_file_it_was_created_from() {
        let j: Json = serde_json::from_str(
            r#"{"id":"77","status":"COMPLETED","resource":[{"file_id":"555","type":"data"}]}"#,
        )
        .unwrap();
        assert_eq!(job_of_file(&j, "555"), Some("77".into()));
        assert_eq!(job_of_file(&j, "556"), None);
    }

    #[test]
    fn cells_are_the_record_apis_forms_as_text() {
        let schema = Arc::new(crate::rest::fields::tests::leads());
        let e = CsvEncoder { schema, tz: TimeZone::fixed(jiff::tz::offset(1)) };
        let cell = |n: &str, v: Value| e.cell(n, &v).unwrap();
        assert_eq!(cell("Last Name", Value::Text("O\"Neil, Jr".into())), "O\"Neil, Jr");
        assert_eq!(cell("Birthday", Value::Date(jiff::civil::date(2024, 3, 15))), "2024-03-15");
        assert_eq!(
            cell("Created Time", Value::DateTime(jiff::civil::date(2024, 3, 15).at(9, 30, 0, 0))),
            "2024-03-15T09:30:00+01:00"
        );
        assert_eq!(cell("Email Opt Out", Value::Boolean(true)), "true");
        assert_eq!(cell("No of Employees", Value::Integer(12)), "12");
        assert_eq!(cell("EAN", Value::Integer(9_007_199_254_740_993)), "9007199254740993");
        assert_eq!(cell("Courses", Value::MultiPicklist(vec!["A".into(), "B".into()])), "A;B");
        assert_eq!(cell("Account Name", Value::Id(zcrm_protocol::RecordId(42))), "42");
        assert_eq!(cell("ACCOUNTID", Value::Id(zcrm_protocol::RecordId(43))), "43");
        assert_eq!(cell("Email", Value::Text(String::new())), "");
        let col = |n: &str| e.column(n).unwrap();
        assert_eq!(
            col("Last Name"),
            BulkColumn { api_name: "Last_Name".into(), format: None, find_by: None }
        );
        assert_eq!(col("Birthday").format, Some(DATE_FORMAT));
        assert_eq!(col("Created Time").format, Some(DATETIME_FORMAT));
        assert_eq!(col("Account Name").find_by, Some("id"));
        assert_eq!(
            col("ACCOUNTID"),
            BulkColumn { api_name: "Account_Name".into(), format: None, find_by: Some("id") }
        );
        assert_eq!(col("Id").api_name, "id");
        assert!(e.column("No Such Field").is_err());
    }
}
