//! `zcrm validate`: reject files, summary, exit codes 0/1/2, one metadata call per module.

use crate::harness::Workdir;

const MAP: &str = r#"
[[steps]]
name = "leads"
import = "Leads"
source = "in/leads.csv"
key = "id"
[steps.map]
"Last Name" = "last"
"Company" = "company"
"Email" = { column = "email", trim = true }
"No of Employees" = "staff"
"Lead Source" = { column = "source", values = { "web" = "Web Form" } }
"#;

fn setup(csv: &str) -> Workdir {
    let w = Workdir::new();
    std::fs::create_dir_all(w.path().join("in")).unwrap();
    std::fs::write(w.path().join("in/leads.csv"), csv).unwrap();
    std::fs::write(w.path().join("p.toml"), MAP).unwrap();
    w
}

#[test]
fn rejects_go_to_the_reject_file_with_row_line_and_every_reason() {
    let w = setup(
        "id,last,company,email,staff,source\n\
         1,Doe,Acme, a@b.co ,12,web\n\
         2,,Acme,bad,lots,Carrier Pigeon\n\
         3,\"Multi\nLine\",Acme,c@d.co,7,Chat\n\
         4,Roe,Acme,x@y.co,x,Chat\n",
    );
    let out = w.expect(&["validate", "p.toml"], 1);
    assert!(out.contains("rows read           4"), "{out}");
    assert!(out.contains("valid               2"), "{out}");
    assert!(out.contains("rejected            2"), "{out}");
    assert!(out.contains("2  No of Employees: not an integer"), "{out}");
    let rejects = std::fs::read_to_string(w.path().join("out/leads.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "id,last,company,email,staff,source,_row,_line,_errors");
    assert!(
        lines[1].starts_with(
            "2,,Acme,bad,lots,Carrier Pigeon,2,3,\"Last Name: required, but the value is empty (column last) | Email: "
        ),
        "{rejects}"
    );
    assert!(
        lines[1].contains("Lead Source: \"\"Carrier Pigeon\"\" is not in the picklist"),
        "{rejects}"
    );
    assert!(
        lines[2].starts_with("4,Roe,Acme,x@y.co,x,Chat,4,6,"),
        "the multi-line record moved the line: {rejects}"
    );

    // The metadata is cached in the state dir: a second validate spends no call.
    w.expect(&["validate", "p.toml"], 1);
    let budget: serde_json::Value =
        serde_json::from_str(&w.expect(&["budget", "--json"], 0)).unwrap();
    assert_eq!(budget["spent"], 1, "one getFields call for two validations");
}

#[test]
fn all_valid_exits_0() {
    let w = setup("id,last,company,email,staff,source\n1,Doe,Acme,a@b.co,12,Chat\n");
    let out = w.expect(&["validate", "p.toml"], 0);
    assert!(out.contains("total: 1 rows read, 1 valid, 0 rejected"), "{out}");
}

#[test]
fn pipeline_and_mapping_errors_exit_2_with_places_and_hints() {
    let w = setup("id,last,company,email,staff,source\n1,Doe,Acme,a@b.co,12,Chat\n");
    std::fs::write(
        w.path().join("bad.toml"),
        MAP.replace("key = \"id\"", "key = \"id\"\nmod = \"insert\""),
    )
    .unwrap();
    let out = w.expect(&["validate", "bad.toml"], 2);
    assert!(out.contains("bad.toml:7:1"), "{out}");
    assert!(out.contains("unknown field `mod`"), "{out}");

    let broken = MAP
        .replace("\"Last Name\" = \"last\"", "\"Last Nme\" = \"last\"")
        .replace("= \"staff\"", "= \"stuff\"");
    std::fs::write(w.path().join("map.toml"), broken).unwrap();
    let out = w.expect(&["validate", "map.toml"], 2);
    assert!(out.contains("map.toml:8:1: step \"leads\": Leads has no field `Last Nme`"), "{out}");
    assert!(out.contains("help: did you mean `Last Name`?"), "{out}");
    assert!(out.contains(",-[map.toml:8:1]"), "a miette report, in plain ASCII: {out}");
    assert!(out.contains("unknown source column `stuff`"), "{out}");
    assert!(out.contains("did you mean the column `staff`?"), "{out}");
    assert!(out.contains("the required field `Last Name` of Leads is not mapped"), "{out}");
    assert!(out.contains("3 problems"), "{out}");
    assert!(
        !w.path().join("out/leads.rejects.csv").exists(),
        "nothing is read when the spec is wrong"
    );
}

#[test]
fn xlsx_sources_validate_too() {
    let w = Workdir::new();
    std::fs::create_dir_all(w.path().join("in")).unwrap();
    let spec = zcrm_gen::LeadsSpec { rows: 300, seed: 3, bad_fraction: 0.1 };
    let stats = zcrm_gen::write_leads_xlsx(&w.path().join("in/leads.xlsx"), spec).unwrap();
    let toml = format!(
        "[[steps]]\nname = \"x\"\nimport = \"Leads\"\nsource = \"in/leads.xlsx\"\nsheet = 1\nkey = \"lead_id\"\n{}",
        zcrm_gen::leads_map_toml()
    );
    std::fs::write(w.path().join("x.toml"), toml).unwrap();
    let out = w.expect(&["validate", "x.toml"], 1);
    assert!(out.contains(&format!("rejected   {:>10}", stats.bad_rows)), "{stats:?}\n{out}");
    let rejects = std::fs::read_to_string(w.path().join("out/x.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count() as u64, stats.bad_rows + 1);
    assert!(!rejects.contains(".0,"), "identifier numbers without .0: {rejects}");
}

/// Owners are checked against the org's active users as the run checks them (one users call,
/// the state dir's copy after it): a name no active user has, and a user who left, are
/// rejected by `validate` with the run's reason, and the run rejects exactly those rows.
#[test]
fn owners_no_active_user_has_are_rejected_by_validate_as_by_the_run() {
    let w = Workdir::new();
    std::fs::create_dir_all(w.path().join("in")).unwrap();
    std::fs::write(
        w.path().join("in/leads.csv"),
        "id,last,company,owner\n\
         1,Doe,Acme,ann.owner@example.com\n\
         2,Roe,Acme,Bob Seller\n\
         3,Poe,Acme,ann.ownr@example.com\n\
         4,Moe,Acme,cleo.former@example.com\n\
         5,Zoe,Acme,ann.owner@example.com\n",
    )
    .unwrap();
    std::fs::write(
        w.path().join("p.toml"),
        "[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"in/leads.csv\"\nkey = \"id\"\n\
         rejects = \"out/leads.rejects.csv\"\n[steps.map]\n\"Last Name\" = \"last\"\n\
         \"Company\" = \"company\"\n\"Lead Owner\" = { owner = \"owner\" }\n",
    )
    .unwrap();
    let out = w.expect(&["validate", "p.toml"], 1);
    assert!(out.contains("valid               3"), "{out}");
    assert!(out.contains("2  Lead Owner: not an active user"), "{out}");
    let rejected = |w: &Workdir| {
        let rows = crate::crm::report(&w.path().join("out/leads.rejects.csv"));
        rows.iter().map(|r| (r["id"].clone(), r["_errors"].clone())).collect::<Vec<_>>()
    };
    let by_validate = rejected(&w);
    assert_eq!(by_validate.len(), 2, "{by_validate:?}");
    assert_eq!(by_validate[0].0, "3");
    assert!(
        by_validate[0].1.contains("Lead Owner: no active user has the e-mail or name \"ann.ownr@example.com\" (did you mean \"ann.owner@example.com\"?)"),
        "{by_validate:?}"
    );
    assert_eq!(by_validate[1].0, "4");
    w.expect(&["run", "p.toml"], 1);
    assert_eq!(rejected(&w), by_validate, "the run refuses the same rows for the same reasons");
}

/// When the org's users cannot be read (the CRM unreachable, metadata from the cache), the
/// owners are reported as not checked and everything else is still checked: validate works
/// offline as it did before it checked owners.
#[test]
fn owners_are_reported_unchecked_when_the_users_cannot_be_read() {
    let mut w = Workdir::new();
    let emu = crate::crm::emulator(w.path(), "", |c| c);
    w.env("ZCRM_TEST_TOKEN", crate::crm::TOKEN);
    std::fs::write(
        w.path().join("leads.csv"),
        "id,last,company,owner\n1,Doe,Acme,ann.owner@example.com\n2,,Acme,ann.owner@example.com\n\
         3,Roe,Acme,nobody@example.com\n",
    )
    .unwrap();
    std::fs::write(
        w.path().join("p.toml"),
        format!(
            "[connection]\nurl = \"{}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\n[[steps]]\nname = \"leads\"\n\
             import = \"Leads\"\nsource = \"leads.csv\"\nkey = \"id\"\nrejects = \"out/r.csv\"\n[steps.map]\n\
             \"Last Name\" = \"last\"\n\"Company\" = \"company\"\n\"Lead Owner\" = {{ owner = \"owner\" }}\n",
            emu.url()
        ),
    )
    .unwrap();
    let out = w.expect(&["validate", "p.toml"], 1);
    assert!(out.contains("1  Lead Owner: not an active user"), "{out}");
    // The users' copy is gone and so is the CRM; the metadata is cached.
    fn remove_users(dir: &std::path::Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "users") {
                    std::fs::remove_dir_all(&p).unwrap();
                } else {
                    remove_users(&p);
                }
            }
        }
    }
    remove_users(w.path());
    emu.stop();
    let out = w.expect(&["validate", "p.toml"], 1);
    assert!(out.contains("Last Name: required field is empty"), "{out}");
    assert!(out.contains("Lead Owner: not checked against the org's users"), "{out}");
    assert!(!out.contains("not an active user"), "{out}");
}
