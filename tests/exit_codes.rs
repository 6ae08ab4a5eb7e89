//! Exit codes on every path, through the real binary: one test per class of failure (usage,
//! remote, budget, local I/O before and after the first write, a run already in progress),
//! each also checking that no sentence of the message is said twice.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultSpec};

use crate::harness::Workdir;

const TOKEN: &str = "e41de41de41de41de41de41de41de41d";

fn emulator(dir: &Path) -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 50,
        ..EmulatorConfig::new(dir.join("emu")).token(TOKEN)
    })
    .unwrap()
}

/// `valid` good leads, then `bad` leads without a last name (rejected locally).
fn leads(path: &Path, valid: usize, bad: usize) {
    let mut text = String::from("id,last,company\n");
    for i in 0..valid {
        text.push_str(&format!("L{i},Last {i},Company {i}\n"));
    }
    for i in valid..valid + bad {
        text.push_str(&format!("L{i},,Company with a long name to fill the reject file {i}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn pipeline(w: &Workdir, url: &str, step_extra: &str, mode: &str) -> std::path::PathBuf {
    let text = format!(
        "[connection]\nurl = \"{url}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\nedition = \"enterprise\"\nlicenses = 50\n\n\
[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"leads.csv\"\nkey = \"id\"\n{mode}{step_extra}\n\
[steps.map]\n\"Last Name\" = \"last\"\n\"Company\" = \"company\"\n"
    );
    let path = w.path().join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn workdir() -> Workdir {
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    w
}

/// Runs and requires `code`; checks the message says nothing twice; returns stderr.
fn expect(w: &Workdir, args: &[&str], code: i32) -> String {
    let out = w.run(args);
    check(&out, code, args)
}

fn check(out: &Output, code: i32, what: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "zcrm {what:?}\nstderr:\n{stderr}");
    assert_said_once(&stderr);
    stderr
}

/// No sentence (a piece between `: `, `; ` or a line break, of some length) appears twice.
pub fn assert_said_once(text: &str) {
    let mut seen = std::collections::HashSet::new();
    for line in text.lines().filter(|l| l.starts_with("zcrm:")) {
        for piece in line.split([':', ';']).map(str::trim).filter(|p| p.len() >= 20) {
            assert!(seen.insert(piece.to_owned()), "said twice: {piece:?}\nin:\n{text}");
        }
    }
}

#[test]
fn a_pipeline_problem_is_usage_2_and_nothing_is_sent() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 10, 0);
    let p = pipeline(&w, emu.url(), "", "mode = \"upsert\"\n");
    let err = expect(&w, &["run", p.to_str().unwrap()], 2);
    assert!(err.contains("match_on"), "{err}");
    assert_eq!(emu.calls_today_of("insertRecords"), 0);
}

#[test]
fn the_network_failing_mid_import_is_3_not_2() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 3_000, 0);
    emu.set_faults(FaultSpec::parse("latency=200ms").unwrap());
    let p = pipeline(&w, emu.url(), "", "");
    let child = w
        .command(&["run", p.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while emu.calls_today_of("insertRecords") == 0 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(emu.calls_today_of("insertRecords") > 0, "payloads were sent");
    emu.stop();
    let out = child.wait_with_output().unwrap();
    let err = check(&out, 3, &["run"]);
    assert!(err.contains("rerun") || err.contains("failed"), "{err}");
}

#[test]
fn a_5xx_on_reads_inside_an_import_is_3() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 50, 0);
    let p = pipeline(&w, emu.url(), "match_on = \"Company\"\n", "mode = \"upsert\"\n");
    // Metadata cached by a first run; then every call fails: the upsert's index read is the
    // first call of the second run.
    expect(&w, &["run", p.to_str().unwrap()], 0);
    std::fs::write(w.path().join("leads.csv"), "id,last,company\nX1,New,Newco\n").unwrap();
    emu.set_faults(FaultSpec::parse("error_rate=1").unwrap());
    let err = expect(&w, &["run", p.to_str().unwrap()], 3);
    assert!(err.contains("getRecords"), "{err}");
}

#[test]
fn a_success_file_that_cannot_be_written_after_rows_were_sent_is_3() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 150, 0);
    // The success file's path is taken by a folder: the rename at the end fails.
    std::fs::create_dir_all(w.path().join("out/leads.success.csv")).unwrap();
    let p = pipeline(&w, emu.url(), "", "");
    let err = expect(&w, &["run", p.to_str().unwrap()], 3);
    assert!(err.contains("leads.success.csv"), "{err}");
    assert_eq!(emu.record_counts().get("Leads").copied(), Some(150));
}

#[test]
fn a_reject_file_that_fails_before_anything_was_sent_is_2() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 10, 3_000);
    let p = pipeline(&w, emu.url(), "rejects = \"/dev/full\"\n", "");
    let err = expect(&w, &["run", p.to_str().unwrap()], 2);
    assert!(err.contains("/dev/full"), "{err}");
    assert_eq!(emu.calls_today_of("insertRecords"), 0);
}

#[test]
fn a_reject_file_that_fills_the_disk_stops_the_run_with_3_and_a_rerun_finishes() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 5_000, 3_000);
    // /dev/full: every write fails with "no space left on device". The bad rows come after
    // enough good ones that payloads have left when the reject file first fails.
    let p = pipeline(&w, emu.url(), "rejects = \"/dev/full\"\n", "");
    let err = expect(&w, &["run", p.to_str().unwrap()], 3);
    assert!(err.contains("reject file") && err.contains("/dev/full"), "{err}");
    assert!(emu.calls_today_of("insertRecords") > 0);
    // With a writable reject file the rerun completes: every row in one report, once.
    let p = pipeline(&w, emu.url(), "rejects = \"out/leads.rejects.csv\"\n", "");
    expect(&w, &["run", p.to_str().unwrap()], 1);
    let count =
        |f: &str| csv::Reader::from_path(w.path().join("out").join(f)).unwrap().records().count();
    assert_eq!((count("leads.success.csv"), count("leads.rejects.csv")), (5_000, 3_000));
    assert_eq!(emu.record_counts().get("Leads").copied(), Some(5_000));
}

