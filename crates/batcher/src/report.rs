//! The per-step success file, and the text of server-side refusals in the reject file.

use std::io::Write;
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
/// Written to a temporary name and renamed, so a half file never looks whole. The key column's
/// name and values go through the formula guard ([`zcrm_protocol::formula_guard`]).
pub fn write_success_file(
    journal: &Journal,
    step: &str,
    key_column: &str,
    path: &Path,
) -> Result<u64, BatchError> {
    let io = |e: std::io::Error| BatchError::Journal(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("csv.partial");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
    let quote = |s: &str| {
        let s = guard(s);
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.into_owned()
        }
    };
    writeln!(out, "_row,{},_id,_action", quote(key_column)).map_err(io)?;
    let rows = journal.successes(step)?;
    for (row, key, id, action) in &rows {
        writeln!(out, "{row},{},{id},{}", quote(key.as_deref().unwrap_or("")), action.as_str())
            .map_err(io)?;
    }
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(rows.len() as u64)
}
