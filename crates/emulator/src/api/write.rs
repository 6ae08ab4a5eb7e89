//! insertRecords, updateRecords, deleteRecords.

use rusqlite::Transaction;
use zcrm_protocol::error::{ApiCode, ApiError};
use zcrm_protocol::messages;
use zcrm_protocol::params::{
    ApiVersion, DuplicateCheck, IdSelection, WriteParams, required, required_id,
};
use zcrm_protocol::response::misc::{CODE_DELETED, StatusResult, delete_message};
use zcrm_protocol::response::write::{MSG_ADDED, MSG_EXISTS, MSG_UPDATED};
use zcrm_protocol::xmldata::{PRODUCT_DETAILS, XmlDataRow};
use zcrm_protocol::{RecordId, RowOutcome, RowResult, WriteResponse, decode_xml_data};

use super::line_items;
use super::validate::{self, Changes};
use super::{Call, Fail, Reply};
use crate::schema::ModuleDef;
use crate::store::items::LineItem;
use crate::store::records::{self, Rec};
use crate::store::{self as db};

/// Decodes xmlData and checks the row limit.
pub fn rows(c: &Call<'_>) -> Result<Vec<XmlDataRow>, Fail> {
    let xml = required(c.params, "xmlData")?;
    let decoded = c.xml_data.take().unwrap_or_else(|| decode_xml_data(xml));
    let data = decoded.map_err(|e| {
        Fail::new(ApiCode::XmlParseError, format!("Unable to parse XML data : {e}"))
    })?;
    let max = c.st.cfg.max_write_rows as usize;
    if data.rows.len() > max {
        return Err(Fail::new(
            ApiCode::InvalidParameter,
            format!(
                "Unable to process your request. A write call carries at most {max} records; this one has {}.",
                data.rows.len()
            ),
        ));
    }
    if data.rows.is_empty() {
        return Err(Fail::bad_param("xmlData"));
    }
    Ok(data.rows)
}

/// Creates a record from validated changes (and validated line items).
pub fn create(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    changes: &Changes,
    items: Option<Vec<LineItem>>,
) -> Result<Result<Rec, ApiError>, Fail> {
    let fields = match validate::merge(c, def, &[], changes, Some(c.now)) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let id = db::next_id(tx)?;
    let owner = fields
        .iter()
        .find(|(k, _)| k == "SMOWNERID")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(c.user.id);
    let rec = Rec {
        id,
        module: def.module.api_name().into_owned(),
        owner,
        created_at: c.now,
        modified_at: c.now,
        fields,
        line_items: items.unwrap_or_default(),
    };
    records::insert(tx, &rec, validate::dupkey(def, &rec.fields).as_deref())?;
    Ok(Ok(rec))
}

/// Applies validated changes to an existing record; `items`, when given, replace its line items.
pub fn modify(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    rec: Rec,
    changes: &Changes,
    items: Option<Vec<LineItem>>,
) -> Result<Result<Rec, ApiError>, Fail> {
    let fields = match validate::merge(c, def, &rec.fields, changes, None) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let owner = fields
        .iter()
        .find(|(k, _)| k == "SMOWNERID")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(rec.owner);
    let line_items = items.unwrap_or(rec.line_items);
    let rec = Rec { owner, modified_at: c.now, fields, line_items, ..rec };
    records::update(tx, &rec, validate::dupkey(def, &rec.fields).as_deref())?;
    Ok(Ok(rec))
}

/// A row's validated field changes and line items; sent items replace the `Product Details` text.
fn validated(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    fields: &[(String, String)],
    products: &[Vec<(String, String)>],
) -> Result<(Changes, Option<Vec<LineItem>>), ApiError> {
    let mut changes = validate::row(c, tx, def, fields)?;
    let items = line_items::validate(tx, def, products)?;
    if items.is_some() {
        items_replace_text(&mut changes);
    }
    Ok((changes, items))
}

/// Sent items replace the `Product Details` text of a record's changes (both faces).
pub fn items_replace_text(changes: &mut Changes) {
    changes.retain(|(k, _)| k != PRODUCT_DETAILS);
    changes.push((PRODUCT_DETAILS.to_owned(), None));
}

fn insert_row(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    wp: &WriteParams,
    row: &XmlDataRow,
) -> Result<RowOutcome, Fail> {
    let (changes, items) = match validated(c, tx, def, &row.fields, &row.products) {
        Ok(v) => v,
        Err(e) => return Ok(RowOutcome::Failed(e)),
    };
    if let Some(mode) = wp.duplicate_check
        && let Some(key) = validate::changes_dupkey(def, &changes)
        && let Some(existing) = records::find_dup(tx, &def.module.api_name(), &key)?
    {
        return Ok(match mode {
            DuplicateCheck::Skip => RowOutcome::Duplicate(validate::detail(&existing)),
            DuplicateCheck::Update => match modify(c, tx, def, existing, &changes, items)? {
                Ok(rec) => RowOutcome::Updated(validate::detail(&rec)),
                Err(e) => RowOutcome::Failed(e),
            },
        });
    }
    Ok(match create(c, tx, def, &changes, items)? {
        Ok(rec) => RowOutcome::Added(validate::detail(&rec)),
        Err(e) => RowOutcome::Failed(e),
    })
}

