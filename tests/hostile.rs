//! The hostile-input suite through the real binary: each hostile file or setting gets its exit
//! code, a message naming the place and the limit, peak memory under 500 MB, and no file
//! left half-written. The bombs come from the project's generator (`zcrm_gen::hostile`);
//! nothing large is committed.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use zcrm_gen::hostile::{Bomb, write_bomb};

use crate::harness::Workdir;

const MAX_PEAK_KB: u64 = 500 << 10;

/// Runs `zcrm args` in `w` and returns its output and its peak memory (VmHWM, kB), polled
/// from /proc while it runs; fails the test if it takes more than a minute.
fn run_measured(w: &Workdir, args: &[&str]) -> (Output, u64) {
    // Output goes to files: a pipe nobody reads while the child runs would fill and stall it.
    let (out_path, err_path) = (w.path().join(".stdout"), w.path().join(".stderr"));
    let mut child = w
        .command(args)
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(&status)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("zcrm {args:?} ran for a minute");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().unwrap();
    let out = Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    };
    (out, peak)
}

fn pipeline(w: &Workdir, source: &str, extra: &str) {
    let text = format!(
        "[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"{source}\"\n{extra}\n[steps.map]\n\"Last Name\" = \"a\"\n\"Company\" = \"a\"\n"
    );
    std::fs::write(w.path().join("p.toml"), text).unwrap();
}

/// Runs `validate p.toml`; requires exit `code`, the message parts, peak memory under 500
/// MB; returns stderr.
fn validate(w: &Workdir, code: i32, says: &[&str]) -> String {
    let (out, peak) = run_measured(w, &["validate", "p.toml"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    for s in says {
        assert!(err.contains(s), "{s:?} missing from:\n{err}");
    }
    assert!(peak < MAX_PEAK_KB, "peak memory {} MB", peak >> 10);
    eprintln!("zcrm validate: exit {code}, peak memory {} MB", peak >> 10);
    err
}

/// The reject file is absent or whole: a header, then complete lines.
fn no_half_written_reject_file(w: &Workdir) {
    let p = w.path().join("out/leads.rejects.csv");
    if let Ok(text) = std::fs::read_to_string(&p) {
        assert!(text.is_empty() || text.ends_with('\n'), "half-written: {text:?}");
        assert!(!text.is_empty(), "the reject file is never left empty");
    }
    assert!(!w.path().join("out/leads.success.csv.partial").exists());
}

#[test]
fn xlsx_bombs_are_refused_naming_the_sheet_row_and_limit_in_flat_memory() {
    for (bomb, says) in [
        (Bomb::SharedStrings, &["xl/sharedStrings.xml", "16,777,216 strings"][..]),
        (Bomb::HugeCell, &["sheet \"Data\"", "sheet row 2", "cell B2", "1 MiB"][..]),
        (Bomb::HugeRow, &["sheet \"Data\"", "sheet row 2", "16,384 cells"][..]),
    ] {
        let w = Workdir::new();
        write_bomb(&w.path().join("bomb.xlsx"), bomb).unwrap();
        assert!(std::fs::metadata(w.path().join("bomb.xlsx")).unwrap().len() < 2 << 20);
        pipeline(&w, "bomb.xlsx", "");
        validate(&w, 2, says);
        no_half_written_reject_file(&w);
    }
}

#[test]
fn a_fifo_source_is_refused_without_hanging() {
    let w = Workdir::new();
    let fifo = w.path().join("leads.csv");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    pipeline(&w, "leads.csv", "");
    for cmd in ["validate", "run", "plan"] {
        let (out, _) = run_measured(&w, &[cmd, "p.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains("not a regular file"), "{cmd}: {err}");
    }
}

#[test]
fn an_unterminated_quote_names_the_line_where_it_opened() {
    let w = Workdir::new();
    let mut text = String::from("a,b\nAnn,1\nBob,2\n\"Cid,3\n");
    for i in 0..50 {
        text.push_str(&format!("Row{i},{i}\n"));
    }
    std::fs::write(w.path().join("leads.csv"), text).unwrap();
    pipeline(&w, "leads.csv", "");
    validate(&w, 2, &["leads.csv", "line 4"]);
}

#[test]
fn a_reject_file_that_is_the_source_is_refused_and_the_source_is_untouched() {
    let w = Workdir::new();
    let mut text = String::from("a,b\n");
    for i in 0..20_000 {
        text.push_str(&format!("Name{i},{i}\n"));
    }
    let src = w.path().join("leads.csv");
    std::fs::write(&src, &text).unwrap();
    std::os::unix::fs::symlink(&src, w.path().join("alias.csv")).unwrap();
    for rejects in ["leads.csv", "./leads.csv", "alias.csv"] {
        pipeline(&w, "leads.csv", &format!("rejects = \"{rejects}\""));
        for cmd in ["validate", "run"] {
            let (out, _) = run_measured(&w, &[cmd, "p.toml"]);
            assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(std::fs::read_to_string(&src).unwrap(), text, "the source is untouched");
    }
}

#[test]
fn thousands_of_steps_load_in_flat_memory() {
    let w = Workdir::new();
    std::fs::write(w.path().join("leads.csv"), "a\nx\n").unwrap();
    // About 300 KB of pipeline, 2,000 steps, each with an unknown key: 2,000 problems.
    let mut text = String::new();
    for i in 0..2_000 {
        text.push_str(&format!(
            "[[steps]]\nname = \"s{i}\"\nimport = \"Leads\"\nsource = \"leads.csv\"\nrejects = \"out/{i}.csv\"\ncolour = \"{}\"\n[steps.map]\n\"Last Name\" = \"a\"\n\"Company\" = \"a\"\n\n",
            "x".repeat(50)
        ));
    }
    assert!(text.len() > 250_000);
    std::fs::write(w.path().join("p.toml"), text).unwrap();
    let err = validate(&w, 2, &["unknown field `colour`", "2000 problems in the pipeline"]);
    assert!(err.matches("colour").count() >= 2_000);
}

#[test]
fn credentials_in_the_url_are_refused_and_never_echoed() {
    let w = Workdir::new();
    std::fs::write(w.path().join("leads.csv"), "a\nx\n").unwrap();
    for url in [
        "https://admin:hunter2secret@crm.zoho.com",
        "https://crm.zoho.com/?authtoken=hunter2secret",
    ] {
        let text = format!(
            "[connection]\nurl = \"{url}\"\n[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"leads.csv\"\n[steps.map]\n\"Last Name\" = \"a\"\n\"Company\" = \"a\"\n"
        );
        std::fs::write(w.path().join("p.toml"), text).unwrap();
        let (out, _) = run_measured(&w, &["run", "p.toml"]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(!all.contains("hunter2secret"), "{all}");
        assert!(all.contains("authtoken_env"), "says where the token belongs: {all}");
    }
}
