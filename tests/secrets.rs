//! Secrets: a canary token run through succeeding and failing imports and exports at every log
//! level, in text and JSON logs, is nowhere zcrm writes (any file under its folder, the state
//! dir included, stdout, stderr) nor in the emulator's request log; and the state zcrm keeps
//! is owner-only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultSpec};

use crate::harness::{Workdir, kill};

/// The token: a string found nowhere else.
const CANARY: &str = "CanaryT0ken7f3e9b1d5a2c8e4f60";

fn emulator(data: &Path, token: &str) -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 10,
        ..EmulatorConfig::new(data).token(token)
    })
    .unwrap()
}

const STEPS: &str = r#"
[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
key = "id"

[steps.map]
"Last Name" = "last"
"Company" = "company"
"Email" = "email"

[[steps]]
name = "copy"
export = "Leads"
to = "out/leads-copy.csv"
"#;

fn pipeline(w: &Workdir, name: &str, url: &str) {
    let text = format!(
        "[connection]\nurl = \"{url}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\nedition = \"enterprise\"\nlicenses = 10\n{STEPS}"
    );
    std::fs::write(w.path().join(name), text).unwrap();
}

/// `n` leads, every 7th without a last name (a reject).
fn leads(w: &Workdir, n: usize, tag: &str) {
    let mut text = String::from("id,last,company,email\n");
    for i in 0..n {
        let last = if i % 7 == 3 { String::new() } else { format!("Last {tag}{i}") };
        text.push_str(&format!("{tag}{i},{last},Co {i},{tag}{i}@example.com\n"));
    }
    std::fs::write(w.path().join("leads.csv"), text).unwrap();
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(path);
                }
            }
        }
    }
    hits
}

/// Every file and folder under `dir`, `dir` included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_owned()];
    let mut i = 0;
    while i < all.len() {
        if all[i].is_dir() {
            let mut children: Vec<PathBuf> =
                std::fs::read_dir(&all[i]).unwrap().map(|e| e.unwrap().path()).collect();
            children.sort();
            all.extend(children);
        }
        i += 1;
    }
    all
}

/// The output of one run, checked: its exit code is one of `codes`, and neither stream holds
/// the canary.
fn checked(what: &str, out: Output, codes: &[i32]) -> String {
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "{what}: exit {:?}, expected one of {codes:?}\n{text}",
        out.status.code()
    );
    assert!(!text.contains(CANARY), "{what}: the token is in stdout or stderr:\n{text}");
    text
}

