//! What the mapping stage produces: valid rows for the batcher, rejected rows for the reject file.

use std::sync::Arc;

use zcrm_protocol::{Direction, Value};
use zcrm_readers::{Cells, RowPos, SourceInfo};

use crate::Problem;

/// A field's value: ready to send, or a reference to a record another step creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappedValue {
    /// A typed value (its wire text is `Value::to_text(Direction::Input)`).
    Value(Value),
    /// The CRM Id that step `step` records for the source key `key` (resolved by the batcher).
    Lookup {
        /// The step that imports the referenced rows.
        step: String,
        /// The referenced row's key in that step.
        key: String,
    },
    /// The Id of the active user with this e-mail or full name (resolved before sending).
    Owner {
        /// The e-mail or full name, as the source has it.
        user: String,
    },
}

impl MappedValue {
    /// The text sent in the FL, or `None` for a pending lookup.
    pub fn wire_text(&self) -> Option<String> {
        match self {
            Self::Value(v) => v.to_text(Direction::Input).ok().map(|c| c.into_owned()),
            Self::Lookup { .. } | Self::Owner { .. } => None,
        }
    }
}

/// A valid row: field values in mapping order (empty fields are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedRow {
    /// Position in the source.
    pub pos: RowPos,
    /// The step's key column value, when the step has a key.
    pub key: Option<String>,
    /// The source cells as read (for a reject file if the server refuses the row).
    pub source: Cells,
    /// `(field label or id column, value)`, in mapping order.
    pub fields: Vec<(Arc<str>, MappedValue)>,
}

/// A row that failed: its source cells as read and every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Position in the source.
    pub pos: RowPos,
    /// The source cells as read.
    pub source: Cells,
    /// Every problem, in mapping order.
    pub problems: Vec<Problem>,
}

impl RejectedRow {
    /// The `_errors` cell: every problem as `field: reason`, joined by ` | `.
    pub fn errors_text(&self) -> String {
        self.problems.iter().map(Problem::to_string).collect::<Vec<_>>().join(" | ")
    }
}

/// The result of mapping one chunk: valid and rejected rows, each in source order.
#[derive(Debug, Clone)]
pub struct MappedChunk {
    /// The chunk's sequence number.
    pub seq: u64,
    /// The file (and sheet).
    pub source: Arc<SourceInfo>,
    /// Rows read in this chunk.
    pub rows_read: usize,
    /// Valid rows (empty when the mapping ran in check-only mode; see `valid`).
    pub rows: Vec<MappedRow>,
    /// Valid rows counted (equals `rows.len()` when rows were built).
    pub valid: usize,
    /// Rejected rows.
    pub rejected: Vec<RejectedRow>,
    /// Warnings of valid rows (picklist case fixed, value outside the picklist in `warn` mode).
    pub warnings: Vec<Problem>,
}
