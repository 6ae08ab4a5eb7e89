//! A whole-module export: pages of 200 records through getRecords into a sink.
//!
//! Paging order is `Created Time` ascending (ties by id). A record's creation never changes, so
//! modifying records during an export moves nothing: each is written once, in the version its
//! page was read in; records created during the export are appended at the end. With `since`,
//! the `lastModifiedTime` filter can let a record modified during the export *enter* the result
//! before the cursor and push later records right by one: those are recognised by id (ids are
//! kept, 8 bytes each, sorted by construction) and not written twice, and the entering record is
//! exported by the next run, whose watermark is this run's start minus a minute of clock skew;
//! records of that minute that this run wrote are remembered with their Modified Time and not
//! written again unless they change. Deleted records are fetched
//! with getDeletedRecordIds since the watermark and written beside the export.

use std::path::{Path, PathBuf};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use zcrm_client::Client;
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_protocol::params::{ApiVersion, NewFormat, ReadParams, SelectColumns, Sort, Window};
use zcrm_protocol::value::{format_datetime, parse_datetime};
use zcrm_protocol::{Module, ModuleFields, RecordsPage};

use crate::ExportError;
use crate::columns::{self, ExportColumn};
use crate::csv_sink::CsvSink;
use crate::parquet_sink::{Codec, FileInfo, ParquetSink};
use crate::sink::Sink;
use crate::watermark::{self, Watermark};

const MODIFIED: &str = "Modified Time";

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Apache Parquet.
    Parquet,
    /// CSV.
    Csv,
}

impl OutputFormat {
    fn ext(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Csv => "csv",
        }
    }
}

/// Where the records start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// Every record.
    All,
    /// Records created or modified at or after this time (org time zone).
    Time(DateTime),
    /// From the watermark the previous run left (every record the first time).
    LastRun,
}

impl Since {
    /// Parses `last-run`, `all`, or `yyyy-MM-dd HH:mm:ss` / `yyyy-MM-dd`.
    pub fn parse(s: &str) -> Result<Self, ExportError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("last-run") {
            return Ok(Self::LastRun);
        }
        if t.is_empty() || t.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        let full = if t.len() == 10 { format!("{t} 00:00:00") } else { t.replace('T', " ") };
        parse_datetime(&full).map(Self::Time).map_err(|_| {
            ExportError::Usage(format!("--since {s:?}: expected last-run or yyyy-MM-dd[ HH:mm:ss]"))
        })
    }
}

/// Everything an export needs.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// The module's API name.
    pub module: String,
    /// A file (`.parquet` / `.csv`), or a folder (trailing `/` or existing) that receives a new
    /// `part-NNNN` file per run.
    pub to: PathBuf,
    /// The format (from the extension, or given for folders).
    pub format: OutputFormat,
    /// Field labels to export (the id always comes first); `None` = all.
    pub columns: Option<Vec<String>>,
    /// Where to start.
    pub since: Since,
    /// Parquet compression.
    pub codec: Codec,
    /// CSV: prefix text cells starting with `= + - @` with `'`.
    pub guard_formulas: bool,
    /// The state dir (watermarks).
    pub state_dir: PathBuf,
    /// The org key (watermarks are per org).
    pub org: String,
    /// The org's IANA time zone.
    pub timezone: String,
}

/// Progress after each page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Pages fetched.
    pub pages: u32,
    /// Records written.
    pub records: u64,
}

/// What an export did.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// The file written (none for an empty incremental part).
    pub path: Option<PathBuf>,
    /// Records written.
    pub records: u64,
    /// getRecords pages fetched.
    pub pages: u32,
    /// Records skipped because they had already been written in this export.
    pub duplicates_skipped: u64,
    /// Records skipped because the previous run wrote them and they have not changed since.
    pub unchanged_skipped: u64,
    /// Deleted record ids written, and where.
    pub deleted: u64,
    /// The deleted-ids file.
    pub deleted_path: Option<PathBuf>,
    /// The `lastModifiedTime` this export started from.
    pub since: Option<String>,
}

