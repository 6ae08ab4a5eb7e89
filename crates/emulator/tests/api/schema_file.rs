//! The schema file's keys for a module's own layout (the keys the standard modules' files use):
//! sections and fields in order, `read_only`, `v1_only`, `lookup = "any"`, and their errors.

use zcrm_emulator::schema::{LookupTarget, Schema};
use zcrm_emulator::schema_file::{Origin, apply, parse};
use zcrm_protocol::FieldType;
use zcrm_protocol::params::FieldsFilter;

use super::harness::start_with;

const LAYOUT: &str = r#"
[[module]]
name = "CustomModule3"
plural = "Visits"
singular = "Visit"
name_field = "Title"

[[module.section]]
name = "Visit Information"

[[module.section.field]]
label = "Number"
type = "Auto Number"
read_only = true

[[module.section.field]]
label = "Title"
required = true
max_length = 80

[[module.section.field]]
label = "Related To"
type = "Lookup"
lookup = "any"
id_column = "SEID"

[[module.section]]
name = "Details"

[[module.section.field]]
label = "Kind"
type = "Pick List"
display = "Visit Kind"
picklist = ["-None-", "On site", "Remote"]

[[module.section.field]]
label = "Old Code"
v1_only = true

[[field]]
module = "CustomModule3"
label = "Rating"
type = "Integer"
section = "Details"
read_only = true
"#;

#[test]
fn a_module_declares_its_own_sections_and_fields_in_order() {
    let mut s = Schema::standard().unwrap();
    s.extend_toml(LAYOUT).unwrap();
    let m = s.module("CustomModule3").unwrap();
    assert_eq!(m.sections, ["Visit Information", "Details"]);
    let labels: Vec<&str> = m.fields.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "CustomModule3 Owner",
            "Number",
            "Title",
            "Related To",
            "Kind",
            "Old Code",
            "Rating",
            "Created By",
            "Modified By",
            "Created Time",
            "Modified Time"
        ]
    );
    let f = |l: &str| m.field(l).unwrap();
    assert!(f("Number").read_only && f("Number").ty == FieldType::AutoNumber);
    assert!(f("Title").required && f("Title").max_length == Some(80) && !f("Title").custom);
    assert_eq!(f("Related To").lookup, Some((LookupTarget::Any, "SEID".to_owned())));
    assert_eq!(f("Kind").display, "Visit Kind");
    assert_eq!(f("Kind").section, 1);
    assert!(f("Old Code").legacy_v1);
    assert!(f("Rating").custom && f("Rating").read_only && f("Rating").section == 1);
    assert_eq!(m.name_field, "Title");
    // version=2 leaves out the v1-only field.
    let v2 = m.fields_meta(FieldsFilter::All, false);
    assert!(v2.field("Old Code").is_none() && v2.field("Kind").is_some());
    assert!(m.fields_meta(FieldsFilter::All, true).field("Old Code").is_some());
}

#[test]
fn a_module_with_its_own_layout_is_served() {
    let env = start_with(|c| {
        let p = c.data_dir.join("schema.toml");
        std::fs::create_dir_all(&c.data_dir).unwrap();
        std::fs::write(&p, LAYOUT).unwrap();
        c.schema = Some(p);
    });
    let f = zcrm_protocol::ModuleFields::decode(
        env.get("CustomModule3", "getFields", &[("version", "2")]).as_bytes(),
    )
    .unwrap();
    let names: Vec<&str> = f.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Visit Information", "Details"]);
    assert!(f.field("Old Code").is_none());
    let body = env.post(
        "CustomModule3",
        "insertRecords",
        &[
            ("version", "4"),
            (
                "xmlData",
                "<CustomModule3><row no=\"1\"><FL val=\"Kind\">Remote</FL></row></CustomModule3>",
            ),
        ],
    );
    assert!(body.contains("Mandatory Field Missing : Title"), "{body}");
}

#[test]
fn layout_errors_name_the_module_and_what_is_wrong() {
    let err = |text: &str| Schema::standard().unwrap().extend_toml(text).unwrap_err();
    let head = "[[module]]\nname = \"CustomModule1\"\nname_field = \"Title\"\n";
    assert_eq!(
        err(&format!(
            "{head}[[module.section]]\nname = \"A\"\n[[module.section.field]]\nlabel = \"Other\"\n"
        )),
        "module \"CustomModule1\": name field \"Title\" is not one of its fields"
    );
    assert_eq!(
        err(&format!("{head}[[module.section]]\nname = \"A\"\n[[module.section]]\nname = \"A\"\n")),
        "module \"CustomModule1\": section \"A\" is declared twice"
    );
    assert_eq!(
        err(&format!(
            "{head}[[module.section]]\nname = \"A\"\n[[module.section.field]]\nlabel = \"Title\"\n\
             [[module.section.field]]\nlabel = \"Title\"\n"
        )),
        "field \"Title\": CustomModule1 already has this field"
    );
    assert_eq!(
        err(&format!(
            "{head}[[module.section]]\nname = \"A\"\n[[module.section.field]]\nlabel = \"Title\"\nmodule = \"Leads\"\n"
        ))
        .lines()
        .last()
        .unwrap(),
        "unknown field `module`, expected one of `label`, `type`, `required`, `max_length`, \
         `picklist`, `lookup`, `id_column`, `display`, `read_only`, `v1_only`, `api_name`, `unique`"
    );
}

#[test]
fn a_standard_file_declares_standard_modules_only() {
    let mut s = Schema::standard().unwrap();
    let file = parse("[[module]]\nname = \"CustomModule1\"\n").unwrap();
    assert_eq!(
        apply(&mut s, file, Origin::Standard).unwrap_err(),
        "module \"CustomModule1\": not a standard module"
    );
}
