//! The HTTPS policy, CA trust for the emulator's TLS, and the token kept out of every text.

use std::io::Write;
use std::sync::{Arc, Mutex};

use zcrm_client::{AuthToken, ClientError, Endpoint, TransportConfig};
use zcrm_protocol::BudgetRule;
use zcrm_protocol::params::ReadParams;

use crate::{TOKEN, client_with, emulator, ledger};

#[test]
fn plain_http_is_refused_except_to_loopback() {
    for url in [
        "http://crm.zoho.com",
        "http://10.0.0.5:8080",
        "http://example.com/crm",
        "HTTP://crm.zoho.eu",
    ] {
        let err = Endpoint::parse(url).unwrap_err();
        assert!(matches!(err, ClientError::InsecureUrl { .. }), "{url}: {err}");
        assert!(err.to_string().contains("https://"), "the error says why: {err}");
    }
    for url in ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "http://127.5.6.7"]
    {
        assert!(Endpoint::parse(url).is_ok(), "{url}");
    }
    assert_eq!(Endpoint::parse("https://crm.zoho.com/").unwrap().base(), "https://crm.zoho.com");
    assert_eq!(Endpoint::parse("eu").unwrap().base(), "https://crm.zoho.eu");
    assert!(Endpoint::parse("ftp://x").is_err());
}

#[test]
fn tls_emulator_is_trusted_only_with_its_ca() {
    let env = emulator(|c| zcrm_emulator::EmulatorConfig { tls: true, ..c });
    assert!(env.emu.url().starts_with("https://"));
    let l = ledger(&env, BudgetRule::Fixed(1000), 1.0);
    let untrusted = client_with(&env, l.clone(), |c| c.retry.max_attempts = 1);
    let err = untrusted.get_fields("Leads").unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "certificate checks stay on: {err}");

    let pem = std::fs::read(env.emu.cert_path().unwrap()).unwrap();
    let trusted = client_with(&env, l, |c| {
        c.transport = TransportConfig { ca_cert_pem: Some(pem), ..c.transport.clone() }
    });
    assert!(trusted.get_fields("Leads").unwrap().field("Company").is_some());
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn the_token_never_appears_in_logs_errors_or_debug_output() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .finish();
    let mut texts: Vec<String> = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        let env = emulator(|c| c);
        let l = ledger(&env, BudgetRule::Fixed(1000), 1.0);
        let c = client_with(&env, l.clone(), |_| {});
        texts.push(format!("{c:?}"));
        // An API error, a network error, an in-doubt write and a budget stop.
        texts.push(c.get_fields("Nope").unwrap_err().to_string());
        let wrong = client_with(&env, l.clone(), |cfg| {
            cfg.token = AuthToken::new("ffffffffffffffffffffffffffffffff")
        });
        texts.push(wrong.get_fields("Leads").unwrap_err().to_string());
        let dead = client_with(&env, l.clone(), |cfg| {
            cfg.endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap()
        });
        let e = dead.get_records_owned("Leads", &ReadParams::default()).unwrap_err();
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
        env.emu.set_faults(zcrm_emulator::FaultSpec::parse("drop_after_commit=1,seed=3").unwrap());
        let mut x = zcrm_protocol::XmlDataBuilder::new("Leads", 100);
        x.push_row([("Last Name", "Leak"), ("Company", "Check")]).unwrap();
        let e = c
            .insert_records(
                "Leads",
                x.finish().unwrap(),
                &zcrm_protocol::params::WriteParams::multi_row(),
            )
            .unwrap_err();
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
        texts.push(format!("{:?}", AuthToken::new(TOKEN)));
        texts.push(AuthToken::new(TOKEN).to_string());
        texts.push(format!("{:?}", l.status().unwrap()));
    });
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("sending"), "the capture works");
    assert!(!logs.contains(TOKEN), "token in logs:\n{logs}");
    for t in &texts {
        assert!(!t.contains(TOKEN), "token in {t}");
    }
    assert!(
        texts.iter().any(|t| t.contains("4834")),
        "the wrong token is reported as 4834: {texts:?}"
    );
}
