//! Import behaviours.

use zcrm_batcher::journal::RowOutcome;
use zcrm_batcher::{BatchError, FieldInput, Mode, PendingRow, RejectedRow, run_import};
use zcrm_emulator::FaultSpec;
use zcrm_protocol::params::WriteParams;

use crate::{client, env, journal, leads, legacy_ids, step};

fn no_rejects() -> impl FnMut(RejectedRow) {
    |r: RejectedRow| panic!("unexpected reject: {r:?}")
}

#[test]
fn a_clean_insert_costs_exactly_ceil_n_over_batch_writes_and_a_rerun_costs_nothing() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let before = env.emu.calls_today_of("insertRecords");
    let r = run_import(&c, &mut j, &s, leads(0, 250).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.created, r.writes, r.reads), (250, 3, 0));
    assert_eq!(env.emu.calls_today_of("insertRecords") - before, 3, "ceil(250/100)");
    let again = run_import(&c, &mut j, &s, leads(0, 250).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((again.already_done, again.writes, again.created), (250, 0, 0));
    assert_eq!(env.emu.record_counts()["Leads"], 250);
    let counts = j.counts("leads").unwrap();
    assert_eq!((counts.created, counts.payloads, counts.in_flight), (250, 3, 0));
    let out = env.dir.path().join("out/leads.success.csv");
    assert_eq!(
        zcrm_batcher::report::write_success_file(&j, "leads", "legacy_id", &out).unwrap(),
        250
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("_row,legacy_id,_id,_action\n1,L0,"), "{}", &text[..60]);
    assert!(text.lines().nth(1).unwrap().ends_with(",created"));
}

#[test]
fn payloads_of_200_on_an_org_allowed_200() {
    let env = env(|c| zcrm_emulator::EmulatorConfig { max_write_rows: 200, ..c });
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 200);
    let mut j = journal(&env);
    let r = run_import(&c, &mut j, &s, leads(0, 450).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.created, r.writes), (450, 3));
}

#[test]
fn server_refusals_are_recorded_with_the_source_row() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let mut rows = leads(0, 5);
    rows[2].fields.retain(|(l, _)| l != "Last Name");
    rows[3].fields.push(("No of Employees".into(), FieldInput::Text("many".into())));
    let r = run_import(&c, &mut j, &s, rows.into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.created, r.server_rejected), (3, 2));
    let rejects = j.server_rejects("leads").unwrap();
    assert_eq!(rejects.iter().map(|r| r.row).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(rejects[0].source, ["L2", "Last 2"]);
    assert!(
        rejects[0].errors[0].starts_with("Last Name: server error 4891"),
        "{:?}",
        rejects[0].errors
    );
    assert!(
        rejects[1].errors[0].starts_with("No of Employees: server error 4832"),
        "{:?}",
        rejects[1].errors
    );
}

#[test]
fn a_payload_left_in_flight_by_a_crash_is_reconciled_not_resent() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    // Simulate a crash right after sending the first payload: journal says in flight, the CRM
    // has the rows, the outcome was never recorded.
    let xml = crate::in_flight(&c, &mut j, &s, &leads(0, 100));
    c.insert_records("Leads", xml, &WriteParams::multi_row()).unwrap();

    let r = run_import(&c, &mut j, &s, leads(0, 250).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!(r.reconciled, 100, "the in-flight rows were found in the CRM");
    assert_eq!(r.created, 150);
    assert_eq!(r.writes, 2, "only the rest was sent");
    let ids = legacy_ids(&c);
    assert_eq!(ids.len(), 250);
    assert!(ids.values().all(|n| *n == 1), "no duplicates");
}

#[test]
fn dropped_responses_and_5xx_never_lose_or_duplicate_rows() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    env.emu.set_faults(
        FaultSpec::parse("drop_after_commit=0.3,error_rate=0.1,truncate=0.05,seed=42").unwrap(),
    );
    let mut attempts = 0;
    loop {
        attempts += 1;
        match run_import(&c, &mut j, &s, leads(0, 1000).into_iter(), &mut no_rejects()) {
            Ok(_) => break,
            // A run stops on a failure it cannot retry, or after 5 writes in doubt in a row.
            Err(e @ (BatchError::Client(_) | BatchError::ServerFailing { .. }))
                if attempts < 50 =>
            {
                eprintln!("run {attempts} stopped: {e}; rerunning")
            }
            Err(e) => panic!("{e}"),
        }
    }
    env.emu.clear_faults();
    let ids = legacy_ids(&c);
    assert_eq!(ids.len(), 1000, "every row is in the CRM");
    assert!(ids.values().all(|n| *n == 1), "no row twice");
    assert_eq!(j.counts("leads").unwrap().created, 1000);
}