#[test]
fn the_token_is_in_no_file_output_or_request_log_at_any_log_level() {
    let data = tempfile::tempdir().unwrap();
    // The search finds the token where it is.
    std::fs::create_dir_all(data.path().join("control/deep")).unwrap();
    std::fs::write(data.path().join("control/deep/f"), format!("\0x{CANARY}y")).unwrap();
    assert_eq!(files_containing(&data.path().join("control"), CANARY).len(), 1);
    let emu = emulator(&data.path().join("ok"), CANARY);
    // A server that does not know the token: every call fails with 4834.
    let stranger = emulator(&data.path().join("stranger"), "someoneelsestoken0000000000000");
    let levels = [Some("trace"), Some("debug"), Some("info"), None];
    let mut logged = 0;
    for (n, (level, json)) in levels.iter().flat_map(|l| [(*l, false), (*l, true)]).enumerate() {
        let what = format!("ZCRM_LOG={level:?}, json logs {json}");
        let mut w = Workdir::new();
        w.env("ZCRM_TEST_TOKEN", CANARY)
            .env("ZCRM_AUTHTOKEN", CANARY)
            .env("ZCRM_URL", emu.url())
            .env("ZCRM_EDITION", "enterprise")
            .env("ZCRM_LICENSES", "10");
        if let Some(l) = level {
            w.env("ZCRM_LOG", l);
        }
        let args = |a: &[&'static str]| -> Vec<&'static str> {
            let mut v = if json { vec!["--log-format", "json"] } else { vec![] };
            v.extend_from_slice(a);
            v
        };
        leads(&w, 30, &format!("r{n}x"));
        pipeline(&w, "p.toml", emu.url());
        pipeline(&w, "stranger.toml", stranger.url());
        // Succeeding: an import with rejects (1), exports, status, fields.
        let out = checked(&what, w.run(&args(&["run", "p.toml"])), &[1]);
        if level == Some("trace") {
            assert!(out.contains("sending"), "trace logs the calls: {out}");
            logged += 1;
        }
        checked(&what, w.run(&args(&["export", "Leads", "--to", "out/leads.parquet"])), &[0]);
        checked(
            &what,
            w.run(&args(&["export", "Leads", "--to", "out/inc/", "--since", "last-run"])),
            &[0],
        );
        checked(&what, w.run(&args(&["status", "p.toml"])), &[0]);
        checked(&what, w.run(&args(&["fields", "Leads", "--refresh"])), &[0]);
        // Failing: a server that refuses the token, for an import and an export.
        checked(&what, w.run(&args(&["run", "stranger.toml"])), &[2, 3]);
        let out = w
            .command(&args(&["export", "Leads", "--to", "out/x.csv"]))
            .env("ZCRM_URL", stranger.url())
            .output()
            .unwrap();
        checked(&what, out, &[2, 3]);
        // Failing: a server answering 500 to everything, for an export and an import (at the
        // most verbose level: the retries and in-doubt back-off take seconds).
        if level == Some("trace") {
            emu.set_faults(FaultSpec::parse("error_rate=1").unwrap());
            checked(&what, w.run(&args(&["export", "Leads", "--to", "out/y.csv"])), &[3]);
            leads(&w, 10, &format!("f{n}x"));
            checked(&what, w.run(&args(&["run", "p.toml"])), &[3]);
        }
        emu.clear_faults();
        let hits = files_containing(w.path(), CANARY);
        assert!(hits.is_empty(), "{what}: the token is in {hits:?}");
    }
    assert_eq!(logged, 2);
    for (name, e) in [("emulator", &emu), ("refusing emulator", &stranger)] {
        let requests = e.requests();
        assert!(requests.len() >= 16, "{name}: {} requests", requests.len());
        for r in &requests {
            assert_eq!(r.param("authtoken"), Some(zcrm_emulator::reqlog::REDACTED), "{r:?}");
            let text = serde_json::to_string(r).unwrap() + &format!("{r:?}");
            assert!(!text.contains(CANARY), "{name}'s request log holds the token: {text}");
        }
    }
}

/// The mode bits of `path`.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn state_files_and_folders_are_owner_only() {
    let data = tempfile::tempdir().unwrap();
    let emu = emulator(data.path(), CANARY);
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", CANARY)
        .env("ZCRM_AUTHTOKEN", CANARY)
        .env("ZCRM_URL", emu.url())
        .env("ZCRM_EDITION", "enterprise")
        .env("ZCRM_LICENSES", "10");
    leads(&w, 40, "p");
    pipeline(&w, "p.toml", emu.url());
    // A journal, its lock, the ledger, the metadata cache, a watermark.
    w.expect(&["run", "p.toml"], 1);
    w.expect(&["export", "Leads", "--to", "out/inc/", "--since", "last-run"], 0);
    // A run killed while it waits for a slow answer leaves the SQLite -wal and -shm files.
    let state = w.path().join(".zcrm/state");
    leads(&w, 40, "q");
    emu.set_faults(FaultSpec::parse("latency=2s,only=writes").unwrap());
    let mut child = w.spawn(&["run", "p.toml"]);
    let wal = ["journal-p.sqlite-wal", "journal-p.sqlite-shm", "budget.sqlite-wal"];
    let start = Instant::now();
    while !wal.iter().all(|f| state.join(f).exists()) {
        assert!(start.elapsed() < Duration::from_secs(60), "no WAL files: {:?}", walk(&state));
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its WAL appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(kill(&mut child), "killed mid-run");
    emu.clear_faults();
    let all = walk(&state);
    for f in ["journal-p.sqlite", "journal-p.sqlite.lock", "budget.sqlite", "budget.sqlite-shm"] {
        assert!(all.contains(&state.join(f)), "{f} in {all:?}");
    }
    assert!(all.iter().any(|p| p.starts_with(state.join("metadata")) && p.is_file()));
    assert!(all.iter().any(|p| p.starts_with(state.join("exports")) && p.is_file()));
    let loose: Vec<String> = all
        .iter()
        .filter(|p| mode(p) != if p.is_dir() { 0o700 } else { 0o600 })
        .map(|p| format!("{} {:o}", p.strip_prefix(w.path()).unwrap().display(), mode(p)))
        .collect();
    assert!(loose.is_empty(), "not owner-only: {loose:#?}");
}
