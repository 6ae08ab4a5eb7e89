//! Reading parameters: query string merged with a form body or multipart fields; the body's
//! media type is matched in any case.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::{HeaderValue, Method, header};
use zcrm_protocol::Format;

use crate::reqlog::{LoggedRequest, REDACTED};
use crate::state::State;

/// A file part (`content`).
#[derive(Debug, Clone)]
pub struct Upload {
    /// The part's file name.
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The `Content-Type` header with its media type in lower case (media types are
/// case-insensitive, RFC 9110 §8.3.1; parameters such as the multipart boundary are kept as
/// sent), or `None` when there is nothing to change.
fn normalized_content_type(value: &HeaderValue) -> Option<HeaderValue> {
    let text = value.to_str().ok()?;
    let end = text.find(';').unwrap_or(text.len());
    let (media, rest) = text.split_at(end);
    if !media.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    HeaderValue::from_str(&format!("{}{rest}", media.to_ascii_lowercase())).ok()
}

/// Merges query, form and multipart parameters; body values win over query values.
pub async fn read(
    mut req: Request,
    st: &std::sync::Arc<State>,
) -> Result<(HashMap<String, String>, Option<Upload>), ()> {
    let mut params: HashMap<String, String> = HashMap::new();
    if let Ok(Query(q)) = Query::<Vec<(String, String)>>::try_from_uri(req.uri()) {
        params.extend(q);
    } else {
        return Err(());
    }
    // The body extractors compare the media type as written; give them the lower-case form.
    if let Some(v) = req.headers().get(header::CONTENT_TYPE).and_then(normalized_content_type) {
        req.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut upload = None;
    if req.method() == Method::POST {
        if content_type.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, st).await.map_err(|_| ())?;
            while let Some(field) = mp.next_field().await.map_err(|_| ())? {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|_| ())?;
                if name == "content" {
                    upload = Some(Upload {
                        name: file_name.unwrap_or_else(|| "file".to_owned()),
                        bytes: bytes.to_vec(),
                    });
                } else {
                    params.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let Form(body) =
                Form::<Vec<(String, String)>>::from_request(req, st).await.map_err(|_| ())?;
            params.extend(body);
        }
    }
    Ok((params, upload))
}

/// The request-log entry, token redacted.
pub fn log_entry(
    http_method: &str,
    format: Format,
    module: &str,
    method: &str,
    params: &HashMap<String, String>,
    upload: Option<&Upload>,
) -> LoggedRequest {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.clone(), if k == "authtoken" { REDACTED.to_owned() } else { v.clone() }))
        .collect();
    LoggedRequest {
        seq: 0,
        http_method: http_method.to_owned(),
        format: format.as_str().to_owned(),
        module: module.to_owned(),
        method: method.to_owned(),
        params,
        file: upload.map(|u| (u.name.clone(), u.bytes.len())),
    }
}
