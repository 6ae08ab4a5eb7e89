//! The schema file format: the `--schema` TOML file (custom modules and custom fields) and the
//! standard modules' files embedded in the emulator (`crates/emulator/schema/*.toml`, see
//! [`crate::schema_std`]) go through this one parser.
//!
//! ```toml
//! [[module]]
//! name = "CustomModule1"        # CustomModuleN
//! plural = "Registrations"      # default: the name
//! singular = "Registration"     # default: the name
//! name_field = "Registration Name"   # default "<name> Name", mandatory Text
//!
//! [[field]]
//! module = "Leads"              # a standard or custom module
//! label = "Legacy Id"
//! type = "Text"                 # a getFields type (docs/protocol.md contract decision 6)
//! required = false
//! max_length = 50               # default: by type (Text 255, Email 100, Phone 30 ...)
//! picklist = ["A", "B"]         # Pick List / Multi Pick List, in this order
//! lookup = "Accounts"           # Lookup: target module, or "any" (a record of any module)
//! id_column = "LEGACYACCOUNTID" # Lookup: the id column (default "<LABEL>_ID")
//! section = "Custom Fields"     # default: a "Custom Fields" section
//! display = "Legacy"            # the display label (dv); default: the label
//! read_only = false             # input is ignored, as for system fields
//! v1_only = false               # listed and returned only by version=1 calls
//! api_name = "Legacy_Id"        # the REST (v8) name; default: the label, every run of other
//!                               # characters than letters and digits one `_`
//! unique = false                # the v8 face refuses a second record with the same value
//! ```
//!
//! A `[[module]]` may also set `api_name`, its REST (v8) name (default: `name`).
//!
//! A `[[field]]` is a custom field (`customfield="true"`), placed before the system fields.
//! Every module gets an owner field first (`<singular> Owner`, `<name> Owner` for a custom
//! module; id column `SMOWNERID`) and the system fields last (Created By, Modified By, Created
//! Time, Modified Time). A module without sections gets one, `<singular> Information`, holding
//! its name field (Text, mandatory, 120). A module may instead declare its own layout: sections
//! in order, each with its fields in order (the keys of `[[field]]` without `module` and
//! `section`); these are the module's own fields (`customfield="false"`), and its name field
//! must be one of them. The standard modules are written this way:
//!
//! ```toml
//! [[module]]
//! name = "CustomModule2"
//! name_field = "Title"
//!
//! [[module.section]]
//! name = "Event Information"
//!
//! [[module.section.field]]
//! label = "Title"
//! required = true
//! max_length = 120
//!
//! [[module.section.field]]
//! label = "Related To"
//! type = "Lookup"
//! lookup = "any"
//! id_column = "SEID"
//! ```
//!
//! Lookups may point at any module of the schema, one declared later in the same file
//! included; the standard files are declared together before any of their fields is added.

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
    api_name: Option<String>,
    #[serde(default)]
    section: Vec<SectionSpec>,
}

/// One section of a module's own layout.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionSpec {
    name: String,
    #[serde(default)]
    field: Vec<FieldKeys>,
}

/// A `[[field]]`: a custom field of a module.
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
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    v1_only: bool,
    api_name: Option<String>,
    #[serde(default)]
    unique: bool,
}

/// What declares a field, wherever it is written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldKeys {
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
    display: Option<String>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    v1_only: bool,
    api_name: Option<String>,
    #[serde(default)]
    unique: bool,
}

impl FieldSpec {
    /// The module, the section and the field.
    fn split(self) -> (String, Option<String>, FieldKeys) {
        let keys = FieldKeys {
            label: self.label,
            ty: self.ty,
            required: self.required,
            max_length: self.max_length,
            picklist: self.picklist,
            lookup: self.lookup,
            id_column: self.id_column,
            display: self.display,
            read_only: self.read_only,
            v1_only: self.v1_only,
            api_name: self.api_name,
            unique: self.unique,
        };
        (self.module, self.section, keys)
    }
}

fn default_type() -> String {
    "Text".to_owned()
}

/// Where a schema file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A standard module's file embedded in the emulator: it declares a standard module.
    Standard,
    /// A user's `--schema` file: it declares `CustomModuleN` modules only.
    User,
}

/// A file whose modules are declared and whose fields are still to be added.
#[derive(Debug)]
pub struct Declared {
    /// The declared modules with their own layouts.
    layouts: Vec<(String, Vec<SectionSpec>)>,
    /// The custom fields.
    fields: Vec<FieldSpec>,
}

/// Parses a schema file's text.
pub fn parse(text: &str) -> Result<SchemaFile, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// Adds the file's modules and fields to `schema`.
pub fn apply(schema: &mut Schema, file: SchemaFile, origin: Origin) -> Result<(), String> {
    let declared = declare(schema, file, origin)?;
    fill(schema, declared)
}

