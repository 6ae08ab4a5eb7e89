//! Module and field definitions the emulator serves: the standard modules (data files read
//! through [`crate::schema_file`], see [`crate::schema_std`]), system fields, and custom fields
//! and modules from a TOML file.

use std::collections::BTreeMap;
use std::path::Path;

use zcrm_protocol::Module;
use zcrm_protocol::field::{FieldMeta, FieldType, ModuleFields, Section};

use crate::error::EmulatorError;

/// What a lookup field points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupTarget {
    /// A record of this module.
    Module(Module),
    /// A user of the org.
    User,
    /// A record of any module (`SEID` with `SEMODULE`).
    Any,
}

/// One field of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// `label`: the name used in `FL val=`.
    pub label: String,
    /// `dv`: the display label.
    pub display: String,
    /// The type.
    pub ty: FieldType,
    /// Mandatory on create.
    pub required: bool,
    /// Read-only (input silently ignored).
    pub read_only: bool,
    /// Maximum length in characters.
    pub max_length: Option<u32>,
    /// Whether the field came from the schema file.
    pub custom: bool,
    /// Picklist options.
    pub picklist: Vec<String>,
    /// For lookups: the target and the id column (`ACCOUNTID`) that carries the id.
    pub lookup: Option<(LookupTarget, String)>,
    /// Index of the section the field is shown in.
    pub section: usize,
    /// Set by the server (Created Time and friends).
    pub system: bool,
    /// Only in `version=1` responses ("Campaign Source" on Leads and Contacts).
    pub legacy_v1: bool,
    /// The REST API's (v8) name of the field (`Last_Name`, `Owner`, `Deal_Name`).
    pub api_name: String,
    /// Unique within the module (the v8 face refuses a second record with the same value).
    pub unique: bool,
}

impl FieldDef {
    /// A plain optional field.
    pub fn new(label: &str, ty: FieldType) -> Self {
        let max_length = default_max_length(&ty);
        Self {
            label: label.to_owned(),
            display: label.to_owned(),
            ty,
            required: false,
            read_only: false,
            max_length,
            custom: false,
            picklist: Vec::new(),
            lookup: None,
            section: 0,
            system: false,
            legacy_v1: false,
            api_name: default_api_name(label),
            unique: false,
        }
    }

    /// The id column of a lookup field.
    pub fn id_column(&self) -> Option<&str> {
        self.lookup.as_ref().map(|(_, c)| c.as_str())
    }

    fn meta(&self) -> FieldMeta {
        let mut m = FieldMeta::new(self.label.clone(), self.ty.clone());
        m.display_label = self.display.clone();
        m.required = self.required;
        m.read_only = self.read_only;
        m.max_length = self.max_length;
        m.custom = self.custom;
        m.picklist = self.picklist.clone();
        if let Some((LookupTarget::Module(module), _)) = &self.lookup {
            m.lookup_module = Some(module.api_name().into_owned());
        }
        if self.ty == FieldType::Currency {
            m.default_format = Some("$0.00".to_owned());
        }
        m.api_name = Some(self.api_name.clone());
        m
    }
}

/// The REST API name Zoho derives from a label: every run of characters other than letters and
/// digits becomes one `_` (`No of Employees` → `No_of_Employees`, `E-mail Opt Out` →
/// `E_mail_Opt_Out`), with none at either end.
pub fn default_api_name(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut gap = false;
    for ch in label.chars() {
        if ch.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(ch);
        } else {
            gap = true;
        }
    }
    out
}

fn default_max_length(ty: &FieldType) -> Option<u32> {
    Some(match ty {
        FieldType::Text | FieldType::Unknown(_) => 255,
        FieldType::TextArea => 32_000,
        FieldType::Email => 100,
        FieldType::Phone => 30,
        FieldType::Website => 120,
        FieldType::Integer => 9,
        FieldType::LongInteger => 18,
        FieldType::Double | FieldType::Percent => 16,
        FieldType::Currency => 16,
        FieldType::Date => 20,
        FieldType::DateTime => 25,
        FieldType::Boolean => 5,
        FieldType::PickList | FieldType::Lookup | FieldType::OwnerLookup => 120,
        FieldType::MultiPickList => 2000,
        FieldType::AutoNumber | FieldType::Formula => 255,
    })
}

