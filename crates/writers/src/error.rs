//! Export failures.

/// What can stop an export. An interrupted export never leaves a file that looks whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The API call failed (budget, network, API error).
    #[error(transparent)]
    Client(#[from] zcrm_client::ClientError),
    /// The output could not be written (the cause: an I/O, CSV, Parquet or JSON error).
    #[error("writing {}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A value could not be stored in its typed column without changing it.
    #[error("record {id}, field {field:?}: {reason}")]
    Value {
        /// The record id (or `?` when the row has none).
        id: String,
        /// The field label.
        field: String,
        /// Why the value does not fit.
        reason: String,
    },
    /// A getRecords page could not be decoded.
    #[error("decoding a getRecords page: {0}")]
    Page(#[from] zcrm_protocol::ResponseError),
    /// Records already written kept being deleted while the export read the pages after
    /// them, so it could not be sure no record was skipped.
    #[error(
        "records already written were deleted during the export {passes} times in a row, each time after the pages that follow them were read again; no file was written: rerun when the module changes less"
    )]
    Unsettled {
        /// How many times pages were read again.
        passes: u32,
    },
    /// Fields were added to or removed from the module since the previous part in the folder,
    /// and the export says `on_schema_change = "fail"`.
    #[error(
        "the module's fields changed since the previous part in this folder: {change}; no file was written (on_schema_change = \"fail\")"
    )]
    SchemaChanged {
        /// What changed.
        change: crate::schema_change::SchemaChange,
    },
    /// A column's stored type changed since the previous part in the folder (always an error:
    /// the parts would disagree on the column's type).
    #[error(
        "a field changed type since the previous part in this folder: {}; no file was written (write to a new folder)",
        changes.iter().map(|c| format!("{:?} was {}, is now {}", c.field, c.old, c.new)).collect::<Vec<_>>().join(", ")
    )]
    SchemaTypeChanged {
        /// Each changed column.
        changes: Vec<crate::schema_change::TypeChange>,
    },
    /// Listing a record's attachments, or downloading one, failed.
    #[error("{}", match attachment {
        Some(a) => format!("downloading attachment {a} of record {record}"),
        None => format!("listing the attachments of record {record}"),
    })]
    Attachment {
        /// The record.
        record: u64,
        /// The attachment (`None`: the listing failed).
        attachment: Option<u64>,
        /// What failed (boxed: the variant stays small).
        #[source]
        source: Box<zcrm_client::ClientError>,
    },
    /// Bad options (unknown column, unsupported output extension, ...).
    #[error("{0}")]
    Usage(String),
}

impl ExportError {
    pub(crate) fn io(
        path: &std::path::Path,
        e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::Io { path: path.to_owned(), source: e.into() }
    }
}
