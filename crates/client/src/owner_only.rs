//! State files only their owner may read or write. The journal, the budget ledger, the metadata
//! cache, export watermarks and lock files say what an org holds and how it is reached, so zcrm
//! creates them 0600 in folders it creates 0700, whatever the umask; a state file that exists
//! already (from an older zcrm) is narrowed when it is opened. Folders that exist already keep
//! their mode (a state dir the user made stays as the user made it).
//!
//! SQLite creates a database's `-wal` and `-shm` files with the mode of the database file, so
//! [`prepare_sqlite`] creates that file before SQLite opens it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The mode of a state file.
pub const FILE_MODE: u32 = 0o600;
/// The mode of a state folder zcrm creates.
pub const DIR_MODE: u32 = 0o700;

/// A state file or folder that could not be created or narrowed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct StateFileError {
    /// The file or folder.
    pub path: PathBuf,
    /// What failed.
    #[source]
    pub source: std::io::Error,
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> StateFileError + '_ {
    move |source| StateFileError { path: path.to_owned(), source }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), StateFileError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(err(path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), StateFileError> {
    Ok(())
}

/// Creates `dir` and its missing parents, each new folder owner-only (0700).
pub fn create_dir_all(dir: &Path) -> Result<(), StateFileError> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d);
        cur = d.parent();
    }
    for d in missing.into_iter().rev() {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, DIR_MODE);
        match b.create(d) {
            // The umask may have taken bits the owner needs: set the mode exactly.
            Ok(()) => set_mode(d, DIR_MODE)?,
            // Another process made it meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(err(d)(e)),
        }
    }
    Ok(())
}

fn open_with(path: &Path, truncate: bool) -> Result<File, StateFileError> {
    let mut o = OpenOptions::new();
    o.create(true).write(true).truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, FILE_MODE);
    let file = o.open(path).map_err(err(path))?;
    // Created 0600 at most (never readable by others, even for a moment); an existing file
    // or a umask that took the owner's bits is set exactly.
    set_mode(path, FILE_MODE)?;
    Ok(file)
}

/// Opens `path` for writing without truncating it, creating it (and its folders) owner-only;
/// an existing file is narrowed to 0600.
pub fn open(path: &Path) -> Result<File, StateFileError> {
    if let Some(dir) = path.parent() {
        create_dir_all(dir)?;
    }
    open_with(path, false)
}

/// Writes `bytes` to `path` whole (creating its folders owner-only): into a temporary file
/// beside it (tempfile's: a fresh name, created 0600, removed if anything fails), renamed into
/// place (the rename keeps the mode).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateFileError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".zcrm-").tempfile_in(dir).map_err(err(dir))?;
    // A umask that took the owner's bits is set right, as for every state file.
    set_mode(tmp.path(), FILE_MODE)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(err(tmp.path()))?;
    tmp.persist(path).map_err(|e| err(path)(e.error))?;
    Ok(())
}

/// Readies the SQLite database `path` before SQLite opens it: its folders, the file itself
/// (empty: SQLite takes an empty file for a new database) owner-only, so that SQLite gives the
/// `-wal` and `-shm` files it creates the same mode; those left by an older run are narrowed.
pub fn prepare_sqlite(path: &Path) -> Result<(), StateFileError> {
    drop(open(path)?);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        match std::fs::symlink_metadata(&side) {
            Ok(m) if m.is_file() => set_mode(&side, FILE_MODE)?,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(&side)(e)),
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// New folders 0700, an existing one untouched, files 0600 (also one that existed 0644).
    #[test]
    fn new_folders_and_every_file_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.path().join("a/b/c.json");
        write_atomic(&file, b"{}").unwrap();
        write_atomic(&file, b"[]").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"[]");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left beside it");
        assert_eq!(mode(dir.path()), 0o755, "an existing folder keeps its mode");
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert_eq!(mode(&file), 0o600);
        let old = dir.path().join("old.sqlite");
        std::fs::write(&old, b"").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = dir.path().join("old.sqlite-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o666)).unwrap();
        prepare_sqlite(&old).unwrap();
        assert_eq!((mode(&old), mode(&wal)), (0o600, 0o600));
        let lock = dir.path().join("x.lock");
        drop(open(&lock).unwrap());
        assert_eq!(mode(&lock), 0o600);
    }
}
