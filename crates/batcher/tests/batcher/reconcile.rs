//! Reconciliation claims only records the in-doubt payload can have created: never one that
//! existed before it left, nor one created after its call could have ended.

use std::collections::HashSet;

use zcrm_batcher::{Journal, Mode, PendingRow, RejectedRow, run_import};
use zcrm_client::Client;
use zcrm_protocol::RecordId;
use zcrm_protocol::params::WriteParams;

use crate::{client, env, in_flight, journal, leads, legacy_ids, step, xml_of};

fn no_rejects() -> impl FnMut(RejectedRow) {
    |r| panic!("unexpected reject: {r:?}")
}

/// Someone else's records with exactly the values of `rows` (another integration's import of
/// the same file); returns their ids.
fn someone_else_creates(c: &Client, rows: &[PendingRow]) -> HashSet<RecordId> {
    let (xml, _) = xml_of(rows);
    let r = c.insert_records("Leads", xml, &WriteParams::multi_row()).unwrap();
    let zcrm_protocol::WriteResponse::Rows(rows) = r else { panic!("multi-row answer") };
    rows.iter()
        .map(|r| match &r.outcome {
            zcrm_protocol::RowOutcome::Added(d) => d.id,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn claimed_ids(j: &Journal) -> HashSet<RecordId> {
    (1..=100u64).filter_map(|row| j.crm_id_of("leads", row).unwrap()).collect()
}

#[test]
fn identical_records_from_before_and_after_the_call_are_never_claimed() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let rows = leads(0, 100);
    // Minutes before the payload leaves, another integration imports the first half.
    let before = someone_else_creates(&c, &rows[..50]);
    env.emu.advance_secs(300).unwrap();
    c.get_fields("Leads").unwrap(); // an answer shows the (advanced) server clock
    // The payload leaves and is lost: the server never applied it (a 500, or a kill before
    // the request reached it).
    in_flight(&c, &mut j, &s, &rows);
    // While zcrm is down, well after the call could have ended, the other integration imports
    // the second half.
    env.emu.advance_secs(1_800).unwrap();
    let during = someone_else_creates(&c, &rows[50..]);

    let r = run_import(&c, &mut j, &s, leads(0, 100).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!(r.reconciled, 0, "nothing of theirs is claimed");
    assert_eq!(r.created, 100, "every row is sent again");
    let claimed = claimed_ids(&j);
    assert_eq!(claimed.len(), 100);
    assert!(claimed.is_disjoint(&before), "records from before the payload left are not ours");
    assert!(claimed.is_disjoint(&during), "records from after the call ended are not ours");
    let ids = legacy_ids(&c);
    assert!(ids.values().all(|n| *n == 2), "theirs and ours, once each");
}

#[test]
fn the_payloads_own_records_are_claimed_beside_identical_older_ones() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let rows = leads(0, 100);
    let before = someone_else_creates(&c, &rows);
    env.emu.advance_secs(120).unwrap();
    c.get_fields("Leads").unwrap();
    // The payload is applied but its answer is lost (a kill after the server committed).
    let xml = in_flight(&c, &mut j, &s, &rows);
    c.insert_records("Leads", xml, &WriteParams::multi_row()).unwrap();
    env.emu.advance_secs(3_600).unwrap();
    let after = someone_else_creates(&c, &rows);

    let r = run_import(&c, &mut j, &s, leads(0, 100).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.reconciled, r.created, r.writes), (100, 0, 0), "{r:?}");
    let claimed = claimed_ids(&j);
    assert_eq!(claimed.len(), 100);
    assert!(claimed.is_disjoint(&before) && claimed.is_disjoint(&after));
    assert!(legacy_ids(&c).values().all(|n| *n == 3), "nothing was sent twice");
}

#[test]
fn more_identical_candidates_than_rows_are_resent_not_guessed() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let rows = leads(0, 10);
    c.get_fields("Leads").unwrap();
    // The payload is applied, and in the same seconds another integration creates the same
    // ten records: twenty candidates for ten rows, and nothing tells which are ours.
    let xml = in_flight(&c, &mut j, &s, &rows);
    c.insert_records("Leads", xml, &WriteParams::multi_row()).unwrap();
    let theirs = someone_else_creates(&c, &rows);

    let r = run_import(&c, &mut j, &s, leads(0, 10).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!(r.reconciled, 0, "an ambiguous match is not a proof");
    assert_eq!(r.created, 10, "the rows are sent again");
    assert!(claimed_ids_of(&j, 10).is_disjoint(&theirs));
}

fn claimed_ids_of(j: &Journal, n: u64) -> HashSet<RecordId> {
    (1..=n).filter_map(|row| j.crm_id_of("leads", row).unwrap()).collect()
}

#[test]
fn a_server_failing_every_write_stops_the_step_after_a_few_calls() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    env.emu.set_faults(zcrm_emulator::FaultSpec::parse("error_rate=1,only=writes,seed=3").unwrap());
    let before = c.ledger().status().unwrap().spent;
    let err =
        run_import(&c, &mut j, &s, leads(0, 2_000).into_iter(), &mut no_rejects()).unwrap_err();
    let spent = c.ledger().status().unwrap().spent - before;
    assert!(matches!(err, zcrm_batcher::BatchError::ServerFailing { failures: 5, .. }), "{err}");
    assert!(err.to_string().contains("5 write calls in a row"), "{err}");
    assert!(spent <= 30, "a broken server costs a few dozen calls at most, not the day: {spent}");
    // Nothing was lost: once the server recovers, a rerun imports every row once.
    env.emu.clear_faults();
    let r = run_import(&c, &mut j, &s, leads(0, 2_000).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!(r.created, 2_000);
    assert!(legacy_ids(&c).values().all(|n| *n == 1));
}
