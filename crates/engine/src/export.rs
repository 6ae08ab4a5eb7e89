//! Exports: a module to typed Parquet or CSV, as a pipeline step or on its own.

use zcrm_client::bulk_read::BULK_READ_PAGE_ROWS;
use zcrm_client::{CallKind, CrmApi, Dialect, MetadataCache};
use zcrm_pipeline::{ExportColumns, ExportMethod, ExportStep, Pipeline};
use zcrm_protocol::ModuleFields;
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_writers::{Codec, ExportError, ExportSpec, ExportSummary, ReadMethod};

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

/// Records above which one Bulk Read job (50 credits for up to 200,000) is cheaper than pages
/// of 200 records at 1 credit each: 50 × 200.
pub const BULK_READ_BREAK_EVEN: u64 = 10_000;

/// How an export step reads its module, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportChoice {
    /// The way chosen.
    pub method: ReadMethod,
    /// Records the last run of the step wrote, the size the choice goes by (none before the
    /// first run).
    pub last_records: Option<u64>,
    /// Credits of the record API for that many records (1 per page of 200, v8 only).
    pub records_credits: Option<u64>,
    /// Credits of Bulk Read for that many records (50 per job of up to 200,000, v8 only).
    pub bulk_credits: Option<u64>,
    /// The reason, in words.
    pub why: String,
}

/// Chooses how export step `e` reads: `method` when the step says; else, on v8, Bulk Read when
/// the step's last run wrote more than [`BULK_READ_BREAK_EVEN`] records (cheaper in credits;
/// a module's size has no cheap count before a run, so the last run's is the estimate) and
/// the record API otherwise (also before a first run, and always on the XML API).
pub fn choose(p: &Pipeline, e: &ExportStep, client: &dyn CrmApi, org: &str) -> ExportChoice {
    let wm = zcrm_writers::watermark::path(&p.state_dir, org, &e.module, &e.to);
    let last_records = zcrm_writers::watermark::load(&wm).ok().and_then(|w| w.records);
    let v8 = client.dialect() == Dialect::V8;
    let pages = |n: u64| n.div_ceil(u64::from(MAX_READ_ROWS)).max(1);
    let jobs = |n: u64| n.div_ceil(BULK_READ_PAGE_ROWS).max(1);
    let records_credits =
        last_records.filter(|_| v8).map(|n| pages(n) * u64::from(client.cost(CallKind::Read)));
    let bulk_credits =
        last_records.filter(|_| v8).map(|n| jobs(n) * u64::from(client.cost(CallKind::BulkRead)));
    let (method, why) = match (e.method, last_records) {
        (Some(ExportMethod::Bulk), _) => (ReadMethod::Bulk, "method = \"bulk\"".to_owned()),
        (Some(ExportMethod::Records), _) => {
            (ReadMethod::Records, "method = \"records\"".to_owned())
        }
        (None, _) if !v8 => (ReadMethod::Records, "the XML API has no Bulk Read".to_owned()),
        (None, None) => (
            ReadMethod::Records,
            format!(
                "no earlier run tells the module's size: the record API (Bulk Read is cheaper above {BULK_READ_BREAK_EVEN} records; say method = \"bulk\")"
            ),
        ),
        (None, Some(n)) => {
            let (r, b) = (records_credits.unwrap_or(0), bulk_credits.unwrap_or(0));
            if b < r {
                (
                    ReadMethod::Bulk,
                    format!(
                        "the last run wrote {n} records: Bulk Read {b} credits < record API {r}"
                    ),
                )
            } else {
                (
                    ReadMethod::Records,
                    format!(
                        "the last run wrote {n} records: record API {r} credits <= Bulk Read {b}"
                    ),
                )
            }
        }
    };
    ExportChoice { method, last_records, records_credits, bulk_credits, why }
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
        method: choose(p, e, client, org).method,
        reads_in_flight: p.connection.reads_in_flight,
    };
    let s = observed(client, &fields, &spec, &e.name, observer).map_err(failed)?;
    let mut notes: Vec<String> = (s.reread_passes > 0)
        .then(|| {
            format!(
                "{} page(s) read again: records already written were deleted during the export (none was skipped or written twice)",
                s.reread_pages
            )
        })
        .into_iter()
        .collect();
    if s.bulk_jobs > 0 {
        notes.push(format!("read through {} Bulk Read job(s)", s.bulk_jobs));
    }
    Ok(StepSummary {
        name: e.name.clone(),
        kind: "export",
        rows: s.records,
        files: s.path.into_iter().chain(s.deleted_path).collect(),
        notes,
        ..StepSummary::default()
    })
}
