//! Durability against `kill -9`: the emulator runs in a child process (this test binary
//! re-run with an environment variable), the child is killed with SIGKILL right after a burst of
//! acknowledged writes, and a fresh emulator on the same data folder must see all of them.

use super::harness::*;

const CHILD_ENV: &str = "ZCRM_EMULATOR_KILL_CHILD_DIR";

/// Runs only as the child: serves until killed.
#[test]
fn kill_child_server() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let dir = std::path::PathBuf::from(dir);
    let emu = zcrm_emulator::Emulator::start(config(&dir)).unwrap();
    std::fs::write(dir.join("url.tmp"), emu.url()).unwrap();
    std::fs::rename(dir.join("url.tmp"), dir.join("url")).unwrap();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "api::kill::kill_child_server", "--nocapture"])
        .env(CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url_file = dir.path().join("url");
    let start = std::time::Instant::now();
    while !url_file.exists() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "child did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let url = std::fs::read_to_string(&url_file).unwrap();
    let http = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let mut acked = 0;
    for i in 0..20 {
        let xml = format!(
            "<Leads><row no=\"1\"><FL val=\"Last Name\">K{i}</FL><FL val=\"Company\">C</FL></row></Leads>"
        );
        let body = http
            .post(format!("{url}/crm/private/xml/Leads/insertRecords"))
            .form(&[("authtoken", TOKEN), ("scope", "crmapi"), ("xmlData", xml.as_str())])
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(body.contains("Record(s) added successfully"), "{body}");
        acked += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let emu = zcrm_emulator::Emulator::start(config(dir.path())).unwrap();
    assert_eq!(emu.record_counts()["Leads"], acked);
    assert_eq!(emu.calls_today(), acked);
}
