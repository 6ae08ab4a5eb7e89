//! Field metadata as `getFields` reports it: sections, labels, types and constraints.

use std::fmt;

/// The field types of `getFields` `type=` (docs/protocol.md contract decision 6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum FieldType {
    /// `Text`.
    Text,
    /// `TextArea`.
    TextArea,
    /// `Email`.
    Email,
    /// `Phone`.
    Phone,
    /// `Website`.
    Website,
    /// `Integer`.
    Integer,
    /// `Long Integer`.
    LongInteger,
    /// `Double`.
    Double,
    /// `Percent`.
    Percent,
    /// `Currency`.
    Currency,
    /// `Date`.
    Date,
    /// `DateTime`.
    DateTime,
    /// `Boolean`.
    Boolean,
    /// `Pick List`.
    PickList,
    /// `Multi Pick List`.
    MultiPickList,
    /// `Lookup`: the id of a record in another module.
    Lookup,
    /// `OwnerLookup`: the id of a user.
    OwnerLookup,
    /// `Auto Number` (server-assigned, read-only).
    AutoNumber,
    /// `Formula` (computed, read-only).
    Formula,
    /// A type string outside the table: treated as text, never as a failure.
    Unknown(String),
}

impl FieldType {
    /// Parses the `type=` attribute; unknown strings become [`FieldType::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "Text" => Self::Text,
            "TextArea" => Self::TextArea,
            "Email" => Self::Email,
            "Phone" => Self::Phone,
            "Website" => Self::Website,
            "Integer" => Self::Integer,
            "Long Integer" => Self::LongInteger,
            "Double" => Self::Double,
            "Percent" => Self::Percent,
            "Currency" => Self::Currency,
            "Date" => Self::Date,
            "DateTime" => Self::DateTime,
            "Boolean" => Self::Boolean,
            "Pick List" => Self::PickList,
            "Multi Pick List" => Self::MultiPickList,
            "Lookup" => Self::Lookup,
            "OwnerLookup" => Self::OwnerLookup,
            "Auto Number" => Self::AutoNumber,
            "Formula" => Self::Formula,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The `type=` string the API writes.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text => "Text",
            Self::TextArea => "TextArea",
            Self::Email => "Email",
            Self::Phone => "Phone",
            Self::Website => "Website",
            Self::Integer => "Integer",
            Self::LongInteger => "Long Integer",
            Self::Double => "Double",
            Self::Percent => "Percent",
            Self::Currency => "Currency",
            Self::Date => "Date",
            Self::DateTime => "DateTime",
            Self::Boolean => "Boolean",
            Self::PickList => "Pick List",
            Self::MultiPickList => "Multi Pick List",
            Self::Lookup => "Lookup",
            Self::OwnerLookup => "OwnerLookup",
            Self::AutoNumber => "Auto Number",
            Self::Formula => "Formula",
            Self::Unknown(s) => s,
        }
    }

    /// Every known type, in the order of contract decision 6.
    pub const KNOWN: [FieldType; 19] = [
        Self::Text,
        Self::TextArea,
        Self::Email,
        Self::Phone,
        Self::Website,
        Self::Integer,
        Self::LongInteger,
        Self::Double,
        Self::Percent,
        Self::Currency,
        Self::Date,
        Self::DateTime,
        Self::Boolean,
        Self::PickList,
        Self::MultiPickList,
        Self::Lookup,
        Self::OwnerLookup,
        Self::AutoNumber,
        Self::Formula,
    ];

    /// Whether values of this type are exact decimals (Double, Percent, Currency).
    pub fn is_decimal(&self) -> bool {
        matches!(self, Self::Double | Self::Percent | Self::Currency)
    }

    /// Whether values of this type are record or user ids.
    pub fn is_id(&self) -> bool {
        matches!(self, Self::Lookup | Self::OwnerLookup)
    }

    /// Whether the server computes the value (it ignores any input).
    pub fn is_computed(&self) -> bool {
        matches!(self, Self::AutoNumber | Self::Formula)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for FieldMeta {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FieldMeta", 12)?;
        st.serialize_field("label", &self.label)?;
        st.serialize_field("display_label", &self.display_label)?;
        st.serialize_field("type", self.field_type.as_str())?;
        st.serialize_field("required", &self.required)?;
        st.serialize_field("read_only", &self.read_only)?;
        st.serialize_field("max_length", &self.max_length)?;
        st.serialize_field("custom", &self.custom)?;
        st.serialize_field("picklist", &self.picklist)?;
        st.serialize_field("lookup_module", &self.lookup_module)?;
        st.serialize_field("default_format", &self.default_format)?;
        match &self.api_name {
            Some(name) => st.serialize_field("api_name", name)?,
            None => st.skip_field("api_name")?,
        }
        match &self.decimal_places {
            Some(n) => st.serialize_field("decimal_places", n)?,
            None => st.skip_field("decimal_places")?,
        }
        st.end()
    }
}

