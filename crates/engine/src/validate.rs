//! `validate`: every selected import step's rows read, mapped and checked locally against
//! module metadata from the state dir's cache (a call per module only when it is not cached),
//! and the owners an `owner = "column"` mapping names against the org's active users (the state
//! dir's copy when it is under an hour old, else one users call), as the run checks them.

use std::path::{Path, PathBuf};

use zcrm_connect::CachedMetadata;
use zcrm_pipeline::{Metadata, MetadataError, Pipeline, StepSummary};
use zcrm_protocol::ModuleFields;

use crate::error::EngineError;
use crate::owners::Users;
use crate::state::consumer;

/// Loads the pipeline at `path` (every problem of the file at once) and validates the import
/// steps named in `only` (all when empty), writing their reject files.
pub fn validate(path: &Path, only: &[String]) -> Result<Vec<StepSummary>, EngineError> {
    let p = zcrm_pipeline::load_checked(path, |p: &Pipeline| {
        CachedMetadata::new(&p.connection, &p.state_dir, &consumer(p)).ok()
    })?;
    let org = p.connection.org()?;
    let mut meta = WithOwners {
        meta: CachedMetadata::new(&p.connection, &p.state_dir, "validate")?,
        users: None,
        cache: crate::state::users_cache(&p, &org),
    };
    Ok(zcrm_pipeline::validate(&p, only, &mut meta)?)
}

/// Metadata, and the org's users read at the first owner to check.
struct WithOwners {
    meta: CachedMetadata,
    users: Option<Users>,
    cache: PathBuf,
}

impl Metadata for WithOwners {
    fn fields(&mut self, module: &str) -> Result<ModuleFields, MetadataError> {
        self.meta.fields(module)
    }

    fn owner_problem(&mut self, who: &str) -> Result<Option<String>, MetadataError> {
        let users = match &mut self.users {
            Some(u) => u,
            slot => slot.insert(Users::load(self.meta.client()?, &self.cache)?.0),
        };
        Ok(users.resolve(who).err())
    }
}
