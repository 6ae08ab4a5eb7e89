//! Bulk Write on v8: the planner picks the record API for small steps and Bulk Write for large
//! ones, and says why; `method` overrides it.

use crate::v8::{LEADS_STEP, emulator, leads_csv, pipeline, workdir};

/// The plan's method line of the `leads` step.
fn method_line(plan: &str) -> String {
    plan.lines()
        .find(|l| l.trim_start().starts_with("method: "))
        .unwrap_or_else(|| panic!("no method line: {plan}"))
        .trim()
        .to_owned()
}

#[test]
fn the_plan_picks_records_at_a_thousand_rows_and_bulk_at_a_hundred_thousand_and_says_why() {
    let w = workdir();
    let emu = emulator(w.path(), |c| c);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);

    let bad = leads_csv(&w.path().join("leads.csv"), 1_000);
    let plan = w.expect(&["plan", &p], 0);
    let line = method_line(&plan);
    let valid = 1_000 - bad as u64;
    assert!(line.starts_with("method: records — records: "), "{line}");
    assert!(
        line.contains(&format!("records: {} credits vs bulk: 1 job = ", valid.div_ceil(10))),
        "{line}"
    );

    let bad = leads_csv(&w.path().join("leads.csv"), 100_000);
    let plan = w.expect(&["plan", &p], 0);
    let line = method_line(&plan);
    let valid = 100_000 - bad as u64;
    assert!(line.starts_with("method: bulk — bulk: 4 jobs = 2,000 credits vs records: "), "{line}");
    let records = (valid / 100) * 10 + (valid % 100).div_ceil(10);
    assert!(line.contains(&crate::bulk::thousands(records)), "{line}: {records}");
    assert!(plan.contains("2001 credits"), "the step costs the bulk jobs and the org's id: {plan}");

    // `method` wins over the planner, and says so.
    let text = std::fs::read_to_string(w.path().join(&p)).unwrap();
    std::fs::write(
        w.path().join(&p),
        text.replace("key = \"id\"", "key = \"id\"\nmethod = \"records\""),
    )
    .unwrap();
    let line = method_line(&w.expect(&["plan", &p], 0));
    assert!(line.starts_with("method: records — method = \"records\" (records: "), "{line}");
}

/// `n` with thousands separators.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The emulator's Bulk Write jobs.
fn bulk_jobs(emu: &zcrm_emulator::EmulatorHandle) -> Vec<serde_json::Value> {
    crate::v8::admin(emu, "GET", "bulk-jobs").as_array().cloned().unwrap_or_default()
}

#[test]
fn sixty_thousand_rows_on_v8_cost_three_bulk_jobs_each_row_once_and_every_id_in_the_success_file() {
    // About 45 s in a debug build: run with ZCRM_BULK_SOAK=1.
    if std::env::var_os("ZCRM_BULK_SOAK").is_none() {
        return;
    }
    let w = workdir();
    let emu = emulator(w.path(), |mut c| {
        c.bulk_job_delay = std::time::Duration::ZERO;
        c
    });
    let n = 60_000;
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let p = pipeline(&w, &emu, "v8", "", LEADS_STEP);
    let before = crate::v8::credits(&emu).0;
    let out = w.expect(&["run", &p], 1);
    assert!(out.contains("bulk: 3 jobs = 1,500 credits vs records: "), "{out}");
    let used = crate::v8::credits(&emu).0 - before;
    // 3 jobs of 500; the metadata and the org's id one credit each.
    assert_eq!(used, 3 * 500 + 2, "credits the emulator charged");
    let jobs = bulk_jobs(&emu);
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    crate::v8::assert_accounted(&w, n);
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len(), n - bad);
    assert!(keys.values().all(|c| *c == 1), "no duplicates");
    let ok = crate::crm::report(&w.path().join("out/leads.success.csv"));
    assert_eq!(ok.len(), n - bad);
    assert!(ok.iter().all(|r| r["_id"].parse::<u64>().is_ok()), "every success row has its Id");
    // A rerun sends nothing.
    w.expect(&["run", &p], 1);
    assert_eq!(bulk_jobs(&emu).len(), 3);
}

