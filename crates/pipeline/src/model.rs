//! The typed pipeline: only this can be run, so stages never see unchecked strings.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use jiff::tz::TimeZone;
use zcrm_client::Endpoint;
use zcrm_mapping::{MapSpec, PicklistMode};
use zcrm_protocol::Edition;
use zcrm_protocol::value::Since;
use zcrm_readers::SourceOptions;

/// The wire dialect of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Api {
    /// Zoho's legacy XML API (an authtoken; calls per org day).
    #[default]
    Xml,
    /// Zoho's REST API v8 (OAuth 2.0; credits per rolling 24 hours).
    V8,
}

impl Api {
    /// Parses `xml` or `v8` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "xml" => Some(Self::Xml),
            "v8" => Some(Self::V8),
            _ => None,
        }
    }
}

/// The names of the variables that hold a v8 connection's OAuth credentials (never the
/// credentials themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEnv {
    /// The client id's variable.
    pub client_id: String,
    /// The client secret's variable.
    pub client_secret: String,
    /// The refresh token's variable.
    pub refresh_token: String,
}

impl Default for OAuthEnv {
    fn default() -> Self {
        Self {
            client_id: "ZCRM_CLIENT_ID".to_owned(),
            client_secret: "ZCRM_CLIENT_SECRET".to_owned(),
            refresh_token: "ZCRM_REFRESH_TOKEN".to_owned(),
        }
    }
}

/// How to reach the CRM, and how much of its budget to spend.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSpec {
    /// The API's address; `None` is the embedded emulator.
    pub url: Option<Endpoint>,
    /// The name of the environment variable holding the token.
    pub authtoken_env: String,
    /// The edition (sets the daily budget unless `daily_budget`).
    pub edition: Edition,
    /// User licences.
    pub licenses: u32,
    /// The share of a day's budget this pipeline may spend, in (0, 1].
    pub budget_share: f64,
    /// The org's time zone: where the budget day turns, and how the CRM's times read.
    pub timezone: TimeZone,
    /// An explicit daily budget instead of the edition rule.
    pub daily_budget: Option<u32>,
    /// Rows per write call (1..=200).
    pub write_batch: u32,
    /// Write calls kept in flight at once (1..=8).
    pub writes_in_flight: u32,
    /// Pages of records an export asks for at once (1..=8; on v8 at most the edition's
    /// concurrency cap less one when it is small).
    pub reads_in_flight: u32,
    /// A name for the org (`org = "..."`): with the host, it keys the budget ledger and the
    /// metadata cache instead of a fingerprint of the token.
    pub org: Option<String>,
    /// The wire dialect (`api`).
    pub api: Api,
    /// Where a v8 connection's OAuth credentials are (`*_env`).
    pub oauth: OAuthEnv,
    /// An explicit number of credits per rolling 24 hours instead of the edition formula (v8).
    pub daily_credits: Option<u32>,
}

/// Write calls a step keeps in flight unless the pipeline says otherwise: enough to keep the
/// CRM busy while the next payload is packed and journalled, few enough to be a polite client.
pub const DEFAULT_WRITES_IN_FLIGHT: u32 = 3;

impl Default for ConnectionSpec {
    fn default() -> Self {
        Self {
            url: None,
            authtoken_env: "ZCRM_AUTHTOKEN".to_owned(),
            edition: Edition::Free,
            licenses: 1,
            budget_share: 1.0,
            timezone: TimeZone::get(zcrm_protocol::limits::DEFAULT_ORG_TIMEZONE)
                .unwrap_or(TimeZone::UTC),
            daily_budget: None,
            write_batch: zcrm_protocol::limits::DEFAULT_WRITE_ROWS,
            writes_in_flight: DEFAULT_WRITES_IN_FLIGHT,
            reads_in_flight: zcrm_protocol::limits::DEFAULT_READS_IN_FLIGHT,
            org: None,
            api: Api::Xml,
            oauth: OAuthEnv::default(),
            daily_credits: None,
        }
    }
}

