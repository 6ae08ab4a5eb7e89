//! Ids of records deleted since the watermark, written beside the export so a downstream
//! table can apply them: `leads.deleted.csv` for a file, `leads.deleted/part-NNNN.csv` for a folder.
//! The same list tells an export which records it wrote were deleted while it ran.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::civil::DateTime;
use zcrm_client::CrmApi;
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_protocol::params::Window;

use crate::ExportError;
use crate::atomic::AtomicFile;
use crate::export::ExportSpec;

/// The ids of `module`'s records deleted after `since` (all in the recycle bin when `None`),
/// 200 a call.
pub fn fetch_deleted(
    client: &dyn CrmApi,
    module: &str,
    since: Option<DateTime>,
) -> Result<Vec<u64>, ExportError> {
    let mut ids = Vec::new();
    let mut page = 0;
    loop {
        let batch = client.deleted_ids(module, Window::page(page), since)?;
        let n = batch.len();
        ids.extend(batch.into_iter().map(|id| id.0));
        if n < MAX_READ_ROWS as usize {
            break;
        }
        page += 1;
    }
    Ok(ids)
}

/// Writes the deleted `ids` beside the export; returns the count and the file (none for a
/// folder part when there are none).
pub fn write_deleted(
    spec: &ExportSpec,
    ids: &[u64],
    dest: &Path,
    folder: bool,
) -> Result<(u64, Option<PathBuf>), ExportError> {
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
    for id in ids {
        text.push_str(&id.to_string());
        text.push('\n');
    }
    handle.write_all(text.as_bytes()).map_err(|e| ExportError::io(&path, e))?;
    Ok((ids.len() as u64, Some(file.commit(handle)?)))
}