/// Adds the file's modules to `schema` with their owner and system fields (and the name
/// field of a module without a layout of its own); [`fill`] adds the other fields.
pub fn declare(schema: &mut Schema, file: SchemaFile, origin: Origin) -> Result<Declared, String> {
    let mut layouts = Vec::new();
    for m in file.module {
        let module: Module = m.name.parse().map_err(|e| format!("{e}"))?;
        let allowed = match origin {
            Origin::Standard => !module.is_custom(),
            Origin::User => module.is_custom(),
        };
        if !allowed {
            return Err(match origin {
                Origin::Standard => format!("module {:?}: not a standard module", m.name),
                Origin::User => {
                    format!("module {:?}: only CustomModuleN modules can be declared", m.name)
                }
            });
        }
        let singular = m.singular.unwrap_or_else(|| module.singular().into_owned());
        let plural = m.plural.unwrap_or_else(|| m.name.clone());
        let name_field = m.name_field.unwrap_or_else(|| format!("{} Name", m.name));
        let mut def = ModuleDef {
            module,
            plural,
            singular,
            sections: Vec::new(),
            fields: Vec::new(),
            name_field: name_field.clone(),
            api_name: m.api_name.unwrap_or_else(|| m.name.clone()),
        };
        let mut owner = FieldDef::new(&def.owner_label(), FieldType::OwnerLookup);
        owner.lookup = Some((LookupTarget::User, "SMOWNERID".to_owned()));
        owner.api_name = "Owner".to_owned();
        def.fields.push(owner);
        if m.section.is_empty() {
            def.sections.push(format!("{} Information", def.singular));
            let mut name = FieldDef::new(&name_field, FieldType::Text);
            name.required = true;
            name.max_length = Some(120);
            def.fields.push(name);
        } else {
            for s in &m.section {
                if def.sections.contains(&s.name) {
                    return Err(format!(
                        "module {:?}: section {:?} is declared twice",
                        m.name, s.name
                    ));
                }
                def.sections.push(s.name.clone());
            }
            layouts.push((m.name.clone(), m.section));
        }
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
    Ok(Declared { layouts, fields: file.field })
}

/// Adds the fields of declared modules' layouts, then the custom fields.
pub fn fill(schema: &mut Schema, declared: Declared) -> Result<(), String> {
    for (module, sections) in declared.layouts {
        for (section, spec) in sections.into_iter().enumerate() {
            for keys in spec.field {
                let mut d = field(schema, keys)?;
                d.section = section;
                insert(schema, &module, d)?;
            }
        }
        let def = schema.module(&module).ok_or_else(|| format!("module {module:?} is gone"))?;
        if def.field(&def.name_field).is_none() {
            return Err(format!(
                "module {module:?}: name field {:?} is not one of its fields",
                def.name_field
            ));
        }
    }
    for spec in declared.fields {
        let (module, section, keys) = spec.split();
        let mut d = field(schema, keys)?;
        d.custom = true;
        let def = module_mut(schema, &module, &d)?;
        let section_name = section.unwrap_or_else(|| "Custom Fields".to_owned());
        d.section = match def.sections.iter().position(|s| *s == section_name) {
            Some(i) => i,
            None => {
                def.sections.push(section_name);
                def.sections.len() - 1
            }
        };
        insert(schema, &module, d)?;
    }
    Ok(())
}

/// A field from its keys (section 0, not custom).
fn field(schema: &Schema, spec: FieldKeys) -> Result<FieldDef, String> {
    let ty = FieldType::parse(&spec.ty);
    if let FieldType::Unknown(t) = &ty {
        return Err(format!("field {:?}: unknown type {t:?}", spec.label));
    }
    let lookup = match (&ty, &spec.lookup) {
        (FieldType::Lookup, Some(target)) => {
            let target = if target == "any" {
                LookupTarget::Any
            } else {
                let module: Module =
                    target.parse().map_err(|e| format!("field {:?}: {e}", spec.label))?;
                if !schema.modules.contains_key(module.api_name().as_ref()) {
                    return Err(format!(
                        "field {:?}: lookup module {module} is not served",
                        spec.label
                    ));
                }
                LookupTarget::Module(module)
            };
            let column = spec.id_column.clone().unwrap_or_else(|| {
                format!(
                    "{}_ID",
                    spec.label.to_uppercase().replace(|c: char| !c.is_ascii_alphanumeric(), "")
                )
            });
            Some((target, column))
        }
        (FieldType::Lookup, None) => {
            return Err(format!("field {:?}: a Lookup needs `lookup`", spec.label));
        }
        _ => None,
    };
    let mut d = FieldDef::new(&spec.label, ty);
    d.display = spec.display.unwrap_or_else(|| spec.label.clone());
    d.required = spec.required;
    if spec.max_length.is_some() {
        d.max_length = spec.max_length;
    }
    d.picklist = spec.picklist;
    d.lookup = lookup;
    d.read_only = spec.read_only;
    d.legacy_v1 = spec.v1_only;
    if let Some(api_name) = spec.api_name {
        d.api_name = api_name;
    }
    d.unique = spec.unique;
    Ok(d)
}

/// The module `d` goes to, which must not have a field of that label yet.
fn module_mut<'a>(
    schema: &'a mut Schema,
    module: &str,
    d: &FieldDef,
) -> Result<&'a mut ModuleDef, String> {
    let def = schema
        .modules
        .get_mut(module)
        .ok_or_else(|| format!("field {:?}: unknown module {module:?}", d.label))?;
    if def.field(&d.label).is_some() {
        return Err(format!("field {:?}: {module} already has this field", d.label));
    }
    if let Some(other) = def.field_by_api(&d.api_name) {
        return Err(format!(
            "field {:?}: api_name {:?} is already the name of {:?}",
            d.label, d.api_name, other.label
        ));
    }
    Ok(def)
}

/// Adds `d` to `module` before its system fields; a label may be declared once.
fn insert(schema: &mut Schema, module: &str, d: FieldDef) -> Result<(), String> {
    let def = module_mut(schema, module, &d)?;
    let at = def.fields.iter().position(|f| f.system).unwrap_or(def.fields.len());
    def.fields.insert(at, d);
    Ok(())
}