/// How an import writes, with the field that finds existing records where it needs one (the
/// loader refuses `update` and `upsert` without `match_on`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// Create every row.
    #[default]
    Insert,
    /// Update the record whose `match_on` field has the row's value.
    Update {
        /// The CRM field that identifies a record.
        match_on: String,
    },
    /// Update what matches `match_on`, insert the rest.
    Upsert {
        /// The CRM field that identifies a record.
        match_on: String,
    },
}

impl Mode {
    /// The field that finds existing records (`None` for inserts).
    pub fn match_on(&self) -> Option<&str> {
        match self {
            Self::Insert => None,
            Self::Update { match_on } | Self::Upsert { match_on } => Some(match_on),
        }
    }

    /// Whether rows must carry every mandatory field (not for updates, which keep the
    /// record's other values).
    pub fn needs_mandatory(&self) -> bool {
        !matches!(self, Self::Update { .. })
    }
}

/// How many rejected rows a step tolerates (`max_rejects`, as BigQuery's `max_bad_records`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxRejects {
    /// At most this many rows.
    Count(u64),
    /// At most this percentage of the rows read.
    Percent(f64),
}

impl MaxRejects {
    /// The rows tolerated out of `rows` read.
    pub fn allowed(self, rows: u64) -> u64 {
        match self {
            Self::Count(n) => n,
            Self::Percent(p) => ((rows as f64) * p / 100.0).floor() as u64,
        }
    }

    /// Reads `12` or `"2%"` (or `"12"`).
    pub fn parse(v: &toml::Value) -> Option<Self> {
        match v {
            toml::Value::Integer(n) => u64::try_from(*n).ok().map(Self::Count),
            toml::Value::String(s) => {
                let s = s.trim();
                match s.strip_suffix('%') {
                    Some(p) => p
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=100.0).contains(p))
                        .map(Self::Percent),
                    None => s.parse().ok().map(Self::Count),
                }
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for MaxRejects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// How an import step writes, when the pipeline says so (`method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The record API (insert/update/upsert calls of at most 100 rows).
    Records,
    /// Bulk Write jobs (v8 only; no line items).
    Bulk,
}

/// Where an import step's settings are written (for diagnostics found later).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportSpans {
    /// The step's table.
    pub step: Range<usize>,
    /// `import = ...`.
    pub module: Option<Range<usize>>,
    /// `source = ...`.
    pub source: Option<Range<usize>>,
    /// `key = ...`.
    pub key: Option<Range<usize>>,
    /// `[steps.map]`.
    pub map: Option<Range<usize>>,
}

/// An import step.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportStep {
    /// `name`.
    pub name: String,
    /// The module's API name.
    pub module: String,
    /// The source file (absolute or relative to the working folder).
    pub source: PathBuf,
    /// Reader options (sheet, header row, CSV delimiter, quote, encoding).
    pub source_options: SourceOptions,
    /// Insert, update or upsert (with its `match_on`).
    pub mode: Mode,
    /// The source column that identifies a row across steps and reruns.
    pub key: Option<String>,
    /// The reject file.
    pub rejects: PathBuf,
    /// The success file.
    pub success: PathBuf,
    /// What to do with values outside a picklist.
    pub picklist: PicklistMode,
    /// Workflow, approval, and what an insert does with a duplicate.
    pub options: zcrm_client::WriteOptions,
    /// The map.
    pub map: MapSpec,
    /// Where things are written in the file.
    pub spans: ImportSpans,
    /// `[steps.line_items]`: the rows' line items, from a file of their own.
    pub line_items: Option<LineItems>,
    /// `method`: records or bulk; `None` lets the planner pick (always records on XML).
    pub method: Option<Method>,
    /// `max_rejects`: more local rejects than this and the step sends nothing; at most this
    /// many rejected rows leave the run's exit code at 0.
    pub max_rejects: Option<MaxRejects>,
    /// `sample = N`: a rehearsal on the step's first N valid rows (journalled, so a full run
    /// continues after them).
    pub sample: Option<u64>,
}

