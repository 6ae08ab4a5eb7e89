//! An export's variants: which records it reads (all, a search criteria, a custom view) and
//! what it does when the module's fields changed since the folder's last part.

pub use zcrm_client::RecordFilter;

/// What an export into a folder does when the module's fields changed since the previous run
/// wrote a part there (see [`crate::schema_change`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnSchemaChange {
    /// Fields added or removed: the new part carries the new column set, earlier parts stay as
    /// they are, the change is logged and reported. The default: every part stays a valid
    /// file, and readers that union by column name (DuckDB's `union_by_name`, Spark's
    /// `mergeSchema`) read the folder as one table, so a field added in the CRM does not stop
    /// a nightly export.
    #[default]
    Evolve,
    /// Fields added or removed: the export stops before writing anything, naming them.
    Fail,
}

impl OnSchemaChange {
    /// Parses `evolve` or `fail`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "evolve" => Some(Self::Evolve),
            "fail" => Some(Self::Fail),
            _ => None,
        }
    }
}

/// The variants of one export.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// Only the records of a search criteria or a custom view (`None`: the whole module).
    pub filter: Option<RecordFilter>,
    /// What a change of the module's fields between runs into a folder does.
    pub on_schema_change: OnSchemaChange,
    /// Also download the attachments of every record written into this folder (v8 only; see
    /// [`crate::attachments`]).
    pub attachments: Option<std::path::PathBuf>,
}