#[test]
fn the_budget_stops_a_run_cleanly_and_a_rerun_finishes() {
    let env = env(|c| c);
    let small = client(&env, 4); // one getFields + three payloads
    let s = step(&small, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let err =
        run_import(&small, &mut j, &s, leads(0, 500).into_iter(), &mut no_rejects()).unwrap_err();
    let BatchError::Budget { rows_left, source } = &err else { panic!("{err}") };
    assert_eq!(*rows_left, 200);
    assert!(err.to_string().contains("200 row(s) left"), "{err}; resets at {}", source.resets_at);
    assert_eq!(j.counts("leads").unwrap().created, 300);
    let big = client(&env, 100_000);
    let r = run_import(&big, &mut j, &s, leads(0, 500).into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.already_done, r.created, r.writes), (300, 200, 2));
    let ids = legacy_ids(&big);
    assert!(ids.len() == 500 && ids.values().all(|n| *n == 1));
}

#[test]
fn upsert_by_index_splits_updates_and_inserts_with_few_reads() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let seed = step(&c, "seed", "Leads", Mode::Insert, 100);
    run_import(&c, &mut j, &seed, leads(0, 100).into_iter(), &mut no_rejects()).unwrap();
    let s = step(&c, "sync", "Leads", Mode::Upsert { match_on: "Legacy Id".into() }, 100);
    assert_eq!(s.strategy(), zcrm_batcher::MatchStrategy::Index);
    let mut rows = leads(50, 100); // L50..L149: half exist
    for r in &mut rows {
        r.fields[1].1 = FieldInput::Text("Synced".into());
    }
    let r = run_import(&c, &mut j, &s, rows.into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.updated, r.created), (50, 50));
    assert_eq!(r.reads, 1, "one index page for 100 existing records, not one search per row");
    assert_eq!(r.writes, 2);
    let ids = legacy_ids(&c);
    assert_eq!(ids.len(), 150);
    assert!(ids.values().all(|n| *n == 1));
}

/// Upsert through the index where the source repeats a `match_on` value that is not in the
/// CRM yet: the first row creates the record and the later ones update it (last row wins),
/// whether they share a payload or not, with several calls in flight.
#[test]
fn upsert_by_index_creates_a_repeated_new_value_once() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let mut s = step(&c, "sync", "Leads", Mode::Upsert { match_on: "Legacy Id".into() }, 3);
    s.in_flight = 3;
    // 20 rows over 10 values: L0..L9, then L0..L9 again with a new Company; L3 a third time.
    let mut rows = leads(0, 10);
    rows.extend(leads(0, 10).into_iter().enumerate().map(|(k, mut r)| {
        r.row = 11 + k as u64;
        r.fields[1].1 = FieldInput::Text("Second".into());
        r
    }));
    let mut third = leads(3, 1).remove(0);
    third.row = 21;
    third.fields[1].1 = FieldInput::Text("Third".into());
    rows.push(third);
    let r = run_import(&c, &mut j, &s, rows.into_iter(), &mut no_rejects()).unwrap();
    assert_eq!((r.created, r.updated), (10, 11));
    let ids = legacy_ids(&c);
    assert_eq!(ids.len(), 10);
    assert!(ids.values().all(|n| *n == 1), "one record per value: {ids:?}");
    let page = c.get_records_owned("Leads", &zcrm_protocol::params::ReadParams::default()).unwrap();
    let company = |legacy: &str| {
        page.rows()
            .find(|r| r.text("Legacy Id") == Some(legacy))
            .and_then(|r| r.text("Company").map(str::to_owned))
    };
    assert_eq!(company("L3").as_deref(), Some("Third"), "the last source row wins");
    assert_eq!(company("L5").as_deref(), Some("Second"));
}