/// An emulator with `Legacy Id` and a unique `Badge` on Leads (the v8 face refuses a second
/// record with the same badge), jobs held `delay` in each state.
fn bulk_emulator(
    dir: &std::path::Path,
    delay: std::time::Duration,
) -> zcrm_emulator::EmulatorHandle {
    let schema = format!(
        "{}[[field]]\nmodule = \"Leads\"\nlabel = \"Badge\"\ntype = \"Text\"\nmax_length = 20\nunique = true\n",
        crate::crm::legacy_id_field("Leads")
    );
    crate::crm::emulator(dir, &schema, |c| {
        let mut c = c.oauth_client(zcrm_emulator::OAuthClient::new(
            crate::v8::CLIENT_ID,
            crate::v8::CLIENT_SECRET,
            crate::v8::REFRESH_TOKEN,
        ));
        c.bulk_job_delay = delay;
        c
    })
}

/// The leads step through Bulk Write, with the badge.
fn bulk_step() -> String {
    LEADS_STEP.replace("key = \"id\"", "key = \"id\"\nmethod = \"bulk\"")
        + "\"Badge\" = \"badge\"\n"
}

/// `n` leads with a badge: every 97th without a last name (rejected locally), every 250th from
/// the 7th on with the badge of the row before it (refused by the CRM). Returns the numbers of
/// both kinds.
fn badge_csv(path: &std::path::Path, n: usize) -> (usize, usize) {
    let mut text = String::from("id,last,company,email,revenue,badge\n");
    let (mut bad, mut dup) = (0, 0);
    for i in 0..n {
        let last = if i % 97 == 5 {
            bad += 1;
            String::new()
        } else {
            format!("Last {i}")
        };
        let badge = if i % 250 == 7 {
            dup += 1;
            i - 1
        } else {
            i
        };
        text.push_str(&format!(
            "L{i},{last},Company {},p{i}@example.com,{i}.50,B{badge}\n",
            i % 50
        ));
    }
    std::fs::write(path, text).unwrap();
    (bad, dup)
}

#[test]
fn a_bulk_import_costs_one_job_refusals_carry_the_servers_errors_and_a_rerun_sends_nothing() {
    let w = workdir();
    let emu = bulk_emulator(w.path(), std::time::Duration::from_millis(20));
    let n = 1_500;
    let (bad, dup) = badge_csv(&w.path().join("leads.csv"), n);
    assert!(bad > 10 && dup == 6);
    let p = pipeline(&w, &emu, "v8", "", &bulk_step());
    let before = crate::v8::credits(&emu).0;
    let out = w.expect(&["run", &p], 1);
    // The note says what either way costs, for the source's rows.
    assert!(
        out.contains("method = \"bulk\" (bulk: 1 job = 500 credits; records: 150 credits)"),
        "{out}"
    );
    // One job of 500; the metadata and the org's id one credit each.
    assert_eq!(crate::v8::credits(&emu).0 - before, 500 + 2, "credits the emulator charged");
    let jobs = bulk_jobs(&emu);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["rows"], (n - bad) as u64, "locally invalid rows are never uploaded");
    crate::v8::assert_accounted(&w, n);
    // Every valid row once in the CRM, but the second of each badge.
    let crm = crate::crm::records(&emu, "Leads", &["LEADID", "Legacy Id"]);
    let mut ids = std::collections::HashMap::new();
    for r in &crm {
        assert!(ids.insert(r["Legacy Id"].clone(), r["LEADID"].clone()).is_none(), "no duplicates");
    }
    assert_eq!(ids.len(), n - bad - dup);
    // The success file: every Id the CRM holds, by key.
    let ok = crate::crm::report(&w.path().join("out/leads.success.csv"));
    assert_eq!(ok.len(), n - bad - dup);
    for r in &ok {
        assert_eq!(Some(&r["_id"]), ids.get(&r["id"]), "{r:?}");
        assert_eq!(r["_action"], "created");
    }
    // The server's refusals with its ERRORS text, next to the local ones.
    let rejects = crate::crm::report(&w.path().join("out/leads.rejects.csv"));
    assert_eq!(rejects.len(), bad + dup);
    let refused: Vec<_> =
        rejects.iter().filter(|r| r["_errors"].contains("DUPLICATE_DATA")).collect();
    assert_eq!(refused.len(), dup, "{rejects:?}");
    for r in &refused {
        assert!(r["_errors"].contains("DUPLICATE_DATA-Badge"), "{r:?}");
        assert_eq!(r["id"].trim_start_matches('L').parse::<usize>().unwrap() % 250, 7, "{r:?}");
    }
    // The ledger agrees with the emulator to the credit (uploads, polls, downloads are free).
    let status = w.expect(&["status", &p], 0);
    let in_all: u64 = status
        .split("credits in the last 24 hours: ")
        .nth(1)
        .and_then(|t| t.split(" in all").next())
        .and_then(|t| t.rsplit(", ").next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(in_all, crate::v8::credits(&emu).0, "{status}");
    assert!(!status.contains("open Bulk Write jobs"), "{status}");
    // A rerun sends nothing: no job, no credit.
    let used = crate::v8::credits(&emu).0;
    w.expect(&["run", &p], 1);
    assert_eq!(bulk_jobs(&emu).len(), 1);
    assert_eq!(crate::v8::credits(&emu).0, used, "a rerun spends nothing");
    assert_eq!(crate::crm::records(&emu, "Leads", &["LEADID"]).len(), n - bad - dup);
}

