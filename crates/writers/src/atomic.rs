//! Files written under a temporary name and renamed only when complete, so an interrupted
//! export never leaves a half file that looks whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::ExportError;

/// A file being written; [`AtomicFile::commit`] moves it into place, dropping it deletes it.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl AtomicFile {
    /// Creates `.<name>.partial` beside `dest` (and any missing folders).
    pub fn create(dest: &Path) -> Result<(Self, File), ExportError> {
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| ExportError::io(dir, e))?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.partial"));
        let file = File::create(&tmp).map_err(|e| ExportError::io(&tmp, e))?;
        Ok((Self { tmp, dest: dest.to_owned(), done: false }, file))
    }

    /// Like [`AtomicFile::create`] for a state file: the temporary file is owner-only (0600),
    /// and so is the file it becomes, in folders created owner-only (0700).
    pub fn create_owner_only(dest: &Path) -> Result<(Self, File), ExportError> {
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.partial"));
        let file = zcrm_client::owner_only::create(&tmp)
            .map_err(|e| ExportError::io(&e.path, e.source))?;
        Ok((Self { tmp, dest: dest.to_owned(), done: false }, file))
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs `file` to disk and renames the temporary file to the destination.
    pub fn commit(mut self, file: File) -> Result<PathBuf, ExportError> {
        file.sync_all().map_err(|e| ExportError::io(&self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| ExportError::io(&self.dest, e))?;
        self.done = true;
        Ok(self.dest.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