/// Two existing records share a `match_on` value: a row with that value is rejected (naming
/// both records) instead of updating whichever came first; the other rows go through.
#[test]
fn a_match_value_shared_by_existing_records_is_rejected_not_guessed() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let seed = step(&c, "seed", "Leads", Mode::Insert, 100);
    let mut seeds = leads(0, 3);
    let mut twin = leads(1, 1).remove(0);
    twin.row = 4;
    seeds.push(twin);
    run_import(&c, &mut j, &seed, seeds.into_iter(), &mut no_rejects()).unwrap();
    for mode in [
        Mode::Upsert { match_on: "Legacy Id".into() },
        Mode::Update { match_on: Some("Legacy Id".into()) },
    ] {
        j.reset_step("sync").unwrap();
        let s = step(&c, "sync", "Leads", mode, 100);
        let mut rejected = Vec::new();
        let r =
            run_import(&c, &mut j, &s, leads(0, 3).into_iter(), &mut |r| rejected.push(r)).unwrap();
        assert_eq!((r.updated, r.created, r.lookup_rejected), (2, 0, 1));
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].row, 2);
        assert!(
            rejected[0].errors[0].starts_with("Legacy Id: 2 existing records have this value"),
            "{:?}",
            rejected[0].errors
        );
    }
    assert_eq!(legacy_ids(&c)["L1"], 2, "neither twin was touched or joined by a third");
}

#[test]
fn upsert_on_the_duplicate_check_field_needs_no_reads() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let account = |i: u64, note: &str| PendingRow {
        row: i + 1,
        line: i + 2,
        key: Some(format!("A{i}")),
        source: vec![format!("A{i}")],
        items: Vec::new(),
        fields: vec![
            ("Account Name".into(), FieldInput::Text(format!("Account {i}"))),
            ("Description".into(), FieldInput::Text(note.into())),
        ],
    };
    let s = step(&c, "accounts", "Accounts", Mode::Upsert { match_on: "Account Name".into() }, 100);
    assert_eq!(s.strategy(), zcrm_batcher::MatchStrategy::DuplicateCheck);
    run_import(&c, &mut j, &s, (0..10).map(|i| account(i, "first")), &mut no_rejects()).unwrap();
    j.reset_step("accounts").unwrap();
    let r = run_import(&c, &mut j, &s, (5..15).map(|i| account(i, "second")), &mut no_rejects())
        .unwrap();
    assert_eq!((r.updated, r.created, r.reads, r.writes), (5, 5, 0, 1));
    assert_eq!(env.emu.record_counts()["Accounts"], 15);
}

#[test]
fn lookups_resolve_through_the_journal_and_missing_keys_are_rejected() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let accounts = step(&c, "accounts", "Accounts", Mode::Insert, 100);
    let acc = |i: u64| PendingRow {
        row: i + 1,
        line: i + 2,
        key: Some(format!("A{i}")),
        source: vec![],
        items: Vec::new(),
        fields: vec![("Account Name".into(), FieldInput::Text(format!("Acme {i}")))],
    };
    // Rows 1-3 have keys A0, A1, A2; row 4 repeats A1 (a second account with that key).
    let repeated = PendingRow { row: 4, line: 5, ..acc(1) };
    let seeds = (0..3).map(acc).chain(std::iter::once(repeated));
    run_import(&c, &mut j, &accounts, seeds, &mut no_rejects()).unwrap();
    assert_eq!(j.repeated_keys("accounts", 3).unwrap(), (1, vec![("A1".to_owned(), vec![2, 4])]));
    let contacts = step(&c, "contacts", "Contacts", Mode::Insert, 100);
    let contact = |i: u64, account: &str| PendingRow {
        row: i + 1,
        line: i + 2,
        key: Some(format!("C{i}")),
        source: vec![format!("C{i}"), account.to_owned()],
        items: Vec::new(),
        fields: vec![
            ("Last Name".into(), FieldInput::Text(format!("Person {i}"))),
            (
                "ACCOUNTID".into(),
                FieldInput::Lookup { step: "accounts".into(), key: account.to_owned() },
            ),
        ],
    };
    let mut rejected = Vec::new();
    let rows = vec![contact(0, "A0"), contact(1, "A2"), contact(2, "A9"), contact(3, "A1")];
    let r = run_import(&c, &mut j, &contacts, rows.into_iter(), &mut |r| rejected.push(r)).unwrap();
    assert_eq!((r.created, r.lookup_rejected), (2, 2));
    assert_eq!(rejected[0].row, 3);
    assert!(rejected[0].errors[0].contains("\"A9\""), "{:?}", rejected[0].errors);
    // A key that names two records is not resolved to either of them.
    assert_eq!(rejected[1].row, 4);
    assert!(
        rejected[1].errors[0]
            .contains("key \"A1\" names 2 records of step \"accounts\" (its rows 2, 4"),
        "{:?}",
        rejected[1].errors
    );
    let page =
        c.get_records_owned("Contacts", &zcrm_protocol::params::ReadParams::default()).unwrap();
    let names: Vec<&str> = page.rows().filter_map(|r| r.text("Account Name")).collect();
    assert_eq!(names, ["Acme 0", "Acme 2"], "the contacts point at the accounts");
    let _ = RowOutcome::NotApplied { row: 0 };
}

