//! `validate`: every selected import step's rows read, mapped and checked locally against
//! module metadata from the state dir's cache (a call per module only when it is not cached).

use std::path::Path;

use zcrm_connect::CachedMetadata;
use zcrm_pipeline::{Pipeline, StepSummary};

use crate::error::EngineError;
use crate::state::consumer;

/// Loads the pipeline at `path` (every problem of the file at once) and validates the import
/// steps named in `only` (all when empty), writing their reject files.
pub fn validate(path: &Path, only: &[String]) -> Result<Vec<StepSummary>, EngineError> {
    let p = zcrm_pipeline::load_checked(path, |p: &Pipeline| {
        CachedMetadata::new(&p.connection, &p.state_dir, &consumer(p)).ok()
    })?;
    let mut meta = CachedMetadata::new(&p.connection, &p.state_dir, "validate")?;
    Ok(zcrm_pipeline::validate(&p, only, &mut meta)?)
}
