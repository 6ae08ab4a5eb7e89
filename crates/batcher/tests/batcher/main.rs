//! zcrm-batcher against a real emulator: exact call counts, resume, in-doubt reconciliation,
//! budget stops, upserts and lookups.

// Test helpers panic on setup failures; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod imports;
mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use zcrm_batcher::{FieldInput, ImportStep, Journal, Mode, PendingRow};
use zcrm_client::{
    AuthToken, Client, ClientConfig, Endpoint, Ledger, LedgerConfig, RetryPolicy, TransportConfig,
};
use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::{BudgetRule, Edition};

/// The emulator's token.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// An emulator, its temp dir, and a journal path.
pub struct Env {
    /// The emulator.
    pub emu: EmulatorHandle,
    /// Temp dir.
    pub dir: tempfile::TempDir,
}

/// Starts an enterprise emulator with a `Legacy Id` text field on Leads.
pub fn env(tweak: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.toml");
    std::fs::write(
        &schema,
        "[[field]]\nmodule = \"Leads\"\nlabel = \"Legacy Id\"\ntype = \"Text\"\nmax_length = 40\n",
    )
    .unwrap();
    let cfg = tweak(EmulatorConfig {
        edition: Edition::Enterprise,
        licenses: 50,
        schema: Some(schema),
        ..EmulatorConfig::new(dir.path().join("emu")).token(TOKEN)
    });
    Env { emu: Emulator::start(cfg).unwrap(), dir }
}

/// A client with a ledger of `budget` calls a day.
pub fn client(env: &Env, budget: u32) -> Client {
    let ledger = LedgerConfig {
        org: "test".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("America/Los_Angeles").unwrap(),
        rule: BudgetRule::Fixed(budget),
        share: 1.0,
    };
    let ledger = Arc::new(
        Ledger::open(&env.dir.path().join(format!("state/budget-{budget}.sqlite")), ledger)
            .unwrap(),
    );
    let cfg = ClientConfig {
        endpoint: Endpoint::parse(env.emu.url()).unwrap(),
        token: AuthToken::new(TOKEN),
        transport: TransportConfig {
            timeout: Duration::from_secs(30),
            ..TransportConfig::default()
        },
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
    };
    Client::new(cfg, ledger).unwrap()
}

/// The journal of the test pipeline.
pub fn journal(env: &Env) -> Journal {
    Journal::open(&env.dir.path().join("state/journal.sqlite")).unwrap()
}

/// A step over `module` with the emulator's metadata.
pub fn step(c: &Client, name: &str, module: &str, mode: Mode, batch: u32) -> ImportStep {
    ImportStep {
        name: name.into(),
        module: module.into(),
        mode,
        write_batch: batch,
        in_flight: 3,
        fields: c.get_fields(module).unwrap(),
        timezone: jiff::tz::TimeZone::get("America/Los_Angeles").unwrap(),
        options: Default::default(),
    }
}

/// Generated lead rows `first..first+n` (source row = index + 1).
pub fn leads(first: u64, n: u64) -> Vec<PendingRow> {
    (first..first + n)
        .map(|i| PendingRow {
            row: i + 1,
            line: i + 2,
            key: Some(format!("L{i}")),
            source: vec![format!("L{i}"), format!("Last {i}")],
            items: Vec::new(),
            fields: vec![
                ("Last Name".into(), FieldInput::Text(format!("Last {i}"))),
                ("Company".into(), FieldInput::Text(format!("Company {}", i % 17))),
                ("Legacy Id".into(), FieldInput::Text(format!("L{i}"))),
                ("Annual Revenue".into(), FieldInput::Text(format!("{}.50", i))),
            ],
        })
        .collect()
}

/// Every Legacy Id in the emulator's Leads, with its count.
pub fn legacy_ids(c: &Client) -> std::collections::HashMap<String, u32> {
    let mut out = std::collections::HashMap::new();
    let mut page = 0;
    loop {
        let p = zcrm_protocol::params::ReadParams {
            select: zcrm_protocol::params::SelectColumns::fields("Leads", ["Legacy Id"]),
            window: zcrm_protocol::params::Window::page(page),
            ..Default::default()
        };
        let n = c
            .get_records("Leads", &p, |pg| {
                for r in pg.rows() {
                    *out.entry(r.text("Legacy Id").unwrap_or_default().to_owned()).or_insert(0) +=
                        1;
                }
                pg.len()
            })
            .unwrap();
        if n < 200 {
            break;
        }
        page += 1;
    }
    out
}

/// A payload's rows as the journal keeps them: (row no, source row, line, key).
pub type JournalRows = Vec<(u32, u64, u64, Option<String>)>;

/// `rows` as one insert payload, and as the journal keeps them.
pub fn xml_of(rows: &[PendingRow]) -> (String, JournalRows) {
    let mut b = XmlDataBuilder::new("Leads", 100);
    let mut jrows = Vec::new();
    for r in rows {
        let no = b
            .push_row(r.fields.iter().map(|(l, v)| match v {
                FieldInput::Text(t) => (l.as_str(), t.as_str()),
                _ => unreachable!("typed values and lookups are not used here"),
            }))
            .unwrap();
        jrows.push((no, r.row, r.line, r.key.clone()));
    }
    (b.finish().unwrap(), jrows)
}

/// Journals `rows` as a payload in flight that left now (server time), as a run killed right
/// after sending would leave it.
pub fn in_flight(c: &Client, j: &mut Journal, s: &ImportStep, rows: &[PendingRow]) -> String {
    let (xml, jrows) = xml_of(rows);
    let sent_at = zcrm_protocol::value::format_datetime(
        c.server_clock().now_at_least().to_zoned_datetime(s.timezone.clone()).datetime(),
    );
    j.begin_payload("leads", true, &xml, &sent_at, &jrows).unwrap();
    xml
}
