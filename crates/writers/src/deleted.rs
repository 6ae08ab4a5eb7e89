//! Ids of records deleted since the watermark, written beside the export so a downstream
//! table can apply them: `leads.deleted.csv` for a file, `leads.deleted/part-NNNN.csv` for a folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::civil::DateTime;
use zcrm_client::Client;
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_protocol::params::Window;

use crate::ExportError;
use crate::atomic::AtomicFile;
use crate::export::ExportSpec;

/// Fetches deleted ids since `since` (all when `None`) and writes them; returns the count and file.
pub fn export_deleted(
    client: &Client,
    spec: &ExportSpec,
    since: Option<DateTime>,
    dest: &Path,
    folder: bool,
) -> Result<(u64, Option<PathBuf>), ExportError> {
    let mut ids = Vec::new();
    let mut page = 0;
    loop {
        let batch = client.get_deleted_record_ids(&spec.module, Window::page(page), since)?;
        let n = batch.len();
        ids.extend(batch);
        if n < MAX_READ_ROWS as usize {
            break;
        }
        page += 1;
    }
    let path = if folder {
        let base = spec.to.to_string_lossy().trim_end_matches('/').to_owned();
        let dir = PathBuf::from(format!("{base}.deleted"));
        let part = dest
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "part".into());
        if ids.is_empty() {
            return Ok((0, None));
        }
        dir.join(format!("{part}.csv"))
    } else {
        let stem = dest.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        dest.with_file_name(format!("{stem}.deleted.csv"))
    };
    let (file, mut handle) = AtomicFile::create(&path)?;
    let mut text = String::from("id\n");
    for id in &ids {
        text.push_str(&id.to_string());
        text.push('\n');
    }
    handle.write_all(text.as_bytes()).map_err(|e| ExportError::io(&path, e))?;
    Ok((ids.len() as u64, Some(file.commit(handle)?)))
}
