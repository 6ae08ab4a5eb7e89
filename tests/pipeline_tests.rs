//! `zcrm test`: the `[[tests]]` of a pipeline file run offline — passing tests, a failing
//! value reported with the field and both values, a reject expectation, and a test that names
//! no import step refused at its place (exit 2). No emulator: nothing is called.

use crate::harness::Workdir;

const PIPELINE: &str = r#"
[[steps]]
name = "leads"
import = "Leads"
source = "leads.csv"
key = "id"
[steps.map]
"Last Name" = { column = "last", trim = true }
"Company" = "company"
"Email" = { column = "email", case = "lower" }
"No of Employees" = "staff"
"Lead Source" = { column = "source", values = { "web" = "Web Download" } }

[[tests]]
name = "trimmed and lower-cased"
step = "leads"
input = { id = "1", last = " Lee ", company = "Acme", email = "A@B.COM", source = "web" }
[tests.expect]
"Last Name" = "Lee"
"Email" = "a@b.com"
"Lead Source" = "Web Download"

[[tests]]
name = "a wrong expectation"
step = "leads"
input = { id = "2", last = "Ray", company = "Acme", staff = "12" }
[tests.expect]
"No of Employees" = "13"

[[tests]]
name = "employees must be a number"
step = "leads"
input = { id = "3", last = "Moe", company = "Acme", staff = "twelve" }
reject = "No of Employees"
"#;

#[test]
fn pipeline_tests_run_offline_and_report_the_field_and_both_values() {
    let w = Workdir::new();
    std::fs::write(w.path().join("leads.csv"), "id,last,company,email,staff,source\n").unwrap();
    std::fs::write(w.path().join("p.toml"), PIPELINE).unwrap();
    let out = w.run(&["test", "p.toml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("ok    trimmed and lower-cased"), "{text}");
    assert!(text.contains("FAIL  a wrong expectation"), "{text}");
    assert!(text.contains("No of Employees: expected \"13\", got \"12\""), "{text}");
    assert!(text.contains("ok    employees must be a number"), "{text}");
    assert!(text.contains("3 test(s): 2 passed, 1 failed"), "{text}");
    assert!(!w.path().join(".zcrm/emulator").exists(), "no emulator was started");

    // Fixed, every test passes: exit 0.
    std::fs::write(w.path().join("p.toml"), PIPELINE.replace("= \"13\"", "= \"12\"")).unwrap();
    w.expect(&["test", "p.toml"], 0);

    // A test of a step that does not exist is a pipeline problem at its place.
    std::fs::write(
        w.path().join("p.toml"),
        PIPELINE.replace(
            "step = \"leads\"\ninput = { id = \"2\"",
            "step = \"laeds\"\ninput = { id = \"2\"",
        ),
    )
    .unwrap();
    let out = w.run(&["test", "p.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"laeds\" is not an import step") && err.contains("did you mean \"leads\""),
        "{err}"
    );
}
