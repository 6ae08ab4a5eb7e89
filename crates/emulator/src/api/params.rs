//! Reading parameters: query string merged with a form body or multipart fields.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::{Method, header};
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

/// Merges query, form and multipart parameters; body values win over query values.
pub async fn read(
    req: Request,
    st: &std::sync::Arc<State>,
) -> Result<(HashMap<String, String>, Option<Upload>), ()> {
    let mut params: HashMap<String, String> = HashMap::new();
    if let Ok(Query(q)) = Query::<Vec<(String, String)>>::try_from_uri(req.uri()) {
        params.extend(q);
    } else {
        return Err(());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
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