#[test]
fn updates_of_one_record_in_separate_payloads_apply_in_source_order_despite_the_window() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let insert = step(&c, "seed", "Accounts", Mode::Insert, 100);
    let seed = PendingRow {
        row: 1,
        line: 2,
        key: Some("A".into()),
        source: vec![],
        items: Vec::new(),
        fields: vec![("Account Name".into(), FieldInput::Text("Acme".into()))],
    };
    run_import(&c, &mut j, &insert, std::iter::once(seed), &mut no_rejects()).unwrap();
    let zcrm_batcher::KeyIds::One(id) = j.id_for_key("seed", "A").unwrap() else {
        panic!("one record for key A")
    };
    // One row per payload, three payloads in flight at most: the six updates of the same record
    // must still land one after the other, so that the last source row wins.
    let mut s = step(&c, "notes", "Accounts", Mode::Update { match_on: None }, 1);
    s.in_flight = 3;
    let rows = (0..6u64).map(|i| PendingRow {
        row: i + 1,
        line: i + 2,
        key: None,
        source: vec![],
        items: Vec::new(),
        fields: vec![
            ("Id".into(), FieldInput::Text(id.to_string())),
            ("Description".into(), FieldInput::Text(format!("note {i}"))),
        ],
    });
    let r = run_import(&c, &mut j, &s, rows, &mut no_rejects()).unwrap();
    assert_eq!((r.updated, r.writes), (6, 6));
    let page =
        c.get_records_owned("Accounts", &zcrm_protocol::params::ReadParams::default()).unwrap();
    let notes: Vec<&str> = page.rows().filter_map(|r| r.text("Description")).collect();
    assert_eq!(notes, ["note 5"]);
}

#[test]
fn one_or_several_writes_in_flight_end_with_the_same_records() {
    for in_flight in [1, 2, 8] {
        let env = env(|c| c);
        let c = client(&env, 100_000);
        let mut j = journal(&env);
        let mut s = step(&c, "leads", "Leads", Mode::Insert, 10);
        s.in_flight = in_flight;
        let r = run_import(&c, &mut j, &s, leads(0, 95).into_iter(), &mut no_rejects()).unwrap();
        assert_eq!((r.created, r.writes), (95, 10), "in_flight = {in_flight}");
        assert_eq!(env.emu.record_counts()["Leads"], 95);
        let ids = legacy_ids(&c);
        assert_eq!(ids.len(), 95);
        assert_eq!(j.successes("leads").unwrap().len(), 95);
    }
}

