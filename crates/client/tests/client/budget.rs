//! The call-budget ledger: stops exactly at the limit, respects the share, obeys the server's
//! 4421, and two processes on one ledger never overspend together.

use std::process::Command;
use std::sync::Arc;

use zcrm_client::{BudgetLimit, ClientError, Ledger, LedgerConfig};
use zcrm_protocol::{BudgetRule, Edition, MethodClass};

use crate::{client_with, emulator, ledger};

#[test]
fn stops_exactly_at_the_budget_without_sending() {
    let env = emulator(|c| c);
    let l = ledger(&env, BudgetRule::Fixed(5), 1.0);
    let c = client_with(&env, l.clone(), |_| {});
    for _ in 0..5 {
        c.get_fields("Leads").unwrap();
    }
    let err = c.get_fields("Leads").unwrap_err();
    let ClientError::Budget(b) = &err else { panic!("{err}") };
    assert_eq!((b.what, b.spent, b.limit), (BudgetLimit::Org, 5, 5));
    assert!(err.to_string().contains("resets at"), "{err}");
    assert_eq!(env.emu.calls_today(), 5, "the sixth call was never sent");
    let s = l.status().unwrap();
    assert_eq!((s.spent, s.remaining), (5, 0));
}

#[test]
fn the_share_limits_one_consumer() {
    let env = emulator(|c| c);
    let l = ledger(&env, BudgetRule::Edition { edition: Edition::Free, licenses: 1 }, 0.1);
    assert_eq!(l.share_limit(), 25);
    let c = client_with(&env, l.clone(), |_| {});
    for _ in 0..25 {
        c.get_fields("Leads").unwrap();
    }
    assert!(
        matches!(c.get_fields("Leads"), Err(ClientError::Budget(b)) if b.what == BudgetLimit::Share)
    );
}

#[test]
fn the_server_limit_stops_everything_at_once() {
    let env = emulator(|c| zcrm_emulator::EmulatorConfig { daily_budget: Some(3), ..c });
    let l = ledger(&env, BudgetRule::Fixed(1000), 1.0);
    let c = client_with(&env, l.clone(), |_| {});
    for _ in 0..3 {
        c.get_fields("Leads").unwrap();
    }
    let err = c.get_fields("Leads").unwrap_err();
    assert!(matches!(&err, ClientError::Budget(b) if b.what == BudgetLimit::ServerLimit), "{err}");
    assert!(matches!(c.get_fields("Leads"), Err(ClientError::Budget(_))));
    assert_eq!(env.emu.calls_today(), 4, "after the 4421 nothing more is sent");
    assert!(l.status().unwrap().server_limit_hit);
}

#[test]
fn search_and_cv_calls_have_their_own_cap() {
    let dir = tempfile::tempdir().unwrap();
    let l =
        Ledger::open(&dir.path().join("l.sqlite"), cfg(BudgetRule::Fixed(10_000), "a")).unwrap();
    for _ in 0..250 {
        l.reserve(MethodClass::SearchCv, 1).unwrap();
    }
    assert!(
        matches!(l.reserve(MethodClass::SearchCv, 1), Err(ClientError::Budget(b)) if b.what == BudgetLimit::SearchCv)
    );
    l.reserve(MethodClass::General, 1).unwrap();
    assert_eq!(l.status().unwrap().spent, 251);
}

#[test]
fn the_day_turns_at_midnight_in_the_org_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let now =
        Arc::new(std::sync::Mutex::new("2026-03-07T07:59:59Z".parse::<jiff::Timestamp>().unwrap()));
    let clock = now.clone();
    let l = Ledger::open(&dir.path().join("l.sqlite"), cfg(BudgetRule::Fixed(2), "a"))
        .unwrap()
        .with_clock(move || *clock.lock().unwrap());
    l.reserve(MethodClass::General, 1).unwrap();
    l.reserve(MethodClass::General, 1).unwrap();
    let Err(ClientError::Budget(b)) = l.reserve(MethodClass::General, 1) else { panic!() };
    assert_eq!(b.day.to_string(), "2026-03-06", "23:59:59 in Los Angeles");
    assert_eq!(b.resets_at.timestamp().to_string(), "2026-03-07T08:00:00Z");
    *now.lock().unwrap() = "2026-03-07T08:00:00Z".parse().unwrap();
    l.reserve(MethodClass::General, 1).unwrap();
}

#[test]
fn a_call_costing_several_units_is_charged_them_and_refused_when_they_do_not_fit() {
    // A dialect that charges per record (credits) reserves several units for one call: they
    // are counted together, and a call whose units would pass the share is refused whole.
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(&dir.path().join("l.sqlite"), cfg(BudgetRule::Fixed(25), "a")).unwrap();
    l.reserve(MethodClass::General, 10).unwrap();
    l.reserve(MethodClass::General, 10).unwrap();
    assert_eq!(l.status().unwrap().spent, 20);
    let Err(ClientError::Budget(b)) = l.reserve(MethodClass::General, 10) else { panic!() };
    assert_eq!((b.spent, b.limit), (20, 25));
    assert_eq!(l.status().unwrap().spent, 20, "a refused call counts nothing");
    l.reserve(MethodClass::General, 5).unwrap();
    assert_eq!(l.status().unwrap().spent, 25);
}

#[test]
fn a_free_call_counts_nothing_and_passes_a_spent_budget() {
    // Bulk Write uploads, status polls and downloads cost 0 credits: the ledger must not count
    // them (it counted 1 each, so a polled job over-counted), and nor refuse them.
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(&dir.path().join("l.sqlite"), cfg(BudgetRule::Fixed(10), "a")).unwrap();
    l.reserve(MethodClass::General, 0).unwrap();
    assert_eq!(l.status().unwrap().spent, 0);
    l.reserve(MethodClass::General, 10).unwrap();
    l.reserve(MethodClass::General, 0).unwrap();
    l.refund(MethodClass::General, 0).unwrap();
    assert_eq!(l.status().unwrap().spent, 10);
}