/// The single-record (version 1/2) answer: all rows or nothing.
fn single(c: &Call<'_>, results: Vec<RowResult>) -> Result<Reply, Fail> {
    if let Some(RowOutcome::Failed(e)) =
        results.iter().map(|r| &r.outcome).find(|o| matches!(o, RowOutcome::Failed(_)))
    {
        return Err(match e.code {
            ApiCode::MandatoryFieldMissingRow => {
                Fail::new(ApiCode::MandatoryFieldMissing, messages::MANDATORY_V1)
            }
            _ => Fail::new(e.code.clone(), e.message.clone()),
        });
    }
    let message = if results.iter().all(|r| matches!(r.outcome, RowOutcome::Duplicate(_))) {
        MSG_EXISTS
    } else if results.iter().any(|r| matches!(r.outcome, RowOutcome::Updated(_))) {
        MSG_UPDATED
    } else {
        MSG_ADDED
    };
    let details = results.iter().filter_map(|r| r.outcome.detail().cloned()).collect();
    encode(c, WriteResponse::Single { message: message.to_owned(), details })
}

fn encode(c: &Call<'_>, w: WriteResponse) -> Result<Reply, Fail> {
    w.encode(c.uri).map(Reply::Xml).map_err(|_| Fail::internal())
}

/// insertRecords.
pub fn insert_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let wp = WriteParams::read(c.params)?;
    if wp.is_approval && !def.module.supports_approval() {
        return Err(Fail::bad_param("isApproval"));
    }
    let rows = rows(c)?;
    let mut results = Vec::with_capacity(rows.len());
    for row in &rows {
        results.push(RowResult { no: row.no, outcome: insert_row(c, tx, def, &wp, row)? });
    }
    if wp.version == ApiVersion::V4 {
        encode(c, WriteResponse::Rows(results))
    } else {
        single(c, results)
    }
}

fn update_row(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: u64,
    fields: &[(String, String)],
    products: &[Vec<(String, String)>],
) -> Result<RowOutcome, Fail> {
    let Some(rec) = records::get_live(tx, Some(&def.module.api_name()), id)? else {
        return Ok(RowOutcome::Failed(ApiError::new(
            ApiCode::NoEditPermission,
            messages::NO_EDIT_PERMISSION,
        )));
    };
    let (changes, items) = match validated(c, tx, def, fields, products) {
        Ok(v) => v,
        Err(e) => return Ok(RowOutcome::Failed(e)),
    };
    Ok(match modify(c, tx, def, rec, &changes, items)? {
        Ok(rec) => RowOutcome::Updated(validate::detail(&rec)),
        Err(e) => RowOutcome::Failed(e),
    })
}

/// updateRecords: `id` + one row, or rows each carrying `Id` (version=4).
pub fn update_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let wp = WriteParams::read(c.params)?;
    let has_id = c.params.get("id").is_some_and(|v| !v.trim().is_empty());
    if has_id && wp.version != ApiVersion::V4 {
        let id = required_id(c.params, "id")?;
        let rows = rows(c)?;
        if records::get_live(tx, Some(&def.module.api_name()), id.0)?.is_none() {
            return Err(Fail::new(ApiCode::RecordNotFound, messages::RECORD_NOT_FOUND));
        }
        let outcome = update_row(c, tx, def, id.0, &rows[0].fields, &rows[0].products)?;
        return single(c, vec![RowResult { no: rows[0].no, outcome }]);
    }
    let rows = rows(c)?;
    let mut results = Vec::with_capacity(rows.len());
    for row in &rows {
        let outcome = match row.get("Id").map(str::trim) {
            None | Some("") => RowOutcome::Failed(ApiError::new(
                ApiCode::InvalidRecordId,
                messages::INVALID_RECORD_ID,
            )),
            Some(text) => {
                let id: RecordId = text.parse().map_err(|_| Fail::internal())?;
                let fields: Vec<(String, String)> =
                    row.fields.iter().filter(|(k, _)| k != "Id").cloned().collect();
                update_row(c, tx, def, id.0, &fields, &row.products)?
            }
        };
        results.push(RowResult { no: row.no, outcome });
    }
    if wp.version == ApiVersion::V4 {
        encode(c, WriteResponse::Rows(results))
    } else {
        single(c, results)
    }
}

/// deleteRecords: `id`, or `idlist` (ids joined by `;`, at most the write limit, as public
/// clients send it); every id is deleted and the answer is 5000 even for ids already gone, its
/// message listing the ids as given, joined by `;`.
pub fn delete_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let ids = match IdSelection::read(c.params, c.st.cfg.max_write_rows as usize)? {
        IdSelection::One(id) => vec![id],
        IdSelection::List(ids) => ids,
    };
    let module = def.module.api_name();
    for id in &ids {
        records::set_state(tx, &module, id.0, records::DELETED, c.now)?;
    }
    let message = match ids.as_slice() {
        [one] => delete_message(*one),
        _ => delete_list_message(&ids),
    };
    StatusResult { code: CODE_DELETED.to_owned(), message }
        .encode(c.uri, "result")
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}

/// The 5000 message for several ids: `Record Id(s) : 1;2,Record(s) deleted successfully`, the
/// form a production client quotes (docs/protocol.md [TJ] `DeleteRecords.php`).
fn delete_list_message(ids: &[RecordId]) -> String {
    let joined = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(";");
    format!("Record Id(s) : {joined},Record(s) deleted successfully")
}
