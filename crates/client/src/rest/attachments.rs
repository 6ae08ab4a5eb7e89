//! A record's attachments for an export: the listing a page at a time
//! (`GET /crm/v8/{module}/{id}/Attachments`, with sizes and link URLs) and the download of one
//! attachment's content streamed to a writer (`GET /crm/v8/{module}/{id}/Attachments/{att}`).

use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use serde_json::Value as Json;
use tracing::warn;
use zcrm_protocol::{Method, MethodClass, RecordId};

use crate::ClientError;
use crate::api::{AttachmentFile, CallKind, MAX_ATTACHMENT_BYTES};
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::names;
use crate::rest::results::{Problem, status_error};
use crate::retry::seed;

/// The longest one attachment download may take (a file of up to 100 MB on a slow link).
const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(3600);

/// Listing pages asked for at most (200 attachments each: 20,000 a record).
const MAX_LIST_PAGES: u32 = 100;

/// One item of a listing: `None` when it has no usable id.
fn attachment_of(item: &Json) -> Option<AttachmentFile> {
    let id = match &item["id"] {
        Json::String(s) => s.parse::<RecordId>().ok()?,
        Json::Number(n) => n.to_string().parse::<RecordId>().ok()?,
        _ => return None,
    };
    let size = match &item["Size"] {
        Json::String(s) => s.trim().parse().ok(),
        Json::Number(n) => n.as_u64(),
        _ => None,
    };
    let link = item["$link_url"].as_str().filter(|u| !u.trim().is_empty()).map(str::to_owned);
    let is_link = item["$type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("Link URL"));
    Some(AttachmentFile {
        id,
        file_name: item["File_Name"].as_str().unwrap_or_default().to_owned(),
        size,
        link_url: if is_link || link.is_some() { Some(link.unwrap_or_default()) } else { None },
    })
}

impl RestClient {
    /// `GET /crm/v8/{module}/{id}/Attachments?page=&per_page=200`, each page handed to `page`
    /// until it says stop or the listing ends; the calls made. A record that does not exist
    /// (any more) has no attachments.
    pub(crate) fn attachment_pages(
        &self,
        module: &str,
        id: RecordId,
        page: &mut dyn FnMut(&[AttachmentFile]) -> ControlFlow<()>,
    ) -> Result<u32, ClientError> {
        let mut calls = 0;
        for n in 1..=MAX_LIST_PAGES {
            let call = Call {
                method: Method::GetRelatedRecords,
                http: reqwest::Method::GET,
                path: format!("{API_PREFIX}/{}/{id}/Attachments", names::v8_module(module)),
                query: vec![("page", n.to_string()), ("per_page", "200".to_owned())],
                if_modified_since: None,
                body: Body::None,
                kind: CallKind::Related,
                module,
                rows: 1,
                host: Host::Api,
            };
            calls += 1;
            let (items, more) = self.call(&call, |a| {
                if a.status == 204 || a.body.is_empty() {
                    return Ok((Vec::new(), false));
                }
                let v: Json = serde_json::from_slice(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("attachments: {e}")))?;
                if !(200..300).contains(&a.status) {
                    let error = status_error(a.status, &a.body);
                    // The record was deleted since its page was read: nothing to list.
                    if error.code.as_str() == "INVALID_DATA" {
                        return Ok((Vec::new(), false));
                    }
                    return Err(Problem::Api(error));
                }
                let items: Vec<AttachmentFile> = v["data"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(attachment_of)
                    .collect();
                Ok((items, v["info"]["more_records"].as_bool().unwrap_or(false)))
            })?;
            if !items.is_empty() && page(&items).is_break() {
                break;
            }
            if !more {
                break;
            }
        }
        Ok(calls)
    }

    /// `GET /crm/v8/{module}/{record}/Attachments/{attachment}` streamed into `out`: the bytes
    /// written, or `None` when the attachment or its record is gone (204, 404, or 400
    /// `INVALID_DATA` "the id given seems to be invalid"). Retried (each try charged) on
    /// network failures, 5xx and 429 only before a byte reached `out`.
    pub(crate) fn download_attachment(
        &self,
        module: &str,
        record: RecordId,
        attachment: RecordId,
        out: &mut dyn Write,
    ) -> Result<Option<u64>, ClientError> {
        let method = Method::DownloadFile;
        let units = crate::CrmApi::cost(self, CallKind::File);
        let path =
            format!("{API_PREFIX}/{}/{record}/Attachments/{attachment}", names::v8_module(module));
        let transport =
            |attempts: u32, reason: String| ClientError::Transport { method, attempts, reason };
        let mut jitter = seed();
        let (mut attempt, mut renewed) = (0u32, false);
        loop {
            attempt += 1;
            let token = self.token()?;
            let base = self.base(&token)?;
            self.ledger.reserve(MethodClass::General, units)?;
            let retry_ok = attempt < self.retry.max_attempts;
            let sent = self
                .transport
                .request(reqwest::Method::GET, &format!("{}{path}", base.base()))
                .header(AUTHORIZATION, format!("Zoho-oauthtoken {}", token.token.expose()))
                .timeout(DOWNLOAD_DEADLINE)
                .send();
            let reason = match sent {
                Err(e) => format!("the download failed: {e}"),
                Ok(mut resp) => match resp.status().as_u16() {
                    200 => return copy_body(&mut resp, out, attempt, &transport).map(Some),
                    204 | 404 => return Ok(None),
                    401 if !renewed => {
                        // A refused token costs no credit (CD-2).
                        self.ledger.refund(MethodClass::General, units)?;
                        renewed = true;
                        attempt -= 1;
                        self.replace_token(&token)?;
                        continue;
                    }
                    429 => {
                        // A refused call is charged nothing (CD-20).
                        self.ledger.refund(MethodClass::General, units)?;
                        if !retry_ok {
                            return Err(self.ledger.mark_server_limit()?.into());
                        }
                        "429 TOO_MANY_REQUESTS".to_owned()
                    }
                    s if s >= 500 => format!("HTTP {s}"),
                    s => {
                        let mut body = Vec::new();
                        let _ = resp.take(64 * 1024).read_to_end(&mut body);
                        let error = status_error(s, &body);
                        if s == 400 && error.code.as_str() == "INVALID_DATA" {
                            return Ok(None);
                        }
                        return Err(ClientError::Api { method, error });
                    }
                },
            };
            if !retry_ok {
                return Err(transport(attempt, reason));
            }
            warn!(%attachment, %record, attempt, %reason, "downloading the attachment again");
            std::thread::sleep(self.retry.delay(attempt, &mut jitter));
        }
    }
}

/// Copies a download's body into `out` (at most [`MAX_ATTACHMENT_BYTES`]); a body shorter than
/// its `Content-Length`, or longer than the cap, is an error.
fn copy_body(
    resp: &mut reqwest::blocking::Response,
    out: &mut dyn Write,
    attempts: u32,
    transport: &dyn Fn(u32, String) -> ClientError,
) -> Result<u64, ClientError> {
    let expected = resp.content_length();
    let mut capped = resp.take(MAX_ATTACHMENT_BYTES + 1);
    let n = std::io::copy(&mut capped, out).map_err(|e| {
        transport(attempts, format!("the download (or writing it) failed after some bytes: {e}"))
    })?;
    if n > MAX_ATTACHMENT_BYTES {
        return Err(transport(
            attempts,
            format!("the file is larger than {} MiB", MAX_ATTACHMENT_BYTES >> 20),
        ));
    }
    if let Some(e) = expected
        && e != n
    {
        return Err(transport(attempts, format!("the download was cut short ({n} of {e} bytes)")));
    }
    out.flush().map_err(|e| transport(attempts, format!("writing the file: {e}")))?;
    Ok(n)
}