/// Kills of the test below: 6 in the normal suite; `ZCRM_BULK_KILLS=50` for the long run.
fn bulk_kills() -> u64 {
    std::env::var("ZCRM_BULK_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(6)
}

/// What the kill test saw.
#[derive(Debug, Default)]
struct KillStats {
    /// Kills that hit a live run.
    landed: u64,
    /// The phase of the step's open job right after each kill that landed (`none`: no open
    /// job, the kill fell between jobs).
    phases: std::collections::BTreeMap<String, u64>,
    /// Runs that ended before their kill, by exit code.
    ended: std::collections::BTreeMap<i32, u64>,
    /// Runs that stopped by themselves with `BulkJobUnknown` (a dropped create answer).
    unknown_stops: u64,
    /// Lost creates settled with the job the CRM holds (`zcrm settle --job`).
    settled_created: u64,
    /// Lost creates settled as never created (`zcrm settle --not-created`).
    settled_not_created: u64,
}

/// Runs `zcrm run p` and SIGKILLs it after `delay`: `None` when the kill hit the live run,
/// else its exit code and stderr.
fn run_killed_after(
    w: &crate::harness::Workdir,
    p: &str,
    delay: std::time::Duration,
) -> Option<(i32, String)> {
    let err = w.path().join("killed-run.stderr");
    let mut child = w
        .command(&["run", p])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while start.elapsed() < delay {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status.code().unwrap_or(-1), std::fs::read_to_string(&err).unwrap()));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    crate::harness::kill(&mut child).then_some(()).map_or_else(
        || {
            Some((
                child.wait().unwrap().code().unwrap_or(-1),
                std::fs::read_to_string(&err).unwrap(),
            ))
        },
        |()| None,
    )
}

/// The phase of the step's open Bulk Write job, from `zcrm status`.
fn open_phase(status: &str) -> String {
    status
        .lines()
        .find(|l| l.trim_start().starts_with("leads job "))
        .and_then(|l| l.split(", ").nth(1))
        .map_or_else(|| "none".to_owned(), |p| p.split_whitespace().next().unwrap().to_owned())
}

/// A lost create settled as a person would: the CRM's jobs of the file (here the emulator's
/// admin list, in Zoho the org's Bulk Write jobs) decide `--job ID` or `--not-created`.
fn settle_lost_create(
    w: &crate::harness::Workdir,
    emu: &zcrm_emulator::EmulatorHandle,
    p: &str,
    stats: &mut KillStats,
) {
    let status = w.expect(&["status", p], 0);
    let Some(line) = status.lines().find(|l| l.contains(", creating, file ")) else { return };
    let file = line.split(", creating, file ").nth(1).unwrap().split(',').next().unwrap();
    let jobs: Vec<_> =
        bulk_jobs(emu).into_iter().filter(|j| j["file_id"].as_str() == Some(file)).collect();
    assert!(jobs.len() <= 1, "file {file} has {} jobs: {jobs:?}", jobs.len());
    match jobs.first() {
        Some(j) => {
            w.expect(&["settle", p, "--step", "leads", "--job", j["id"].as_str().unwrap()], 0);
            stats.settled_created += 1;
        }
        None => {
            w.expect(&["settle", p, "--step", "leads", "--not-created"], 0);
            stats.settled_not_created += 1;
        }
    }
}

