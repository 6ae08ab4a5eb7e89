//! The token a standalone emulator accepts when none is given: generated once, kept in
//! `DATA/token` (owner-only, never printed), and read again by later starts.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use crate::EmulatorError;

/// The token in `data_dir/token`, generated and written there (mode 0600) the first time.
/// Returns the token and the file's path.
pub fn load_or_generate(data_dir: &Path) -> Result<(String, PathBuf), EmulatorError> {
    let path = data_dir.join("token");
    if let Ok(t) = std::fs::read_to_string(&path)
        && !t.trim().is_empty()
    {
        return Ok((t.trim().to_owned(), path));
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| EmulatorError::io(format!("creating {}", data_dir.display()), e))?;
    let token = generate();
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(format!("{token}\n").as_bytes())
    };
    write().map_err(|e| EmulatorError::io(format!("writing {}", path.display()), e))?;
    Ok((token, path))
}

/// 32 hex digits from the process's random hasher keys and the clock.
fn generate() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_generated_token_is_kept_owner_only_and_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (a, path) = load_or_generate(dir.path()).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (b, _) = load_or_generate(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!("Full".parse::<crate::Durability>(), Ok(crate::Durability::Full));
        assert!("fast".parse::<crate::Durability>().is_err());
    }
}
