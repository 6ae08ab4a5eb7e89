//! zcrm-writers against a real emulator: round trips, call counts, exports while the module
//! changes, incremental parts with deletions, atomic files.

// Test helpers panic on setup failures; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod consistency;
mod guard;
mod incremental;
mod local;
mod parallel;
mod roundtrip;
mod types;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zcrm_client::{
    AuthToken, Client, ClientConfig, Endpoint, Ledger, LedgerConfig, RetryPolicy, TransportConfig,
};
use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use zcrm_protocol::params::WriteParams;
use zcrm_protocol::{BudgetRule, Edition, RecordId, WriteResponse, XmlDataBuilder};
use zcrm_writers::{Codec, ExportSpec, OutputFormat, Since};

/// The emulator's token.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Custom Leads fields of every exported type.
const SCHEMA: &str = r#"
[[field]]
module = "Leads"
label = "Visit Date"
type = "Date"
[[field]]
module = "Leads"
label = "Score"
type = "Long Integer"
[[field]]
module = "Leads"
label = "Ratio"
type = "Double"
[[field]]
module = "Leads"
label = "Discount"
type = "Percent"
[[field]]
module = "Leads"
label = "Tags"
type = "Multi Pick List"
picklist = ["Alpha", "Beta", "Gamma"]
"#;

/// An emulator with the custom schema, its temp dir, and a client.
pub struct Env {
    /// The emulator.
    pub emu: EmulatorHandle,
    /// Temp dir: emulator data, state dir, outputs.
    pub dir: tempfile::TempDir,
    /// A client with a large budget.
    pub client: Client,
}

/// Starts everything.
pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.toml"), SCHEMA).unwrap();
    let emu = start_in(dir.path());
    let client = client(&emu, dir.path());
    Env { emu, dir, client }
}

/// Starts the emulator whose data (and schema file) are in `dir`.
pub fn start_in(dir: &Path) -> EmulatorHandle {
    let cfg = EmulatorConfig {
        edition: Edition::Enterprise,
        licenses: 50,
        schema: Some(dir.join("schema.toml")),
        ..EmulatorConfig::new(dir.join("emu")).token(TOKEN)
    };
    Emulator::start(cfg).unwrap()
}

/// A client of `emu` with its ledger under `dir/state`.
pub fn client(emu: &EmulatorHandle, dir: &Path) -> Client {
    let ledger = LedgerConfig {
        org: "test".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("America/Los_Angeles").unwrap(),
        rule: BudgetRule::Fixed(1_000_000),
        share: 1.0,
    };
    let ledger = Arc::new(Ledger::open(&dir.join("state/budget.sqlite"), ledger).unwrap());
    let cfg = ClientConfig {
        endpoint: Endpoint::parse(emu.url()).unwrap(),
        token: AuthToken::new(TOKEN),
        transport: TransportConfig {
            timeout: Duration::from_secs(30),
            ..TransportConfig::default()
        },
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
    };
    Client::new(cfg, ledger).unwrap()
}

/// One generated lead: label/value pairs in the API's input forms.
pub fn lead(i: usize) -> Vec<(String, String)> {
    let tags = ["Alpha", "Beta", "Gamma"];
    let mut v = vec![
        ("Last Name".to_owned(), format!("Name {i} & Co")),
        (
            "Company".to_owned(),
            if i.is_multiple_of(7) {
                "=HYPERLINK(\"x\")".to_owned()
            } else {
                format!("Company <{}>", i % 13)
            },
        ),
        ("No of Employees".to_owned(), format!("{}", (i * 37) % 5000)),
        ("Annual Revenue".to_owned(), format!("{}.{:02}", i * 1000, i % 100)),
        ("Email Opt Out".to_owned(), i.is_multiple_of(2).to_string()),
        ("Score".to_owned(), format!("{}", 3_000_000_000i64 + i as i64)),
        ("Ratio".to_owned(), format!("0.{:09}", i * 7919 % 1_000_000_000)),
        ("Discount".to_owned(), format!("{}.5", i % 100)),
        ("Tags".to_owned(), format!("{};{}", tags[i % 3], tags[(i + 1) % 3])),
    ];
    if !i.is_multiple_of(5) {
        v.push((
            "Visit Date".to_owned(),
            format!("{:02}/{:02}/20{:02}", 1 + i % 12, 1 + i % 28, 10 + i % 15),
        ));
    }
    v
}

/// Inserts `rows` leads starting at `first` (100 per call) and returns their ids.
pub fn insert(c: &Client, first: usize, rows: usize) -> Vec<RecordId> {
    let mut ids = Vec::new();
    let all: Vec<usize> = (first..first + rows).collect();
    for chunk in all.chunks(100) {
        let mut b = XmlDataBuilder::new("Leads", 100);
        for i in chunk {
            let r = lead(*i);
            b.push_row(r.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        }
        let WriteResponse::Rows(res) =
            c.insert_records("Leads", b.finish().unwrap(), &WriteParams::multi_row()).unwrap()
        else {
            panic!()
        };
        for r in res {
            ids.push(
                r.outcome
                    .detail()
                    .unwrap_or_else(|| panic!("row {} failed: {:?}", r.no, r.outcome))
                    .id,
            );
        }
    }
    ids
}

/// An export spec with defaults.
pub fn spec(env: &Env, to: &Path, since: Since) -> ExportSpec {
    ExportSpec {
        module: "Leads".into(),
        to: to.to_owned(),
        format: ExportSpec::format_of(to, None).unwrap(),
        columns: None,
        since,
        codec: Codec::Zstd,
        guard_formulas: true,
        state_dir: env.dir.path().join("state"),
        org: "test".into(),
        timezone: jiff::tz::TimeZone::get("America/Los_Angeles").unwrap(),
        method: zcrm_writers::ReadMethod::Records,
        reads_in_flight: 1,
        options: zcrm_writers::ExportOptions::default(),
    }
}

/// Reads every record batch of a Parquet file.
pub fn read_parquet(
    path: &Path,
) -> (
    arrow::datatypes::SchemaRef,
    Vec<arrow::record_batch::RecordBatch>,
    std::collections::HashMap<String, String>,
) {
    let file = std::fs::File::open(path).unwrap();
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().map(|k| (k.key.clone(), k.value.clone().unwrap_or_default())).collect())
        .unwrap_or_default();
    let schema = builder.schema().clone();
    let batches = builder.build().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    (schema, batches, kv)
}

/// Reads a CSV file into header + rows.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

/// The fields metadata of Leads (one call).
pub fn fields(env: &Env) -> zcrm_protocol::ModuleFields {
    env.client.get_fields("Leads").unwrap()
}

/// The format of a path (helper for readability).
pub fn is_csv(p: &Path) -> bool {
    ExportSpec::format_of(p, None).unwrap() == OutputFormat::Csv
}
