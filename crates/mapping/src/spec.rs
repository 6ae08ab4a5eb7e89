//! The mapping spec of the README's `[steps.map]`, as plain data (no TOML here).

use std::collections::HashMap;

/// A byte range in the pipeline file that an entry came from (for error locations).
pub type Span = std::ops::Range<usize>;

/// Where a field's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    /// A source column, by its header name.
    Column(String),
    /// A template with `{column}` placeholders (`{{` and `}}` are literal braces).
    Template(String),
    /// A constant.
    Value(String),
}

/// Case conversion after trimming and value replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `UPPER`.
    Upper,
    /// `lower`.
    Lower,
    /// `Title Case` (each word's first letter upper, the rest lower).
    Title,
}

impl Case {
    /// Parses `upper`, `lower` or `title`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upper" => Some(Self::Upper),
            "lower" => Some(Self::Lower),
            "title" => Some(Self::Title),
            _ => None,
        }
    }
}

/// How values outside a picklist are treated (the real server accepts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PicklistMode {
    /// Reject the row (default: a migration should not create picklist values silently).
    #[default]
    Strict,
    /// Keep the value, count a warning.
    Warn,
    /// Keep the value silently.
    Allow,
}

impl PicklistMode {
    /// Parses `strict`, `warn` or `allow`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "strict" => Some(Self::Strict),
            "warn" => Some(Self::Warn),
            "allow" => Some(Self::Allow),
            _ => None,
        }
    }
}

/// One field's mapping: where its text comes from and how it is transformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The source of the text.
    pub source: FieldSource,
    /// Trim surrounding white space.
    pub trim: bool,
    /// Case conversion.
    pub case: Option<Case>,
    /// Replacements of whole values (after trimming): source value → CRM value.
    pub values: HashMap<String, String>,
    /// Used when the text is empty.
    pub default: Option<String>,
    /// strftime input format for Date and DateTime fields (default ISO 8601).
    pub date_format: Option<String>,
    /// `lookup = "step"`: the text is a key of that step's rows, resolved to its CRM Id later.
    pub lookup: Option<String>,
    /// `owner = "column"`: the text is a user's e-mail or full name, resolved to the user's Id
    /// later (owner fields only).
    pub owner: bool,
}

impl FieldSpec {
    /// A plain `field = "column"` mapping.
    pub fn column(name: impl Into<String>) -> Self {
        Self {
            source: FieldSource::Column(name.into()),
            trim: false,
            case: None,
            values: HashMap::new(),
            default: None,
            date_format: None,
            lookup: None,
            owner: false,
        }
    }
}

/// One entry of the map: CRM field name = spec, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// The CRM field: a label as `getFields` reports it, or an id column (`ACCOUNTID`).
    pub field: String,
    /// Where the field name is written.
    pub field_span: Span,
    /// The mapping.
    pub spec: FieldSpec,
    /// Where the mapping is written.
    pub spec_span: Span,
}

/// The whole map of a step, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MapSpec {
    /// The entries.
    pub entries: Vec<MapEntry>,
}