#[test]
fn success_files_guard_every_cell_a_spreadsheet_would_evaluate() {
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let s = step(&c, "leads", "Leads", Mode::Insert, 100);
    let mut j = journal(&env);
    let evaluated = ["=1+1", "+1+1", "-2+3", "-1/0", "-(1)", "@SUM(A1)", "\tx", "\rx"];
    let plain = ["L7", "a=b", "-12.50", "+7"];
    let mut rows = leads(0, (evaluated.len() + plain.len()) as u64);
    for (r, key) in rows.iter_mut().zip(evaluated.iter().chain(&plain)) {
        r.key = Some((*key).to_owned());
    }
    run_import(&c, &mut j, &s, rows.into_iter(), &mut no_rejects()).unwrap();
    let out = env.dir.path().join("out/leads.success.csv");
    zcrm_batcher::report::write_success_file(&j, "leads", "=key", &out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.split('\n');
    assert_eq!(lines.next(), Some("_row,'=key,_id,_action"));
    let mut n = 0;
    for (line, key) in lines.zip(evaluated.iter().chain(&plain)) {
        // `_row,key,_id,_action`: no key here holds a comma or a quote (`\r` is quoted).
        let cell = line.split(',').nth(1).unwrap().trim_matches('"');
        let want = if evaluated.contains(key) { format!("'{key}") } else { (*key).to_owned() };
        assert_eq!(cell, want, "{key:?} in {line:?}");
        n += 1;
    }
    assert_eq!(n, evaluated.len() + plain.len());
}

/// Leads `first..first+n` with an e-mail (the module's duplicate-check field) each.
fn leads_with_email(first: u64, n: u64, tag: &str) -> Vec<PendingRow> {
    (first..first + n)
        .map(|i| PendingRow {
            row: i + 1,
            line: i + 2,
            key: Some(format!("{tag}{i}")),
            source: vec![format!("{tag}{i}")],
            items: Vec::new(),
            fields: vec![
                ("Last Name".into(), FieldInput::Text(format!("{tag} {i}"))),
                ("Company".into(), FieldInput::Text("Dup Co".into())),
                ("Email".into(), FieldInput::Text(format!("lead{i}@example.com"))),
                ("Legacy Id".into(), FieldInput::Text(format!("{tag}{i}"))),
            ],
        })
        .collect()
}

#[test]
fn on_duplicate_reject_refuses_existing_values_and_match_records_the_existing_record() {
    use zcrm_client::{OnDuplicate, WriteOptions};
    let env = env(|c| c);
    let c = client(&env, 100_000);
    // Ten leads exist: e-mails lead0..lead9.
    let mut j = journal(&env);
    let first = step(&c, "first", "Leads", Mode::Insert, 100);
    run_import(&c, &mut j, &first, leads_with_email(0, 10, "A").into_iter(), &mut no_rejects())
        .unwrap();
    let existing = j.successes("first").unwrap();

    // Reject: rows 0..9 of the new file carry those e-mails and go to the reject file.
    let mut s = step(&c, "reject", "Leads", Mode::Insert, 100);
    s.options = WriteOptions { on_duplicate: OnDuplicate::Reject, ..WriteOptions::default() };
    let r = run_import(&c, &mut j, &s, leads_with_email(0, 20, "B").into_iter(), &mut no_rejects())
        .unwrap();
    assert_eq!((r.created, r.server_rejected, r.matched), (10, 10, 0), "{r:?}");
    let refused = j.server_rejects("reject").unwrap();
    assert_eq!(refused.len(), 10);
    assert!(refused[0].errors[0].contains("2002"), "{:?}", refused[0]);
    assert!(refused[0].errors[0].contains(&existing[0].2.to_string()), "names the record");
    let calls = env.emu.requests();
    let insert = calls.iter().rev().find(|q| q.method == "insertRecords").unwrap();
    assert_eq!(insert.param("duplicateCheck"), Some("1"), "{insert:?}");

    // Match: the same rows are recorded against the records that exist; nothing is created.
    let mut s = step(&c, "match", "Leads", Mode::Insert, 100);
    s.options = WriteOptions { on_duplicate: OnDuplicate::Match, ..WriteOptions::default() };
    let r = run_import(&c, &mut j, &s, leads_with_email(0, 10, "C").into_iter(), &mut no_rejects())
        .unwrap();
    assert_eq!((r.created, r.matched), (0, 10), "{r:?}");
    let matched: Vec<_> = j.successes("match").unwrap().iter().map(|s| s.2).collect();
    let ids: Vec<_> = existing.iter().map(|s| s.2).collect();
    assert_eq!(matched, ids, "each row points at the existing record with its e-mail");
    assert_eq!(env.emu.record_counts()["Leads"], 20);
}

#[test]
fn workflow_and_approval_reach_the_write_calls() {
    use zcrm_client::WriteOptions;
    let env = env(|c| c);
    let c = client(&env, 100_000);
    let mut j = journal(&env);
    let mut s = step(&c, "leads", "Leads", Mode::Insert, 100);
    s.options = WriteOptions { workflow: true, approval: true, ..WriteOptions::default() };
    run_import(&c, &mut j, &s, leads(0, 5).into_iter(), &mut no_rejects()).unwrap();
    let calls = env.emu.requests();
    let insert = calls.iter().rev().find(|q| q.method == "insertRecords").unwrap();
    assert_eq!(insert.param("wfTrigger"), Some("true"), "{insert:?}");
    assert_eq!(insert.param("isApproval"), Some("true"), "{insert:?}");
    // By default neither is sent: a migration fires no workflow.
    let s = step(&c, "plain", "Leads", Mode::Insert, 100);
    run_import(&c, &mut j, &s, leads(10, 5).into_iter(), &mut no_rejects()).unwrap();
    let calls = env.emu.requests();
    let insert = calls.iter().rev().find(|q| q.method == "insertRecords").unwrap();
    assert_eq!(insert.param("wfTrigger"), None);
}
