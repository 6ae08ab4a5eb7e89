//! `GET /crm/v8/settings/fields?module=`: the REST API's field metadata mapped onto the field
//! model the mapping stage uses ([`ModuleFields`], by label), and the [`Schema`] that resolves
//! the names zcrm's stages use (labels, `api_name`s, the XML API's id columns) to `api_name`s.

use std::collections::HashMap;

use zcrm_protocol::{FieldMeta, FieldType, ModuleFields, Section};

use crate::rest::names;

/// The v8 `data_type` as the field model's type (CD-3: `double` and `decimal` are Double;
/// `bigint` is Long Integer; `userlookup` reads like an owner; `rollup_summary` like a formula).
pub fn field_type(data_type: &str) -> FieldType {
    match data_type {
        "text" => FieldType::Text,
        "textarea" => FieldType::TextArea,
        "email" => FieldType::Email,
        "phone" => FieldType::Phone,
        "website" => FieldType::Website,
        "picklist" => FieldType::PickList,
        "multiselectpicklist" => FieldType::MultiPickList,
        "integer" => FieldType::Integer,
        "bigint" | "long" => FieldType::LongInteger,
        "double" | "decimal" => FieldType::Double,
        "currency" => FieldType::Currency,
        "percent" => FieldType::Percent,
        "boolean" => FieldType::Boolean,
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "lookup" => FieldType::Lookup,
        "ownerlookup" | "userlookup" => FieldType::OwnerLookup,
        "autonumber" => FieldType::AutoNumber,
        "formula" | "rollup_summary" => FieldType::Formula,
        other => FieldType::Unknown(other.to_owned()),
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    fields: Vec<RawField>,
}

#[derive(serde::Deserialize)]
struct RawField {
    api_name: String,
    field_label: Option<String>,
    display_label: Option<String>,
    data_type: Option<String>,
    length: Option<u32>,
    decimal_place: Option<u8>,
    system_mandatory: Option<bool>,
    read_only: Option<bool>,
    field_read_only: Option<bool>,
    custom_field: Option<bool>,
    #[serde(default)]
    pick_list_values: Option<Vec<RawPick>>,
    lookup: Option<RawLookup>,
}

#[derive(serde::Deserialize)]
struct RawPick {
    display_value: Option<String>,
    actual_value: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawLookup {
    module: Option<RawModule>,
}

#[derive(serde::Deserialize)]
struct RawModule {
    api_name: Option<String>,
}

/// Whether the type's `length` limits characters (for numbers and dates it counts digits or
/// is meaningless, and the mapping would count the text's characters).
fn length_is_chars(t: &FieldType) -> bool {
    matches!(
        t,
        FieldType::Text
            | FieldType::TextArea
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Website
            | FieldType::PickList
            | FieldType::Integer
            | FieldType::LongInteger
    )
}

/// Decodes a `settings/fields` answer for `module` (the XML API's name: `Potentials`, not
/// `Deals`). Every field lands in one section, `Fields`.
pub fn decode_fields(module: &str, body: &[u8]) -> Result<ModuleFields, serde_json::Error> {
    let answer: Answer = if body.iter().all(u8::is_ascii_whitespace) {
        Answer { fields: Vec::new() }
    } else {
        serde_json::from_slice(body)?
    };
    let fields = answer
        .fields
        .into_iter()
        .map(|r| {
            let data_type = r.data_type.unwrap_or_default();
            let field_type = field_type(&data_type);
            let label = r.field_label.unwrap_or_else(|| r.api_name.clone());
            let max_length = r.length.filter(|_| length_is_chars(&field_type));
            FieldMeta {
                display_label: r.display_label.unwrap_or_else(|| label.clone()),
                read_only: r.read_only.unwrap_or(false)
                    || r.field_read_only.unwrap_or(false)
                    || field_type.is_computed(),
                required: r.system_mandatory.unwrap_or(false),
                max_length,
                custom: r.custom_field.unwrap_or(false),
                picklist: r
                    .pick_list_values
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| p.display_value.or(p.actual_value))
                    .collect(),
                lookup_module: r
                    .lookup
                    .and_then(|l| l.module)
                    .and_then(|m| m.api_name)
                    .map(|m| names::legacy_module(&m).to_owned()),
                default_format: None,
                // Only number fields keep decimals (CD-3).
                decimal_places: r.decimal_place.filter(|_| {
                    matches!(
                        field_type,
                        FieldType::Double | FieldType::Percent | FieldType::Currency
                    )
                }),
                api_name: Some(r.api_name),
                label,
                field_type,
            }
        })
        .collect();
    Ok(ModuleFields {
        module: module.to_owned(),
        sections: vec![Section { name: "Fields".into(), display_name: "Fields".into(), fields }],
    })
}

/// A field as the payload and the pages need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The REST API's name.
    pub api_name: String,
    /// The label (the column name in pages, the name the mapping uses).
    pub label: String,
    /// The type.
    pub field_type: FieldType,
    /// The XML API's id column of a lookup or owner (`ACCOUNTID`, `SMOWNERID`).
    pub id_column: Option<String>,
}

