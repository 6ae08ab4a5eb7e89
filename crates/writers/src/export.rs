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
//!
//! Deletion is the one change that moves records: deleting a record whose page was read moves
//! the later ones a place back, so one would slip past the cursor unseen. After the last page
//! the export lists the records deleted since it started (one call; incremental exports reuse
//! the list they write anyway) and, when it had written one of them, reads the pages again from
//! there (see `export`), so that no record that existed throughout is lost.

use std::path::{Path, PathBuf};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use zcrm_client::{CrmApi, Dialect};
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_protocol::params::{ApiVersion, NewFormat, ReadParams, SelectColumns, Sort, Window};
use zcrm_protocol::value::{format_datetime, parse_datetime};
use zcrm_protocol::{Module, ModuleFields, RecordsPage, ResponseError};

use crate::ExportError;
use crate::attachments::Downloads;
use crate::columns::{self, ExportColumn};
use crate::csv_sink::CsvSink;
use crate::pages::{ConvertedPage, convert_page};
use crate::parquet_sink::{Codec, FileInfo, ParquetSink};
use crate::sink::Sink;
use crate::watermark::{self, Watermark};
use zcrm_ordered::{JobFailed, Ordered};

use crate::pages::MODIFIED;

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

pub use zcrm_protocol::value::Since;

/// How the records are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMethod {
    /// The record API: pages of 200 records (one call each).
    #[default]
    Records,
    /// The dialect's Bulk Read API: jobs of up to 200,000 records whose result files are read
    /// as a stream (v8 only). Records come in id order and are read as of each job's run, so
    /// no deletion during the export moves them and nothing is read again.
    Bulk,
}

/// Parses an export's `since` (`last-run`, `all`, `yyyy-MM-dd[ HH:mm:ss]`), as the pipeline
/// loader checks it.
pub fn parse_since(s: &str) -> Result<Since, ExportError> {
    Since::parse(s).ok_or_else(|| {
        ExportError::Usage(format!("--since {s:?}: expected last-run or yyyy-MM-dd[ HH:mm:ss]"))
    })
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
    /// The org's time zone.
    pub timezone: TimeZone,
    /// How the records are read.
    pub method: ReadMethod,
    /// Pages of records asked for at once (1..=8; lowered to what the dialect allows,
    /// `CrmApi::max_reads_in_flight`). Bulk Read ignores it.
    pub reads_in_flight: u32,
    /// The variants: a filter, what a change of the module's fields does.
    pub options: crate::options::ExportOptions,
}

/// Progress, once after each page is fetched.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Pages fetched.
    pub pages: u32,
    /// Records written (trailing the pages fetched by the few still being converted).
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
    /// Times pages were read again because records already written were deleted meanwhile.
    pub reread_passes: u32,
    /// Pages fetched in those passes (included in `pages`).
    pub reread_pages: u32,
    /// Bulk Read jobs created (a Bulk Read export counts its chunks of 200 rows as `pages`).
    pub bulk_jobs: u32,
    /// Fields added to or removed from the module since the previous part in the folder.
    pub schema_change: Option<crate::schema_change::SchemaChange>,
    /// What the attachments of the records written did (when asked for).
    pub attachments: Option<crate::attachments::AttachmentsSummary>,
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
/// With `options.attachments`, the attachments of every record written are downloaded too
/// (see [`crate::attachments`]); on the XML API that is refused before any call.
pub fn export(
    client: &dyn CrmApi,
    fields: &ModuleFields,
    spec: &ExportSpec,
    progress: impl FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    let Some(dir) = spec.options.attachments.as_deref() else {
        return export_with(client, fields, spec, None, progress);
    };
    if client.dialect() == Dialect::Xml {
        return Err(ExportError::Usage(NO_XML_ATTACHMENTS.to_owned()));
    }
    let in_flight = spec.reads_in_flight.clamp(1, client.max_reads_in_flight().max(1));
    crate::attachments::with_downloads(client, &spec.module, dir, in_flight, |d| {
        export_with(client, fields, spec, Some(d), progress)
    })
}

