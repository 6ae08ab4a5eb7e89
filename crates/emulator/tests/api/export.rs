//! What zcrm's own export writes from the emulator's answers: an unset Boolean is a `false`
//! cell, not an empty one (issue 15.3).

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, AsArray};
use zcrm_client::{
    AuthToken, Client, ClientConfig, Endpoint, Ledger, LedgerConfig, RetryPolicy, TransportConfig,
};
use zcrm_protocol::BudgetRule;
use zcrm_writers::{Codec, ExportSpec, Since, export};

use super::harness::*;

fn client(env: &Env) -> Client {
    let ledger = LedgerConfig {
        org: "test".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("America/Los_Angeles").unwrap(),
        rule: BudgetRule::Fixed(1_000_000),
        share: 1.0,
    };
    let ledger =
        Arc::new(Ledger::open(&env.dir.path().join("state/budget.sqlite"), ledger).unwrap());
    let cfg = ClientConfig {
        endpoint: Endpoint::parse(env.emu.url()).unwrap(),
        token: AuthToken::new(TOKEN),
        transport: TransportConfig {
            timeout: Duration::from_secs(30),
            ..TransportConfig::default()
        },
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
    };
    Client::new(cfg, ledger).unwrap()
}

fn spec(env: &Env, to: &std::path::Path) -> ExportSpec {
    ExportSpec {
        module: "Leads".into(),
        to: to.to_owned(),
        format: ExportSpec::format_of(to, None).unwrap(),
        columns: None,
        since: Since::All,
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

#[test]
fn export_writes_unset_booleans_as_false() {
    let env = start();
    // The first lead never sets Email Opt Out, the second sets it.
    let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">A</FL><FL val=\"Company\">C</FL></row>\
        <row no=\"2\"><FL val=\"Last Name\">B</FL><FL val=\"Company\">C</FL><FL val=\"Email Opt Out\">true</FL></row></Leads>";
    let body = env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", xml)]);
    assert_eq!(body.matches("<code>2000</code>").count(), 2, "{body}");
    let c = client(&env);
    let fields = c.get_fields("Leads").unwrap();

    let csv_path = env.dir.path().join("out/leads.csv");
    export(&c, &fields, &spec(&env, &csv_path), |_| {}).unwrap();
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let col = r.headers().unwrap().iter().position(|h| h == "Email Opt Out").unwrap();
    let cells: Vec<String> = r.records().map(|rec| rec.unwrap()[col].to_owned()).collect();
    assert_eq!(cells, ["false", "true"]);

    let pq_path = env.dir.path().join("out/leads.parquet");
    export(&c, &fields, &spec(&env, &pq_path), |_| {}).unwrap();
    let file = std::fs::File::open(&pq_path).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let idx = reader.schema().index_of("Email Opt Out").unwrap();
    let mut values = Vec::new();
    for batch in reader.build().unwrap() {
        let batch = batch.unwrap();
        let col = batch.column(idx).as_boolean().clone();
        assert_eq!(col.null_count(), 0, "no null Booleans");
        values.extend((0..col.len()).map(|i| col.value(i)));
    }
    assert_eq!(values, [false, true]);
}
