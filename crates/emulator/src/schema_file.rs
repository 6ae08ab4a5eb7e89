//! The `--schema` TOML file: custom modules and custom fields.
//!
//! ```toml
//! [[module]]
//! name = "CustomModule1"        # CustomModuleN
//! plural = "Registrations"
//! singular = "Registration"
//! name_field = "Registration Name"   # default "<singular> Name", mandatory Text
//!
//! [[field]]
//! module = "Leads"              # a standard or custom module
//! label = "Legacy Id"
//! type = "Text"                 # a getFields type (docs/protocol.md contract decision 6)
//! required = false
//! max_length = 50
//! picklist = ["A", "B"]         # Pick List / Multi Pick List
//! lookup = "Accounts"           # Lookup: target module
//! id_column = "LEGACYACCOUNTID" # Lookup: the id column (default "<LABEL>_ID")
//! section = "Custom Fields"     # default: a "Custom Fields" section
//! ```

use serde::Deserialize;
use zcrm_protocol::Module;
use zcrm_protocol::field::FieldType;

use crate::schema::{FieldDef, LookupTarget, ModuleDef, Schema};

/// The file's top level.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    #[serde(default)]
    module: Vec<ModuleSpec>,
    #[serde(default)]
    field: Vec<FieldSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleSpec {
    name: String,
    plural: Option<String>,
    singular: Option<String>,
    name_field: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    module: String,
    label: String,
    #[serde(rename = "type", default = "default_type")]
    ty: String,
    #[serde(default)]
    required: bool,
    max_length: Option<u32>,
    #[serde(default)]
    picklist: Vec<String>,
    lookup: Option<String>,
    id_column: Option<String>,
    section: Option<String>,
    display: Option<String>,
}

fn default_type() -> String {
    "Text".to_owned()
}

/// Adds the file's modules and fields to `schema`.
pub fn apply(schema: &mut Schema, file: SchemaFile) -> Result<(), String> {
    for m in file.module {
        let module: Module = m.name.parse().map_err(|e| format!("{e}"))?;
        if !module.is_custom() {
            return Err(format!("module {:?}: only CustomModuleN modules can be declared", m.name));
        }
        let singular = m.singular.unwrap_or_else(|| m.name.clone());
        let plural = m.plural.unwrap_or_else(|| m.name.clone());
        let name_field = m.name_field.unwrap_or_else(|| format!("{} Name", m.name));
        let mut def = ModuleDef {
            module,
            plural,
            singular: singular.clone(),
            sections: vec![format!("{singular} Information")],
            fields: Vec::new(),
            name_field: name_field.clone(),
        };
        let mut owner = FieldDef::new(&format!("{} Owner", m.name), FieldType::OwnerLookup);
        owner.lookup = Some((LookupTarget::User, "SMOWNERID".to_owned()));
        def.fields.push(owner);
        let mut name = FieldDef::new(&name_field, FieldType::Text);
        name.required = true;
        name.max_length = Some(120);
        def.fields.push(name);
        for (label, column) in [("Created By", "SMCREATORID"), ("Modified By", "MODIFIEDBY")] {
            let mut d = FieldDef::new(label, FieldType::OwnerLookup);
            d.lookup = Some((LookupTarget::User, column.to_owned()));
            d.read_only = true;
            d.system = true;
            def.fields.push(d);
        }
        for label in ["Created Time", "Modified Time"] {
            let mut d = FieldDef::new(label, FieldType::DateTime);
            d.read_only = true;
            d.system = true;
            def.fields.push(d);
        }
        schema.modules.insert(m.name, def);
    }
    for spec in file.field {
        let ty = FieldType::parse(&spec.ty);
        if let FieldType::Unknown(t) = &ty {
            return Err(format!("field {:?}: unknown type {t:?}", spec.label));
        }
        let lookup = match (&ty, &spec.lookup) {
            (FieldType::Lookup, Some(target)) => {
                let target: Module =
                    target.parse().map_err(|e| format!("field {:?}: {e}", spec.label))?;
                if !schema.modules.contains_key(target.api_name().as_ref()) {
                    return Err(format!(
                        "field {:?}: lookup module {target} is not served",
                        spec.label
                    ));
                }
                let column = spec.id_column.clone().unwrap_or_else(|| {
                    format!(
                        "{}_ID",
                        spec.label.to_uppercase().replace(|c: char| !c.is_ascii_alphanumeric(), "")
                    )
                });
                Some((LookupTarget::Module(target), column))
            }
            (FieldType::Lookup, None) => {
                return Err(format!("field {:?}: a Lookup needs `lookup`", spec.label));
            }
            _ => None,
        };
        let def = schema
            .modules
            .get_mut(&spec.module)
            .ok_or_else(|| format!("field {:?}: unknown module {:?}", spec.label, spec.module))?;
        if def.field(&spec.label).is_some() {
            return Err(format!("field {:?}: {} already has this field", spec.label, spec.module));
        }
        let section_name = spec.section.clone().unwrap_or_else(|| "Custom Fields".to_owned());
        let section = match def.sections.iter().position(|s| *s == section_name) {
            Some(i) => i,
            None => {
                def.sections.push(section_name);
                def.sections.len() - 1
            }
        };
        let mut d = FieldDef::new(&spec.label, ty);
        d.display = spec.display.unwrap_or_else(|| spec.label.clone());
        d.required = spec.required;
        if spec.max_length.is_some() {
            d.max_length = spec.max_length;
        }
        d.custom = true;
        d.picklist = spec.picklist;
        d.lookup = lookup;
        d.section = section;
        // Keep system fields last: insert before "Created By".
        let at = def.fields.iter().position(|f| f.system).unwrap_or(def.fields.len());
        def.fields.insert(at, d);
    }
    Ok(())
}