/// Why an export with attachments is refused on the XML API.
pub const NO_XML_ATTACHMENTS: &str = "exporting attachments needs api = \"v8\": the XML API has no call that lists a record's attachments (downloadFile needs an attachment id nothing can tell)";

/// [`export`], with the attachments of the records written handed to `downloads`.
fn export_with(
    client: &dyn CrmApi,
    fields: &ModuleFields,
    spec: &ExportSpec,
    downloads: Option<&Downloads<'_>>,
    mut progress: impl FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    let tz = spec.timezone.clone();
    let started = jiff::Timestamp::now();
    let id_field = spec
        .module
        .parse::<Module>()
        .map(|m| m.id_field().into_owned())
        .unwrap_or_else(|_| format!("{}ID", spec.module.to_uppercase()));
    let cols = columns::plan(&id_field, fields, spec.columns.as_deref())?;

    let wm_path = watermark::path(&spec.state_dir, &spec.org, &spec.module, &spec.to);
    let schema = crate::schema_change::check(
        &cols,
        &wm_path,
        is_folder(&spec.to),
        spec.options.on_schema_change,
    )?;
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
    let start_less_skew = started
        .checked_sub(jiff::SignedDuration::from_secs(60))
        .unwrap_or(started)
        .to_zoned_datetime(tz)
        .datetime();
    let next_since = format_datetime(start_less_skew);
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
    let params = ReadParams {
        select,
        window: Window::page(0),
        sort: Some(Sort::asc("Created Time")),
        last_modified: since,
        new_format: NewFormat::OmitNulls,
        version: ApiVersion::V2,
    };

    let exported_at = started.to_string();
    let since_text = since.map(format_datetime);
    let incremental = since.is_some() || spec.since == Since::LastRun;
    let per_page = MAX_READ_ROWS;
    // A whole export read again into the same destination: the previous run's size says how
    // many pages the first round may ask for at once (a hint: a module that shrank costs at most
    // the pages asked for past its end, as any round does).
    let first_round = match spec.since {
        Since::All => watermark::load(&wm_path)
            .ok()
            .and_then(|w| w.records)
            .map_or(1, |r| u32::try_from(r / u64::from(per_page) + 1).unwrap_or(u32::MAX)),
        _ => 1,
    };
    let mut pager = Pager {
        client,
        spec,
        in_flight: spec.reads_in_flight.clamp(1, client.max_reads_in_flight().max(1)),
        chained_from: client.chained_reads_from().map(|from| from.saturating_sub(1) / per_page),
        params,
        id_field,
        cols,
        dest: &dest,
        exported_at: &exported_at,
        since_text: since_text.as_deref(),
        sink: None,
        rows: RowTracker {
            written: Vec::new(),
            pages: Vec::new(),
            unchanged: &unchanged,
            next_since: &next_since,
            boundary: &mut boundary,
            pass_last: None,
            monotonic: true,
            attach: downloads.map(|_| Vec::new()),
        },
        summary: ExportSummary { since: since_text.clone(), ..ExportSummary::default() },
        downloads,
    };
    if spec.method == ReadMethod::Bulk {
        pager.bulk(since, &mut progress)?;
    } else {
        pager.pages_from(0, first_round, &mut progress)?;
    }

    // A record deleted after its page was read moves every later record one place towards the
    // start, so the record at the next page's first place would be skipped. The deleted ids
    // (since the watermark for incremental exports, which need them anyway; else since this
    // export started) tell whether that happened; if so the pages are read again (rows already
    // written are skipped) from the first such record's page, less one page per 200 written
    // records deleted so far (each moved the later ones a place back), until a check finds no
    // new one. The pass that finds none saw no deletion before its cursor, so it skipped nothing.
    // A full export of one page has no page boundary for a record to slip past, so it skips
    // the check.
    //
    // With several pages in flight, pages near each other are read in no set order, so any
    // change during the pass that moves records may hide one (see `Pager::moves_during`): every
    // deletion during the export counts, written or not, and so do records that entered an
    // incremental export's filter; the pages are read again from the earliest page such a
    // record could have been on.
    let deleted_after = if incremental { since } else { Some(start_less_skew) };
    let mut seen = Seen::default();
    let mut deleted_written = 0u32;
    let deleted = loop {
        if !incremental && (pager.summary.pages < 2 || spec.method == ReadMethod::Bulk) {
            break Vec::new();
        }
        if spec.method == ReadMethod::Bulk {
            break crate::deleted::fetch_deleted(client, &spec.module, deleted_after)?;
        }
        let deleted = crate::deleted::fetch_deleted(client, &spec.module, deleted_after)?;
        let new_pages: Vec<u32> = if pager.in_flight > 1 && pager.summary.pages >= 2 {
            let moves = pager.moves_during(
                &deleted,
                &mut seen,
                deleted_after == Some(start_less_skew),
                start_less_skew,
                since.is_some(),
            )?;
            deleted_written += moves.deletions;
            moves.pages
        } else {
            let pages: Vec<u32> = deleted
                .iter()
                .filter(|id| seen.deleted.insert(**id))
                .filter_map(|id| pager.rows.page_of(*id))
                .collect();
            deleted_written += pages.len() as u32;
            pages
        };
        let Some(first_page) = new_pages.into_iter().min() else { break deleted };
        let first_page = first_page.saturating_sub(deleted_written.div_ceil(MAX_READ_ROWS));
        if pager.summary.reread_passes >= MAX_REREAD_PASSES {
            return Err(ExportError::Unsettled { passes: MAX_REREAD_PASSES });
        }
        pager.summary.reread_passes += 1;
        let before = pager.summary.pages;
        pager.pages_from(first_page, 1, &mut progress)?;
        pager.summary.reread_pages += pager.summary.pages - before;
    };

    let Pager { sink, cols, mut summary, .. } = pager;
    // Every record's attachments are in place before the export's files and watermark are.
    if let Some(d) = downloads {
        d.drain()?;
        summary.attachments = Some(d.finish()?);
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
    if incremental {
        let (n, path) = crate::deleted::write_deleted(spec, &deleted, &dest, folder)?;
        summary.deleted = n;
        summary.deleted_path = path;
    }
    // Written only now that the files are in place.
    summary.schema_change = schema.change().cloned();
    schema.commit(summary.path.is_some())?;
    boundary.sort_unstable();
    boundary.dedup_by_key(|(id, _)| *id);
    watermark::store(
        &wm_path,
        &Watermark {
            since: Some(next_since),
            last_run: Some(exported_at),
            boundary,
            records: Some(summary.records),
        },
    )?;
    Ok(summary)
}

/// How many times an export reads pages again because records it had written were deleted
/// meanwhile, before it gives up (the module is changing faster than it can be read).
pub const MAX_REREAD_PASSES: u32 = 5;

/// Ids an export has already taken into account when deciding to read pages again.
#[derive(Debug, Default)]
struct Seen {
    /// Deleted ids.
    deleted: std::collections::HashSet<u64>,
    /// Ids of records that entered an incremental export's filter while it ran.
    entered: std::collections::HashSet<u64>,
}

/// What moved records during a pass with several pages in flight.
#[derive(Debug, Default)]
struct Moves {
    /// The earliest page each moving record could have been on.
    pages: Vec<u32>,
    /// Records deleted during the export, new since the last check.
    deletions: u32,
}

/// One export's paging state: the request, the sink (opened at the first page, which names
/// the columns) and the rows written.
struct Pager<'a, 'r> {
    client: &'a dyn CrmApi,
    spec: &'a ExportSpec,
    /// Pages asked for at once.
    in_flight: u32,
    /// The first page that needs the answer of the page before it.
    chained_from: Option<u32>,
    params: ReadParams,
    id_field: String,
    cols: Vec<ExportColumn>,
    dest: &'a Path,
    exported_at: &'a str,
    since_text: Option<&'a str>,
    sink: Option<Box<dyn Sink>>,
    rows: RowTracker<'r>,
    summary: ExportSummary,
    /// Where the records written go for their attachments.
    downloads: Option<&'a Downloads<'a>>,
}

/// A page converted on rayon's threads: its number, and its batch or why not.
type Converted = (u32, Result<ConvertedPage, ExportError>);

/// The dialect's page decoder as the conversion jobs take it.
fn decoder(
    client: &dyn CrmApi,
) -> impl for<'b> Fn(&'b [u8]) -> Result<RecordsPage<'b>, ResponseError> + Sync + '_ {
    move |b| client.decode_page(b)
}

