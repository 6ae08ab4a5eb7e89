//! getRelatedRecords and updateRelatedRecords.

use rusqlite::Transaction;
use zcrm_protocol::RecordId;
use zcrm_protocol::params::{ReadParams, required, required_id};
use zcrm_protocol::response::misc::RelatedUpdateResult;

use super::render::{self, Shape};
use super::write::rows;
use super::{Call, Fail, Reply};
use crate::schema::LookupTarget;
use crate::store::records::{self, Order, Query};

/// getRecordsRelated: the URL module is the child list, `parentModule` the owner.
pub fn get_related_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let parent_name = required(c.params, "parentModule")?.trim().to_owned();
    let parent = c.st.schema.module(&parent_name).ok_or_else(|| Fail::bad_param("parentModule"))?;
    let id = required_id(c.params, "id")?.0;
    let rp = ReadParams::read(c.params, c.module_name)?;
    let parent_module = parent.module;
    let links: Vec<&str> = def
        .fields
        .iter()
        .filter(|f| {
            matches!(&f.lookup, Some((LookupTarget::Module(m), _)) if *m == parent_module)
                || matches!(&f.lookup, Some((LookupTarget::Any, _)))
        })
        .filter_map(|f| f.id_column())
        .collect();
    let module = def.module.api_name();
    let related = records::related_ids(tx, id, &module)?;
    let q = Query {
        module: &module,
        owner: None,
        since: None,
        order: Order::Id,
        desc: false,
        offset: 0,
        limit: None,
    };
    let all = records::list(tx, &q)?;
    let id_text = id.to_string();
    let shape = Shape::new(def, &rp.select, rp.new_format, rp.version);
    let rows = all
        .iter()
        .filter(|r| {
            related.contains(&r.id) || links.iter().any(|l| r.get(l) == Some(id_text.as_str()))
        })
        .skip((rp.window.from - 1) as usize)
        .take(rp.window.len() as usize)
        .collect::<Vec<_>>();
    render::page(c, &shape, &rows)
}

/// updateRelatedRecords: the URL module is the parent; rows name the child by its id column.
pub fn update_related_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let id = required_id(c.params, "id")?.0;
    let child_name = required(c.params, "relatedModule")?.trim().to_owned();
    let child = c.st.schema.module(&child_name).ok_or_else(|| Fail::bad_param("relatedModule"))?;
    let parent_module = def.module.api_name();
    if records::get_live(tx, Some(&parent_module), id)?.is_none() {
        return Err(Fail::bad_param("id"));
    }
    let rows = rows(c)?;
    let child_module = child.module.api_name();
    let id_col = child.module.id_field();
    let (mut added, mut updated) = (Vec::new(), Vec::new());
    for row in &rows {
        let child_id: RecordId = row
            .get(&id_col)
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Fail::bad_param("xmlData"))?;
        if records::get_live(tx, Some(&child_module), child_id.0)?.is_none() {
            return Err(Fail::bad_param("xmlData"));
        }
        let data: Vec<(String, String)> =
            row.fields.iter().filter(|(k, _)| *k != id_col).cloned().collect();
        if records::relate(
            tx,
            &parent_module,
            id,
            &child_module,
            child_id.0,
            &records::encode(&data),
        )? {
            added.push(child_id);
        } else {
            updated.push(child_id);
        }
    }
    RelatedUpdateResult { message: "Relation Updated Successfully".to_owned(), added, updated }
        .encode(c.uri)
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}
