//! uploadFile, downloadFile, deleteFile, uploadPhoto, downloadPhoto, deletePhoto.

use rusqlite::Transaction;
use zcrm_protocol::error::{ApiCode, ParamError};
use zcrm_protocol::limits::{MAX_FILE_BYTES, MAX_PHOTO_BYTES};
use zcrm_protocol::params::required_id;
use zcrm_protocol::response::encode_nodata;
use zcrm_protocol::response::misc::{CODE_FILE_OK, MSG_FILE_ATTACHED, StatusResult, UploadResult};
use zcrm_protocol::{RecordDetail, RecordId};

use super::{Call, Fail, Reply};
use crate::store::{self as db, files, records};

fn status(c: &Call<'_>, message: &str) -> Result<Reply, Fail> {
    StatusResult { code: CODE_FILE_OK.to_owned(), message: message.to_owned() }
        .encode(c.uri, "success")
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}

fn live_record(c: &Call<'_>, tx: &Transaction<'_>) -> Result<u64, Fail> {
    let def = c.def()?;
    let id = required_id(c.params, "id")?.0;
    records::get_live(tx, Some(&def.module.api_name()), id)?
        .map(|r| r.id)
        .ok_or_else(|| Fail::bad_param("id"))
}

/// uploadFile: multipart `content` (≤ 20 MB) or `attachmentUrl`.
pub fn upload_file(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let record = live_record(c, tx)?;
    let url = c.params.get("attachmentUrl").map(|u| u.trim()).filter(|u| !u.is_empty());
    let (name, bytes): (String, &[u8]) = match (c.upload, url) {
        (Some(u), _) => (u.name.clone(), &u.bytes),
        (None, Some(url)) => (url.rsplit('/').next().unwrap_or(url).to_owned(), &[]),
        (None, None) => {
            return Err(Fail::from(ParamError::Missing("content")));
        }
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Fail::new(ApiCode::FileSizeExceeded, "File size should not exceed 20 MB"));
    }
    let id = db::next_id(tx)?;
    let module = c.def()?.module.api_name();
    files::add(tx, id, &module, record, &name, url, bytes, c.now)?;
    let t = c.time_text(c.now);
    let detail = RecordDetail {
        id: RecordId(id),
        fields: vec![
            ("Created Time".to_owned(), t.clone()),
            ("Modified Time".to_owned(), t),
            ("Created By".to_owned(), c.user.name.clone()),
            ("Modified By".to_owned(), c.user.name.clone()),
        ],
    };
    UploadResult { message: MSG_FILE_ATTACHED.to_owned(), detail }
        .encode(c.uri)
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}

/// downloadFile: the raw bytes.
pub fn download_file(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let module = c.def()?.module.api_name();
    let id = required_id(c.params, "id")?.0;
    let f = files::get(tx, &module, id)?.ok_or_else(|| Fail::bad_param("id"))?;
    Ok(Reply::Raw { name: f.name, bytes: f.content })
}

/// deleteFile.
pub fn delete_file(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let module = c.def()?.module.api_name();
    let id = required_id(c.params, "id")?.0;
    if !files::delete(tx, &module, id)? {
        return Err(Fail::bad_param("id"));
    }
    status(c, "Attachment deleted successfully.")
}

fn photo_module(c: &Call<'_>) -> Result<String, Fail> {
    let def = c.def()?;
    if !def.module.supports_photo() {
        return Err(Fail::bad_request());
    }
    Ok(def.module.api_name().into_owned())
}

/// uploadPhoto: Leads and Contacts, ≤ 2 MB.
pub fn upload_photo(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let module = photo_module(c)?;
    let record = live_record(c, tx)?;
    let u = c.upload.ok_or_else(|| Fail::from(ParamError::Missing("content")))?;
    if u.bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(Fail::new(ApiCode::FileSizeExceeded, "File size should not exceed 2 MB"));
    }
    files::set_photo(tx, &module, record, &u.name, &u.bytes)?;
    status(c, "Photo uploaded succuessfully")
}

/// downloadPhoto: the raw bytes, or nodata.
pub fn download_photo(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let module = photo_module(c)?;
    let id = required_id(c.params, "id")?.0;
    match files::photo(tx, &module, id)? {
        Some((name, bytes)) => Ok(Reply::Raw { name, bytes }),
        None => encode_nodata(c.uri).map(Reply::Xml).map_err(|_| Fail::internal()),
    }
}

/// deletePhoto.
pub fn delete_photo(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let module = photo_module(c)?;
    let id = required_id(c.params, "id")?.0;
    if !files::delete_photo(tx, &module, id)? {
        return Err(Fail::bad_param("id"));
    }
    status(c, "Photo deleted successfully")
}