impl<'p> Pager<'p, '_> {
    /// Fetches pages `first`, `first + 1`, ... up to the last one (`in_flight` at once, on
    /// threads of their own; `first_round` of them before the first is handed on) and writes the rows not written yet, in page order. For Parquet,
    /// pages are decoded and turned into Arrow batches on rayon's threads while the next
    /// pages are fetched.
    fn pages_from(
        &mut self,
        first: u32,
        first_round: u32,
        progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExportError> {
        let (client, spec, downloads) = (self.client, self.spec, self.downloads);
        let params = self.params.clone();
        // A filtered export (criteria, view) pages through its filter's method.
        let fetch = move |page_no: u32| -> Result<(Vec<u8>, usize), ExportError> {
            // Pages and attachment calls share the export's calls in flight.
            let _slot = downloads.map(Downloads::slot);
            let mut params = params.clone();
            params.window = Window::page(page_no);
            crate::filter::read_body(client, spec, &params)
        };
        let plan = crate::fetch::Plan {
            in_flight: self.in_flight,
            first,
            first_round,
            chained_from: self.chained_from,
        };
        self.rows.pass_last = None;
        zcrm_ordered::scope(zcrm_ordered::pool_window(), |converting| {
            let mut handed = 0u32;
            let calls = crate::fetch::in_order(
                plan,
                &fetch,
                &mut |page_no, (body, upper)| {
                    handed += 1;
                    self.summary.pages += 1;
                    if upper == 0 {
                        return Ok(crate::fetch::Next::Stop);
                    }
                    self.take(page_no, body, converting)?;
                    // Once per page handed on (records written may trail by the pages still
                    // converting).
                    progress(Progress { pages: self.summary.pages, records: self.summary.records });
                    Ok(if upper < MAX_READ_ROWS as usize {
                        crate::fetch::Next::Stop
                    } else {
                        crate::fetch::Next::More
                    })
                },
                |page_no| ExportError::Usage(format!("reading page {page_no} panicked")),
            )?;
            // Pages asked for past the last one (before it answered) were calls too.
            self.summary.pages += calls.saturating_sub(handed);
            while let Some(done) = converting.oldest() {
                if let Some(out) = self.sink.as_mut() {
                    write_converted(done, &mut self.rows, out.as_mut(), &mut self.summary)?;
                }
            }
            self.hand_on_written()
        })
    }

    /// The records that may have moved during a pass with several pages in flight, and the
    /// earliest page each could have been on. Pages within `in_flight` of each other are read
    /// in no set order, so a record whose place changes while a later page has been read and
    /// an earlier one not yet can fall between them: the sequential rule (only deletions of
    /// records already written move one past the cursor) no longer holds. What does hold: a
    /// pass during which no record before another was deleted, and none entered the result,
    /// leaves every record that existed throughout in its place, so it skips nothing. So every
    /// deletion during the export counts (`recent`: the list already runs from this export's
    /// start; else the ids deleted since then are asked for, one call a 200, when the list has
    /// ids this export never wrote), and so do the records of an incremental export's
    /// filter modified since it started (`filtered`: one getRecords call a 200). A record
    /// this export wrote was on its page; one it never wrote lay after the written record
    /// with the next lower id (ids grow with creation time, the paging order) — when the ids
    /// seen so far broke that order, the first page.
    fn moves_during(
        &mut self,
        deleted: &[u64],
        seen: &mut Seen,
        recent: bool,
        started: DateTime,
        filtered: bool,
    ) -> Result<Moves, ExportError> {
        let fresh: Vec<u64> =
            deleted.iter().copied().filter(|id| !seen.deleted.contains(id)).collect();
        let unwritten = fresh.iter().any(|id| self.rows.page_of(*id).is_none());
        let during: Vec<u64> = if recent || !unwritten {
            fresh
        } else {
            let since_start: std::collections::HashSet<u64> =
                crate::deleted::fetch_deleted(self.client, &self.spec.module, Some(started))?
                    .into_iter()
                    .collect();
            // Ids deleted before the export started and never written moved nothing it read.
            fresh
                .into_iter()
                .filter(|id| {
                    let moved = since_start.contains(id) || self.rows.page_of(*id).is_some();
                    if !moved {
                        seen.deleted.insert(*id);
                    }
                    moved
                })
                .collect()
        };
        seen.deleted.extend(during.iter().copied());
        let entered: Vec<u64> = if filtered {
            self.modified_since(started)?
                .into_iter()
                .filter(|id| seen.entered.insert(*id))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Moves {
            pages: during.iter().chain(&entered).map(|id| self.rows.earliest_page(*id)).collect(),
            deletions: during.len() as u32,
        })
    }

    /// The ids of the records of this export's query modified since `started` (Modified Time
    /// only; counted in the summary's pages).
    fn modified_since(&mut self, started: DateTime) -> Result<Vec<u64>, ExportError> {
        let mut params = self.params.clone();
        params.last_modified = Some(started);
        params.select = SelectColumns::fields(&self.spec.module, [MODIFIED.to_owned()]);
        let mut ids = Vec::new();
        let mut page_no = 0;
        loop {
            params.window = Window::page(page_no);
            let mut rows = 0usize;
            let id_field = &self.id_field;
            self.client.read(&self.spec.module, &params, &mut |page| {
                rows = page.len();
                ids.extend(page.rows().filter_map(|r| r.id(id_field).map(|i| i.0)));
            })?;
            self.summary.pages += 1;
            if rows < MAX_READ_ROWS as usize {
                return Ok(ids);
            }
            page_no += 1;
        }
    }

    /// Writes (or hands to `converting`) the rows of page `page_no` not written yet; the
    /// first page opens the sink.
    fn take(
        &mut self,
        page_no: u32,
        body: Vec<u8>,
        converting: &mut Ordered<'_, 'p, Converted>,
    ) -> Result<(), ExportError> {
        if self.sink.is_none() {
            let page = self.client.decode_page(&body)?;
            if self.spec.columns.is_none() {
                columns::add_seen_ids(&mut self.cols, page.labels.iter().map(|l| &**l));
            }
            self.sink = Some(open_sink(
                self.spec,
                self.dest,
                self.cols.clone(),
                self.exported_at,
                self.since_text,
            )?);
        }
        let Some(out) = self.sink.as_mut() else { return Ok(()) };
        match out.batch_converter() {
            Some(conv) => {
                let id = self.id_field.clone();
                let decode = decoder(self.client);
                let job = move || (page_no, convert_page(&conv, &id, &body, &decode));
                if let Some(done) = converting.submit(job) {
                    write_converted(done, &mut self.rows, out.as_mut(), &mut self.summary)?;
                }
            }
            None => {
                let page = self.client.decode_page(&body)?;
                let id_field = &self.id_field;
                let keys = page.rows().map(|r| (r.id(id_field).map(|i| i.0), r.text(MODIFIED)));
                let keep = self.rows.keep(page_no, keys, &mut self.summary);
                self.summary.records += out.write_page(&page, &keep)? as u64;
            }
        }
        self.hand_on_written()
    }

    /// Hands the records written since the last call to the attachment downloads.
    fn hand_on_written(&mut self) -> Result<(), ExportError> {
        let (Some(d), Some(ids)) = (self.downloads, self.rows.attach.as_mut()) else {
            return Ok(());
        };
        for id in ids.drain(..) {
            d.push(id)?;
        }
        Ok(())
    }

    /// Reads every record (or those modified since `since`) through the dialect's Bulk Read,
    /// each chunk of rows taken as a page.
    fn bulk(
        &mut self,
        since: Option<DateTime>,
        progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExportError> {
        let (client, spec) = (self.client, self.spec);
        let select = self.params.select.clone();
        let request = zcrm_client::BulkReadRequest {
            module: &spec.module,
            select: &select,
            modified_since: since,
        };
        zcrm_ordered::scope(zcrm_ordered::pool_window(), |converting| {
            let mut failure = None;
            let mut page_no = 0u32;
            let outcome = client.bulk_read(&request, &mut |body, _rows| {
                self.summary.pages += 1;
                if let Err(e) = self.take(page_no, body, converting) {
                    failure = Some(e);
                    return std::ops::ControlFlow::Break(());
                }
                page_no += 1;
                progress(Progress { pages: self.summary.pages, records: self.summary.records });
                std::ops::ControlFlow::Continue(())
            });
            if let Some(e) = failure {
                return Err(e);
            }
            self.summary.bulk_jobs += outcome?.jobs;
            while let Some(done) = converting.oldest() {
                if let Some(out) = self.sink.as_mut() {
                    write_converted(done, &mut self.rows, out.as_mut(), &mut self.summary)?;
                }
            }
            self.hand_on_written()
        })
    }
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
            let info = FileInfo {
                module: &spec.module,
                timezone: spec.timezone.clone(),
                exported_at,
                since,
            };
            Box::new(ParquetSink::create(dest, cols, &info, spec.codec)?)
        }
        OutputFormat::Csv => Box::new(CsvSink::create(dest, cols, spec.guard_formulas)?),
    })
}