impl ExportSpec {
    /// Chooses the format from the destination: `.parquet`, `.csv`, or a folder (Parquet parts
    /// unless `folder_format` says CSV).
    pub fn format_of(
        to: &Path,
        folder_format: Option<OutputFormat>,
    ) -> Result<OutputFormat, ExportError> {
        if is_folder(to) {
            return Ok(folder_format.unwrap_or(OutputFormat::Parquet));
        }
        match to.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("parquet") => Ok(OutputFormat::Parquet),
            Some("csv") => Ok(OutputFormat::Csv),
            _ => Err(ExportError::Usage(format!(
                "{}: the destination must end in .parquet or .csv, or be a folder (no extension, or ending in /)",
                to.display()
            ))),
        }
    }
}

/// A destination is a folder of parts when it ends in `/`, exists as a folder, or has no
/// file extension.
fn is_folder(p: &Path) -> bool {
    p.as_os_str().to_string_lossy().ends_with('/') || p.is_dir() || p.extension().is_none()
}

/// Runs the export. `fields` is the module's metadata (from the cache or one getFields call).
pub fn export(
    client: &Client,
    fields: &ModuleFields,
    spec: &ExportSpec,
    mut progress: impl FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    let tz = TimeZone::get(&spec.timezone)
        .map_err(|e| ExportError::Usage(format!("time zone {:?}: {e}", spec.timezone)))?;
    let started = jiff::Timestamp::now();
    let id_field = spec
        .module
        .parse::<Module>()
        .map(|m| m.id_field().into_owned())
        .unwrap_or_else(|_| format!("{}ID", spec.module.to_uppercase()));
    let mut cols = columns::plan(&id_field, fields, spec.columns.as_deref())?;

    let wm_path = watermark::path(&spec.state_dir, &spec.org, &spec.module, &spec.to);
    let previous = if spec.since == Since::LastRun {
        watermark::load(&wm_path)?
    } else {
        Watermark::default()
    };
    let since: Option<DateTime> = match &spec.since {
        Since::All => None,
        Since::Time(t) => Some(*t),
        Since::LastRun => previous
            .since
            .as_deref()
            .map(parse_datetime)
            .transpose()
            .map_err(|e| ExportError::io(&wm_path, e))?,
    };
    let unchanged: std::collections::HashMap<u64, String> = previous.boundary.into_iter().collect();
    // The next run starts where this one started, minus a minute of clock skew between this
    // machine and the CRM, in the org's time zone.
    let next_since = format_datetime(
        started
            .checked_sub(jiff::SignedDuration::from_secs(60))
            .unwrap_or(started)
            .to_zoned_datetime(tz)
            .datetime(),
    );
    let mut boundary: Vec<(u64, String)> = Vec::new();

    let folder = is_folder(&spec.to);
    let dest =
        if folder { watermark::next_part(&spec.to, spec.format.ext())? } else { spec.to.clone() };
    let select = match &spec.columns {
        None => SelectColumns::All,
        // Modified Time is always fetched: the watermark boundary needs it.
        Some(_) => SelectColumns::fields(
            &spec.module,
            cols.iter()
                .skip(1)
                .map(|c| c.label.clone())
                .chain(std::iter::once(MODIFIED.to_owned())),
        ),
    };
    let mut params = ReadParams {
        select,
        window: Window::page(0),
        sort: Some(Sort::asc("Created Time")),
        last_modified: since,
        new_format: NewFormat::OmitNulls,
        version: ApiVersion::V2,
    };

    let exported_at = started.to_string();
    let since_text = since.map(format_datetime);
    let mut sink: Option<Box<dyn Sink>> = None;
    let mut summary = ExportSummary { since: since_text.clone(), ..ExportSummary::default() };
    let mut written_ids: Vec<u64> = Vec::new();
    let mut page_no = 0u32;
    loop {
        params.window = Window::page(page_no);
        let full = client.get_records(
            &spec.module,
            &params,
            |page: RecordsPage<'_>| -> Result<bool, ExportError> {
                summary.pages += 1;
                if sink.is_none() {
                    if spec.columns.is_none() {
                        columns::add_seen_ids(&mut cols, page.labels.iter().map(|l| &**l));
                    }
                    sink = Some(open_sink(
                        spec,
                        &dest,
                        cols.clone(),
                        &exported_at,
                        since_text.as_deref(),
                    )?);
                }
                let mut keep =
                    dedupe(&page, &id_field, &mut written_ids, &mut summary.duplicates_skipped);
                for (row, k) in page.rows().zip(keep.iter_mut()) {
                    let (Some(id), Some(mt)) = (row.id(&id_field), row.text(MODIFIED)) else {
                        continue;
                    };
                    if mt >= next_since.as_str() {
                        boundary.push((id.0, mt.to_owned()));
                    }
                    if *k && unchanged.get(&id.0).is_some_and(|prev| prev == mt) {
                        *k = false;
                        summary.unchanged_skipped += 1;
                    }
                }
                if let Some(s) = sink.as_mut() {
                    summary.records += s.write_page(&page, &keep)? as u64;
                }
                Ok(page.len() as u32 >= MAX_READ_ROWS)
            },
        )??;
        progress(Progress { pages: summary.pages, records: summary.records });
        if !full {
            break;
        }
        page_no += 1;
    }
    let sink = match sink {
        Some(s) => Some(s),
        // Nothing at all: a whole-file export still gets its (empty, typed) file; an empty
        // incremental part is not written.
        None if !folder => {
            Some(open_sink(spec, &dest, cols.clone(), &exported_at, since_text.as_deref())?)
        }
        None => None,
    };
    if let Some(s) = sink
        && (summary.records > 0 || !folder)
    {
        summary.path = Some(s.finish()?);
    }
    if since.is_some() || spec.since == Since::LastRun {
        let (n, path) = crate::deleted::export_deleted(client, spec, since, &dest, folder)?;
        summary.deleted = n;
        summary.deleted_path = path;
    }
    // Written only now that the files are in place.
    boundary.sort_unstable();
    boundary.dedup_by_key(|(id, _)| *id);
    watermark::store(
        &wm_path,
        &Watermark { since: Some(next_since), last_run: Some(exported_at), boundary },
    )?;
    Ok(summary)
}

