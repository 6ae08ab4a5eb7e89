//! `zcrm --help`, `zcrm fields`, `zcrm budget` and `zcrm emulator`, end to end.

use std::process::{Command, Stdio};

use crate::harness::{Workdir, bin};

const TOKEN: &str = "feedfacefeedfacefeedfacefeedface";

#[test]
fn help_lists_the_commands_and_exit_codes() {
    let w = Workdir::new();
    let out = w.expect(&["--help"], 0);
    for cmd in ["fields", "budget", "emulator"] {
        assert!(out.contains(cmd), "{out}");
    }
    let long = w.expect(&["fields", "--help"], 0);
    assert!(long.contains("zcrm fields Leads"), "every command has an example: {long}");
    assert!(w.expect(&["--help"], 0).contains("75 stopped because today's budget is spent"));
    w.expect(&["no-such-command"], 2);
}

#[test]
fn fields_on_the_embedded_emulator_are_cached() {
    let w = Workdir::new();
    let table = w.expect(&["fields", "Leads"], 0);
    assert!(table.contains("Last Name"), "{table}");
    assert!(table.contains("Pick List") && table.contains("Cold Call"), "{table}");
    assert!(table.contains("fetched now from org embedded at"), "{table}");
    let again = w.expect(&["fields", "Leads"], 0);
    assert!(again.contains("from the cache of org embedded, fetched "), "{again}");
    let json: serde_json::Value =
        serde_json::from_str(&w.expect(&["fields", "Leads", "--json"], 0)).unwrap();
    assert_eq!(json["module"], "Leads");
    assert_eq!(json["from_cache"], true);
    assert!(
        json["sections"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["label"] == "Company" && f["required"] == true)
    );
    let budget: serde_json::Value =
        serde_json::from_str(&w.expect(&["budget", "--json"], 0)).unwrap();
    assert_eq!(budget["spent"], 1, "one metadata call for three commands");
    assert_eq!(budget["budget"], 250, "free edition by default");
    w.expect(&["fields", "Leads", "--refresh"], 0);
    let budget: serde_json::Value =
        serde_json::from_str(&w.expect(&["budget", "--json"], 0)).unwrap();
    assert_eq!(budget["spent"], 2);
    // A name that is no module's is a usage error, with the nearest module, and costs no call.
    let typo = w.expect(&["fields", "Leeds"], 2);
    assert!(typo.contains("unknown module \"Leeds\": did you mean \"Leads\"?"), "{typo}");
    // A custom module the org does not have: the server's answer, said once.
    let absent = w.expect(&["fields", "CustomModule7"], 3);
    assert_eq!(absent.matches("4600").count(), 1, "{absent}");
    let budget: serde_json::Value =
        serde_json::from_str(&w.expect(&["budget", "--json"], 0)).unwrap();
    assert_eq!(budget["spent"], 3, "only the custom module was asked for");
}

#[test]
fn budget_stops_with_exit_75() {
    let mut w = Workdir::new();
    w.env("ZCRM_DAILY_BUDGET", "1");
    w.expect(&["fields", "Leads", "--refresh"], 0);
    let out = w.expect(&["fields", "Leads", "--refresh"], 75);
    assert!(out.contains("resets at"), "{out}");
    let text = w.expect(&["budget"], 0);
    assert!(text.contains("left today") && text.contains("      0"), "{text}");
}

#[test]
fn plain_http_to_a_remote_host_is_a_usage_error() {
    let mut w = Workdir::new();
    w.env("ZCRM_URL", "http://crm.zoho.com").env("ZCRM_AUTHTOKEN", TOKEN);
    let out = w.expect(&["fields", "Leads", "--refresh"], 2);
    assert!(out.contains("plain HTTP"), "{out}");
    assert!(!out.contains(TOKEN));
    let mut w = Workdir::new();
    w.env("ZCRM_URL", "https://crm.zoho.com");
    let out = w.expect(&["fields", "Leads"], 2);
    assert!(out.contains("ZCRM_AUTHTOKEN"), "names the missing variable: {out}");
}

#[test]
fn the_emulator_command_serves_a_separate_process() {
    let w = Workdir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(bin())
        .current_dir(w.path())
        .args([
            "emulator",
            "--listen",
            &listen,
            "--token",
            TOKEN,
            "--data",
            "emu",
            "--edition",
            "enterprise",
            "--licenses",
            "10",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(std::time::Instant::now() < deadline, "the emulator did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut client = Workdir::new();
    client
        .env("ZCRM_URL", &format!("http://{listen}"))
        .env("ZCRM_AUTHTOKEN", TOKEN)
        .env("ZCRM_EDITION", "enterprise");
    let table = client.expect(&["fields", "Contacts"], 0);
    assert!(table.contains("Last Name"), "{table}");
    client.env("ZCRM_AUTHTOKEN", "00000000000000000000000000000000");
    let denied = client.expect(&["fields", "Contacts", "--refresh"], 3);
    assert!(denied.contains("4834"), "{denied}");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(!logs.contains(TOKEN), "the emulator never logs tokens: {logs}");
}

#[test]
fn completions_and_json_logs() {
    let mut w = Workdir::new();
    let bash = w.expect(&["completions", "bash"], 0);
    assert!(
        bash.contains("_zcrm()") && bash.contains("export"),
        "{}",
        &bash[..200.min(bash.len())]
    );
    w.env("ZCRM_LOG", "zcrm_client=debug");
    let out = w.run(&["--log-format", "json", "fields", "Leads"]);
    let logs = String::from_utf8_lossy(&out.stderr);
    let first = logs.lines().next().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {logs}"));
    assert_eq!(v["fields"]["message"], "sending");
}
