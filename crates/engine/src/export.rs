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
/// each page; the summary the writers return. Attachments on the XML API are refused before
/// any call.
pub fn export_module(
    client: &dyn CrmApi,
    cache: &MetadataCache,
    spec: &ExportSpec,
    observer: &dyn Observer,
) -> Result<ExportSummary, EngineError> {
    if spec.options.attachments.is_some() && client.dialect() == Dialect::Xml {
        return Err(EngineError::ExportModule(ExportError::Usage(
            zcrm_writers::export::NO_XML_ATTACHMENTS.to_owned(),
        )));
    }
    let fields = cache.get(client, &spec.module, refresh_for(&spec.to))?.fields;
    Ok(observed(client, &fields, spec, &spec.module, observer)?)
}

/// Whether an export to `to` asks for the module's fields afresh (one call) instead of taking
/// them from the cache: a folder of parts does, so that a field added to or removed from the
/// module since the last part is seen (`on_schema_change`); a whole file does not.
fn refresh_for(to: &std::path::Path) -> bool {
    to.as_os_str().to_string_lossy().ends_with('/') || to.is_dir() || to.extension().is_none()
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

/// What an export's attachments did, in one sentence (`credits`: the dialect counts credits,
/// else calls).
pub fn attachments_note(a: &zcrm_writers::AttachmentsSummary, credits: bool) -> String {
    let unit = if credits { "credit(s)" } else { "call(s)" };
    let mut s = format!(
        "attachments of {} record(s) into {}: {} file(s) downloaded ({} bytes), {} already there, {} link(s), {} deleted before download; {} listing and {} download call(s), {} {unit}; manifest {}",
        a.records,
        a.dir.display(),
        a.files,
        a.bytes,
        a.present,
        a.links,
        a.gone,
        a.listing_calls,
        a.download_calls,
        a.cost,
        a.manifest.display()
    );
    if a.gone > 0 {
        s.push_str(" (the deleted ones are rows of the manifest with no file)");
    }
    s
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
    /// Credits (XML: calls) of one page of 200 records the way the step reads: 1, or on v8 3
    /// for a custom view's (`cvid`).
    pub page_credits: u64,
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
    if let Some(filter) = &e.filter {
        let view_page = u64::from(client.cost(CallKind::ViewRead));
        let why = match (filter, v8) {
            (zcrm_client::RecordFilter::View(v), true) => format!(
                "the view {v:?} is read through the record list with its id (cvid: one call for the org's views first), 200 records a page at {view_page} credits a page"
            ),
            (zcrm_client::RecordFilter::View(v), false) => format!(
                "the view {v:?} is read through getCVRecords pages (200 records a call, 250 calls a day shared with getSearchRecords)"
            ),
            (zcrm_client::RecordFilter::Criteria(_), _) => {
                "the criteria is read through the search pages (200 records a call)".to_owned()
            }
        };
        let page_credits = match filter {
            zcrm_client::RecordFilter::View(_) if v8 => view_page,
            _ => u64::from(client.cost(CallKind::Read)),
        };
        return ExportChoice {
            method: ReadMethod::Records,
            last_records,
            records_credits: last_records.filter(|_| v8).map(|n| pages(n) * page_credits),
            bulk_credits: None,
            page_credits,
            why,
        };
    }
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
    let page_credits = u64::from(client.cost(CallKind::Read));
    ExportChoice { method, last_records, records_credits, bulk_credits, page_credits, why }
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
    let fields = cache.get(client, &e.module, refresh_for(&e.to))?.fields;
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
        options: zcrm_writers::ExportOptions {
            filter: e.filter.clone(),
            on_schema_change: match e.on_schema_change {
                zcrm_pipeline::OnSchemaChange::Evolve => zcrm_writers::OnSchemaChange::Evolve,
                zcrm_pipeline::OnSchemaChange::Fail => zcrm_writers::OnSchemaChange::Fail,
            },
            attachments: e.attachments.clone(),
        },
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
    if let Some(a) = &s.attachments {
        notes.push(attachments_note(a, client.dialect() == Dialect::V8));
    }
    if let Some(change) = &s.schema_change {
        notes.push(format!(
            "the module's fields changed since the previous part: {change} (the new part carries the new columns; earlier parts are unchanged)"
        ));
    }
    Ok(StepSummary {
        name: e.name.clone(),
        kind: "export",
        rows: s.records,
        files: s
            .path
            .into_iter()
            .chain(s.deleted_path)
            .chain(s.attachments.as_ref().map(|a| a.manifest.clone()))
            .collect(),
        notes,
        ..StepSummary::default()
    })
}

/// Why `zcrm plan` refuses export step `e`'s criteria or view, if it does. A search page and a
/// page of the whole module cost the same (one call, or one credit, for up to 200 records), so
/// the filtered read is never dearer in calls; what can make paging the module the better way
/// is a filtered read that cannot finish within its own limit. The size it goes by is the
/// records the step's last run wrote (before a first run nothing is refused):
/// - v8 search reads at most 2,000 records: more than that last time, and it is refused;
/// - XML getCVRecords counts against the 250-a-day cap it shares with getSearchRecords: more
///   pages than the cap has left today, and it is refused;
/// - a v8 view is read through the record list, which stops at record 100,000 (`page_token`
///   paging ends there; Bulk Read takes no view here): more than that last time, and it is
///   refused.
pub fn filter_refusal(
    e: &ExportStep,
    client: &dyn CrmApi,
    choice: &ExportChoice,
) -> Result<Option<String>, EngineError> {
    let (Some(filter), Some(n)) = (&e.filter, choice.last_records) else { return Ok(None) };
    let pages = n.div_ceil(u64::from(MAX_READ_ROWS)).max(1);
    let search_cap = u64::from(zcrm_protocol::rest_limits::MAX_PAGE_RECORDS);
    Ok(match (client.dialect(), filter) {
        (Dialect::V8, zcrm_client::RecordFilter::Criteria(_)) if n > search_cap => Some(format!(
            "the last run wrote {n} records, more than the {search_cap} a v8 search can read: paging the whole module ({pages}+ pages) is the way; remove `criteria` and filter the file"
        )),
        (Dialect::V8, zcrm_client::RecordFilter::View(v))
            if n > u64::from(zcrm_protocol::rest_limits::MAX_TOKEN_RECORDS) =>
        {
            Some(format!(
                "the view {v:?} had {n} records last run, more than the {} the v8 record list reads: narrow the view, or export the whole module (method = \"bulk\") and filter the file",
                zcrm_protocol::rest_limits::MAX_TOKEN_RECORDS
            ))
        }
        (Dialect::Xml, zcrm_client::RecordFilter::View(v)) => {
            let status = client.ledger().status()?;
            let left = u64::from(zcrm_protocol::limits::SEARCH_CV_DAILY_CAP)
                .saturating_sub(u64::from(status.search_cv_spent));
            (pages > left).then(|| format!(
                "the view {v:?} had {n} records last run: {pages} getCVRecords calls, more than the {left} left today of the 250-a-day cap; paging the whole module has no such cap: remove `view` (or use `criteria`)"
            ))
        }
        _ => None,
    })
}
