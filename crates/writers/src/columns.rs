//! The export's columns: the record id first, then the module's fields (or the selected ones),
//! each with the typed kind its `getFields` type asks for.

use zcrm_protocol::{FieldType, ModuleFields};

use crate::ExportError;

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Record and user ids (`LEADID`, `SMOWNERID`, `ACCOUNTID`): Int64 (Zoho ids fit in 63 bits;
    /// an id that does not stops a Parquet export), which every Parquet reader takes as an integer.
    Id,
    /// Text of any kind: Utf8.
    Text,
    /// Integer and Long Integer: Int64.
    Integer,
    /// Double, Percent, Currency: Decimal128(38, scale), never a float.
    Decimal {
        /// Digits after the point.
        scale: i8,
    },
    /// Boolean.
    Boolean,
    /// Date: Date32.
    Date,
    /// DateTime: a timestamp in microseconds, adjusted to UTC, with the org's time zone recorded.
    DateTime,
    /// Multi-select picklist: List<Utf8>.
    MultiSelect,
}

impl ColumnKind {
    /// The kind for a field type.
    pub fn of(t: &FieldType) -> Self {
        match t {
            FieldType::Integer | FieldType::LongInteger => Self::Integer,
            FieldType::Currency | FieldType::Percent => Self::Decimal { scale: 2 },
            FieldType::Double => Self::Decimal { scale: 9 },
            FieldType::Boolean => Self::Boolean,
            FieldType::Date => Self::Date,
            FieldType::DateTime => Self::DateTime,
            FieldType::MultiPickList => Self::MultiSelect,
            _ => Self::Text,
        }
    }
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportColumn {
    /// The field label (the column name).
    pub label: String,
    /// How values are stored.
    pub kind: ColumnKind,
    /// Few distinct values (picklists, owners, lookup names): dictionary-encode in Parquet.
    pub repetitive: bool,
}

impl ExportColumn {
    fn of(label: &str, t: &FieldType) -> Self {
        let repetitive = matches!(
            t,
            FieldType::PickList
                | FieldType::MultiPickList
                | FieldType::Lookup
                | FieldType::OwnerLookup
        );
        Self { label: label.to_owned(), kind: ColumnKind::of(t), repetitive }
    }

    fn id(label: &str) -> Self {
        Self { label: label.to_owned(), kind: ColumnKind::Id, repetitive: false }
    }
}

/// Whether a label is an id column (`LEADID`, `SMOWNERID`, `MODIFIEDBY`, `CUSTOMMODULE1_ID`).
pub fn is_id_label(label: &str) -> bool {
    let upper = !label.is_empty()
        && label.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    upper && (label.ends_with("ID") || label == "MODIFIEDBY")
}

/// The columns of an export of `fields`' module, in layout order with the id first;
/// `select` keeps only the named labels (in the given order), failing on unknown names.
pub fn plan(
    id_field: &str,
    fields: &ModuleFields,
    select: Option<&[String]>,
) -> Result<Vec<ExportColumn>, ExportError> {
    let mut cols = vec![ExportColumn::id(id_field)];
    match select {
        None => {
            for (_, f) in fields.fields() {
                if f.label != id_field && !cols.iter().any(|c| c.label == f.label) {
                    cols.push(ExportColumn::of(&f.label, &f.field_type));
                }
            }
        }
        Some(names) => {
            let mut unknown = Vec::new();
            for name in names {
                if name == id_field {
                    continue;
                }
                match fields.field(name) {
                    Some(f) => cols.push(ExportColumn::of(&f.label, &f.field_type)),
                    None if is_id_label(name) => cols.push(ExportColumn::id(name)),
                    None => unknown.push(name.clone()),
                }
            }
            if !unknown.is_empty() {
                let labels: Vec<&str> = fields.fields().map(|(_, f)| f.label.as_str()).collect();
                let named: Vec<String> = unknown
                    .iter()
                    .map(|u| {
                        match zcrm_protocol::suggest::did_you_mean(u, labels.iter().copied()) {
                            Some(s) => format!("{u:?} (did you mean {s:?}?)"),
                            None => format!("{u:?}"),
                        }
                    })
                    .collect();
                return Err(ExportError::Usage(format!(
                    "unknown column(s) for {}: {} (see `zcrm fields {}`)",
                    fields.module,
                    named.join(", "),
                    fields.module
                )));
            }
        }
    }
    Ok(cols)
}

/// Adds id columns seen in the data but absent from the metadata (SMOWNERID, lookups' ids).
pub fn add_seen_ids<'a>(cols: &mut Vec<ExportColumn>, labels: impl IntoIterator<Item = &'a str>) {
    for l in labels {
        if is_id_label(l) && !cols.iter().any(|c| c.label == l) {
            cols.push(ExportColumn::id(l));
        }
    }
}
