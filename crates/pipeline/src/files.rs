//! The files a pipeline reads and writes, checked before anything is read or sent:
//! - every source exists and is a regular file (a FIFO, a folder or a device is refused:
//!   reading one would block, fail or never end);
//! - no file the pipeline writes is a file it reads, or a file another step writes: paths are
//!   compared after resolving symbolic links (of every existing part of the path) and, where
//!   both files exist, by device and inode (hard links), and no source or pipeline file lies in
//!   a folder an export writes parts into.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What a step does with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The pipeline file itself.
    Pipeline,
    /// An import step's source.
    Source,
    /// An import step's reject file.
    Rejects,
    /// An import step's success file.
    Success,
    /// An export step's destination file.
    ExportFile,
    /// The list of deleted records next to an export's file.
    DeletedFile,
    /// An export step's folder of parts (or the folder of deleted-record lists beside it).
    ExportFolder,
    /// An export step's folder of downloaded attachments (`attachments`).
    AttachmentsFolder,
}

impl Role {
    fn is_output(self) -> bool {
        !matches!(self, Self::Pipeline | Self::Source)
    }

    /// What the file is, in words (with the step it belongs to).
    fn describe(self, step: &str) -> String {
        let what = match self {
            Self::Pipeline => return "the pipeline file".to_owned(),
            Self::Source => "the source",
            Self::Rejects => "the reject file",
            Self::Success => "the success file",
            Self::ExportFile => "the export file",
            Self::DeletedFile => "the deleted-records file",
            Self::ExportFolder => "the export folder",
            Self::AttachmentsFolder => "the attachments folder",
        };
        format!("{what} of step {step:?}")
    }

    /// The key that names the file.
    fn key(self) -> &'static str {
        match self {
            Self::Pipeline => "the pipeline file",
            Self::Source => "source",
            Self::Rejects => "rejects",
            Self::Success => "success",
            Self::ExportFile | Self::DeletedFile | Self::ExportFolder => "to",
            Self::AttachmentsFolder => "attachments",
        }
    }
}

/// A file of a step, with the place in the pipeline file that names it.
#[derive(Debug, Clone)]
pub(crate) struct StepFile {
    /// The step's name (empty for the pipeline file).
    pub step: String,
    /// What the step does with it.
    pub role: Role,
    /// The path, resolved against the pipeline file's folder.
    pub path: PathBuf,
    /// Where the pipeline file names it (`None` for a default path).
    pub span: Option<Range<usize>>,
    /// Where to point when the file has no place of its own (the step's name).
    pub fallback: Option<Range<usize>>,
}

/// A problem: message, hint, place.
pub(crate) type Problem = (String, Option<String>, Option<Range<usize>>);

/// Checks the files of every step. With `on_disk`, sources must exist as regular files and
/// paths are compared as the file system resolves them; without, as they are spelt.
pub(crate) fn check(files: &[StepFile], on_disk: bool) -> Vec<Problem> {
    let mut out = Vec::new();
    if on_disk {
        for f in files.iter().filter(|f| f.role == Role::Source) {
            out.extend(regular(f));
        }
    }
    out.extend(collisions(files, on_disk));
    out
}

/// A source that does not exist or is not a regular file.
fn regular(f: &StepFile) -> Option<Problem> {
    let relative = "relative paths are relative to the pipeline file's folder";
    // `metadata` follows symbolic links and never opens the file (a FIFO would block).
    let (message, hint) = match std::fs::metadata(&f.path) {
        Ok(m) if m.is_file() => return None,
        Ok(m) => (
            format!(
                "step {:?}: the source {} is {}, not a regular file",
                f.step,
                f.path.display(),
                kind(&m.file_type())
            ),
            "a source is read twice (validate, then run) and must stay the same file: copy the \
             data to a regular file first",
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (format!("step {:?}: the source {} does not exist", f.step, f.path.display()), relative)
        }
        Err(e) => (
            format!("step {:?}: the source {} cannot be read: {e}", f.step, f.path.display()),
            relative,
        ),
    };
    Some((message, Some(hint.to_owned()), f.span.clone()))
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

/// A file as the file system knows it: its path with every existing part resolved, and its
/// device and inode when it exists.
struct Identity {
    path: PathBuf,
    inode: Option<(u64, u64)>,
}

fn identify(p: &Path, on_disk: bool) -> Identity {
    if !on_disk {
        return Identity { path: p.to_owned(), inode: None };
    }
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    Identity { path: resolved(&abs), inode: inode(&abs) }
}

/// `p` with its longest existing prefix canonicalized (symbolic links resolved) and the rest,
/// which does not exist yet, appended.
fn resolved(p: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut base = p;
    loop {
        if let Ok(c) = std::fs::canonicalize(base) {
            return rest.iter().rev().fold(c, |acc, part| acc.join(part));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                base = parent;
            }
            _ => return p.to_owned(),
        }
    }
}

#[cfg(unix)]
fn inode(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn inode(_: &Path) -> Option<(u64, u64)> {
    None
}

/// The problem of `out`, which the pipeline writes, being (`how`) `other`.
fn clash(out: &StepFile, other: &StepFile, how: &str) -> Problem {
    let why = if matches!(out.role, Role::ExportFolder | Role::AttachmentsFolder) {
        "the export adds its files there; keep what the pipeline reads out of it"
    } else if other.role.is_output() {
        "writing one would destroy the other"
    } else {
        "writing it would destroy what the pipeline reads"
    };
    let message = format!(
        "{} {} {how} {} ({}): {why}",
        out.role.describe(&out.step),
        out.path.display(),
        other.role.describe(&other.step),
        other.path.display(),
    );
    let hint = format!("give `{}` a path of its own", out.role.key());
    let span = out.span.clone().or_else(|| other.span.clone()).or_else(|| out.fallback.clone());
    (message, Some(hint), span)
}

/// Outputs that are inputs or other outputs, and inputs inside export folders.
fn collisions(files: &[StepFile], on_disk: bool) -> Vec<Problem> {
    let ids: Vec<Identity> = files.iter().map(|f| identify(&f.path, on_disk)).collect();
    // Inputs first, so an output is always reported against the input it would destroy.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| files[i].role.is_output());
    let mut by_path: HashMap<&Path, usize> = HashMap::new();
    let mut by_inode: HashMap<(u64, u64), usize> = HashMap::new();
    let mut out = Vec::new();
    for &i in &order {
        let (f, id) = (&files[i], &ids[i]);
        if f.role.is_output() {
            let same = by_path.get(id.path.as_path()).map(|&j| (j, "is")).or_else(|| {
                id.inode.and_then(|n| by_inode.get(&n)).map(|&j| (j, "is the same file as"))
            });
            if let Some((j, how)) = same {
                out.push(clash(f, &files[j], how));
                continue;
            }
        }
        by_path.entry(id.path.as_path()).or_insert(i);
        if let Some(n) = id.inode {
            by_inode.entry(n).or_insert(i);
        }
    }
    let folders: HashMap<&Path, usize> = files
        .iter()
        .zip(&ids)
        .enumerate()
        .filter(|(_, (f, _))| matches!(f.role, Role::ExportFolder | Role::AttachmentsFolder))
        .map(|(i, (_, id))| (id.path.as_path(), i))
        .collect();
    for (f, id) in files.iter().zip(&ids).filter(|(f, _)| !f.role.is_output()) {
        if let Some(&j) = id.path.ancestors().skip(1).find_map(|a| folders.get(a)) {
            out.push(clash(&files[j], f, "holds"));
        }
    }
    out
}
