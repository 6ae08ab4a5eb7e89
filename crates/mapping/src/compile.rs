//! Compiling a [`MapSpec`] against a module's metadata and a source header into a [`Mapper`],
//! reporting every problem of the spec at once.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use zcrm_protocol::{FieldMeta, FieldType, Module, ModuleFields};

use crate::coerce::{Input, Picklist, Plan, Target, TemplatePiece};
use crate::template::{self, Piece};
use crate::{FieldSource, MapSpec, PicklistMode, Span, SpecError};
use zcrm_protocol::suggest::did_you_mean;

/// What the mapping needs to know beyond the spec, the metadata and the header.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Insert or upsert: required fields must be mapped and non-empty (not for updates).
    pub require_mandatory: bool,
    /// The step's picklist mode.
    pub picklist: PicklistMode,
    /// The step's key column, and where it is written.
    pub key: Option<(String, Option<Span>)>,
    /// Names of the import steps a `lookup` may refer to.
    pub lookup_steps: Vec<String>,
    /// The source is XLSX: numbers in Date fields are Excel serials.
    pub excel_serials: bool,
}

/// A compiled mapping: turns source rows into field values (see `map_row`).
#[derive(Debug)]
pub struct Mapper {
    pub(crate) plans: Vec<Plan>,
    pub(crate) key: Option<(usize, Arc<str>)>,
    pub(crate) picklist: PicklistMode,
    pub(crate) excel_serials: bool,
}

