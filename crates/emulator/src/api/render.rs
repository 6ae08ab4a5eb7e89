//! Records to response rows: the id column first, then fields in layout order; ids bare,
//! everything else CDATA; newFormat=1 omits nulls, newFormat=2 writes `null`; version=1 keeps
//! the legacy "Campaign Source" of Leads and Contacts.

use std::collections::{HashMap, HashSet};

use zcrm_protocol::params::{ApiVersion, NewFormat, SelectColumns};
use zcrm_protocol::response::records::{OutField, encode_records_page};

use super::{Call, Fail, Reply};
use crate::schema::ModuleDef;
use crate::store::records::Rec;

/// How rows are shaped for one call.
pub struct Shape<'a> {
    def: &'a ModuleDef,
    allowed: Option<HashSet<&'a str>>,
    nulls: bool,
    legacy: bool,
}

/// Whether a label is an id column (bare text): upper-case, ending in `ID`, or `MODIFIEDBY`.
pub fn is_id_label(label: &str) -> bool {
    !label.bytes().any(|b| b.is_ascii_lowercase() || b == b' ')
        && (label.ends_with("ID") || label == "MODIFIEDBY")
}

impl<'a> Shape<'a> {
    /// The shape of `select`, `new_format` and `version` for `def`.
    pub fn new(
        def: &'a ModuleDef,
        select: &'a SelectColumns,
        new_format: NewFormat,
        version: ApiVersion,
    ) -> Self {
        let allowed = match select {
            SelectColumns::All => None,
            SelectColumns::Fields { fields, .. } => {
                let mut set: HashSet<&str> = fields.iter().map(String::as_str).collect();
                for f in &def.fields {
                    if let Some(col) = f.id_column()
                        && (set.contains(f.label.as_str()) || set.contains(col))
                    {
                        set.insert(col);
                        set.insert(f.label.as_str());
                    }
                }
                Some(set)
            }
        };
        Self {
            def,
            allowed,
            nulls: new_format == NewFormat::WithNulls,
            legacy: version == ApiVersion::V1,
        }
    }

    fn keep(&self, label: &str) -> bool {
        if !self.legacy && self.def.field(label).is_some_and(|f| f.legacy_v1) {
            return false;
        }
        self.allowed.as_ref().is_none_or(|a| a.contains(label))
    }

    /// One record's response fields, borrowing from the record; `id` is its id as text.
    pub fn fields<'r>(&'r self, rec: &'r Rec, id_label: &'r str, id: &'r str) -> Vec<OutField<'r>> {
        let mut out = Vec::with_capacity(rec.fields.len() + 1);
        out.push(OutField::text(id_label, Some(id), true));
        if !self.nulls {
            for (k, v) in &rec.fields {
                if self.keep(k) {
                    out.push(OutField::text(k, Some(v), is_id_label(k)));
                }
            }
            return out;
        }
        let values: HashMap<&str, &str> =
            rec.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for f in &self.def.fields {
            let col = f.id_column();
            for l in col.into_iter().chain(std::iter::once(f.label.as_str())) {
                if self.keep(l) {
                    out.push(OutField::text(l, values.get(l).copied(), is_id_label(l)));
                }
            }
        }
        out
    }
}

/// Encodes a page of records (nodata when empty).
pub fn page(c: &Call<'_>, shape: &Shape<'_>, recs: &[&Rec]) -> Result<Reply, Fail> {
    let def = shape.def;
    let id_label = def.module.id_field();
    let ids: Vec<String> = recs.iter().map(|r| r.id.to_string()).collect();
    let rows: Vec<Vec<OutField<'_>>> =
        recs.iter().zip(&ids).map(|(r, id)| shape.fields(r, &id_label, id)).collect();
    encode_records_page(c.uri, &def.module.api_name(), &rows)
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}