fn cfg(rule: BudgetRule, consumer: &str) -> LedgerConfig {
    LedgerConfig {
        org: "org".into(),
        consumer: consumer.into(),
        timezone: zcrm_client::budget::timezone("America/Los_Angeles").unwrap(),
        rule,
        share: 1.0,
    }
}

/// The child side of the race: reserve until refused, print how many succeeded.
#[test]
fn racer_child() {
    let Ok(path) = std::env::var("ZCRM_RACE_LEDGER") else { return };
    let consumer = std::env::var("ZCRM_RACE_CONSUMER").unwrap();
    let l =
        Ledger::open(std::path::Path::new(&path), cfg(BudgetRule::Fixed(600), &consumer)).unwrap();
    // Start together: wait for the parent's go signal (a file) so the processes overlap.
    std::fs::write(format!("{path}.ready.{consumer}"), b"ready").unwrap();
    let go = std::path::PathBuf::from(format!("{path}.go"));
    while !go.exists() {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let mut ok = 0;
    while l.reserve(MethodClass::General, 1).is_ok() {
        ok += 1;
        // A real client spends time on each call; without a pause the first child to wake
        // could take the whole budget before the others are scheduled (seen on 2 cores).
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    println!("RACER_OK={ok}");
}

#[test]
fn two_processes_racing_on_one_ledger_never_exceed_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.sqlite");
    // Create the schema first so both children start on equal terms.
    drop(Ledger::open(&path, cfg(BudgetRule::Fixed(600), "setup")).unwrap());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["one", "two", "three"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args(["--exact", "budget::racer_child", "--nocapture", "--test-threads=1"])
                .env("ZCRM_RACE_LEDGER", &path)
                .env("ZCRM_RACE_CONSUMER", name)
                .output_async()
        })
        .collect();
    // Wait until every child has opened the ledger, then start them together.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !["one", "two", "three"]
        .iter()
        .all(|n| dir.path().join(format!("race.sqlite.ready.{n}")).exists())
    {
        assert!(std::time::Instant::now() < deadline, "the children did not start");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::write(dir.path().join("race.sqlite.go"), b"go").unwrap();
    let counts: Vec<u32> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let at = text.find("RACER_OK=").unwrap_or_else(|| panic!("child output: {text}"));
            let digits: String =
                text[at + "RACER_OK=".len()..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap()
        })
        .collect();
    assert_eq!(counts.iter().sum::<u32>(), 600, "together exactly the budget: {counts:?}");
    assert!(
        counts.iter().filter(|c| **c > 0).count() >= 2,
        "the processes really raced: {counts:?}"
    );
}

trait SpawnPiped {
    fn output_async(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn credits_roll_over_24_hours_and_free_up_as_the_oldest_charges_age() {
    // A REST org: credits, not calls, over a rolling 24 hours rather than per org day.
    let dir = tempfile::tempdir().unwrap();
    let now =
        Arc::new(std::sync::Mutex::new("2026-03-07T10:00:00Z".parse::<jiff::Timestamp>().unwrap()));
    let clock = now.clone();
    let l = Ledger::open(&dir.path().join("l.sqlite"), cfg(BudgetRule::FixedCredits(25), "a"))
        .unwrap()
        .with_clock(move || *clock.lock().unwrap());
    let at = |t: &str| *now.lock().unwrap() = t.parse().unwrap();
    l.reserve(MethodClass::General, 10).unwrap();
    at("2026-03-07T20:00:00Z");
    l.reserve(MethodClass::General, 10).unwrap();
    // Past midnight in the org's zone nothing frees up: the window is 24 hours, not a day.
    at("2026-03-08T09:00:00Z");
    let Err(ClientError::Budget(b)) = l.reserve(MethodClass::General, 10) else { panic!() };
    assert!(b.rolling);
    assert_eq!((b.spent, b.limit), (20, 25));
    assert_eq!(
        b.resets_at.timestamp().to_string(),
        "2026-03-08T10:00:00Z",
        "the first charge frees up"
    );
    let text = b.to_string();
    assert!(text.contains("credits used in the last 24 hours"), "{text}");
    assert!(!text.contains("calls used on"), "{text}");
    assert_eq!(l.status().unwrap().spent, 20);
    // A cheap call still fits where the expensive one did not.
    l.reserve(MethodClass::General, 5).unwrap();
    at("2026-03-08T10:00:01Z");
    l.reserve(MethodClass::General, 10).unwrap();
    let s = l.status().unwrap();
    assert_eq!(s.spent, 25, "10 at 20:00, 5 at 09:00 and 10 now: the 10:00 charge has aged out");
    assert_eq!(s.remaining, 0);
    // 20:00Z on the day Los Angeles moves to summer time.
    assert_eq!(s.resets_at, "2026-03-08T13:00:00-07:00[America/Los_Angeles]");
}

#[test]
fn the_edition_formula_gives_a_rest_org_its_credits() {
    let dir = tempfile::tempdir().unwrap();
    let rule = BudgetRule::Credits { edition: zcrm_protocol::Edition::Enterprise, licenses: 40 };
    let l = Ledger::open(&dir.path().join("l.sqlite"), cfg(rule, "a")).unwrap();
    assert_eq!(l.status().unwrap().budget, 90_000);
    l.reserve(MethodClass::General, 10).unwrap();
    assert_eq!(l.status().unwrap().spent, 10);
}