/// One module: its names, sections and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDef {
    /// The module.
    pub module: Module,
    /// The plural label users see (`pl` in getModules).
    pub plural: String,
    /// The singular label (`sl`).
    pub singular: String,
    /// Section names in layout order.
    pub sections: Vec<String>,
    /// Fields in layout order.
    pub fields: Vec<FieldDef>,
    /// The field whose value names a record in lookups (`Account Name`).
    pub name_field: String,
    /// The REST API's (v8) name of the module (`Deals` for Potentials; others as the XML API).
    pub api_name: String,
}

impl ModuleDef {
    /// A field by label.
    pub fn field(&self, label: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.label == label)
    }

    /// A field by its REST API name (exact).
    pub fn field_by_api(&self, api_name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.api_name == api_name)
    }

    /// A field by label, or else by display label.
    pub fn field_loose(&self, label: &str) -> Option<&FieldDef> {
        self.field(label).or_else(|| self.fields.iter().find(|f| f.display == label))
    }

    /// The lookup field whose id column is `column`.
    pub fn by_id_column(&self, column: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id_column() == Some(column))
    }

    /// The owner field's label: `<singular> Owner`, `<name> Owner` for a custom module.
    pub fn owner_label(&self) -> String {
        if self.module.is_custom() {
            format!("{} Owner", self.module.api_name())
        } else {
            format!("{} Owner", self.singular)
        }
    }

    /// The field `duplicateCheck` compares on.
    pub fn duplicate_field(&self) -> Option<&str> {
        self.module.duplicate_check_field().filter(|f| self.field(f).is_some())
    }

    /// The getFields answer; `version` 1 keeps legacy fields.
    pub fn fields_meta(
        &self,
        filter: zcrm_protocol::params::FieldsFilter,
        v1: bool,
    ) -> ModuleFields {
        use zcrm_protocol::params::FieldsFilter;
        let mut sections: Vec<Section> = self
            .sections
            .iter()
            .map(|s| Section { name: s.clone(), display_name: s.clone(), fields: Vec::new() })
            .collect();
        for f in &self.fields {
            if f.legacy_v1 && !v1 {
                continue;
            }
            let keep = match filter {
                FieldsFilter::All => true,
                FieldsFilter::Mandatory => f.required,
                FieldsFilter::Summary => f.required || f.section == 0,
            };
            if keep && let Some(s) = sections.get_mut(f.section) {
                s.fields.push(f.meta());
            }
        }
        sections.retain(|s| !s.fields.is_empty());
        ModuleFields { module: self.module.api_name().into_owned(), sections }
    }
}

/// A user of the emulated org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDef {
    /// User id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Profile.
    pub profile: String,
    /// Active or not.
    pub active: bool,
}

/// Every module and user the emulator serves.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Modules by API name.
    pub modules: BTreeMap<String, ModuleDef>,
    /// The org's users; the first is the admin every token acts as.
    pub users: Vec<UserDef>,
}

impl Schema {
    /// The standard modules (the embedded files of [`crate::schema_std`]) and users.
    pub fn standard() -> Result<Self, EmulatorError> {
        use crate::schema_file::{Origin, declare, fill, parse};
        let mut s = Self { modules: BTreeMap::new(), users: crate::schema_std::standard_users() };
        let broken = |file: &'static str| {
            move |reason| EmulatorError::StandardSchema { file: file.to_owned(), reason }
        };
        let mut declared = Vec::new();
        for (file, text) in crate::schema_std::MODULE_FILES {
            let d = parse(text).and_then(|f| declare(&mut s, f, Origin::Standard));
            declared.push((file, d.map_err(broken(file))?));
        }
        for (file, d) in declared {
            fill(&mut s, d).map_err(broken(file))?;
        }
        Ok(s)
    }

    /// The standard schema extended by a TOML schema file.
    pub fn with_file(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|e| EmulatorError::Io {
            what: format!("reading {}", path.display()),
            source: e,
        })?;
        let mut s = Self::standard()?;
        s.extend_toml(&text)
            .map_err(|reason| EmulatorError::Schema { path: path.display().to_string(), reason })?;
        Ok(s)
    }

    /// A module by API name.
    pub fn module(&self, name: &str) -> Option<&ModuleDef> {
        self.modules.get(name)
    }

    /// A user by id.
    pub fn user(&self, id: u64) -> Option<&UserDef> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user tokens act as.
    pub fn admin(&self) -> &UserDef {
        &self.users[0]
    }

    /// Adds the custom modules and fields of a schema file's text.
    pub fn extend_toml(&mut self, text: &str) -> Result<(), String> {
        let file = crate::schema_file::parse(text)?;
        crate::schema_file::apply(self, file, crate::schema_file::Origin::User)
    }
}
