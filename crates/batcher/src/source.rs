//! What tells a new extract from a rerun of the same file: a hash of the source's bytes.
//! Size and modification time are not enough (`cp -p`, `rsync -t` and `touch -r` keep them
//! for a different file).

use std::io::Read;
use std::path::Path;

/// The prefix of a content fingerprint (journals written before it held `size:mtime`).
pub const CONTENT_PREFIX: &str = "blake3:";

/// The BLAKE3 hash of the file's bytes, streamed in 1 MiB reads (flat memory, several GB/s).
pub fn content_fingerprint(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(format!("{CONTENT_PREFIX}{}", hasher.finalize().to_hex()))
}

/// The fingerprint journals written before content hashing held: size and modification time
/// (nanoseconds). A journal holding it is upgraded, not reset, when the file still matches it.
pub fn legacy_fingerprint(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{}:{modified}", meta.len()))
}

/// A fingerprint shortened for people (`blake3:0123456789ab`).
pub fn short(fingerprint: &str) -> &str {
    let end = (CONTENT_PREFIX.len() + 12).min(fingerprint.len());
    fingerprint.get(..end).unwrap_or(fingerprint)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn same_size_and_time_but_other_bytes_differ() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        std::fs::write(&a, "id,name\n1,Ann\n").unwrap();
        std::fs::write(&b, "id,name\n1,Bob\n").unwrap();
        let t = std::fs::metadata(&a).unwrap().modified().unwrap();
        std::fs::File::options().write(true).open(&b).unwrap().set_modified(t).unwrap();
        assert_eq!(legacy_fingerprint(&a).unwrap(), legacy_fingerprint(&b).unwrap());
        let (fa, fb) = (content_fingerprint(&a).unwrap(), content_fingerprint(&b).unwrap());
        assert_ne!(fa, fb);
        assert!(fa.starts_with(CONTENT_PREFIX));
        assert_eq!(short(&fa).len(), CONTENT_PREFIX.len() + 12);
    }
}
