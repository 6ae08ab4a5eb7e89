//! What the batcher consumes: validated rows with their source position, key and typed field
//! values, lookups still to resolve through the journal.

use zcrm_protocol::Value;

/// A field value ready to send, or a reference to another step's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldInput {
    /// A typed value (what the mapping stage hands on): the dialect renders it.
    Value(Value),
    /// Text already in the API's input form, sent as it is (for callers without types).
    Text(String),
    /// The CRM Id the step `step` recorded for the source key `key`.
    Lookup {
        /// The step that imported the referenced records.
        step: String,
        /// The referenced row's key in that step.
        key: String,
    },
}

impl FieldInput {
    /// The value as a typed value (`Text` as text); `None` for an unresolved lookup.
    pub fn value(&self) -> Option<std::borrow::Cow<'_, Value>> {
        match self {
            Self::Value(v) => Some(std::borrow::Cow::Borrowed(v)),
            Self::Text(t) => Some(std::borrow::Cow::Owned(Value::Text(t.clone()))),
            Self::Lookup { .. } => None,
        }
    }

    /// The text the XML dialect sends (the API's input form); `None` for an unresolved
    /// lookup or a value no text carries.
    pub fn input_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Self::Value(v) => v.to_text(zcrm_protocol::Direction::Input).ok(),
            Self::Text(t) => Some(std::borrow::Cow::Borrowed(t)),
            Self::Lookup { .. } => None,
        }
    }
}

/// One valid source row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    /// 1-based data record number (`_row`).
    pub row: u64,
    /// Source line (CSV) or sheet row (XLSX) where the record starts (`_line`).
    pub line: u64,
    /// The step's key column value, if the step has a key.
    pub key: Option<String>,
    /// The source columns as read (kept for the reject file if the server refuses the row).
    pub source: Vec<String>,
    /// `(field label, value)` in mapping order.
    pub fields: Vec<(String, FieldInput)>,
    /// The row's line items (`Product Details`), sent in its payload; empty for most modules.
    pub items: Vec<LineInput>,
}

/// One line item of a row (`[steps.line_items]`): where it is in the line file, and its
/// fields labelled as the XML API names them (`Product Id`, `Quantity`, `Unit Price`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    /// The line of the line file (for the reasons of a rejected parent).
    pub line: u64,
    /// `(label, value)`; a `Product Id` may be a lookup still to resolve.
    pub fields: Vec<(String, FieldInput)>,
}

/// A row that cannot be sent or was refused, for the reject file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// `_row`.
    pub row: u64,
    /// `_line`.
    pub line: u64,
    /// The source columns as read.
    pub source: Vec<String>,
    /// `field: reason` entries (server errors carry the API code).
    pub errors: Vec<String>,
}

/// How a row ended in the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new record.
    Created,
    /// An existing record was updated.
    Updated,
    /// An existing record matched (duplicate check), not changed.
    Matched,
}

impl Action {
    /// The word in the success file and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Matched => "matched",
        }
    }

    /// Parses the journal word.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            "matched" => Some(Self::Matched),
            _ => None,
        }
    }
}
