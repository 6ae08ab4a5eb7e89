//! Every example pipeline in `pipelines/` runs on the sample files, in a scratch copy of the
//! repository's `pipelines/` and `samples/` folders.

use std::path::Path;

use zcrm_emulator::{Emulator, EmulatorConfig};

use crate::harness::Workdir;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn scratch() -> Workdir {
    let w = Workdir::new();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&repo.join("pipelines"), &w.path().join("pipelines"));
    copy_dir(&repo.join("samples"), &w.path().join("samples"));
    w
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .count()
}

#[test]
fn quickstart_runs_on_the_embedded_emulator_and_reports_every_row() {
    let w = scratch();
    // Its three bad rows are within max_rejects: exit 0, the reject file still written.
    let out = w.expect(&["run", "pipelines/quickstart.toml"], 0);
    assert!(out.contains("leads-parquet"), "{out}");
    let ok = lines(&w.path().join("out/quickstart-leads.success.csv")) - 1;
    let bad = lines(&w.path().join("out/quickstart-leads.rejects.csv")) - 1;
    assert!(bad > 0, "the samples have deliberately bad rows");
    assert!(ok > 0);
    assert!(w.path().join("out/leads.parquet").exists());
    // validate and plan work on it too, and a rerun sends nothing.
    w.expect(&["validate", "pipelines/quickstart.toml"], 1);
    let tests = w.expect(&["test", "pipelines/quickstart.toml"], 0);
    assert!(tests.contains("2 test(s): 2 passed, 0 failed"), "{tests}");
    let plan = w.expect(&["plan", "pipelines/quickstart.toml"], 0);
    assert!(plan.contains("days needed"), "{plan}");
    w.expect(&["run", "pipelines/quickstart.toml"], 0);
    let status = w.expect(&["status", "pipelines/quickstart.toml"], 0);
    assert!(status.contains("a rerun resumes"), "{status}");
    // created, updated, matched, rejected: the reject file's rows, local checks included.
    let leads: Vec<&str> = status
        .lines()
        .find(|l| l.starts_with("leads "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(leads.get(1..5), Some(&[&*ok.to_string(), "0", "0", &*bad.to_string()][..]));
}

#[test]
fn migration_upsert_and_nightly_examples_run() {
    let w = scratch();
    let out = w.expect(&["run", "pipelines/migration.toml"], 1);
    assert!(out.contains("deals"), "{out}");
    let contacts =
        std::fs::read_to_string(w.path().join("out/migration-contacts.rejects.csv")).unwrap();
    assert!(
        contacts.contains("A-999"),
        "the contact of an unknown account is rejected: {contacts}"
    );
    assert!(lines(&w.path().join("out/migration-deals.success.csv")) > 1);
    w.expect(&["run", "pipelines/upsert-sync.toml"], 0);
    let first = w.expect(&["run", "pipelines/nightly-export.toml"], 0);
    assert!(first.contains("part-0001.parquet"), "{first}");
    let second = w.expect(&["run", "pipelines/nightly-export.toml"], 0);
    assert!(!second.contains("part-0002"), "nothing changed: no new part ({second})");
}

#[test]
fn org_to_org_copy_translates_references_between_two_emulators() {
    let w = scratch();
    let (src_token, dst_token) =
        ("11111111111111111111111111111111", "22222222222222222222222222222222");
    let src_dir = w.path().join("src-emu");
    let dst_dir = w.path().join("dst-emu");
    let source = Emulator::start(EmulatorConfig {
        seed_demo: true,
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 10,
        ..EmulatorConfig::new(&src_dir).token(src_token)
    })
    .unwrap();
    let target = Emulator::start(EmulatorConfig {
        edition: zcrm_protocol::Edition::Enterprise,
        licenses: 10,
        ..EmulatorConfig::new(&dst_dir).token(dst_token)
    })
    .unwrap();
    for (file, url) in
        [("org-copy-export.toml", source.url()), ("org-copy-import.toml", target.url())]
    {
        let p = w.path().join("pipelines").join(file);
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("http://127.0.0.1:4281", url)
            .replace("http://127.0.0.1:4282", url);
        std::fs::write(&p, text).unwrap();
    }
    let mut w = w;
    w.env("ZCRM_SOURCE_TOKEN", src_token).env("ZCRM_TARGET_TOKEN", dst_token);
    w.expect(&["run", "pipelines/org-copy-export.toml"], 0);
    let out = w.expect(&["run", "pipelines/org-copy-import.toml"], 0);
    assert!(out.contains("contacts"), "{out}");
    let src = source.record_counts();
    let dst = target.record_counts();
    assert_eq!(dst["Accounts"], src["Accounts"]);
    assert_eq!(dst["Contacts"], src["Contacts"]);
    // Every copied contact points at an account of the target org.
    let contacts = std::fs::read_to_string(w.path().join("out/org-copy/contacts.csv")).unwrap();
    assert!(contacts.lines().count() > 1);
}

#[test]
fn the_examples_run_on_the_v8_face_with_one_switch() {
    // ZCRM_API=v8: every example names no dialect, so each runs on the embedded emulator's
    // REST face, with the same reports.
    let mut w = scratch();
    w.env("ZCRM_API", "v8");
    let out = w.expect(&["run", "pipelines/quickstart.toml"], 0);
    assert!(out.contains("leads-parquet"), "{out}");
    let ok = lines(&w.path().join("out/quickstart-leads.success.csv")) - 1;
    let bad = lines(&w.path().join("out/quickstart-leads.rejects.csv")) - 1;
    assert!(ok > 0 && bad > 0, "{ok} {bad}");
    assert!(w.path().join("out/leads.parquet").exists());
    let plan = w.expect(&["plan", "pipelines/quickstart.toml"], 0);
    assert!(plan.contains("credits"), "{plan}");
    let out = w.expect(&["run", "pipelines/migration.toml"], 1);
    assert!(out.contains("deals"), "{out}");
    let contacts =
        std::fs::read_to_string(w.path().join("out/migration-contacts.rejects.csv")).unwrap();
    assert!(contacts.contains("A-999"), "{contacts}");
    assert!(lines(&w.path().join("out/migration-deals.success.csv")) > 1);
    w.expect(&["run", "pipelines/upsert-sync.toml"], 0);
    let first = w.expect(&["run", "pipelines/nightly-export.toml"], 0);
    assert!(first.contains("part-0001.parquet"), "{first}");
}
