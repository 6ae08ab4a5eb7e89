//! The typed inputs of the seam's per-record actions (relations, lead conversion), so the
//! stages never build a dialect's payload: each dialect encodes them itself.

use zcrm_protocol::{RecordId, Value};

/// A record to relate to a parent record, with the relation's own fields (`Member Status`).
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// The related record.
    pub id: RecordId,
    /// The relation's fields, `(label, text)` (XML labels: `Member Status`; v8 writes them
    /// with underscores: `Member_Status`).
    pub fields: Vec<(String, String)>,
}

/// The user a conversion assigns the new records to: both dialects' ways of naming them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    /// The user's id (v8's `assign_to`).
    pub id: RecordId,
    /// The user's e-mail (the XML API's `assignTo` option).
    pub email: String,
}

/// How to convert a lead.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversion {
    /// The potential (deal) to create, as `(Potentials field label, typed value)`; empty:
    /// no potential.
    pub potential: Vec<(String, Value)>,
    /// Who owns the new records (default: the lead's owner).
    pub assign_to: Option<Assignee>,
    /// Whether the lead's owner and the new records' owner are notified by e-mail.
    pub notify: bool,
}
