//! The per-step success file, and the text of server-side refusals in the reject file.

use std::path::Path;

use zcrm_protocol::formula_guard::guard;

use crate::error::BatchError;
use crate::journal::Journal;

/// A server refusal as a reject-file entry: `field: CODE message` when the message names a
/// field (`Mandatory Field Missing : Last Name`), else `server: CODE message`.
pub fn server_error_text(code: &str, message: &str) -> String {
    match message.rsplit_once(" : ") {
        Some((what, field)) if !field.trim().is_empty() => {
            format!("{}: server error {code} ({})", field.trim(), what.trim())
        }
        _ => format!("server: error {code} ({})", message.trim()),
    }
}

/// Writes the success file of `step` from the journal: `_row`, the key column, `_id`, `_action`.
/// Written to a temporary file beside it and renamed, so a half file never looks whole. The
/// key column's name and values go through the formula guard ([`zcrm_protocol::formula_guard`]).
pub fn write_success_file(
    journal: &Journal,
    step: &str,
    key_column: &str,
    path: &Path,
) -> Result<u64, BatchError> {
    let rows = journal.successes(step)?;
    let io = |source: std::io::Error| BatchError::Report { path: path.to_owned(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(tmp));
    let csv_io = |e: csv::Error| io(e.into());
    out.write_record(["_row", &guard(key_column), "_id", "_action"]).map_err(csv_io)?;
    for (row, key, id, action) in &rows {
        let (row, id) = (row.to_string(), id.to_string());
        let key = guard(key.as_deref().unwrap_or(""));
        out.write_record([row.as_str(), &key, id.as_str(), action.as_str()]).map_err(csv_io)?;
    }
    let tmp = out
        .into_inner()
        .map_err(|e| io(e.into_error()))?
        .into_inner()
        .map_err(|e| io(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(rows.len() as u64)
}
