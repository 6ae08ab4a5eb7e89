//! Retries for reads, and in-doubt writes that are never retried.

use zcrm_client::ClientError;
use zcrm_emulator::FaultSpec;
use zcrm_protocol::params::{ReadParams, Window, WriteParams};
use zcrm_protocol::{BudgetRule, XmlDataBuilder};

use crate::{client, client_with, emulator, ledger};

fn one_row() -> String {
    let mut x = XmlDataBuilder::new("Leads", 100);
    x.push_row([("Last Name", "Doubt"), ("Company", "Acme")]).unwrap();
    x.finish().unwrap()
}

#[test]
fn reads_are_retried_through_injected_5xx() {
    let env = emulator(|c| c);
    let l = ledger(&env, BudgetRule::Fixed(10_000), 1.0);
    let c = client_with(&env, l.clone(), |cfg| cfg.retry.max_attempts = 30);
    env.emu.set_faults(FaultSpec::parse("error_rate=0.5,seed=11").unwrap());
    for _ in 0..20 {
        c.get_records_owned(
            "Leads",
            &ReadParams { window: Window::page(0), ..ReadParams::default() },
        )
        .unwrap();
    }
    let spent = l.status().unwrap().spent;
    assert!(spent > 20, "some reads needed a retry ({spent} calls for 20 reads)");
}

#[test]
fn reads_give_up_after_the_last_attempt() {
    let env = emulator(|c| c);
    let l = ledger(&env, BudgetRule::Fixed(10_000), 1.0);
    let c = client_with(&env, l.clone(), |cfg| cfg.retry.max_attempts = 3);
    env.emu.set_faults(FaultSpec::parse("error_rate=1,seed=1").unwrap());
    let err = c.get_fields("Leads").unwrap_err();
    assert!(matches!(err, ClientError::Transport { attempts: 3, .. }), "{err}");
    assert_eq!(l.status().unwrap().spent, 3, "every attempt is counted");
}

#[test]
fn a_write_with_a_dropped_response_is_in_doubt_and_not_retried() {
    let env = emulator(|c| c);
    let c = client(&env);
    env.emu.set_faults(FaultSpec::parse("drop_after_commit=1,seed=5").unwrap());
    let before = env.emu.calls_today_of("insertRecords");
    let err = c.insert_records("Leads", one_row(), &WriteParams::multi_row()).unwrap_err();
    let ClientError::InDoubt { rows, module, .. } = &err else {
        panic!("expected in doubt, got {err}")
    };
    assert_eq!((*rows, module.as_str()), (1, "Leads"));
    assert_eq!(env.emu.calls_today_of("insertRecords"), before + 1, "sent exactly once");
    env.emu.clear_faults();
    assert_eq!(env.emu.record_counts().get("Leads").copied(), Some(1), "the write had committed");
}

#[test]
fn a_write_answered_with_a_truncated_body_is_in_doubt() {
    let env = emulator(|c| c);
    let c = client(&env);
    env.emu.set_faults(FaultSpec::parse("truncate=1,seed=5").unwrap());
    let err = c.insert_records("Leads", one_row(), &WriteParams::multi_row()).unwrap_err();
    assert!(matches!(err, ClientError::InDoubt { .. }), "{err}");
    assert_eq!(env.emu.calls_today_of("insertRecords"), 1);
    // A truncated read is simply retried.
    env.emu.set_faults(FaultSpec::parse("truncate=0.5,seed=9").unwrap());
    for _ in 0..5 {
        c.get_fields("Leads").unwrap();
    }
}

#[test]
fn a_write_that_never_reached_the_server_is_retried_safely() {
    let env = emulator(|c| c);
    let l = ledger(&env, BudgetRule::Fixed(100), 1.0);
    // Nothing listens on port 9: the connection is refused, so the write was never sent.
    let c = client_with(&env, l.clone(), |cfg| {
        cfg.endpoint = zcrm_client::Endpoint::parse("http://127.0.0.1:9").unwrap();
        cfg.retry.max_attempts = 2;
    });
    let err = c.insert_records("Leads", one_row(), &WriteParams::multi_row()).unwrap_err();
    assert!(matches!(err, ClientError::Transport { attempts: 2, .. }), "{err}");
}
