//! The column set of the parts an export writes into a folder, kept in the state dir beside the
//! watermark (`…/DESTINATION.schema.json`), and what a change of it between runs does.
//!
//! Each run compares the columns it is about to write (from the module's metadata and the
//! step's `columns`) with those the previous run wrote. A field added or removed is allowed
//! with [`OnSchemaChange::Evolve`] (the new part carries the new set, earlier parts are left as
//! they are) and stops the export before any file is written with [`OnSchemaChange::Fail`]. A
//! column whose stored type changed always stops it: parts of one folder would then disagree on
//! a column's type, which a reader cannot union. Types are compared as stored (Parquet's
//! types), so a change the files do not see (Text to Email, both text) is no change.

use std::path::{Path, PathBuf};

use crate::ExportError;
use crate::columns::{ColumnKind, ExportColumn};
use crate::options::OnSchemaChange;

/// One stored column: its name and its stored type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct StoredColumn {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

/// The state file's content.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
struct StoredSchema {
    columns: Vec<StoredColumn>,
}

/// The stored type of a column kind, as the state file and messages name it.
pub fn type_name(kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Id => "id (int64)".to_owned(),
        ColumnKind::Text => "text".to_owned(),
        ColumnKind::Integer => "integer (int64)".to_owned(),
        ColumnKind::Decimal { scale } => format!("decimal(38,{scale})"),
        ColumnKind::Boolean => "boolean".to_owned(),
        ColumnKind::Date => "date".to_owned(),
        ColumnKind::DateTime => "datetime".to_owned(),
        ColumnKind::MultiSelect => "list of text".to_owned(),
    }
}

/// Fields added to or removed from the module since the previous run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaChange {
    /// Columns the new part has and the previous one had not.
    pub added: Vec<String>,
    /// Columns the previous part had and the new one has not.
    pub removed: Vec<String>,
}

impl std::fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[String]| v.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("added {}", list(&self.added)));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed {}", list(&self.removed)));
        }
        f.write_str(&parts.join("; "))
    }
}

/// A column whose stored type changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeChange {
    /// The column.
    pub field: String,
    /// Its type in the previous part.
    pub old: String,
    /// Its type now.
    pub new: String,
}

/// The outcome of [`check`]: what changed, and the column set to store once the export's
/// files are in place.
#[derive(Debug)]
pub struct SchemaCheck {
    path: Option<PathBuf>,
    current: StoredSchema,
    first: bool,
    change: Option<SchemaChange>,
}

impl SchemaCheck {
    /// The fields added or removed since the previous run (`None`: none, or no previous run).
    pub fn change(&self) -> Option<&SchemaChange> {
        self.change.as_ref()
    }

    /// Stores the column set for the next run: when this run wrote a part, or when none was
    /// stored yet (a run that wrote nothing leaves the previous part's set in place, so the
    /// next part is still compared with what the folder holds).
    pub fn commit(self, wrote_part: bool) -> Result<(), ExportError> {
        let Some(path) = self.path else { return Ok(()) };
        if !(wrote_part || self.first) {
            return Ok(());
        }
        let (file, mut handle) = crate::atomic::AtomicFile::create_owner_only(&path)?;
        let text =
            serde_json::to_vec_pretty(&self.current).map_err(|e| ExportError::io(&path, e))?;
        std::io::Write::write_all(&mut handle, &text).map_err(|e| ExportError::io(&path, e))?;
        file.commit(handle)?;
        Ok(())
    }
}

/// The schema file beside watermark file `watermark`.
pub fn path(watermark: &Path) -> PathBuf {
    watermark.with_extension("schema.json")
}

/// Compares `cols` with the column set the previous run into folder destination stored beside
/// `watermark`, applying `policy`. `folder` false: a whole-file destination is replaced on
/// every run, so nothing is compared or stored.
pub fn check(
    cols: &[ExportColumn],
    watermark: &Path,
    folder: bool,
    policy: OnSchemaChange,
) -> Result<SchemaCheck, ExportError> {
    let current = StoredSchema {
        columns: cols
            .iter()
            .map(|c| StoredColumn { name: c.label.clone(), ty: type_name(c.kind) })
            .collect(),
    };
    if !folder {
        return Ok(SchemaCheck { path: None, current, first: false, change: None });
    }
    let path = path(watermark);
    let previous: Option<StoredSchema> = match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| ExportError::io(&path, e))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(ExportError::io(&path, e)),
    };
    let Some(previous) = previous else {
        return Ok(SchemaCheck { path: Some(path), current, first: true, change: None });
    };
    let find = |s: &StoredSchema, name: &str| s.columns.iter().find(|c| c.name == name).cloned();
    let retyped: Vec<TypeChange> = current
        .columns
        .iter()
        .filter_map(|c| {
            let old = find(&previous, &c.name)?;
            (old.ty != c.ty).then(|| TypeChange {
                field: c.name.clone(),
                old: old.ty,
                new: c.ty.clone(),
            })
        })
        .collect();
    if !retyped.is_empty() {
        return Err(ExportError::SchemaTypeChanged { changes: retyped });
    }
    let change = SchemaChange {
        added: current
            .columns
            .iter()
            .filter(|c| find(&previous, &c.name).is_none())
            .map(|c| c.name.clone())
            .collect(),
        removed: previous
            .columns
            .iter()
            .filter(|c| find(&current, &c.name).is_none())
            .map(|c| c.name.clone())
            .collect(),
    };
    if change.added.is_empty() && change.removed.is_empty() {
        return Ok(SchemaCheck { path: Some(path), current, first: false, change: None });
    }
    if policy == OnSchemaChange::Fail {
        return Err(ExportError::SchemaChanged { change });
    }
    tracing::warn!(%change, "the module's fields changed since the previous part: the new part carries the new columns");
    Ok(SchemaCheck { path: Some(path), current, first: false, change: Some(change) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(label: &str, kind: ColumnKind) -> ExportColumn {
        ExportColumn { label: label.to_owned(), kind, repetitive: false }
    }

    #[test]
    fn added_removed_and_retyped_columns_between_runs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let wm = dir.path().join("out.json");
        let v1 = [col("LEADID", ColumnKind::Id), col("Email", ColumnKind::Text)];
        let first = check(&v1, &wm, true, OnSchemaChange::Fail).unwrap_or_else(|e| panic!("{e}"));
        assert!(first.change().is_none());
        first.commit(true).unwrap_or_else(|e| panic!("{e}"));
        let v2 = [col("LEADID", ColumnKind::Id), col("Score", ColumnKind::Integer)];
        let err = check(&v2, &wm, true, OnSchemaChange::Fail).expect_err("fail stops");
        assert_eq!(
            err.to_string(),
            "the module's fields changed since the previous part in this folder: added \"Score\"; removed \"Email\"; no file was written (on_schema_change = \"fail\")"
        );
        let ok = check(&v2, &wm, true, OnSchemaChange::Evolve).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ok.change().map(ToString::to_string).as_deref(),
            Some("added \"Score\"; removed \"Email\"")
        );
        // Not committed: a run that wrote no part leaves the stored set.
        ok.commit(false).unwrap_or_else(|e| panic!("{e}"));
        let v3 = [col("LEADID", ColumnKind::Id), col("Email", ColumnKind::Date)];
        let err = check(&v3, &wm, true, OnSchemaChange::Evolve).expect_err("a type change stops");
        assert!(err.to_string().contains("\"Email\" was text, is now date"), "{err}");
        // A whole-file destination compares nothing.
        assert!(check(&v3, &wm, false, OnSchemaChange::Fail).is_ok());
    }
}
