//! `zcrm export MODULE --to FILE|FOLDER/`: a whole module to typed Parquet or CSV.

use std::path::PathBuf;

use anyhow::{Result, bail};
use zcrm_client::MetadataCache;
use zcrm_writers::{Codec, ExportSpec, OutputFormat, ReadMethod, Since};

use crate::connection::{Settings, connect};
use crate::progress::Progress;

/// The command's options.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The module's API name (Leads, Contacts, CustomModule1, ...).
    #[arg(value_parser = crate::cmd::module_name)]
    pub module: String,
    /// Output: a `.parquet` or `.csv` file, or a folder ending in `/` that gets a new
    /// `part-NNNN` file per run.
    #[arg(long, short = 'o')]
    pub to: PathBuf,
    /// Field labels to export, comma-separated, or `all`.
    #[arg(long, default_value = "all")]
    pub columns: String,
    /// Only records created or modified since: `yyyy-MM-dd[ HH:mm:ss]` (org time zone) or
    /// `last-run` (the watermark of the previous run, kept in the state dir). Also writes the
    /// ids of records deleted since then beside the export.
    #[arg(long)]
    pub since: Option<String>,
    /// Parquet compression: zstd, snappy or none.
    #[arg(long, default_value = "zstd")]
    pub compression: String,
    /// Format of the parts when `--to` is a folder: parquet or csv.
    #[arg(long, default_value = "parquet")]
    pub format: String,
    /// CSV: do not prefix cells starting with = + - @ with a quote.
    #[arg(long)]
    pub no_formula_guard: bool,
    /// How records are read: `records` (pages of 200, one call each) or `bulk` (Bulk Read
    /// jobs of up to 200,000 records, 50 credits each; v8 only).
    #[arg(long, default_value = "records")]
    pub method: String,
    /// Pages of records asked for at once (1..=8; on v8 at most the edition's concurrency cap
    /// less one when it is small). Default: `ZCRM_READS_IN_FLIGHT`, else 4.
    #[arg(long)]
    pub reads_in_flight: Option<String>,
    /// Only the records matching a search criteria, `(Field Label:value)` (`value*`: starts
    /// with), joined with AND/OR: XML searchRecords, v8 search (at most 2,000 records).
    #[arg(long, conflicts_with = "view")]
    pub criteria: Option<String>,
    /// Only the records of a custom view, by name (XML getCVRecords, 250 calls a day; v8 the
    /// record list with the view's id, 3 credits a page).
    #[arg(long)]
    pub view: Option<String>,
    /// When `--to` is a folder and the module's fields changed since its last part: `evolve`
    /// (the new part carries the new columns) or `fail` (stop, naming the fields). A changed
    /// type always fails.
    #[arg(long, default_value = "evolve")]
    pub on_schema_change: String,
    /// Also download the attachments of every record exported into this folder:
    /// `DIR/<record id>/<attachment id>-<file name>` and a manifest `DIR/attachments.csv`
    /// (v8 only: one listing call per record, one download per file; files already there are
    /// not downloaded again).
    #[arg(long, value_name = "DIR")]
    pub attachments: Option<PathBuf>,
}

