//! An emulator for the import tests and readers of what its CRM holds, through the client
//! crate (not through the binary under test): records, keys and report files.

use std::collections::HashMap;
use std::path::Path;

use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use zcrm_protocol::params::{ReadParams, SelectColumns, Window};

/// The token the import tests' emulators accept.
pub const TOKEN: &str = "c0ffeec0ffeec0ffeec0ffeec0ffeec0";

/// A `Legacy Id` Text field on `module`: the source key, kept in the CRM.
pub fn legacy_id_field(module: &str) -> String {
    format!(
        "[[field]]\nmodule = \"{module}\"\nlabel = \"Legacy Id\"\ntype = \"Text\"\nmax_length = 40\n"
    )
}

/// An enterprise org of 50 licences on loopback with `schema` (custom fields), data in
/// `dir/emu`, accepting [`TOKEN`]; `tweak` adjusts the configuration.
pub fn emulator(
    dir: &Path,
    schema: &str,
    tweak: impl FnOnce(EmulatorConfig) -> EmulatorConfig,
) -> EmulatorHandle {
    Emulator::start(config(dir, schema, tweak)).unwrap()
}

/// The configuration [`emulator`] starts with (for restarts on the same data).
pub fn config(
    dir: &Path,
    schema: &str,
    tweak: impl FnOnce(EmulatorConfig) -> EmulatorConfig,
) -> EmulatorConfig {
    let path = dir.join("schema.toml");
    std::fs::write(&path, schema).unwrap();
    tweak(EmulatorConfig {
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 50,
        schema: Some(path),
        ..EmulatorConfig::new(dir.join("emu")).token(TOKEN)
    })
}

/// A client of the emulator with a ledger of its own (in a temporary folder it keeps).
pub struct CheckClient {
    /// The client.
    pub client: zcrm_client::Client,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for CheckClient {
    type Target = zcrm_client::Client;
    fn deref(&self) -> &zcrm_client::Client {
        &self.client
    }
}

/// A client that reads what the CRM holds (its own ledger, a budget that never runs out).
pub fn check_client(emu: &EmulatorHandle) -> CheckClient {
    let dir = tempfile::tempdir().unwrap();
    let ledger = zcrm_client::LedgerConfig {
        org: "check".into(),
        consumer: "check".into(),
        timezone: zcrm_client::budget::timezone("America/Los_Angeles").unwrap(),
        rule: zcrm_protocol::BudgetRule::Fixed(1_000_000),
        share: 1.0,
    };
    let ledger = std::sync::Arc::new(
        zcrm_client::Ledger::open(&dir.path().join("l.sqlite"), ledger).unwrap(),
    );
    let cfg = zcrm_client::ClientConfig {
        endpoint: zcrm_client::Endpoint::parse(emu.url()).unwrap(),
        token: zcrm_client::AuthToken::new(TOKEN),
        transport: zcrm_client::TransportConfig::default(),
        retry: zcrm_client::RetryPolicy::default(),
    };
    CheckClient { client: zcrm_client::Client::new(cfg, ledger).unwrap(), _dir: dir }
}

/// Every record of `module` with the text of `fields` (absent or null: no entry), page by page.
pub fn records(
    emu: &EmulatorHandle,
    module: &str,
    fields: &[&str],
) -> Vec<HashMap<String, String>> {
    let client = check_client(emu);
    let mut out = Vec::new();
    let mut page = 0;
    loop {
        let p = ReadParams {
            select: SelectColumns::fields(module, fields.iter().copied()),
            window: Window::page(page),
            ..Default::default()
        };
        let n = client
            .get_records(module, &p, |pg| {
                for r in pg.rows() {
                    let rec = fields
                        .iter()
                        .filter_map(|f| r.text(f).map(|v| ((*f).to_owned(), v.to_owned())))
                        .collect();
                    out.push(rec);
                }
                pg.len()
            })
            .unwrap();
        if n < 200 {
            return out;
        }
        page += 1;
    }
}

/// `field`'s value → how many records of `module` carry it.
pub fn value_counts(emu: &EmulatorHandle, module: &str, field: &str) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for r in records(emu, module, &[field]) {
        *out.entry(r.get(field).cloned().unwrap_or_default()).or_insert(0) += 1;
    }
    out
}

/// Rows of a CSV report (header excluded), as maps.
pub fn report(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| h.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}
