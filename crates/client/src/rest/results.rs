//! v8 answers to writes and their errors, as the XML dialect's shapes: per-record results
//! (`SUCCESS` with `details.id`, or an error code such as `INVALID_DATA`,
//! `MANDATORY_NOT_FOUND`, `DUPLICATE_DATA`) become [`WriteResponse::Rows`] in payload order;
//! whole-call errors (`{"code","details","message","status":"error"}`) become [`ApiError`]s
//! whose code is the v8 code verbatim (`ApiCode::Other`).

use jiff::tz::TimeZone;
use serde_json::Value as Json;
use zcrm_protocol::{
    ApiCode, ApiError, RecordDetail, RecordId, RowOutcome, RowResult, WriteResponse,
};

use crate::WriteKind;
use crate::rest::fields::Schema;
use crate::rest::records::xml_datetime;

/// Why an answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The server refused the call as a whole.
    Api(ApiError),
    /// The body is not the expected JSON (cut short, or another shape): for a write, its
    /// outcome is unknown.
    Undecodable(String),
}

#[derive(serde::Deserialize)]
struct Envelope {
    code: Option<String>,
    message: Option<String>,
    details: Option<Json>,
}

/// The whole-call error of an error body, or `None` when the body is not one.
pub fn error_envelope(body: &[u8]) -> Option<ApiError> {
    let e: Envelope = serde_json::from_slice(body).ok()?;
    let code = e.code?;
    let message = e.message.unwrap_or_default();
    Some(ApiError::new(ApiCode::parse(&code), describe(&message, e.details.as_ref(), None)))
}

/// The error of a non-success answer with status `status`: its error body, or the status.
pub fn status_error(status: u16, body: &[u8]) -> ApiError {
    error_envelope(body).unwrap_or_else(|| {
        ApiError::new(ApiCode::Other(format!("HTTP {status}")), "the answer has no error body")
    })
}

/// A person's sentence for an error's message and details: the field (label and api_name),
/// what it expected, the existing record of a duplicate.
fn describe(message: &str, details: Option<&Json>, schema: Option<&Schema>) -> String {
    let mut s = message.to_owned();
    let Some(d) = details.and_then(Json::as_object) else { return s };
    let text = |k: &str| {
        d.get(k).and_then(|v| {
            v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string()))
        })
    };
    if let Some(api) = text("api_name") {
        let label = schema.and_then(|s| s.by_api_name(&api)).map(|t| t.label.as_str());
        match label {
            Some(l) if l != api => s.push_str(&format!(": field {l:?} ({api})")),
            _ => s.push_str(&format!(": field {api}")),
        }
    }
    if let Some(t) = text("expected_data_type") {
        s.push_str(&format!(", expected {t}"));
    }
    if let Some(n) = text("maximum_length") {
        s.push_str(&format!(", at most {n} characters"));
    }
    if let Some(dup) = d.get("duplicate_record").and_then(|r| r.get("id")).and_then(id_text) {
        s.push_str(&format!(", duplicates record {dup}"));
    }
    for k in ["param_name", "header_name", "limit"] {
        if let Some(v) = text(k) {
            s.push_str(&format!(" ({k} {v})"));
        }
    }
    if let Some(errors) = d.get("errors").and_then(Json::as_array) {
        let inner: Vec<String> = errors
            .iter()
            .map(|e| {
                let code = e.get("code").and_then(Json::as_str).unwrap_or_default();
                let msg = e.get("message").and_then(Json::as_str).unwrap_or_default();
                format!("{code} {}", describe(msg, e.get("details"), schema))
            })
            .collect();
        s.push_str(&format!(": {}", inner.join("; ")));
    }
    s
}

fn id_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct Item {
    code: Option<String>,
    status: Option<String>,
    message: Option<String>,
    details: Option<Json>,
    action: Option<String>,
}

#[derive(serde::Deserialize)]
struct Answer {
    data: Option<Vec<Item>>,
}

/// The labels of the system fields a successful write's details carry.
const DETAIL_FIELDS: [(&str, &str, bool); 4] = [
    ("Created_Time", "Created Time", true),
    ("Modified_Time", "Modified Time", true),
    ("Created_By", "Created By", false),
    ("Modified_By", "Modified By", false),
];

fn detail(details: Option<&Json>, tz: &TimeZone) -> Result<RecordDetail, Problem> {
    let d = details.and_then(Json::as_object);
    let id = d
        .and_then(|d| d.get("id"))
        .and_then(id_text)
        .and_then(|t| t.parse::<RecordId>().ok())
        .ok_or_else(|| Problem::Undecodable("a successful record without details.id".into()))?;
    let mut fields = Vec::new();
    for (api, label, time) in DETAIL_FIELDS {
        let Some(v) = d.and_then(|d| d.get(api)) else { continue };
        let text = if time {
            v.as_str().and_then(|t| xml_datetime(t, tz))
        } else {
            v.get("name").and_then(Json::as_str).map(str::to_owned)
        };
        if let Some(t) = text {
            fields.push((label.to_owned(), t));
        }
    }
    Ok(RecordDetail { id, fields })
}

