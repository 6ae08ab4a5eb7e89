//! Records to response rows: the id column first, then fields in layout order; ids bare,
//! everything else CDATA; newFormat=1 omits nulls, newFormat=2 writes `null`; version=1 keeps
//! the legacy "Campaign Source" of Leads and Contacts. A Boolean (checkbox) field never set
//! reads back `false`, as Zoho answers (docs/protocol.md §3.1), in both formats.

use std::collections::{HashMap, HashSet};

use zcrm_protocol::field::FieldType;
use zcrm_protocol::params::{ApiVersion, NewFormat, SelectColumns};
use zcrm_protocol::response::records::{OutField, encode_records_page};
use zcrm_protocol::xmldata::PRODUCT_DETAILS;

use super::{Call, Fail, Reply, line_items};
use crate::schema::ModuleDef;
use crate::store::records::Rec;

/// How rows are shaped for one call.
pub struct Shape<'a> {
    def: &'a ModuleDef,
    allowed: Option<HashSet<&'a str>>,
    /// Labels laid out after `Product Details`: line items are written before the first of them.
    after_items: HashSet<&'a str>,
    /// Boolean fields with their layout position: where unset they read back `false`.
    booleans: Vec<(usize, &'a str)>,
    /// Layout position of every label and id column.
    position: HashMap<&'a str, usize>,
    nulls: bool,
    legacy: bool,
}

/// What an unset Boolean field reads back as.
pub const UNSET_BOOLEAN: &str = "false";

/// A record's value of `label` as reads answer it: the stored text, or `false` for a Boolean
/// field that was never set.
pub fn value_of<'r>(def: &ModuleDef, rec: &'r Rec, label: &str) -> Option<&'r str> {
    rec.get(label)
        .or_else(|| def.field(label).filter(|f| f.ty == FieldType::Boolean).map(|_| UNSET_BOOLEAN))
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
        let after_items = def
            .fields
            .iter()
            .filter(|_| def.module.has_line_items())
            .skip_while(|f| f.label != PRODUCT_DETAILS)
            .skip(1)
            .flat_map(|f| f.id_column().into_iter().chain(std::iter::once(f.label.as_str())))
            .collect();
        let booleans = def
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.ty == FieldType::Boolean)
            .map(|(i, f)| (i, f.label.as_str()))
            .collect();
        let position = def
            .fields
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                f.id_column()
                    .into_iter()
                    .chain(std::iter::once(f.label.as_str()))
                    .map(move |l| (l, i))
            })
            .collect();
        Self {
            def,
            allowed,
            after_items,
            booleans,
            position,
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

    /// One record's response fields, borrowing from the record; `id` is its id as text and
    /// `items` its line items as response fields (empty for none).
    pub fn fields<'r>(
        &'r self,
        rec: &'r Rec,
        id_label: &'r str,
        id: &'r str,
        items: &'r [Vec<OutField<'r>>],
    ) -> Vec<OutField<'r>> {
        let mut out = Vec::with_capacity(rec.fields.len() + 2);
        out.push(OutField::text(id_label, Some(id), true));
        let with_items = !items.is_empty() && self.keep(PRODUCT_DETAILS);
        if !self.nulls {
            let mut pending = with_items;
            // Unset Booleans, written where the layout places them.
            let mut unset = self.booleans.iter().filter(|(_, l)| rec.get(l).is_none()).peekable();
            for (k, v) in &rec.fields {
                if unset.peek().is_some() {
                    let at = self.position.get(k.as_str()).copied().unwrap_or(usize::MAX);
                    while let Some((_, l)) = unset.next_if(|(p, _)| *p < at) {
                        self.push_unset(&mut out, l, &mut pending, items);
                    }
                }
                if pending && self.after_items.contains(k.as_str()) {
                    out.push(OutField::line_items(PRODUCT_DETAILS, items));
                    pending = false;
                }
                if !(with_items && k == PRODUCT_DETAILS) && self.keep(k) {
                    out.push(OutField::text(k, Some(v), is_id_label(k)));
                }
            }
            for (_, l) in unset {
                self.push_unset(&mut out, l, &mut pending, items);
            }
            if pending {
                out.push(OutField::line_items(PRODUCT_DETAILS, items));
            }
            return out;
        }
        let values: HashMap<&str, &str> =
            rec.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for f in &self.def.fields {
            if f.label == PRODUCT_DETAILS && with_items {
                out.push(OutField::line_items(PRODUCT_DETAILS, items));
                continue;
            }
            let col = f.id_column();
            for l in col.into_iter().chain(std::iter::once(f.label.as_str())) {
                if self.keep(l) {
                    let value = values.get(l).copied().or_else(|| {
                        (f.ty == FieldType::Boolean && l == f.label).then_some(UNSET_BOOLEAN)
                    });
                    out.push(OutField::text(l, value, is_id_label(l)));
                }
            }
        }
        out
    }

    /// Writes an unset Boolean `label` as `false` (line items first when it comes after them).
    fn push_unset<'r>(
        &'r self,
        out: &mut Vec<OutField<'r>>,
        label: &'r str,
        pending: &mut bool,
        items: &'r [Vec<OutField<'r>>],
    ) {
        if !self.keep(label) {
            return;
        }
        if *pending && self.after_items.contains(label) {
            out.push(OutField::line_items(PRODUCT_DETAILS, items));
            *pending = false;
        }
        out.push(OutField::text(label, Some(UNSET_BOOLEAN), false));
    }
}

/// Encodes a page of records (nodata when empty).
pub fn page(c: &Call<'_>, shape: &Shape<'_>, recs: &[&Rec]) -> Result<Reply, Fail> {
    let def = shape.def;
    let id_label = def.module.id_field();
    let ids: Vec<String> = recs.iter().map(|r| r.id.to_string()).collect();
    let items: Vec<Vec<Vec<OutField<'_>>>> =
        recs.iter().map(|r| r.line_items.iter().map(line_items::out_fields).collect()).collect();
    let rows: Vec<Vec<OutField<'_>>> = recs
        .iter()
        .zip(&ids)
        .zip(&items)
        .map(|((r, id), items)| shape.fields(r, &id_label, id, items))
        .collect();
    encode_records_page(c.uri, &def.module.api_name(), &rows)
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}
