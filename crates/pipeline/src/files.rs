//! The files a pipeline reads and writes, checked before anything is read or sent: every
//! source exists and is a regular file (a FIFO, a folder or a device is refused: reading one
//! would block, fail or never end).

use std::ops::Range;
use std::path::PathBuf;

/// What a step does with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// An import step's source.
    Source,
}

/// A file of a step, with the place in the pipeline file that names it (or, for a default
/// path, the step's name).
#[derive(Debug, Clone)]
pub(crate) struct StepFile {
    /// The step's name.
    pub step: String,
    /// What the step does with it.
    pub role: Role,
    /// The path, resolved against the pipeline file's folder.
    pub path: PathBuf,
    /// Where the pipeline file names it.
    pub span: Option<Range<usize>>,
}

/// A problem: message, hint, place.
pub(crate) type Problem = (String, Option<String>, Option<Range<usize>>);

/// Checks the files of every step against the file system.
pub(crate) fn check(files: &[StepFile]) -> Vec<Problem> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.role == Role::Source) {
        // `metadata` follows symbolic links and never opens the file (a FIFO would block).
        let (message, hint) = match std::fs::metadata(&f.path) {
            Ok(m) if m.is_file() => continue,
            Ok(m) => (
                format!(
                    "step {:?}: the source {} is {}, not a regular file",
                    f.step,
                    f.path.display(),
                    kind(&m.file_type())
                ),
                "a source is read twice (validate, then run) and must stay the same file: copy \
                 the data to a regular file first",
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                format!("step {:?}: the source {} does not exist", f.step, f.path.display()),
                "relative paths are relative to the pipeline file's folder",
            ),
            Err(e) => (
                format!("step {:?}: the source {} cannot be read: {e}", f.step, f.path.display()),
                "relative paths are relative to the pipeline file's folder",
            ),
        };
        out.push((message, Some(hint.to_owned()), f.span.clone()));
    }
    out
}

/// What a file that is not a regular file is, in words.
fn kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() { "a folder" } else { "a special file" }
}