#[test]
fn a_bulk_import_killed_at_random_moments_ends_with_every_row_once_and_no_job_created_twice() {
    use std::time::Duration;
    let kills = bulk_kills();
    let mut w = workdir();
    // Jobs of 100 rows, each held 30 ms in ADDED and in IN PROGRESS: a run is a sequence of
    // uploads, creates, polls and downloads for the kills to land in.
    w.env("ZCRM_BULK_ROWS", "100");
    let emu = bulk_emulator(w.path(), Duration::from_millis(30));
    let (n, spread) = if kills > 6 { (300 * kills as usize, 2_000) } else { (1_000, 1_200) };
    let bad = leads_csv(&w.path().join("leads.csv"), n);
    let steps = LEADS_STEP.replace("key = \"id\"", "key = \"id\"\nmethod = \"bulk\"");
    let p = pipeline(&w, &emu, "v8", "", &steps);
    // Cut result downloads, create answers dropped after the job was committed, and 150 ms
    // before each create is handled (a window for kills: killed there, the job never exists).
    emu.set_faults(
        zcrm_emulator::FaultSpec::parse("bulk_cut=0.2,drop_after_commit=0.2,latency=150ms,seed=23")
            .unwrap(),
    );
    let mut stats = KillStats::default();
    let mut rng = 29u64;
    for _ in 0..kills {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(100 + (rng >> 33) % spread);
        match run_killed_after(&w, &p, delay) {
            None => {
                stats.landed += 1;
                let status = w.expect(&["status", &p], 0);
                *stats.phases.entry(open_phase(&status)).or_insert(0) += 1;
            }
            Some((code, err)) => {
                *stats.ended.entry(code).or_insert(0) += 1;
                if err.contains("may have been created") {
                    stats.unknown_stops += 1;
                }
            }
        }
        settle_lost_create(&w, &emu, &p, &mut stats);
    }
    let mut done = false;
    for _ in 0..60 {
        let out = w.run(&["run", &p]);
        if out.status.code() == Some(1) {
            done = true;
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        if err.contains("may have been created") {
            stats.unknown_stops += 1;
            settle_lost_create(&w, &emu, &p, &mut stats);
        }
    }
    eprintln!("bulk kills: {kills} tried, {stats:?}");
    assert!(done, "the import finished: {stats:?}");
    emu.clear_faults();
    let valid = n - bad;
    let keys = crate::crm::value_counts(&emu, "Leads", "Legacy Id");
    assert_eq!(keys.len(), valid, "exactly the valid rows are in the CRM");
    assert!(keys.values().all(|c| *c == 1), "no duplicates");
    crate::v8::assert_accounted(&w, n);
    // One job per chunk of 100 and none twice: every file once, the jobs' added rows are the
    // valid rows exactly.
    let jobs = bulk_jobs(&emu);
    let mut files: Vec<&str> = jobs.iter().map(|j| j["file_id"].as_str().unwrap()).collect();
    files.sort_unstable();
    files.dedup();
    assert_eq!(files.len(), jobs.len(), "a file with two jobs: {jobs:?}");
    assert_eq!(jobs.len(), valid.div_ceil(100), "one job per chunk: {jobs:?}");
    let added: u64 = jobs.iter().map(|j| j["added"].as_u64().unwrap()).sum();
    assert_eq!(added, valid as u64, "{jobs:?}");
    // Lost creates are said, not hidden: each was settled.
    let status = w.expect(&["status", &p], 0);
    assert_eq!(open_phase(&status), "none", "{status}");
}