/// Per-row bookkeeping in page order: which rows to write (ids not written yet in this export,
/// and not unchanged since the previous run's boundary), the page each id was read from, and
/// the watermark boundary.
struct RowTracker<'a> {
    /// Ids written so far. They arrive in creation order, so the list stays sorted and lookups
    /// are binary searches; a page that breaks the order (a real org whose ids are not
    /// monotonic) falls back to inserting in place.
    written: Vec<u64>,
    /// The page number each id of `written` was read from (same positions).
    pages: Vec<u32>,
    unchanged: &'a std::collections::HashMap<u64, String>,
    next_since: &'a str,
    boundary: &'a mut Vec<(u64, String)>,
    /// The last id first written in the current pass.
    pass_last: Option<u64>,
    /// Whether the ids first written in each pass grew in page order (ids follow creation).
    monotonic: bool,
    /// Ids written and not handed to the attachment downloads yet (`None`: no attachments).
    attach: Option<Vec<u64>>,
}

impl RowTracker<'_> {
    /// The page `id` was read from, if this export read it.
    fn page_of(&self, id: u64) -> Option<u32> {
        let at = self.written.binary_search(&id).ok()?;
        self.pages.get(at).copied()
    }

    /// The earliest page a record with `id` could have been on: its own page when this export
    /// wrote it, else the page of the written record with the next lower id (the first page
    /// when there is none, or when the ids seen did not follow the paging order).
    fn earliest_page(&self, id: u64) -> u32 {
        if !self.monotonic {
            return 0;
        }
        let below = self.written.partition_point(|w| *w <= id);
        below.checked_sub(1).and_then(|at| self.pages.get(at).copied()).unwrap_or(0)
    }

    /// The keep flags of the rows of page `page_no`, given each row's id and Modified Time.
    fn keep<'k>(
        &mut self,
        page_no: u32,
        keys: impl Iterator<Item = (Option<u64>, Option<&'k str>)>,
        summary: &mut ExportSummary,
    ) -> Vec<bool> {
        keys.map(|(id, mt)| {
            let keep = self.keep_one(page_no, id, mt, summary);
            if keep && let (Some(id), Some(ids)) = (id, self.attach.as_mut()) {
                ids.push(id);
            }
            keep
        })
        .collect()
    }

    /// Whether the row with `id` and Modified Time `mt` of page `page_no` is written.
    fn keep_one(
        &mut self,
        page_no: u32,
        id: Option<u64>,
        mt: Option<&str>,
        summary: &mut ExportSummary,
    ) -> bool {
        let Some(id) = id else { return true };
        match self.written.binary_search(&id) {
            Ok(_) => {
                summary.duplicates_skipped += 1;
                return false;
            }
            Err(pos) => {
                self.written.insert(pos, id);
                self.pages.insert(pos, page_no);
                if self.pass_last.is_some_and(|last| id < last) {
                    self.monotonic = false;
                }
                self.pass_last = Some(id);
            }
        }
        let Some(mt) = mt else { return true };
        if mt >= self.next_since {
            self.boundary.push((id, mt.to_owned()));
        }
        if self.unchanged.get(&id).is_some_and(|prev| prev == mt) {
            summary.unchanged_skipped += 1;
            return false;
        }
        true
    }
}

