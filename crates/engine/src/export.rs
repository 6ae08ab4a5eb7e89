//! Exports: a module to typed Parquet or CSV, as a pipeline step or on its own.

use zcrm_client::{CrmApi, MetadataCache};
use zcrm_pipeline::{ExportColumns, ExportStep, Pipeline};
use zcrm_protocol::ModuleFields;
use zcrm_writers::{Codec, ExportError, ExportSpec, ExportSummary};

use crate::error::EngineError;
use crate::execute::StepSummary;
use crate::observer::Observer;

/// Exports `spec.module` (its metadata from the cache, else one call), telling `observer`
/// each page; the summary the writers return.
pub fn export_module(
    client: &dyn CrmApi,
    cache: &MetadataCache,
    spec: &ExportSpec,
    observer: &dyn Observer,
) -> Result<ExportSummary, EngineError> {
    let fields = cache.get(client, &spec.module, false)?.fields;
    Ok(observed(client, &fields, spec, &spec.module, observer)?)
}

/// The export of `spec`, shown to `observer` under `name`.
fn observed(
    client: &dyn CrmApi,
    fields: &ModuleFields,
    spec: &ExportSpec,
    name: &str,
    observer: &dyn Observer,
) -> Result<ExportSummary, ExportError> {
    let shown = observer.export(name, client.ledger());
    let s = zcrm_writers::export(client, fields, spec, |p| shown.page(p.pages.into(), p.records))?;
    // The per-page figures trail by the pages still converting: the summary's are final.
    shown.page(s.pages.into(), s.records);
    shown.finish();
    Ok(s)
}

/// Runs an export step of pipeline `p`.
pub(crate) fn run_export(
    p: &Pipeline,
    e: &ExportStep,
    client: &dyn CrmApi,
    cache: &MetadataCache,
    org: &str,
    observer: &dyn Observer,
) -> Result<StepSummary, EngineError> {
    let failed = |source| EngineError::Export { step: e.name.clone(), source };
    let fields = cache.get(client, &e.module, false)?.fields;
    let spec = ExportSpec {
        module: e.module.clone(),
        to: e.to.clone(),
        format: ExportSpec::format_of(&e.to, None).map_err(failed)?,
        columns: match &e.columns {
            ExportColumns::All => None,
            ExportColumns::List(c) => Some(c.clone()),
        },
        since: e.since.clone(),
        codec: Codec::Zstd,
        guard_formulas: true,
        state_dir: p.state_dir.clone(),
        org: org.to_owned(),
        timezone: p.connection.timezone.clone(),
    };
    let s = observed(client, &fields, &spec, &e.name, observer).map_err(failed)?;
    let notes = (s.reread_passes > 0)
        .then(|| {
            format!(
                "{} page(s) read again: records already written were deleted during the export (none was skipped or written twice)",
                s.reread_pages
            )
        })
        .into_iter()
        .collect();
    Ok(StepSummary {
        name: e.name.clone(),
        kind: "export",
        rows: s.records,
        files: s.path.into_iter().chain(s.deleted_path).collect(),
        notes,
        ..StepSummary::default()
    })
}