/// What a name the stages use stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved<'s> {
    /// The record's own id (`Id`, or the module's id column such as `LEADID`).
    RecordId,
    /// A field, by label, `api_name` or display label.
    Field(&'s Target),
    /// The id column of a lookup or owner field (`ACCOUNTID` → `Account_Name`).
    IdColumn(&'s Target),
}

/// One module's fields with every name the stages may use for them.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The metadata (the XML API's module name).
    pub fields: ModuleFields,
    /// The module's REST API name (`Deals`).
    pub v8_module: String,
    /// The XML API's record-id column (`LEADID`).
    pub id_label: String,
    targets: Vec<Target>,
    by_name: HashMap<String, (usize, bool)>,
    by_api: HashMap<String, usize>,
}

impl Schema {
    /// The schema of `fields` (the metadata of [`decode_fields`]).
    pub fn new(fields: ModuleFields) -> Self {
        let targets: Vec<Target> = fields
            .fields()
            .map(|(_, f)| Target {
                api_name: f.api_name.clone().unwrap_or_else(|| f.label.clone()),
                label: f.label.clone(),
                field_type: f.field_type.clone(),
                id_column: names::id_column(f),
            })
            .collect();
        let mut by_name = HashMap::new();
        let mut by_api = HashMap::new();
        // Precedence: labels, then api_names, then id columns, then display labels.
        for (i, t) in targets.iter().enumerate() {
            by_name.entry(t.label.clone()).or_insert((i, false));
        }
        for (i, t) in targets.iter().enumerate() {
            by_api.entry(t.api_name.clone()).or_insert(i);
            by_name.entry(t.api_name.clone()).or_insert((i, false));
        }
        for (i, t) in targets.iter().enumerate() {
            if let Some(c) = &t.id_column {
                by_name.entry(c.clone()).or_insert((i, true));
            }
        }
        for (i, (_, f)) in fields.fields().enumerate() {
            by_name.entry(f.display_label.clone()).or_insert((i, false));
        }
        Self {
            v8_module: names::v8_module(&fields.module).to_owned(),
            id_label: names::id_label(&fields.module),
            fields,
            targets,
            by_name,
            by_api,
        }
    }

