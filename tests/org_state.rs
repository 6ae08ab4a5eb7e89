//! State that belongs to one org: the metadata cache and the budget ledger are keyed by the
//! host and a fingerprint of the token (or an explicit org name), never by the host alone.

use zcrm_emulator::{Emulator, EmulatorConfig};

use crate::harness::Workdir;

const ORG_A: &str = "aaaa0000aaaa0000aaaa0000aaaa0000";
const ORG_B: &str = "bbbb1111bbbb1111bbbb1111bbbb1111";

#[test]
fn two_orgs_on_one_host_share_neither_cache_nor_budget_and_a_bad_token_is_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(
        EmulatorConfig {
            edition: zcrm_protocol::Edition::Enterprise,
            licenses: 10,
            ..EmulatorConfig::new(dir.path().join("emu")).token(ORG_A)
        }
        .token(ORG_B),
    )
    .unwrap();
    let mut a = Workdir::new();
    a.env("ZCRM_URL", emu.url()).env("ZCRM_AUTHTOKEN", ORG_A);
    let state = a.path().join(".zcrm/state");
    let state = state.to_str().unwrap();
    let fresh = a.expect(&["fields", "Leads"], 0);
    assert!(fresh.contains("fetched now from org 127.0.0.1~"), "{fresh}");
    let cached = a.expect(&["fields", "Leads"], 0);
    assert!(cached.contains("from the cache of org 127.0.0.1~"), "{cached}");
    assert!(cached.contains(" ago at "), "says how old: {cached}");
    let calls = emu.calls_today();

    // The same host with a token that is not valid: the cache of org A does not answer for it.
    let mut bad = Workdir::new();
    bad.env("ZCRM_URL", emu.url())
        .env("ZCRM_AUTHTOKEN", "ffff9999ffff9999ffff9999ffff9999")
        .env("ZCRM_STATE_DIR", state);
    let out = bad.run(&["fields", "Leads"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "a wrong token is noticed: {err}");
    assert!(err.contains("4834") || err.to_lowercase().contains("ticket"), "{err}");
    assert!(!err.contains("ffff9999ffff9999"), "the token is never echoed: {err}");

    // Org B on the same host and state dir: its own cache (one fetch) and its own budget.
    let mut b = Workdir::new();
    b.env("ZCRM_URL", emu.url()).env("ZCRM_AUTHTOKEN", ORG_B).env("ZCRM_STATE_DIR", state);
    let fresh_b = b.expect(&["fields", "Leads"], 0);
    assert!(fresh_b.contains("fetched now"), "{fresh_b}");
    // (A call with an invalid ticket is not counted by the server.)
    assert_eq!(emu.calls_today(), calls + 1, "org B fetched its own metadata once");
    let budget_b: serde_json::Value =
        serde_json::from_str(&b.expect(&["budget", "--json"], 0)).unwrap();
    assert_eq!(budget_b["spent"], 1, "org B spent only its own call: {budget_b}");

    // An explicit org name keys the state instead of the token.
    b.env("ZCRM_ORG", "acme-production");
    let named = b.expect(&["fields", "Leads"], 0);
    assert!(named.contains("org 127.0.0.1/acme-production"), "{named}");

    // No state file holds a token.
    for entry in walk(std::path::Path::new(state)) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for t in [ORG_A, ORG_B] {
            assert!(!text.contains(t), "{} holds a token", entry.display());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
