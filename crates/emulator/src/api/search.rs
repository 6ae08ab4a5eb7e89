//! searchRecords, getSearchRecords, getSearchRecordsByPDC, getCVRecords: filter the module's
//! live records, then window and render as getRecords does.

use rusqlite::Transaction;
use zcrm_protocol::error::ApiCode;
use zcrm_protocol::messages;
use zcrm_protocol::params::{Criteria, ReadParams, SearchCondition, required};

use super::read::{order, since};
use super::render::{self, Shape};
use super::{Call, Fail, Reply};
use crate::schema::ModuleDef;
use crate::store::records::{self, Query, Rec};

/// A record's value by label, id column or the module's id field, as reads answer it (an unset
/// Boolean is `false`).
fn value_of(def: &ModuleDef, rec: &Rec, label: &str) -> Option<String> {
    if label == def.module.id_field() {
        return Some(rec.id.to_string());
    }
    render::value_of(def, rec, label).map(str::to_owned)
}

fn filtered(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    rp: &ReadParams,
    owner: Option<u64>,
    keep: &dyn Fn(&Rec) -> bool,
) -> Result<Reply, Fail> {
    let (order, desc) = order(def, rp)?;
    let module = def.module.api_name();
    let q =
        Query { module: &module, owner, since: since(c, rp), order, desc, offset: 0, limit: None };
    let all = records::list(tx, &q)?;
    let shape = Shape::new(def, &rp.select, rp.new_format, rp.version);
    let rows = all
        .iter()
        .filter(|r| keep(r))
        .skip((rp.window.from - 1) as usize)
        .take(rp.window.len() as usize)
        .collect::<Vec<_>>();
    render::page(c, &shape, &rows)
}

/// The criteria with every field resolved to the name records are stored under: a label (or a
/// display label, taken as its field's label), an id column, or the module's id field. Any other
/// name, malformed ones such as `Em|ail` included, is the recorded 4832 "... contains empty
/// field name" (docs/protocol.md §4.9), never a silent "no data".
fn resolved(def: &ModuleDef, criteria: Criteria) -> Result<Criteria, Fail> {
    Ok(match criteria {
        Criteria::Atom { field, value } => {
            let field = if field == def.module.id_field() || def.by_id_column(&field).is_some() {
                field
            } else {
                def.field_loose(&field).map(|f| f.label.clone()).ok_or_else(|| {
                    Fail::new(
                        ApiCode::WrongValue,
                        messages::criteria_error("contains empty field name"),
                    )
                })?
            };
            Criteria::Atom { field, value }
        }
        Criteria::And(parts) => {
            Criteria::And(parts.into_iter().map(|p| resolved(def, p)).collect::<Result<_, _>>()?)
        }
        Criteria::Or(parts) => {
            Criteria::Or(parts.into_iter().map(|p| resolved(def, p)).collect::<Result<_, _>>()?)
        }
    })
}

/// searchRecords: `criteria` of `(Field:value)` atoms (equals, or starts with for `value*`).
/// Reads the search index: records created or modified within `search_index_lag` are not in it
/// yet.
pub fn search_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let criteria = resolved(def, Criteria::parse(required(c.params, "criteria")?)?)?;
    let rp = ReadParams::read(c.params, c.module_name)?;
    let lag = i64::try_from(c.st.cfg.search_index_lag.as_secs()).unwrap_or(i64::MAX);
    let indexed_until = c.now.saturating_sub(lag);
    filtered(c, tx, def, &rp, None, &|r| {
        (lag == 0 || r.modified_at <= indexed_until)
            && criteria.matches(&|label| value_of(def, r, label))
    })
}

/// getSearchRecords: `selectColumns` (required) and `searchCondition=(Label|op|value)`.
pub fn get_search_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    required(c.params, "selectColumns")?;
    let cond = SearchCondition::parse(required(c.params, "searchCondition")?)?;
    let rp = ReadParams::read(c.params, c.module_name)?;
    let Some(field) = def.field(&cond.field).map(|f| f.label.clone()).or_else(|| {
        (cond.field == def.module.id_field() || def.by_id_column(&cond.field).is_some())
            .then(|| cond.field.clone())
    }) else {
        return Err(Fail::bad_param("searchCondition"));
    };
    let numeric = def.field(&field).is_none_or(|f| {
        f.ty.is_decimal()
            || matches!(
                f.ty,
                zcrm_protocol::field::FieldType::Integer
                    | zcrm_protocol::field::FieldType::LongInteger
            )
    });
    filtered(c, tx, def, &rp, None, &|r| cond.matches(value_of(def, r, &field).as_deref(), numeric))
}

/// getSearchRecordsByPDC: `searchColumn` (a lower-case predefined column) equals `searchValue`.
pub fn get_search_records_by_pdc(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    required(c.params, "selectColumns")?;
    let column = required(c.params, "searchColumn")?.trim().to_lowercase();
    let value = required(c.params, "searchValue")?.trim().to_lowercase();
    let rp = ReadParams::read(c.params, c.module_name)?;
    let squash = |s: &str| s.to_lowercase().replace([' ', '_'], "");
    let label = if squash(&def.module.id_field()) == column {
        def.module.id_field().into_owned()
    } else if let Some(col) =
        def.fields.iter().filter_map(|f| f.id_column()).find(|c| squash(c) == column)
    {
        col.to_owned()
    } else if let Some(f) = def.fields.iter().find(|f| squash(&f.label) == column) {
        f.label.clone()
    } else {
        return Err(Fail::bad_param("searchColumn"));
    };
    filtered(c, tx, def, &rp, None, &|r| {
        value_of(def, r, &label).is_some_and(|v| v.trim().to_lowercase() == value)
    })
}

/// getCVRecords: the views every org has (`crate::views`: `All <Module>`, `My <Module>`, and
/// for Leads `All Open Leads`); other names → 4600.
pub fn get_cv_records(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let name = required(c.params, "cvName")?.trim().to_owned();
    let rp = ReadParams::read(c.params, c.module_name)?;
    let view = crate::views::by_xml_name(def, &name).ok_or_else(|| Fail::bad_param("cvName"))?;
    let user = c.user.id;
    filtered(c, tx, def, &rp, view.owner(user), &|r| view.keeps(r, user))
}
