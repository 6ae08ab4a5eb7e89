//! The incremental-export watermark per org and module, and the part counter of folder outputs,
//! kept in the state dir (`STATE/exports/ORG/MODULE/DESTINATION.json`).

use std::path::{Path, PathBuf};

use crate::ExportError;

/// What the last successful run of an incremental export left behind.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Watermark {
    /// `lastModifiedTime` for the next run (`yyyy-MM-dd HH:mm:ss`, org time zone).
    pub since: Option<String>,
    /// When the last run started (RFC 3339).
    pub last_run: Option<String>,
    /// Records the last run wrote whose `Modified Time` is at or after `since` (the clock-skew
    /// margin): `(id, Modified Time)`. The next run skips them unless they changed again.
    #[serde(default)]
    pub boundary: Vec<(u64, String)>,
    /// Records the last run wrote (what the next run's choice between the record API and
    /// Bulk Read goes by).
    #[serde(default)]
    pub records: Option<u64>,
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect()
}

/// The watermark file of `module` for `org` exported to `dest`: each destination keeps its own
/// watermark, so an ad hoc full export does not move a nightly job's.
pub fn path(state_dir: &Path, org: &str, module: &str, dest: &Path) -> PathBuf {
    let absolute = std::path::absolute(dest).unwrap_or_else(|_| dest.to_owned());
    let dest_key = safe(absolute.to_string_lossy().trim_end_matches('/'));
    state_dir.join("exports").join(safe(org)).join(safe(module)).join(format!("{dest_key}.json"))
}

/// Reads the watermark (none yet: default).
pub fn load(path: &Path) -> Result<Watermark, ExportError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| ExportError::io(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Watermark::default()),
        Err(e) => Err(ExportError::io(path, e)),
    }
}

/// Writes the watermark atomically; called only after the export's files are in place.
pub fn store(path: &Path, w: &Watermark) -> Result<(), ExportError> {
    let (file, mut handle) = crate::atomic::AtomicFile::create_owner_only(path)?;
    let text = serde_json::to_vec_pretty(w).map_err(|e| ExportError::io(path, e))?;
    std::io::Write::write_all(&mut handle, &text).map_err(|e| ExportError::io(path, e))?;
    file.commit(handle)?;
    Ok(())
}

/// The next free `part-NNNN.<ext>` in `dir`.
pub fn next_part(dir: &Path, ext: &str) -> Result<PathBuf, ExportError> {
    let mut max = 0u32;
    if dir.exists() {
        for entry in std::fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))? {
            let name = entry
                .map_err(|e| ExportError::io(dir, e))?
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(n) = name
                .strip_prefix("part-")
                .and_then(|r| r.strip_suffix(&format!(".{ext}")))
                .and_then(|n| n.parse::<u32>().ok())
            {
                max = max.max(n);
            }
        }
    }
    Ok(dir.join(format!("part-{:04}.{ext}", max + 1)))
}
