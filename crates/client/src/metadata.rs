//! The `getFields` cache in the state dir: one file per org and module, with the time it was
//! fetched, so repeated runs spend at most one metadata call per module.

use std::path::PathBuf;

use jiff::Timestamp;
use zcrm_protocol::ModuleFields;

use crate::{ClientError, CrmApi};

/// Cached metadata and where it came from.
#[derive(Debug, Clone)]
pub struct CachedFields {
    /// The fields.
    pub fields: ModuleFields,
    /// When they were fetched from the API.
    pub fetched_at: Timestamp,
    /// Whether this answer came from the cache (no call spent).
    pub from_cache: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    fetched_at: String,
    xml: String,
}

/// The cache folder of one org: `STATE/metadata/ORG/MODULE.json`.
#[derive(Debug, Clone)]
pub struct MetadataCache {
    dir: PathBuf,
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect()
}

impl MetadataCache {
    /// The cache of `org` under `state_dir`.
    pub fn new(state_dir: &std::path::Path, org: &str) -> Self {
        Self { dir: state_dir.join("metadata").join(safe(org)) }
    }

    fn path(&self, module: &str) -> PathBuf {
        self.dir.join(format!("{}.json", safe(module)))
    }

    /// The cached fields of `module`, if any and readable.
    pub fn cached(&self, module: &str) -> Option<CachedFields> {
        let text = std::fs::read_to_string(self.path(module)).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let fields = ModuleFields::decode(entry.xml.as_bytes()).ok()?;
        Some(CachedFields { fields, fetched_at: entry.fetched_at.parse().ok()?, from_cache: true })
    }

    /// The fields of `module`: from the cache unless `refresh`, else one getFields call.
    pub fn get(
        &self,
        client: &dyn CrmApi,
        module: &str,
        refresh: bool,
    ) -> Result<CachedFields, ClientError> {
        if !refresh && let Some(hit) = self.cached(module) {
            return Ok(hit);
        }
        let fields = client.fields(module)?;
        let fetched_at = Timestamp::now();
        let path = self.path(module);
        let xml = fields
            .encode()
            .map_err(|source| ClientError::MetadataEncode { path: path.clone(), source })?;
        let entry = Entry { fetched_at: fetched_at.to_string(), xml };
        let tmp = self.dir.join(format!(".{}.tmp", safe(module)));
        let bytes = serde_json::to_vec(&entry)
            .map_err(|source| ClientError::MetadataJson { path: path.clone(), source })?;
        crate::owner_only::write_atomic(&path, &tmp, &bytes).map_err(ClientError::MetadataFile)?;
        Ok(CachedFields { fields, fetched_at, from_cache: false })
    }
}