/// Writes a converted page's kept rows.
fn write_converted(
    done: Result<Converted, JobFailed>,
    rows: &mut RowTracker<'_>,
    sink: &mut dyn Sink,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    let (page_no, page) = done.map_err(|e| ExportError::Usage(e.to_string()))?;
    let page = page?;
    let keep = rows.keep(page_no, page.keys.iter().map(|(id, mt)| (*id, mt.as_deref())), summary);
    if let Some(batch) = page.batch {
        summary.records += sink.write_batch(batch, &keep)? as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes nothing: a page that reaches it is a failure of the test.
    struct NoSink;

    impl Sink for NoSink {
        fn write_page(
            &mut self,
            _: &zcrm_protocol::RecordsPage<'_>,
            _: &[bool],
        ) -> Result<usize, ExportError> {
            panic!("no page may be written");
        }
        fn finish(self: Box<Self>) -> Result<PathBuf, ExportError> {
            panic!("not finished here");
        }
    }

    /// A page whose conversion panics stops the export with an error (a page is never
    /// skipped, and the export does not wait for a result that will not come).
    #[test]
    fn a_panicking_conversion_is_an_error_not_a_skipped_page() {
        let unchanged = std::collections::HashMap::new();
        let mut boundary = Vec::new();
        let mut rows = RowTracker {
            written: Vec::new(),
            pages: Vec::new(),
            unchanged: &unchanged,
            next_since: "",
            boundary: &mut boundary,
            pass_last: None,
            monotonic: true,
            attach: None,
        };
        let mut summary = ExportSummary::default();
        let r = zcrm_ordered::scope(2, |converting| {
            assert!(converting.submit(|| -> Converted { panic!("boom in page 3") }).is_none());
            let done = converting.oldest().expect("one job outstanding");
            write_converted(done, &mut rows, &mut NoSink, &mut summary)
        });
        let err = r.expect_err("the panic is an error");
        assert!(matches!(&err, ExportError::Usage(m) if m.contains("boom in page 3")), "{err:?}");
        assert_eq!(summary.records, 0);
    }
}
