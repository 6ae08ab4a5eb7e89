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
    /// `(label, API name)` of each field, for metadata from the REST API (the `getFields` XML
    /// has no place for them); absent from older cache files and from the XML API's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    api_names: Vec<(String, String)>,
    /// `(label, decimal places)` of the number fields that say (the REST API's
    /// `decimal_place`); absent from older cache files and from the XML API's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    decimal_places: Vec<(String, u8)>,
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
        let mut fields = ModuleFields::decode(entry.xml.as_bytes()).ok()?;
        for section in &mut fields.sections {
            for f in &mut section.fields {
                f.api_name =
                    entry.api_names.iter().find(|(l, _)| *l == f.label).map(|(_, a)| a.clone());
                f.decimal_places =
                    entry.decimal_places.iter().find(|(l, _)| *l == f.label).map(|(_, n)| *n);
            }
        }
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
            client.remember_fields(&hit.fields);
            return Ok(hit);
        }
        let fields = client.fields(module)?;
        let fetched_at = Timestamp::now();
        let path = self.path(module);
        let xml = fields
            .encode()
            .map_err(|source| ClientError::MetadataEncode { path: path.clone(), source })?;
        let api_names = fields
            .fields()
            .filter_map(|(_, f)| Some((f.label.clone(), f.api_name.clone()?)))
            .collect();
        let decimal_places = fields
            .fields()
            .filter_map(|(_, f)| Some((f.label.clone(), f.decimal_places?)))
            .collect();
        let entry = Entry { fetched_at: fetched_at.to_string(), xml, api_names, decimal_places };
        let bytes = serde_json::to_vec(&entry)
            .map_err(|source| ClientError::MetadataJson { path: path.clone(), source })?;
        crate::owner_only::write_atomic(&path, &bytes).map_err(ClientError::MetadataFile)?;
        Ok(CachedFields { fields, fetched_at, from_cache: false })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use zcrm_protocol::{FieldMeta, FieldType, Section};

    use super::*;

    #[test]
    fn api_names_survive_the_cache_and_older_files_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = MetadataCache::new(dir.path(), "org");
        let mut last = FieldMeta::new("Last Name", FieldType::Text);
        last.api_name = Some("Last_Name".into());
        let mut revenue = FieldMeta::new("Annual Revenue", FieldType::Currency);
        revenue.decimal_places = Some(2);
        let fields = ModuleFields {
            module: "Leads".into(),
            sections: vec![Section {
                name: "Info".into(),
                display_name: "Info".into(),
                fields: vec![last, FieldMeta::new("Company", FieldType::Text), revenue],
            }],
        };
        let api_names = vec![("Last Name".to_owned(), "Last_Name".to_owned())];
        let entry = Entry {
            fetched_at: Timestamp::now().to_string(),
            xml: fields.encode().unwrap(),
            api_names,
            decimal_places: vec![("Annual Revenue".to_owned(), 2)],
        };
        std::fs::create_dir_all(&cache.dir).unwrap();
        std::fs::write(cache.path("Leads"), serde_json::to_vec(&entry).unwrap()).unwrap();
        let hit = cache.cached("Leads").unwrap().fields;
        assert_eq!(hit.field("Last_Name").map(|f| f.label.as_str()), Some("Last Name"));
        assert_eq!(hit.field("Company").unwrap().api_name, None);
        assert_eq!(hit.field("Annual Revenue").unwrap().decimal_places, Some(2));
        // A file written before API names were kept.
        let old = format!(
            "{{\"fetched_at\":\"{}\",\"xml\":{}}}",
            Timestamp::now(),
            serde_json::to_string(&fields.encode().unwrap()).unwrap()
        );
        std::fs::write(cache.path("Leads"), old).unwrap();
        assert!(cache.cached("Leads").unwrap().fields.field("Last Name").is_some());
    }
}