fn open_sink(
    spec: &ExportSpec,
    dest: &Path,
    cols: Vec<ExportColumn>,
    exported_at: &str,
    since: Option<&str>,
) -> Result<Box<dyn Sink>, ExportError> {
    Ok(match spec.format {
        OutputFormat::Parquet => {
            let info =
                FileInfo { module: &spec.module, timezone: &spec.timezone, exported_at, since };
            Box::new(ParquetSink::create(dest, cols, &info, spec.codec)?)
        }
        OutputFormat::Csv => Box::new(CsvSink::create(dest, cols, spec.guard_formulas)?),
    })
}

/// Marks the rows to write: those whose id was not written yet. Ids arrive in creation order,
/// so the list stays sorted and lookups are binary searches; a page that breaks the order (a
/// real org whose ids are not monotonic) falls back to sorting.
fn dedupe(
    page: &RecordsPage<'_>,
    id_field: &str,
    written: &mut Vec<u64>,
    skipped: &mut u64,
) -> Vec<bool> {
    page.rows()
        .map(|row| {
            let Some(id) = row.id(id_field).map(|i| i.0) else { return true };
            match written.binary_search(&id) {
                Ok(_) => {
                    *skipped += 1;
                    false
                }
                Err(pos) => {
                    written.insert(pos, id);
                    true
                }
            }
        })
        .collect()
}
