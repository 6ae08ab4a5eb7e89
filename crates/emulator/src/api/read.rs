//! getRecords, getMyRecords, getRecordById, getDeletedRecordIds.

use rusqlite::Transaction;
use zcrm_protocol::RecordId;
use zcrm_protocol::field::FieldType;
use zcrm_protocol::params::{IdSelection, ReadParams, SortOrder, Window};
use zcrm_protocol::response::misc::encode_deleted_ids;

use super::render::{self, Shape};
use super::{Call, Fail, Reply};
use crate::schema::ModuleDef;
use crate::store::records::{self, Order, Query};

/// The listing order of `sortColumnString` (id when absent); unknown labels → 4600.
pub fn order(def: &ModuleDef, rp: &ReadParams) -> Result<(Order, bool), Fail> {
    let Some(sort) = &rp.sort else { return Ok((Order::Id, false)) };
    let desc = sort.order == SortOrder::Desc;
    let col = sort.column.as_str();
    let order = match col {
        "Modified Time" => Order::Modified,
        "Created Time" => Order::Created,
        c if c == def.module.id_field() || c == "Id" => Order::Id,
        c => match def.field(c).or_else(|| def.by_id_column(c)) {
            Some(f) if f.id_column() == Some(c) => Order::Number(c.to_owned()),
            Some(f)
                if f.ty.is_decimal()
                    || matches!(f.ty, FieldType::Integer | FieldType::LongInteger) =>
            {
                Order::Number(c.to_owned())
            }
            Some(_) => Order::Text(c.to_owned()),
            None => return Err(Fail::bad_param("sortColumnString")),
        },
    };
    Ok((order, desc))
}

/// `lastModifiedTime` as epoch seconds in the org's time zone.
pub fn since(c: &Call<'_>, rp: &ReadParams) -> Option<i64> {
    rp.last_modified.map(|dt| c.st.clock.epoch(dt))
}

fn window_bounds(w: Window) -> (u32, u32) {
    (w.from - 1, w.len())
}

/// getRecords / getMyRecords.
pub fn get_records(c: &Call<'_>, tx: &Transaction<'_>, mine: bool) -> Result<Reply, Fail> {
    let def = c.def()?;
    let rp = ReadParams::read(c.params, c.module_name)?;
    let (order, desc) = order(def, &rp)?;
    let (offset, limit) = window_bounds(rp.window);
    let module = def.module.api_name();
    let q = Query {
        module: &module,
        owner: mine.then_some(c.user.id),
        since: since(c, &rp),
        order,
        desc,
        offset,
        limit: Some(limit),
    };
    let recs = records::list(tx, &q)?;
    let shape = Shape::new(def, &rp.select, rp.new_format, rp.version);
    render::page(c, &shape, &recs.iter().collect::<Vec<_>>())
}

/// getRecordById: `id` or `idlist`; unknown ids are left out; none found → nodata.
pub fn get_record_by_id(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let rp = ReadParams::read(c.params, c.module_name)?;
    let ids = match IdSelection::read(c.params, c.st.cfg.max_write_rows as usize)? {
        IdSelection::One(id) => vec![id],
        IdSelection::List(ids) => ids,
    };
    let module = def.module.api_name();
    let shape = Shape::new(def, &rp.select, rp.new_format, rp.version);
    let mut recs = Vec::new();
    for RecordId(id) in ids {
        if let Some(rec) = records::get_live(tx, Some(&module), id)? {
            recs.push(rec);
        }
    }
    render::page(c, &shape, &recs.iter().collect::<Vec<_>>())
}

/// getDeletedRecordIds: never nodata; past the end the list is empty.
pub fn get_deleted_ids(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let rp = ReadParams::read(c.params, c.module_name)?;
    let (offset, limit) = window_bounds(rp.window);
    let ids = records::deleted_ids(tx, &def.module.api_name(), since(c, &rp), offset, limit)?;
    let ids: Vec<RecordId> = ids.into_iter().map(RecordId).collect();
    encode_deleted_ids(c.uri, &ids).map(Reply::Xml).map_err(|_| Fail::internal())
}