    /// What `name` stands for, if anything.
    pub fn resolve(&self, name: &str) -> Option<Resolved<'_>> {
        if name == "Id" || name == "id" || name == self.id_label {
            return Some(Resolved::RecordId);
        }
        let (i, id) = *self.by_name.get(name)?;
        let t = &self.targets[i];
        Some(if id { Resolved::IdColumn(t) } else { Resolved::Field(t) })
    }

    /// The field with REST API name `api_name`.
    pub fn by_api_name(&self, api_name: &str) -> Option<&Target> {
        self.by_api.get(api_name).map(|i| &self.targets[*i])
    }

    /// Every field.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    pub(crate) const LEADS: &str = r#"{"fields":[
      {"api_name":"Owner","field_label":"Lead Owner","data_type":"ownerlookup","system_mandatory":false,"read_only":false,"lookup":{}},
      {"api_name":"Last_Name","field_label":"Last Name","display_label":"Last Name","data_type":"text","length":80,"system_mandatory":true},
      {"api_name":"Email","field_label":"Email","data_type":"email","length":100},
      {"api_name":"Annual_Revenue","field_label":"Annual Revenue","data_type":"currency","length":16,"decimal_place":2},
      {"api_name":"Rating","field_label":"Rating","data_type":"double","length":16,"decimal_place":2},
      {"api_name":"Score","field_label":"Score","data_type":"decimal"},
      {"api_name":"No_of_Employees","field_label":"No of Employees","data_type":"integer","length":9},
      {"api_name":"EAN","field_label":"EAN","data_type":"bigint","length":18},
      {"api_name":"Email_Opt_Out","field_label":"Email Opt Out","data_type":"boolean","length":5},
      {"api_name":"Birthday","field_label":"Birthday","data_type":"date"},
      {"api_name":"Created_Time","field_label":"Created Time","data_type":"datetime","read_only":true},
      {"api_name":"Created_By","field_label":"Created By","data_type":"ownerlookup","field_read_only":true},
      {"api_name":"Lead_Source","field_label":"Lead Source","data_type":"picklist","pick_list_values":[{"display_value":"Web","actual_value":"Web"},{"display_value":"Trade Show","actual_value":"Trade_Show"}]},
      {"api_name":"Courses","field_label":"Courses","data_type":"multiselectpicklist","pick_list_values":[]},
      {"api_name":"Account_Name","field_label":"Account Name","data_type":"lookup","lookup":{"module":{"api_name":"Accounts","id":"1"}}},
      {"api_name":"Deal","field_label":"Deal","data_type":"lookup","lookup":{"module":{"api_name":"Deals"}}},
      {"api_name":"Lead_No","field_label":"Lead No","data_type":"autonumber"},
      {"api_name":"Sub","field_label":"Sub","data_type":"subform"}
    ]}"#;

    pub(crate) fn leads() -> Schema {
        Schema::new(decode_fields("Leads", LEADS.as_bytes()).unwrap())
    }

    #[test]
    fn data_types_map_onto_the_field_model() {
        let s = leads();
        let f = |n: &str| s.fields.field(n).unwrap().clone();
        assert_eq!(f("Lead Owner").field_type, FieldType::OwnerLookup);
        let last = f("Last Name");
        assert!(last.required);
        assert_eq!(last.max_length, Some(80));
        assert_eq!(last.api_name.as_deref(), Some("Last_Name"));
        assert_eq!(f("Annual Revenue").field_type, FieldType::Currency);
        assert_eq!(f("Annual Revenue").max_length, None, "16 digits, not characters");
        assert_eq!(f("Rating").field_type, FieldType::Double);
        assert_eq!(f("Score").field_type, FieldType::Double, "CD-3: decimal is accepted too");
        assert_eq!(f("No of Employees").field_type, FieldType::Integer);
        assert_eq!(f("EAN").field_type, FieldType::LongInteger);
        assert_eq!(f("Email Opt Out").field_type, FieldType::Boolean);
        assert_eq!(f("Birthday").field_type, FieldType::Date);
        assert!(f("Created Time").read_only);
        assert!(f("Created By").read_only);
        assert_eq!(f("Lead Source").picklist, ["Web", "Trade Show"]);
        assert_eq!(f("Courses").field_type, FieldType::MultiPickList);
        assert_eq!(f("Account Name").lookup_module.as_deref(), Some("Accounts"));
        assert_eq!(f("Deal").lookup_module.as_deref(), Some("Potentials"));
        assert!(f("Lead No").read_only);
        assert_eq!(f("Sub").field_type, FieldType::Unknown("subform".into()));
        assert_eq!(s.fields.field("Last_Name").unwrap().label, "Last Name");
    }

    #[test]
    fn labels_api_names_and_id_columns_resolve() {
        let s = leads();
        let api = |n: &str| match s.resolve(n) {
            Some(Resolved::Field(t)) => format!("field {}", t.api_name),
            Some(Resolved::IdColumn(t)) => format!("id {}", t.api_name),
            Some(Resolved::RecordId) => "record".into(),
            None => "none".into(),
        };
        assert_eq!(api("Last Name"), "field Last_Name");
        assert_eq!(api("Last_Name"), "field Last_Name");
        assert_eq!(api("ACCOUNTID"), "id Account_Name");
        assert_eq!(api("SMOWNERID"), "id Owner");
        assert_eq!(api("POTENTIALID"), "id Deal");
        assert_eq!(api("LEADID"), "record");
        assert_eq!(api("Id"), "record");
        assert_eq!(api("Nope"), "none");
        assert_eq!(s.v8_module, "Leads");
        assert_eq!(Schema::new(decode_fields("Potentials", b"{}").unwrap()).v8_module, "Deals");
    }
}