/// One field of a module, as `getFields` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMeta {
    /// `label`: the internal name used in `FL val=` for data.
    pub label: String,
    /// `dv`: the display label (may be renamed or translated).
    pub display_label: String,
    /// `type`.
    pub field_type: FieldType,
    /// `req`: mandatory on create.
    pub required: bool,
    /// `isreadonly`.
    pub read_only: bool,
    /// `maxlength`, when given.
    pub max_length: Option<u32>,
    /// `customfield`.
    pub custom: bool,
    /// Picklist options (`<val>` children), in order.
    pub picklist: Vec<String>,
    /// `lm`: the module a Lookup points at, when given.
    pub lookup_module: Option<String>,
    /// `fval`: the display format of a default value, when given (seen on Currency).
    pub default_format: Option<String>,
    /// The REST API's name of the field (v8 `api_name`, e.g. `Last_Name`); `None` from the XML
    /// API, which names fields by label.
    pub api_name: Option<String>,
    /// The decimal places a number field keeps (v8 `decimal_place`); `None` from the XML API,
    /// which does not say.
    pub decimal_places: Option<u8>,
}

impl FieldMeta {
    /// A plain field with the given label and type; everything else default.
    pub fn new(label: impl Into<String>, field_type: FieldType) -> Self {
        let label = label.into();
        Self {
            display_label: label.clone(),
            label,
            field_type,
            required: false,
            read_only: false,
            max_length: None,
            custom: false,
            picklist: Vec::new(),
            lookup_module: None,
            default_format: None,
            api_name: None,
            decimal_places: None,
        }
    }
}

/// A section of the layout, holding fields in display order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    /// `name`.
    pub name: String,
    /// `dv`: the display name.
    pub display_name: String,
    /// The section's fields.
    pub fields: Vec<FieldMeta>,
}

/// A module's full `getFields` answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleFields {
    /// The module's API name (the root element).
    pub module: String,
    /// Sections in layout order.
    pub sections: Vec<Section>,
}

impl ModuleFields {
    /// Every field, section by section.
    pub fn fields(&self) -> impl Iterator<Item = (&Section, &FieldMeta)> {
        self.sections.iter().flat_map(|s| s.fields.iter().map(move |f| (s, f)))
    }

    /// The field with this label (exact), or else with this display label, or else with this
    /// API name (the REST API's, when the metadata came from it).
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        let fields = self.sections.iter().flat_map(|s| s.fields.iter());
        fields
            .clone()
            .find(|f| f.label == name)
            .or_else(|| fields.clone().find(|f| f.display_label == name))
            .or_else(|| fields.clone().find(|f| f.api_name.as_deref() == Some(name)))
    }

    /// The lookup fields (type `Lookup` or `OwnerLookup`).
    pub fn lookups(&self) -> impl Iterator<Item = &FieldMeta> {
        self.fields().map(|(_, f)| f).filter(|f| f.field_type.is_id())
    }
}
