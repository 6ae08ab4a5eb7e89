//! Where a pipeline keeps its state: the names are decided here, once.

use std::path::PathBuf;

use zcrm_pipeline::Pipeline;

/// The name a pipeline spends its budget under: its file's stem.
pub fn consumer(p: &Pipeline) -> String {
    p.path.file_stem().map_or_else(|| "pipeline".to_owned(), |s| s.to_string_lossy().into_owned())
}

/// The pipeline's journal: `journal-<file stem>.sqlite` in its state dir.
pub fn journal_path(p: &Pipeline) -> PathBuf {
    p.state_dir.join(format!("journal-{}.sqlite", consumer(p)))
}

/// The state dir's copy of the org's active users (owners by e-mail or name).
pub fn users_cache(p: &Pipeline, org: &str) -> PathBuf {
    p.state_dir.join("users").join(format!("{org}.json"))
}

/// Where import step `step` of the pipeline keeps its Bulk Write files until their jobs are
/// done: `bulk/<file stem>/<step>` in its state dir.
pub fn bulk_dir(p: &Pipeline, step: &str) -> PathBuf {
    let safe: String = step
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    p.state_dir.join("bulk").join(consumer(p)).join(safe)
}