/// Runs the command, showing its progress on `progress`; returns the summary to print.
pub fn run(args: &ExportArgs, progress: &Progress) -> Result<String> {
    let mut settings = Settings::from_env()?;
    if let Some(n) = &args.reads_in_flight {
        settings.set_reads_in_flight(n)?;
    }
    let Some(codec) = Codec::parse(&args.compression) else {
        bail!("--compression must be zstd, snappy or none")
    };
    let folder_format = match args.format.to_ascii_lowercase().as_str() {
        "parquet" => OutputFormat::Parquet,
        "csv" => OutputFormat::Csv,
        other => bail!("--format must be parquet or csv, not {other:?}"),
    };
    let format = ExportSpec::format_of(&args.to, Some(folder_format))?;
    let columns = (!args.columns.trim().eq_ignore_ascii_case("all")).then(|| {
        args.columns.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()
    });
    let since = match &args.since {
        None => Since::All,
        Some(s) => zcrm_writers::parse_since(s)?,
    };
    let method = match args.method.to_ascii_lowercase().as_str() {
        "records" => ReadMethod::Records,
        "bulk" => ReadMethod::Bulk,
        other => bail!("--method must be records or bulk, not {other:?}"),
    };
    let Some(on_schema_change) = zcrm_writers::OnSchemaChange::parse(&args.on_schema_change) else {
        bail!("--on-schema-change must be evolve or fail")
    };
    let filter = match (&args.criteria, &args.view) {
        (Some(c), _) => Some(zcrm_writers::RecordFilter::Criteria(
            zcrm_protocol::params::Criteria::parse(c)
                .map_err(|e| anyhow::anyhow!("--criteria {c:?}: {e}"))?,
        )),
        (None, Some(v)) => Some(zcrm_writers::RecordFilter::View(v.trim().to_owned())),
        (None, None) => None,
    };
    if filter.is_some() && method == ReadMethod::Bulk {
        bail!("--method bulk cannot read a criteria or a view: they are read page by page");
    }
    let conn = connect(&settings, "export")?;
    let org = settings.org()?;
    let cache = MetadataCache::new(&settings.state_dir, &org);
    let spec = ExportSpec {
        module: args.module.clone(),
        to: args.to.clone(),
        format,
        columns,
        since,
        codec,
        guard_formulas: !args.no_formula_guard,
        state_dir: settings.state_dir.clone(),
        org,
        timezone: settings.timezone.clone(),
        method,
        reads_in_flight: settings.reads_in_flight,
        options: zcrm_writers::ExportOptions {
            filter,
            on_schema_change,
            attachments: args.attachments.clone(),
        },
    };
    let started = std::time::Instant::now();
    let summary = zcrm_engine::export_module(&*conn.client, &cache, &spec, progress)
        .map_err(crate::exit::engine_error)?;
    let status = conn.client.ledger().status()?;
    let mut out = if summary.bulk_jobs > 0 {
        format!(
            "exported {} records of {} through {} Bulk Read job(s) ({:.1}s)\n",
            summary.records,
            spec.module,
            summary.bulk_jobs,
            started.elapsed().as_secs_f64()
        )
    } else {
        format!(
            "exported {} records of {} in {} pages ({:.1}s)\n",
            summary.records,
            spec.module,
            summary.pages,
            started.elapsed().as_secs_f64()
        )
    };
    match &summary.path {
        Some(p) => out.push_str(&format!("  file: {}\n", p.display())),
        None if summary.since.is_some() => {
            out.push_str("  nothing changed since the last run: no part written\n");
        }
        None => out.push_str("  the module has no records yet: no part written\n"),
    }
    if let Some(since) = &summary.since {
        out.push_str(&format!("  since: {since} (org time)\n"));
    }
    if let Some(d) = &summary.deleted_path {
        out.push_str(&format!(
            "  deleted since then: {} id(s) in {}\n",
            summary.deleted,
            d.display()
        ));
    }
    if let Some(change) = &summary.schema_change {
        out.push_str(&format!(
            "  the module's fields changed since the previous part: {change} (the new part carries the new columns)\n"
        ));
    }
    if summary.reread_passes > 0 {
        out.push_str(&format!(
            "  re-read: {} page(s) in {} pass(es): records already written were deleted during the export, which moves later records back a place (none was skipped or written twice)\n",
            summary.reread_pages, summary.reread_passes
        ));
    }
    if summary.duplicates_skipped + summary.unchanged_skipped > 0 {
        out.push_str(&format!(
            "  skipped: {} seen twice during the export, {} unchanged since the last run\n",
            summary.duplicates_skipped, summary.unchanged_skipped
        ));
    }
    if let Some(a) = &summary.attachments {
        out.push_str(&format!("  {}\n", zcrm_engine::attachments_note(a, status.credits)));
    }
    let unit = if status.credits { "credits in the last 24 hours" } else { "calls today" };
    out.push_str(&format!(
        "  {unit}: {} of {} (left {})\n",
        status.spent, status.budget, status.remaining
    ));
    Ok(out)
}