/// The per-record results of a write of `rows` records (answered with `status`, CD-9: 200,
/// 201, 207, or 400 with a `data` array when every record failed). A 400 without `data` is the
/// whole call's error (CD-10). Results are numbered as the payload's rows (`no` = index + 1).
pub fn write_response(
    status: u16,
    body: &[u8],
    kind: WriteKind,
    rows: usize,
    schema: Option<&Schema>,
    tz: &TimeZone,
) -> Result<WriteResponse, Problem> {
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) if (200..300).contains(&status) => {
            return Err(Problem::Undecodable(format!("HTTP {status}, not a v8 write answer: {e}")));
        }
        Err(_) => return Err(Problem::Api(status_error(status, body))),
    };
    let Some(items) = answer.data else {
        if (200..300).contains(&status) {
            return Err(Problem::Undecodable(format!("HTTP {status} without a data array")));
        }
        return Err(Problem::Api(status_error(status, body)));
    };
    if items.len() != rows {
        return Err(Problem::Undecodable(format!(
            "{} result(s) for {rows} record(s)",
            items.len()
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let ok =
            item.status.as_deref() == Some("success") || item.code.as_deref() == Some("SUCCESS");
        let outcome = if ok {
            let d = detail(item.details.as_ref(), tz)?;
            match (item.action.as_deref(), kind) {
                (Some("update"), _) => RowOutcome::Updated(d),
                (Some("duplicate"), _) => RowOutcome::Duplicate(d),
                (Some("insert"), _) => RowOutcome::Added(d),
                (_, WriteKind::Update) => RowOutcome::Updated(d),
                (_, WriteKind::Insert | WriteKind::InsertOrUpdateDuplicate) => RowOutcome::Added(d),
            }
        } else {
            let code = item.code.unwrap_or_else(|| "ERROR".to_owned());
            let message = describe(
                item.message.as_deref().unwrap_or_default(),
                item.details.as_ref(),
                schema,
            );
            RowOutcome::Failed(ApiError::new(ApiCode::parse(&code), message))
        };
        out.push(RowResult { no: i as u32 + 1, outcome });
    }
    Ok(WriteResponse::Rows(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::rest::fields::tests::leads;

    #[test]
    fn per_record_results_become_rows_in_payload_order() {
        let body = br#"{"data":[
          {"code":"SUCCESS","details":{"Modified_Time":"2023-05-10T01:10:47-07:00","Modified_By":{"name":"Patricia Boyle","id":"5"},
             "Created_Time":"2023-05-10T01:10:47-07:00","id":"5725767000000524157","Created_By":{"name":"Patricia Boyle","id":"5"}},
           "message":"record added","status":"success"},
          {"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name","json_path":"$.data[1].Last_Name"},"message":"required field not found","status":"error"},
          {"code":"INVALID_DATA","details":{"api_name":"Email","json_path":"$.data[2].Email","expected_data_type":"email"},"message":"invalid data","status":"error"},
          {"code":"DUPLICATE_DATA","details":{"api_name":"Email","duplicate_record":{"id":"77","module":{"api_name":"Leads"}}},"message":"duplicate data","status":"error"}
        ]}"#;
        let s = leads();
        let tz = jiff::tz::TimeZone::UTC;
        let WriteResponse::Rows(rows) =
            write_response(207, body, WriteKind::Insert, 4, Some(&s), &tz).unwrap()
        else {
            panic!("not rows")
        };
        assert_eq!(rows.iter().map(|r| r.no).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let RowOutcome::Added(d) = &rows[0].outcome else { panic!("{:?}", rows[0]) };
        assert_eq!(d.id.0, 5725767000000524157);
        assert_eq!(d.get("Created Time"), Some("2023-05-10 08:10:47"));
        assert_eq!(d.get("Created By"), Some("Patricia Boyle"));
        let msg = |i: usize| match &rows[i].outcome {
            RowOutcome::Failed(e) => format!("{} {}", e.code, e.message),
            o => panic!("{o:?}"),
        };
        assert_eq!(
            msg(1),
            "MANDATORY_NOT_FOUND required field not found: field \"Last Name\" (Last_Name)"
        );
        assert_eq!(msg(2), "INVALID_DATA invalid data: field Email, expected email");
        assert_eq!(msg(3), "DUPLICATE_DATA duplicate data: field Email, duplicates record 77");
    }

    #[test]
    fn upsert_actions_and_whole_call_errors() {
        let tz = jiff::tz::TimeZone::UTC;
        let body = br#"{"data":[{"code":"SUCCESS","action":"update","duplicate_field":"Email","details":{"id":"1"},"status":"success"},
            {"code":"SUCCESS","action":"insert","duplicate_field":null,"details":{"id":"2"},"status":"success"}]}"#;
        let WriteResponse::Rows(rows) =
            write_response(200, body, WriteKind::InsertOrUpdateDuplicate, 2, None, &tz).unwrap()
        else {
            panic!()
        };
        assert!(matches!(rows[0].outcome, RowOutcome::Updated(_)));
        assert!(matches!(rows[1].outcome, RowOutcome::Added(_)));
        let whole = br#"{"code":"LIMIT_EXCEEDED","details":{"limit":100},"message":"limit exceeded","status":"error"}"#;
        match write_response(400, whole, WriteKind::Insert, 101, None, &tz) {
            Err(Problem::Api(e)) => {
                assert_eq!(e.code, ApiCode::Other("LIMIT_EXCEEDED".into()));
                assert_eq!(e.message, "limit exceeded (limit 100)");
            }
            other => panic!("{other:?}"),
        }
        // A success answer cut short, or with the wrong number of results: unknown outcome.
        assert!(matches!(
            write_response(201, &body[..40], WriteKind::Insert, 2, None, &tz),
            Err(Problem::Undecodable(_))
        ));
        assert!(matches!(
            write_response(201, body, WriteKind::Insert, 3, None, &tz),
            Err(Problem::Undecodable(_))
        ));
    }
}
