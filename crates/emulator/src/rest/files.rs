//! Attachments (`/{module}/{id}/Attachments[/{attachment_id}]`) and the record photo
//! (`/{module}/{id}/photo`) over the XML face's store of files and photos (uploadFile,
//! uploadPhoto), with the XML face's limits (20 MB a file, 2 MB a photo for Leads and
//! Contacts); and reading a multipart body, whose file part is `file`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use rusqlite::Transaction;
use serde_json::{Value, json};
use zcrm_protocol::limits::{MAX_FILE_BYTES, MAX_PHOTO_BYTES};
use zcrm_protocol::rest_limits::MAX_PER_PAGE;

use super::actions::parent;
use super::errors::{Answer, RestError, record_error};
use super::json::epoch_out;
use super::records::number_param;
use super::router::Cx;
use crate::api::Upload;
use crate::api::validate::display_name;
use crate::schema::ModuleDef;
use crate::state::State;
use crate::store::{self as db, files};

/// A multipart body: its file part (`file`) and its other parts as text.
#[derive(Debug, Default)]
pub struct Form {
    /// The `file` part.
    pub file: Option<Upload>,
    /// Other parts by name.
    pub fields: HashMap<String, String>,
    /// The body could not be read as multipart (or was too large).
    pub unreadable: bool,
}

/// The request body: the bytes, or for `multipart/form-data` its parts (and no bytes). A body
/// larger than `max` reads as empty.
pub async fn read_body(req: Request, max: usize, st: &Arc<State>) -> (Bytes, Option<Form>) {
    let multipart =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data")
        });
    if !multipart {
        let bytes = axum::body::to_bytes(req.into_body(), max).await.unwrap_or_default();
        return (bytes, None);
    }
    let mut form = Form::default();
    let Ok(mut mp) = Multipart::from_request(req, st).await else {
        form.unreadable = true;
        return (Bytes::new(), Some(form));
    };
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    form.unreadable = true;
                    break;
                };
                if name == "file" {
                    form.file = Some(Upload {
                        name: file_name.unwrap_or_else(|| "file".to_owned()),
                        bytes: bytes.to_vec(),
                    });
                } else {
                    form.fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            Ok(None) => break,
            Err(_) => {
                form.unreadable = true;
                break;
            }
        }
    }
    (Bytes::new(), Some(form))
}

fn too_large(limit: u64) -> RestError {
    RestError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "FILE_TOO_LARGE",
        format!("the file size should not exceed {} MB", limit / (1024 * 1024)),
    )
}

fn no_file() -> RestError {
    RestError::missing_param("file")
}

fn unreadable() -> RestError {
    RestError::bad("INVALID_DATA", "the multipart body could not be read", json!({}))
}

/// `POST /{module}/{id}/Attachments`: the multipart part `file` (≤ 20 MB, not `.exe`) or an
/// `attachmentUrl` (a form part or a query parameter).
pub fn attach(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let form = cx.form;
    if form.is_some_and(|f| f.unreadable) {
        return Err(unreadable());
    }
    let url = form
        .and_then(|f| f.fields.get("attachmentUrl"))
        .map(|u| u.trim())
        .or_else(|| cx.param("attachmentUrl"))
        .filter(|u| !u.is_empty());
    let (name, bytes): (String, &[u8]) = match (form.and_then(|f| f.file.as_ref()), url) {
        (Some(u), _) => (u.name.clone(), &u.bytes),
        (None, Some(url)) => (url.rsplit('/').next().unwrap_or(url).to_owned(), &[]),
        (None, None) => return Err(no_file()),
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(MAX_FILE_BYTES));
    }
    if name.to_ascii_lowercase().ends_with(".exe") {
        return Err(RestError::bad(
            "INVALID_DATA",
            "the file type is not supported",
            json!({"param_name": "file"}),
        ));
    }
    let att = db::next_id(tx)?;
    let url = if bytes.is_empty() { url } else { None };
    files::add(tx, att, &def.module.api_name(), rec.id, &name, url, bytes, cx.now)?;
    let admin = cx.st.schema.admin();
    let by = json!({"name": admin.name, "id": admin.id.to_string()});
    let t = epoch_out(cx.st, cx.now);
    Ok(Answer::ok(json!({"data": [{
        "code": "SUCCESS",
        "details": {
            "Modified_Time": t,
            "Modified_By": by,
            "Created_Time": t,
            "id": att.to_string(),
            "Created_By": by,
        },
        "message": "attachment uploaded successfully",
        "status": "success",
    }]})))
}

