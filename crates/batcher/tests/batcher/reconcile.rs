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

/// Lead rows as the engine hands them on: typed values, not text.
fn typed_leads(first: u64, n: u64) -> Vec<PendingRow> {
    use zcrm_batcher::FieldInput::Value as V;
    use zcrm_protocol::Value;
    (first..first + n)
        .map(|i| PendingRow {
            row: i + 1,
            line: i + 2,
            key: Some(format!("T{i}")),
            source: vec![format!("T{i}")],
            items: Vec::new(),
            fields: vec![
                ("Last Name".into(), V(Value::Text(format!("Typed {i}")))),
                ("Company".into(), V(Value::Text("Typed Co".into()))),
                ("Legacy Id".into(), V(Value::Text(format!("T{i}")))),
                ("Annual Revenue".into(), V(Value::Decimal(format!("{i}.50").parse().unwrap()))),
                ("No of Employees".into(), V(Value::Integer(i as i64 + 1))),
                ("Email Opt Out".into(), V(Value::Boolean(i % 2 == 0))),
            ],
        })
        .collect()
}

#[test]
fn typed_rows_in_doubt_are_found_again_from_the_values_the_journal_kept() {
    // Every write's answer is lost after the CRM committed it: the one payload is in doubt,
    // and reconciliation must recognise its 40 records (decimals `N.50` read back as `N.5`)
    // from the typed values the journal kept, sending nothing twice.
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    env.emu.set_faults(
        zcrm_emulator::FaultSpec::parse("drop_after_commit=1,only=writes,seed=5").unwrap(),
    );
    let r = run_import(&c, &mut j, &s, typed_leads(0, 40).into_iter(), &mut no_rejects()).unwrap();
    env.emu.clear_faults();
    assert_eq!((r.writes, r.reconciled), (1, 40), "{r:?}");
    let ids = legacy_ids(&c);
    assert_eq!(ids.len(), 40);
    assert!(ids.values().all(|n| *n == 1), "no row twice");
}

#[test]
fn a_payload_journalled_with_its_values_is_reconciled_without_reading_its_text() {
    // A run killed right after sending: the journal holds the payload in flight with each
    // row's values. Reconciliation compares those values, never the payload's text (here
    // deliberately unreadable): before the journal kept values it had to decode the text.
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let rows = leads(0, 30);
    let (xml, jrows) = xml_of(&rows);
    let values: Vec<Option<zcrm_batcher::SentValues>> = rows
        .iter()
        .map(|r| {
            Some(
                r.fields
                    .iter()
                    .map(|(l, v)| {
                        let zcrm_batcher::FieldInput::Text(t) = v else { unreachable!() };
                        let meta = s.fields.field(l).unwrap();
                        let v = zcrm_protocol::Value::parse(
                            &meta.field_type,
                            t,
                            zcrm_protocol::Direction::Input,
                        )
                        .unwrap();
                        (l.clone(), zcrm_batcher::fingerprint::canonical(&v).unwrap())
                    })
                    .collect(),
            )
        })
        .collect();
    let sent_at = zcrm_protocol::value::format_datetime(
        c.server_clock().now_at_least().to_zoned_datetime(s.timezone.clone()).datetime(),
    );
    j.begin_payload_with_values("leads", true, "<not xml", &sent_at, &jrows, &values).unwrap();
    c.insert_records("Leads", xml, &WriteParams::multi_row()).unwrap();

    let r = run_import(&c, &mut j, &s, rows.into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.reconciled, r.writes), (30, 0), "{r:?}");
    let ids = legacy_ids(&c);
    assert_eq!(ids.len(), 30);
    assert!(ids.values().all(|n| *n == 1), "no row twice");
}

#[test]
fn a_journal_from_before_values_were_kept_is_upgraded_and_reconciled_from_the_payload() {
    // The rows table of an older journal has no `sent` column: opening it adds the column,
    // and its in-flight payload is reconciled from the payload's text as before.
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let path = env.dir.path().join("state/journal.sqlite");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE payloads (step TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,
                 kind TEXT NOT NULL, rows INTEGER NOT NULL, sent_at TEXT NOT NULL, xml_data TEXT,
                 result TEXT, PRIMARY KEY (step, seq));
             CREATE TABLE rows (step TEXT NOT NULL, row INTEGER NOT NULL, line INTEGER NOT NULL,
                 key TEXT, payload INTEGER, no INTEGER, state TEXT NOT NULL, crm_id INTEGER,
                 code TEXT, message TEXT, source TEXT, PRIMARY KEY (step, row));",
        )
        .unwrap();
    }
    let mut j = Journal::open(&path).unwrap();
    let xml = in_flight(&c, &mut j, &s, &leads(0, 20));
    c.insert_records("Leads", xml, &WriteParams::multi_row()).unwrap();
    let r = run_import(&c, &mut j, &s, leads(0, 20).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.reconciled, r.writes), (20, 0), "{r:?}");
    assert!(legacy_ids(&c).values().all(|n| *n == 1), "no row twice");
}
