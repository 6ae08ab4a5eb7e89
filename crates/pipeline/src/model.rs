//! The typed pipeline: only this can be run, so stages never see unchecked strings.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use zcrm_mapping::{MapSpec, PicklistMode};
use zcrm_protocol::Edition;
use zcrm_readers::SourceOptions;

/// How to reach the CRM, and how much of its budget to spend.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSpec {
    /// The API base URL; `None` is the embedded emulator.
    pub url: Option<String>,
    /// The name of the environment variable holding the token.
    pub authtoken_env: String,
    /// The edition (sets the daily budget unless `daily_budget`).
    pub edition: Edition,
    /// User licences.
    pub licenses: u32,
    /// The share of a day's budget this pipeline may spend, in (0, 1].
    pub budget_share: f64,
    /// Where the budget day turns.
    pub timezone: String,
    /// An explicit daily budget instead of the edition rule.
    pub daily_budget: Option<u32>,
    /// Rows per write call (1..=200).
    pub write_batch: u32,
    /// Write calls kept in flight at once (1..=8).
    pub writes_in_flight: u32,
    /// A name for the org (`org = "..."`): with the host, it keys the budget ledger and the
    /// metadata cache instead of a fingerprint of the token.
    pub org: Option<String>,
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
            timezone: zcrm_protocol::limits::DEFAULT_ORG_TIMEZONE.to_owned(),
            daily_budget: None,
            write_batch: zcrm_protocol::limits::DEFAULT_WRITE_ROWS,
            writes_in_flight: DEFAULT_WRITES_IN_FLIGHT,
            org: None,
        }
    }
}

/// How an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// insertRecords.
    #[default]
    Insert,
    /// updateRecords (by `match_on`).
    Update,
    /// Update what matches `match_on`, insert the rest.
    Upsert,
}

impl Mode {
    /// Parses `insert`, `update` or `upsert`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "insert" => Some(Self::Insert),
            "update" => Some(Self::Update),
            "upsert" => Some(Self::Upsert),
            _ => None,
        }
    }
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
    /// Insert, update or upsert.
    pub mode: Mode,
    /// The CRM field that identifies a record (update and upsert).
    pub match_on: Option<String>,
    /// The source column that identifies a row across steps and reruns.
    pub key: Option<String>,
    /// The reject file.
    pub rejects: PathBuf,
    /// The success file.
    pub success: PathBuf,
    /// What to do with values outside a picklist.
    pub picklist: PicklistMode,
    /// The map.
    pub map: MapSpec,
    /// Where things are written in the file.
    pub spans: ImportSpans,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportStep {
    /// `name`.
    pub name: String,
    /// The module's API name.
    pub module: String,
    /// The destination (`.parquet`, `.csv` or a folder).
    pub to: PathBuf,
    /// The columns.
    pub columns: ExportColumns,
    /// `since` (e.g. `last-run`), verbatim.
    pub since: Option<String>,
}

/// A step of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `import = "Module"`.
    Import(Box<ImportStep>),
    /// `export = "Module"`.
    Export(ExportStep),
}

impl Step {
    /// The step's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Import(s) => &s.name,
            Self::Export(s) => &s.name,
        }
    }
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
}

impl Pipeline {
    /// The import steps, in order.
    pub fn imports(&self) -> impl Iterator<Item = &ImportStep> {
        self.steps.iter().filter_map(|s| match s {
            Step::Import(i) => Some(&**i),
            Step::Export(_) => None,
        })
    }
}