#[test]
fn validate_with_an_unwritable_reject_folder_is_2() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 5, 2);
    std::fs::write(w.path().join("blocker"), "a file where a folder should be").unwrap();
    let p = pipeline(&w, emu.url(), "rejects = \"blocker/leads.rejects.csv\"\n", "");
    let err = expect(&w, &["validate", p.to_str().unwrap()], 2);
    assert!(err.contains("blocker"), "{err}");
}

#[test]
fn a_spent_budget_is_75_and_said_once() {
    let mut w = Workdir::new();
    w.env("ZCRM_DAILY_BUDGET", "1");
    expect(&w, &["fields", "Leads", "--refresh"], 0);
    let err = expect(&w, &["export", "Leads", "--to", "out/leads.csv"], 75);
    assert!(err.contains("budget"), "{err}");
}

#[test]
fn a_second_run_of_the_same_pipeline_exits_4_at_once_and_sends_nothing() {
    let w = workdir();
    let emu = emulator(w.path());
    leads(&w.path().join("leads.csv"), 2_000, 0);
    emu.set_faults(FaultSpec::parse("latency=150ms").unwrap());
    let p = pipeline(&w, emu.url(), "", "");
    let mut first = w
        .command(&["run", p.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while emu.calls_today_of("insertRecords") == 0 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The first run is frozen (it keeps its lock) so that every call counted is the second's.
    let signal = |sig: &str| {
        let ok = Command::new("kill").args([sig, &first.id().to_string()]).status().unwrap();
        assert!(ok.success());
    };
    signal("-STOP");
    std::thread::sleep(Duration::from_millis(300));
    let calls = emu.calls_today();
    let t = Instant::now();
    let err = expect(&w, &["run", p.to_str().unwrap()], 4);
    assert!(t.elapsed() < Duration::from_secs(5), "at once: {:?}", t.elapsed());
    assert!(err.contains("another zcrm run"), "{err}");
    assert_eq!(emu.calls_today(), calls, "the second run sent nothing");
    signal("-CONT");
    // kill -9 leaves no stale lock: the next run resumes and ends exact.
    let _ = first.kill();
    let _ = first.wait();
    emu.clear_faults();
    expect(&w, &["run", p.to_str().unwrap()], 0);
    assert_eq!(emu.record_counts().get("Leads").copied(), Some(2_000));
}

#[test]
fn a_replaced_source_with_the_same_size_and_time_starts_the_step_over() {
    let w = workdir();
    let emu = emulator(w.path());
    let src = w.path().join("leads.csv");
    std::fs::write(&src, "id,last,company\nA1,Ann,Acme\nA2,Bob,Acme\n").unwrap();
    let p = pipeline(&w, emu.url(), "", "");
    expect(&w, &["run", p.to_str().unwrap()], 0);
    let mtime = std::fs::metadata(&src).unwrap().modified().unwrap();
    // A new extract of the same size copied with its time kept (cp -p, rsync -t, touch -r).
    std::fs::write(&src, "id,last,company\nB1,Cid,Bcme\nB2,Dan,Bcme\n").unwrap();
    std::fs::File::options().write(true).open(&src).unwrap().set_modified(mtime).unwrap();
    let status = w.expect(&["status", p.to_str().unwrap()], 0);
    assert!(status.contains("blake3:") && status.contains("a different file"), "{status}");
    let out = w.expect(&["run", p.to_str().unwrap()], 0);
    assert!(out.contains("starting the step over"), "{out}");
    assert_eq!(emu.record_counts().get("Leads").copied(), Some(4), "the new rows were imported");
    let status = w.expect(&["status", p.to_str().unwrap()], 0);
    assert!(status.contains("the same bytes"), "{status}");
}

#[test]
fn file_problems_and_mapping_problems_are_reported_together() {
    let w = Workdir::new();
    std::fs::write(w.path().join("leads.csv"), "id,last,company\nL1,Ann,Acme\n").unwrap();
    let text = r#"[connection]
edition = "enterprize"
licences = 3

[[steps]]
name = "accounts"
import = "Accounts"
source = "missing.csv"
colour = "blue"
[steps.map]
"Account Name" = "name"

[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
[steps.map]
"Last Nme" = "last"
"Company" = "compny"
"#;
    std::fs::write(w.path().join("p.toml"), text).unwrap();
    for cmd in ["validate", "run", "plan"] {
        let err = expect(&w, &[cmd, "p.toml"], 2);
        for (what, place) in [
            ("enterprize", "p.toml:2:"),
            ("licences", "p.toml:3:"),
            ("missing.csv", "p.toml:8:"),
            ("colour", "p.toml:9:"),
            ("the required field `Last Name` of Leads is not mapped", "p.toml:17:"),
            ("Last Nme", "p.toml:18:"),
            ("compny", "p.toml:19:"),
        ] {
            assert!(err.contains(what), "{cmd}: {what} missing from:\n{err}");
            assert!(err.contains(place), "{cmd}: {place} missing from:\n{err}");
        }
        assert!(err.contains("7 problems in the pipeline"), "{cmd}:\n{err}");
    }
}
