//! Files written under a temporary name beside their destination and renamed only when
//! complete (tempfile's `persist`), so an interrupted export never leaves a half file that
//! looks whole; a file never committed is deleted when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use crate::ExportError;

/// A file being written; [`AtomicFile::commit`] moves it into place, dropping it deletes it.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: TempPath,
    dest: PathBuf,
}

impl AtomicFile {
    /// Creates `.<name>.<random>.partial` beside `dest` (and any missing folders).
    pub fn create(dest: &Path) -> Result<(Self, File), ExportError> {
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| ExportError::io(dir, e))?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (file, tmp) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| ExportError::io(dir, e))?
            .into_parts();
        Ok((Self { tmp, dest: dest.to_owned() }, file))
    }

    /// Like [`AtomicFile::create`] for a state file: the temporary file is owner-only (0600),
    /// and so is the file it becomes, in folders created owner-only (0700).
    pub fn create_owner_only(dest: &Path) -> Result<(Self, File), ExportError> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        zcrm_client::owner_only::create_dir_all(dir)
            .map_err(|e| ExportError::io(&e.path, e.source))?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (file, tmp) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(|e| ExportError::io(dir, e))?
            .into_parts();
        Ok((Self { tmp, dest: dest.to_owned() }, file))
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs `file` to disk and renames the temporary file to the destination.
    pub fn commit(self, file: File) -> Result<PathBuf, ExportError> {
        file.sync_all().map_err(|e| ExportError::io(&self.tmp, e))?;
        drop(file);
        self.tmp.persist(&self.dest).map_err(|e| ExportError::io(&self.dest, e.error))?;
        Ok(self.dest)
    }
}