/// `[steps.line_items]` of a Quotes, SalesOrders, PurchaseOrders or Invoices step: a line
/// file joined to the step's rows by the step's `key`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItems {
    /// The line file.
    pub source: PathBuf,
    /// Reader options (CSV delimiter, quote, encoding).
    pub source_options: SourceOptions,
    /// The line file's column holding the parent row's key.
    pub parent: String,
    /// `[steps.line_items.map]`: line-item field → column.
    pub map: MapSpec,
    /// Where lines that belong to no row go (`<step>.lines.rejects.csv` beside the step's
    /// reject file).
    pub rejects: PathBuf,
    /// Where things are written in the file.
    pub spans: LineItemSpans,
}

/// Where a `[steps.line_items]` table's settings are written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineItemSpans {
    /// The table.
    pub table: Range<usize>,
    /// `source = ...`.
    pub source: Option<Range<usize>>,
    /// `parent = ...`.
    pub parent: Option<Range<usize>>,
    /// `[steps.line_items.map]`.
    pub map: Option<Range<usize>>,
}

/// Which columns an export writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportColumns {
    /// Every field.
    All,
    /// These fields.
    List(Vec<String>),
}

/// An export step (kept for the runner of a later issue; `validate` skips it).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportStep {
    /// `name`.
    pub name: String,
    /// The module's API name.
    pub module: String,
    /// The destination (`.parquet`, `.csv` or a folder).
    pub to: PathBuf,
    /// The columns.
    pub columns: ExportColumns,
    /// Where the export starts (`since`; every record when absent).
    pub since: Since,
    /// `method = "records" | "bulk"`; absent: the record API (`zcrm plan` shows both).
    pub method: Option<ExportMethod>,
    /// `on_schema_change` (default `evolve`).
    pub on_schema_change: OnSchemaChange,
    /// `criteria` or `view`: only those records (`None`: the whole module).
    pub filter: Option<zcrm_client::RecordFilter>,
    /// `attachments = "DIR"` (v8 only): the folder that receives the attachments of every
    /// record the step writes (`DIR/<record id>/<attachment id>-<name>`, `DIR/attachments.csv`).
    pub attachments: Option<std::path::PathBuf>,
}

/// What an export into a folder does when the module's fields changed since its last part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnSchemaChange {
    /// The new part carries the new column set; the change is reported.
    #[default]
    Evolve,
    /// The step fails before writing, naming the fields.
    Fail,
}

/// How an export step reads the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportMethod {
    /// The record API, 200 records a call.
    Records,
    /// The Bulk Read API (v8), 200,000 records a job.
    Bulk,
}

/// A step of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `import = "Module"`.
    Import(Box<ImportStep>),
    /// `export = "Module"`.
    Export(ExportStep),
    /// `delete`, `attach`, `relate` or `convert = "Module"`: one action per source row.
    Action(Box<ActionStep>),
}

impl Step {
    /// The step's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Import(s) => &s.name,
            Self::Export(s) => &s.name,
            Self::Action(s) => &s.name,
        }
    }
}

/// Which record a row acts on: a CRM Id in a column, or the record another step made from
/// the row whose key is in a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordRef {
    /// `{ column = "crm_id" }`: the column holds the record's Id.
    Column(String),
    /// `{ lookup = "step", column = "key" }`: the column holds a key of that import step's rows.
    Lookup {
        /// The import step.
        step: String,
        /// The column holding the key.
        column: String,
    },
}

impl RecordRef {
    /// The source column the reference reads.
    pub fn column(&self) -> &str {
        match self {
            Self::Column(c) | Self::Lookup { column: c, .. } => c,
        }
    }
}

/// What an action step does with each row's record.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// `delete = "Module"`: deletes the record.
    Delete,
    /// `attach = "Module"`: uploads the file the row names to the record (`photo = true`: as
    /// its photo).
    Attach {
        /// The column holding the file's path (relative to the manifest's folder).
        file: String,
        /// Set the record's photo instead of adding an attachment.
        photo: bool,
    },
    /// `relate = "Module"`: relates the row's `target` record of `related` to the record.
    Relate {
        /// The related module (`Leads` of a campaign).
        related: String,
        /// The record to relate.
        target: RecordRef,
        /// The relation's fields (`Member Status`) and the columns they come from.
        fields: Vec<(String, String)>,
    },
    /// `convert = "Leads"`: converts the lead into a contact, an account and, when
    /// `potential` maps fields, a potential.
    Convert {
        /// The potential's fields (Potentials labels or v8 api names) mapped from columns,
        /// with `assign_to`'s owner as the owner field: compiled against the Potentials
        /// metadata like an import's map.
        potential: MapSpec,
        /// `assign_to = { owner = "column" }`: the column with the new records' owner.
        assign_to: Option<String>,
        /// `notify`: e-mail the lead's owner and the new records' owner.
        notify: bool,
    },
}