/// `GET /{module}/{id}/Attachments`: the record's attachments, oldest first, `page` and
/// `per_page` (≤ 200); 204 when there are none.
pub fn list(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let per_page = number_param(cx, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
    let page = number_param(cx, "page", 1, 1, u32::MAX)?;
    let offset = (page - 1).saturating_mul(per_page);
    let mut rows = files::list(tx, &def.module.api_name(), rec.id, offset, per_page + 1)?;
    let more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);
    if rows.is_empty() {
        return Ok(Answer::empty(StatusCode::NO_CONTENT));
    }
    let admin = cx.st.schema.admin();
    let by = json!({"name": admin.name, "id": admin.id.to_string()});
    let parent_ref = json!({"name": display_name(Some(def), &rec), "id": rec.id.to_string()});
    let data: Vec<Value> = rows
        .iter()
        .map(|f| {
            let t = epoch_out(cx.st, f.created_at);
            json!({
                "id": f.id.to_string(),
                "File_Name": f.name,
                "Size": f.size.to_string(),
                "Created_Time": t,
                "Modified_Time": t,
                "Created_By": by,
                "Owner": by,
                "Parent_Id": parent_ref,
                "$type": if f.url.is_some() { "Link URL" } else { "Attachment" },
                "$link_url": f.url,
            })
        })
        .collect();
    let count = data.len();
    Ok(Answer::ok(json!({
        "data": data,
        "info": {"per_page": per_page, "count": count, "page": page, "more_records": more},
    })))
}

fn attachment(
    tx: &Transaction<'_>,
    def: &ModuleDef,
    record: u64,
    att: &str,
) -> Result<Option<files::Attachment>, RestError> {
    let Ok(n) = att.trim().parse::<u64>() else { return Ok(None) };
    Ok(files::get(tx, &def.module.api_name(), n)?.filter(|a| a.record == record))
}

/// `GET /{module}/{id}/Attachments/{attachment_id}`: the bytes (a link attachment has none);
/// an attachment not of this record is 400 `INVALID_DATA`.
pub fn download(
    _cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
    att: &str,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let f = attachment(tx, def, rec.id, att)?.ok_or_else(|| {
        RestError::bad("INVALID_DATA", "the id given seems to be invalid", json!({"id": att}))
    })?;
    Ok(Answer::download(f.name, f.content))
}

/// `DELETE /{module}/{id}/Attachments/{attachment_id}`: "record deleted", or the item error
/// `INVALID_DATA` "record not deleted" (CD-14).
pub fn detach(
    _cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
    att: &str,
) -> Result<Answer, RestError> {
    let rec = parent(tx, def, id)?;
    let done = match attachment(tx, def, rec.id, att)? {
        Some(f) => files::delete(tx, &def.module.api_name(), f.id)?,
        None => false,
    };
    let item = if done {
        json!({"code": "SUCCESS", "details": {"id": att}, "message": "record deleted", "status": "success"})
    } else {
        record_error("INVALID_DATA", "record not deleted", json!({"id": att}))
    };
    Ok(super::related::batch(vec![item]))
}

/// The photo's record: Leads and Contacts only (as the XML face), else 403 `NOT_SUPPORTED`.
fn photo_parent(
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<crate::store::records::Rec, RestError> {
    if !def.module.supports_photo() {
        return Err(RestError::new(
            StatusCode::FORBIDDEN,
            "NOT_SUPPORTED",
            "the module does not support photos",
        ));
    }
    parent(tx, def, id)
}

/// `POST /{module}/{id}/photo`: the part `file`, ≤ 2 MB.
pub fn set_photo(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<Answer, RestError> {
    let rec = photo_parent(tx, def, id)?;
    if cx.form.is_some_and(|f| f.unreadable) {
        return Err(unreadable());
    }
    let u = cx.form.and_then(|f| f.file.as_ref()).ok_or_else(no_file)?;
    if u.bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(too_large(MAX_PHOTO_BYTES));
    }
    files::set_photo(tx, &def.module.api_name(), rec.id, &u.name, &u.bytes)?;
    Ok(Answer::ok(json!({
        "code": "SUCCESS", "details": {}, "message": "photo uploaded successfully", "status": "success",
    })))
}

/// `GET /{module}/{id}/photo`: the bytes, or 204 when the record has none.
pub fn photo(
    _cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<Answer, RestError> {
    let rec = photo_parent(tx, def, id)?;
    Ok(match files::photo(tx, &def.module.api_name(), rec.id)? {
        Some((name, bytes)) => Answer::download(name, bytes),
        None => Answer::empty(StatusCode::NO_CONTENT),
    })
}

/// `DELETE /{module}/{id}/photo`: "photo deleted", or 400 `INVALID_DATA` when there is none.
pub fn delete_photo(
    _cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<Answer, RestError> {
    let rec = photo_parent(tx, def, id)?;
    if !files::delete_photo(tx, &def.module.api_name(), rec.id)? {
        return Err(RestError::bad("INVALID_DATA", "the record has no photo", json!({"id": id})));
    }
    Ok(Answer::ok(json!({
        "code": "SUCCESS", "details": {}, "message": "photo deleted", "status": "success",
    })))
}