/// The id columns (`ACCOUNTID`, `SMOWNERID`, ...) a module's lookups accept, with the field
/// each one stands for (docs/protocol.md §4.5).
pub(crate) fn id_columns(fields: &ModuleFields) -> Vec<(String, &FieldMeta)> {
    let mut out = Vec::new();
    for (_, f) in fields.fields() {
        match f.field_type {
            FieldType::OwnerLookup if f.label.ends_with(" Owner") => {
                out.push(("SMOWNERID".to_owned(), f));
            }
            // A note's parent, a record of any module, goes by `SEID` (docs/protocol.md §4.5).
            FieldType::Lookup if is_any_parent(f) => out.push(("SEID".to_owned(), f)),
            FieldType::Lookup => {
                if let Some(m) = f.lookup_module.as_deref().and_then(|m| Module::from_str(m).ok()) {
                    let id = m.id_field().into_owned();
                    if f.label.starts_with("Parent ") {
                        out.push((format!("PARENT{id}"), f));
                    } else {
                        out.push((id, f));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `f` is the parent lookup of a note: a lookup to a record of any module.
pub(crate) fn is_any_parent(f: &FieldMeta) -> bool {
    f.lookup_module.is_none()
        && (f.api_name.as_deref() == Some("Parent_Id") || f.label == "Parent Name")
}

fn err(message: String, hint: Option<String>, span: Option<Span>) -> SpecError {
    SpecError { message, hint, span }
}

fn column_index(
    name: &str,
    headers: &[String],
    span: &Span,
    errors: &mut Vec<SpecError>,
) -> Option<usize> {
    let i = headers.iter().position(|h| h == name);
    if i.is_none() {
        let hint = match did_you_mean(name, headers.iter().map(String::as_str)) {
            Some(s) => format!("did you mean the column `{s}`?"),
            None => format!("the source's columns are: {}", headers.join(", ")),
        };
        errors.push(err(format!("unknown source column `{name}`"), Some(hint), Some(span.clone())));
    }
    i
}

fn target_of(f: &FieldMeta, date_format: Option<&str>) -> Target {
    let fmt = date_format.map(str::to_owned);
    match &f.field_type {
        FieldType::Email => Target::Email,
        FieldType::Phone => Target::Phone,
        FieldType::Website => Target::Url,
        FieldType::Integer => {
            Target::Integer { min: i64::from(i32::MIN), max: i64::from(i32::MAX) }
        }
        FieldType::LongInteger => Target::Integer { min: i64::MIN, max: i64::MAX },
        FieldType::Double | FieldType::Percent | FieldType::Currency => {
            Target::Decimal(f.decimal_places)
        }
        FieldType::Date => Target::Date(fmt),
        FieldType::DateTime => Target::DateTime(fmt),
        FieldType::Boolean => Target::Boolean,
        FieldType::PickList => Target::Pick(Picklist::new(&f.picklist)),
        FieldType::MultiPickList => Target::Multi(Picklist::new(&f.picklist)),
        _ => Target::Text,
    }
}

impl Mapper {
    /// Whether a field is mapped from a user's e-mail or name (`owner = "column"`): the run
    /// reads the org's users first.
    pub fn has_owners(&self) -> bool {
        self.plans.iter().any(|p| p.owner)
    }

    /// Compiles `spec` for a module with `fields`, a source with `headers`; every problem at once.
    pub fn compile(
        spec: &MapSpec,
        fields: &ModuleFields,
        headers: &[String],
        opts: &CompileOptions,
    ) -> Result<Self, Vec<SpecError>> {
        let mut errors = Vec::new();
        let ids = id_columns(fields);
        let mut plans = Vec::new();
        let mut mapped: HashSet<String> = HashSet::new();
        for entry in &spec.entries {
            let name = entry.field.as_str();
            let fspan = Some(entry.field_span.clone());
            let (meta, is_id) = match fields.field(name) {
                Some(f) => (f, false),
                None => match ids.iter().find(|(id, _)| id == name) {
                    Some((_, f)) => (*f, true),
                    None => {
                        // Labels and, where the API names fields too (v8), their API names.
                        let candidates = fields
                            .fields()
                            .flat_map(|(_, f)| {
                                std::iter::once(f.label.as_str()).chain(f.api_name.as_deref())
                            })
                            .chain(ids.iter().map(|(id, _)| id.as_str()));
                        let hint = did_you_mean(name, candidates).map_or_else(
                            || format!("`zcrm fields {}` lists the module's fields", fields.module),
                            |s| format!("did you mean `{s}`?"),
                        );
                        errors.push(err(
                            format!("{} has no field `{name}`", fields.module),
                            Some(hint),
                            fspan,
                        ));
                        continue;
                    }
                },
            };
            if !mapped.insert(if is_id { name.to_owned() } else { meta.label.clone() }) {
                errors.push(err(
                    format!("the field `{name}` is mapped twice"),
                    None,
                    fspan.clone(),
                ));
            }
            if meta.read_only || meta.field_type.is_computed() {
                errors.push(err(
                    format!("`{name}` is read-only ({}): the server ignores it", meta.field_type),
                    Some("remove this line from the map".to_owned()),
                    fspan.clone(),
                ));
                continue;
            }
            let s = &entry.spec;
            if let Some(step) = &s.lookup {
                if !opts.lookup_steps.iter().any(|x| x == step) {
                    let hint = did_you_mean(step, opts.lookup_steps.iter().map(String::as_str))
                        .map_or_else(
                            || {
                                format!(
                                    "lookups refer to an import step with a key; steps: {}",
                                    opts.lookup_steps.join(", ")
                                )
                            },
                            |x| format!("did you mean the step `{x}`?"),
                        );
                    errors.push(err(
                        format!("`{name}` looks up the step `{step}`, which does not exist"),
                        Some(hint),
                        Some(entry.spec_span.clone()),
                    ));
                }
                if !is_id && !meta.field_type.is_id() {
                    errors.push(err(
                        format!(
                            "`{name}` is a {} field; only lookup fields take `lookup`",
                            meta.field_type
                        ),
                        ids.first().map(|(id, _)| format!("map an id column such as `{id}`")),
                        fspan.clone(),
                    ));
                }
            }
            if s.owner && meta.field_type != FieldType::OwnerLookup {
                errors.push(err(
                    format!("`{name}` is a {} field; `owner` maps owner fields", meta.field_type),
                    ids.iter()
                        .find(|(_, f)| f.field_type == FieldType::OwnerLookup)
                        .map(|(_, f)| format!("the module's owner field is `{}`", f.label)),
                    fspan.clone(),
                ));
            }
            if s.date_format.is_some()
                && !matches!(meta.field_type, FieldType::Date | FieldType::DateTime)
            {
                errors.push(err(
                    format!("`date_format` on `{name}`, a {} field", meta.field_type),
                    Some("date_format applies to Date and DateTime fields only".to_owned()),
                    Some(entry.spec_span.clone()),
                ));
            }
            let (input, column): (Input, Option<Arc<str>>) = match &s.source {
                FieldSource::Column(c) => {
                    match column_index(c, headers, &entry.spec_span, &mut errors) {
                        Some(i) => (Input::Column(i), Some(Arc::from(c.as_str()))),
                        None => continue,
                    }
                }
                FieldSource::Value(v) => (Input::Const(v.clone()), None),
                FieldSource::Template(t) => match template::parse(t) {
                    Err(e) => {
                        errors.push(err(
                            format!("template of `{name}`: {e}"),
                            None,
                            Some(entry.spec_span.clone()),
                        ));
                        continue;
                    }
                    Ok(pieces) => {
                        let mut out = Vec::new();
                        let mut cols = Vec::new();
                        let mut ok = true;
                        for p in pieces {
                            match p {
                                Piece::Text(t) => out.push(TemplatePiece::Text(t)),
                                Piece::Column(c) => {
                                    match column_index(&c, headers, &entry.spec_span, &mut errors) {
                                        Some(i) => {
                                            out.push(TemplatePiece::Column(i));
                                            cols.push(c);
                                        }
                                        None => ok = false,
                                    }
                                }
                            }
                        }
                        if !ok {
                            continue;
                        }
                        let col = (!cols.is_empty()).then(|| Arc::from(cols.join(", ").as_str()));
                        (Input::Template(out), col)
                    }
                },
            };
            // An owner by e-mail or name goes out as the owner's id column (`SMOWNERID`).
            // An owner or a lookup to a step's records carries an Id: it is sent under the
            // field's id column (`SMOWNERID`, `ACCOUNTID`), never under a label that names the
            // record, which the XML API reads as the record's *name* (`"Account Name" = {
            // lookup = ... }` sent the account's Id as its name). A label that holds an id
            // itself (a line item's `Product Id`) is kept.
            let names_the_record = !meta.label.to_ascii_lowercase().ends_with(" id");
            let label: Arc<str> = if (s.owner || (s.lookup.is_some() && names_the_record)) && !is_id
            {
                match ids.iter().find(|(_, f)| f.label == meta.label) {
                    Some((id, _)) => Arc::from(id.as_str()),
                    None => Arc::from(name),
                }
            } else {
                Arc::from(name)
            };
            let target = if is_id || (meta.field_type.is_id() && s.lookup.is_some()) {
                Target::Id
            } else {
                target_of(meta, s.date_format.as_deref())
            };
            plans.push(
                Plan {
                    label,
                    column,
                    input,
                    trim: s.trim,
                    case: s.case,
                    values: s.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    default: s.default.clone(),
                    target,
                    required: opts.require_mandatory && meta.required && !is_id,
                    max_length: if is_id { None } else { meta.max_length },
                    lookup: s.lookup.clone(),
                    owner: s.owner,
                    plain: None,
                }
                .with_plain(),
            );
        }
        if opts.require_mandatory {
            for (_, f) in fields.fields() {
                if !f.required
                    || f.read_only
                    || f.field_type.is_computed()
                    || mapped.contains(&f.label)
                {
                    continue;
                }
                // A required lookup is satisfied by its id column.
                if ids.iter().any(|(id, m)| m.label == f.label && mapped.contains(id)) {
                    continue;
                }
                errors.push(err(
                    format!("the required field `{}` of {} is not mapped", f.label, fields.module),
                    Some(format!(
                        "add `\"{}\" = \"<source column>\"` to the map (or use mode = \"update\")",
                        f.label
                    )),
                    None,
                ));
            }
        }
        let key = match &opts.key {
            Some((k, span)) => match headers.iter().position(|h| h == k) {
                Some(i) => Some((i, Arc::from(k.as_str()))),
                None => {
                    let hint = did_you_mean(k, headers.iter().map(String::as_str)).map_or_else(
                        || format!("the source's columns are: {}", headers.join(", ")),
                        |s| format!("did you mean the column `{s}`?"),
                    );
                    errors.push(err(
                        format!("the key column `{k}` is not in the source"),
                        Some(hint),
                        span.clone(),
                    ));
                    None
                }
            },
            None => None,
        };
        if errors.is_empty() {
            Ok(Self { plans, key, picklist: opts.picklist, excel_serials: opts.excel_serials })
        } else {
            Err(errors)
        }
    }

    /// The mapped fields' names, in mapping order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.plans.iter().map(|p| &*p.label)
    }
}