impl ActionKind {
    /// What a done row did, as the success file says it.
    pub fn done(&self) -> &'static str {
        match self {
            Self::Delete => "deleted",
            Self::Attach { photo: false, .. } => "attached",
            Self::Attach { photo: true, .. } => "photo set",
            Self::Relate { .. } => "related",
            Self::Convert { .. } => "converted",
        }
    }

    /// The kind's key in the pipeline file.
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Attach { photo: false, .. } => "attach",
            Self::Attach { photo: true, .. } => "attach (photo)",
            Self::Relate { .. } => "relate",
            Self::Convert { .. } => "convert",
        }
    }
}

/// A step that makes one call per source row (relations: one per up to 100 rows of the same
/// record), each journalled, resumable and reported like an import's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionStep {
    /// `name`.
    pub name: String,
    /// The module of the records acted on (API name).
    pub module: String,
    /// What to do.
    pub kind: ActionKind,
    /// The source file: one row per action.
    pub source: PathBuf,
    /// Reader options.
    pub source_options: SourceOptions,
    /// The record each row acts on.
    pub record: RecordRef,
    /// The source column that identifies a row across reruns (default: the row number).
    pub key: Option<String>,
    /// The reject file.
    pub rejects: PathBuf,
    /// The success file.
    pub success: PathBuf,
    /// Where the step is written (for diagnostics found later).
    pub spans: ImportSpans,
}

/// A checked pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The file.
    pub path: PathBuf,
    /// The file's text (diagnostics found later point into it and share it).
    pub text: Arc<str>,
    /// `[connection]`.
    pub connection: ConnectionSpec,
    /// `[state] dir`.
    pub state_dir: PathBuf,
    /// The steps, in file order.
    pub steps: Vec<Step>,
    /// `[[tests]]`, in file order.
    pub tests: Vec<PipelineTest>,
}

/// A `[[tests]]` table: one source row for an import step and what its mapping must make of
/// it (`zcrm test`).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineTest {
    /// `name` (default: `test N`).
    pub name: String,
    /// The import step whose mapping is tested.
    pub step: String,
    /// The row: `(column, value)`; columns not given are empty.
    pub input: Vec<(String, String)>,
    /// `(field, value)` the mapped row must carry.
    pub expect: Vec<(String, String)>,
    /// Texts the row's reject reasons must contain (the row must be rejected).
    pub reject: Vec<String>,
    /// Where the test is written.
    pub span: Range<usize>,
}

impl Pipeline {
    /// The import steps, in order.
    pub fn imports(&self) -> impl Iterator<Item = &ImportStep> {
        self.steps.iter().filter_map(|s| match s {
            Step::Import(i) => Some(&**i),
            Step::Export(_) | Step::Action(_) => None,
        })
    }

    /// What a `lookup` may name: every import step, and `convert:Contacts`, `convert:Accounts`
    /// and `convert:Potentials` for each conversion step (`creates = ...`).
    pub fn lookup_targets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.imports().map(|s| s.name.clone()).collect();
        for a in self.actions() {
            if matches!(a.kind, ActionKind::Convert { .. }) {
                out.extend(
                    ["Contacts", "Accounts", "Potentials"].map(|m| format!("{}:{m}", a.name)),
                );
            }
        }
        out
    }

    /// The action steps, in order.
    pub fn actions(&self) -> impl Iterator<Item = &ActionStep> {
        self.steps.iter().filter_map(|s| match s {
            Step::Action(a) => Some(&**a),
            Step::Import(_) | Step::Export(_) => None,
        })
    }
}
