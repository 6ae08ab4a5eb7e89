//! Errors keep their cause (`source()`) and say exactly what they said before; none repeats
//! the token.

use std::error::Error as _;

use zcrm_client::budget::timezone;
use zcrm_client::{
    AuthToken, ClientError, Endpoint, Ledger, LedgerConfig, MetadataCache, TransportConfig,
};
use zcrm_protocol::BudgetRule;
use zcrm_protocol::params::{ReadParams, Window};

use crate::{TOKEN, client, client_with, emulator, ledger};

fn ledger_config(share: f64) -> LedgerConfig {
    LedgerConfig {
        org: "test-org".into(),
        consumer: "tests".into(),
        timezone: timezone("UTC").unwrap(),
        rule: BudgetRule::Fixed(10),
        share,
    }
}

/// The message, checked never to hold the token (neither shown nor in `Debug`).
fn text(e: &ClientError) -> String {
    assert!(!format!("{e:?}").contains(TOKEN), "{e:?}");
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        assert!(!c.to_string().contains(TOKEN), "{c}");
        cause = c.source();
    }
    e.to_string()
}

#[test]
fn an_unknown_time_zone_keeps_jiffs_error() {
    let e = timezone("Nowhere/Nope").unwrap_err();
    let source = e.source().expect("the cause is kept");
    assert_eq!(text(&e), format!("configuration: unknown time zone \"Nowhere/Nope\": {source}"));
}

#[test]
fn a_missing_token_names_the_variable_only() {
    let e = AuthToken::from_env("ZCRM_TEST_NO_SUCH_VARIABLE_X7").unwrap_err();
    assert_eq!(
        text(&e),
        "configuration: the environment variable ZCRM_TEST_NO_SUCH_VARIABLE_X7 that should hold \
         the Zoho authtoken is not set"
    );
}

#[test]
fn url_messages_are_unchanged() {
    for (url, want) in [
        ("ftp://x", "configuration: unsupported URL scheme \"ftp\" in \"ftp://x\""),
        ("https://:443", "configuration: \"https://:443\" has no host"),
        ("crm.zoho.de", "configuration: \"crm.zoho.de\" is not a URL (expected https://host)"),
    ] {
        assert_eq!(text(&Endpoint::parse(url).unwrap_err()), want, "{url}");
    }
    let e = Endpoint::parse("https://me:hunter2@crm.zoho.com").unwrap_err();
    assert_eq!(
        text(&e),
        "configuration: the URL carries credentials (`user:password@`); the API takes none: the \
         authtoken goes in the environment variable named by the pipeline's `authtoken_env` \
         (ZCRM_AUTHTOKEN unless it says otherwise), never in the URL (the URL is not repeated here)"
    );
    assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
}

#[test]
fn a_bad_budget_share_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = Ledger::open(&dir.path().join("l.sqlite"), ledger_config(1.5)).unwrap_err();
    assert_eq!(text(&e), "configuration: budget_share 1.5 must be in (0, 1]");
}

#[test]
fn a_ledger_that_cannot_be_created_keeps_the_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let e = Ledger::open(&blocker.join("l.sqlite"), ledger_config(1.0)).unwrap_err();
    let source = e.source().expect("the cause is kept");
    assert_eq!(text(&e), format!("state dir: budget ledger: {source}"));
    assert!(source.to_string().contains("not-a-dir"), "names the file: {source}");
    assert!(source.source().is_some_and(|io| io.is::<std::io::Error>()), "{source:?}");
}

#[test]
fn a_ledger_that_is_not_a_database_keeps_sqlites_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let e = Ledger::open(&path, ledger_config(1.0)).unwrap_err();
    let source = e.source().expect("the cause is kept");
    assert!(source.is::<rusqlite::Error>(), "{source:?}");
    assert_eq!(text(&e), format!("state dir: budget ledger: {source}"));
}

#[test]
fn a_metadata_cache_that_cannot_be_written_keeps_the_io_error() {
    let env = emulator(|c| c);
    let c = client(&env);
    let blocker = env.dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let e = MetadataCache::new(&blocker, "org").get(&c, "Leads", true).unwrap_err();
    let source = e.source().expect("the cause is kept");
    assert_eq!(text(&e), format!("state dir: metadata cache: {source}"));
    assert!(source.to_string().contains("not-a-dir"), "names the file: {source}");
}

#[test]
fn a_request_the_client_refuses_keeps_the_parameter_error() {
    let env = emulator(|c| c);
    let c = client(&env);
    let before = env.emu.calls_today();
    let params = ReadParams { window: Window { from: 1, to: 500 }, ..ReadParams::default() };
    let e = c.get_records_owned("Leads", &params).unwrap_err();
    let source = e.source().expect("the cause is kept");
    assert_eq!(text(&e), format!("configuration: {source}"));
    assert_eq!(env.emu.calls_today(), before, "nothing sent");
}

#[test]
fn an_invalid_ca_certificate_keeps_reqwests_error_and_its_cause() {
    let env = emulator(|c| c);
    let l = ledger(&env, BudgetRule::Fixed(10), 1.0);
    let mut cfg = None;
    // Borrow the helper's settings, then build the client by hand with a bad CA.
    drop(client_with(&env, l.clone(), |c| cfg = Some(c.clone())));
    let mut cfg = cfg.unwrap();
    cfg.transport = TransportConfig {
        ca_cert_pem: Some(
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        ..cfg.transport
    };
    let Err(e) = zcrm_client::Client::new(cfg, l) else { panic!("a bad CA was accepted") };
    // reqwest reads the PEM when the client is built.
    let source = e.source().expect("the cause is kept");
    assert_eq!(text(&e), format!("configuration: HTTP client: {source}"));
    assert!(source.source().is_some(), "reqwest says why (\"invalid certificate encoding\")");
}
