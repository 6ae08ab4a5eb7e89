//! The standard schema, byte for byte: getModules, getUsers and every standard module's
//! getFields (XML and JSON; version 2; `type` 1 and 2) as the emulator answers them, and a
//! dump of every definition (name field, id columns, system fields) that no answer shows, against
//! the files under `tests/golden/`. A schema file's additions and its errors are pinned too.
//! `ZCRM_BLESS=1` rewrites the files.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use zcrm_emulator::schema::Schema;
use zcrm_protocol::response::misc::ModuleInfo;

use super::harness::{TOKEN, start};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file `name` (or writes it under `ZCRM_BLESS`).
fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("ZCRM_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (ZCRM_BLESS=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs:\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// A GET of `/crm/private/{format}/{module}/{method}` with the token.
fn call(
    env: &super::harness::Env,
    format: &str,
    module: &str,
    method: &str,
    params: &[(&str, &str)],
) -> String {
    let mut all = vec![("authtoken", TOKEN), ("scope", "crmapi")];
    all.extend_from_slice(params);
    let url = format!("{}/crm/private/{format}/{module}/{method}", env.emu.url());
    let r = env.http.get(url).query(&all).send().unwrap();
    assert_eq!(r.status(), 200);
    r.text().unwrap()
}

/// A golden file suffix, the format and the getFields parameters.
type Variant = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

#[test]
fn every_standard_module_answers_getfields_and_getmodules_as_the_golden_files() {
    let env = start();
    let modules_xml = call(&env, "xml", "Info", "getModules", &[]);
    check("getModules.xml", &modules_xml);
    check("getModules.json", &call(&env, "json", "Info", "getModules", &[]));
    check("getUsers.xml", &call(&env, "xml", "Users", "getUsers", &[("type", "AllUsers")]));
    let modules = ModuleInfo::decode_list(modules_xml.as_bytes()).unwrap();
    assert_eq!(modules.len(), zcrm_protocol::module::STANDARD_MODULES.len());
    let variants: [Variant; 5] = [
        ("xml", "xml", &[]),
        ("json", "json", &[]),
        ("v2.xml", "xml", &[("version", "2")]),
        ("summary.xml", "xml", &[("type", "1")]),
        ("mandatory.xml", "xml", &[("type", "2")]),
    ];
    let mut written = BTreeSet::new();
    for m in &modules {
        for (suffix, format, params) in variants {
            let name = format!("getFields/{}.{suffix}", m.api_name);
            check(&name, &call(&env, format, &m.api_name, "getFields", params));
            written.insert(name);
        }
    }
    // No golden file is left over from a module that is gone.
    let on_disk: BTreeSet<String> = std::fs::read_dir(golden_dir().join("getFields"))
        .unwrap()
        .map(|e| format!("getFields/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    assert_eq!(on_disk, written);
}

/// Every definition of the schema, one line per field (`Debug`, so a new attribute shows).
fn dump(schema: &Schema, only: Option<&[&str]>) -> String {
    let mut out = String::new();
    for (name, m) in &schema.modules {
        if only.is_some_and(|o| !o.contains(&name.as_str())) {
            continue;
        }
        writeln!(
            out,
            "module {name}: {:?} plural={:?} singular={:?} name_field={:?}",
            m.module, m.plural, m.singular, m.name_field
        )
        .unwrap();
        for (i, s) in m.sections.iter().enumerate() {
            writeln!(out, "  section {i}: {s:?}").unwrap();
        }
        for f in &m.fields {
            writeln!(out, "  {f:?}").unwrap();
        }
    }
    if only.is_none() {
        for u in &schema.users {
            writeln!(out, "user {u:?}").unwrap();
        }
    }
    out
}

#[test]
fn the_standard_schema_holds_the_golden_definitions() {
    check("schema.txt", &dump(&Schema::standard().unwrap(), None));
}

/// Every key of a `--schema` file.
const SCHEMA_FILE: &str = r#"
[[module]]
name = "CustomModule1"
plural = "Registrations"
singular = "Registration"
name_field = "Registration Name"

[[module]]
name = "CustomModule2"

[[field]]
module = "Leads"
label = "Legacy Id"
type = "Integer"
required = true

[[field]]
module = "Leads"
label = "Tier"
type = "Pick List"
picklist = ["Gold", "Silver"]
section = "Lead Information"
display = "Customer Tier"

[[field]]
module = "CustomModule1"
label = "Account"
type = "Lookup"
lookup = "Accounts"

[[field]]
module = "CustomModule1"
label = "Other Registration"
type = "Lookup"
lookup = "CustomModule1"
id_column = "OTHERREGID"
section = "Links"

[[field]]
module = "CustomModule2"
label = "Note"
max_length = 50

[[field]]
module = "CustomModule2"
label = "Tags"
type = "Multi Pick List"
picklist = ["a", "b"]
section = "Links"
"#;

#[test]
fn a_schema_file_adds_its_modules_and_fields_as_the_golden_definitions() {
    let mut s = Schema::standard().unwrap();
    s.extend_toml(SCHEMA_FILE).unwrap();
    check("schema-file.txt", &dump(&s, Some(&["CustomModule1", "CustomModule2", "Leads"])));
}

#[test]
fn schema_file_errors_are_the_golden_messages() {
    let cases = [
        "[[module]]\nname = \"Leads\"\n",
        "[[module]]\nname = \"Leeds\"\n",
        "[[module]]\nname = \"CustomModule1\"\ncolour = \"red\"\n",
        "[[field]]\nmodule = \"Leads\"\nlabel = \"X\"\ntype = \"Colour\"\n",
        "[[field]]\nmodule = \"Leads\"\nlabel = \"X\"\ntype = \"Lookup\"\n",
        "[[field]]\nmodule = \"Leads\"\nlabel = \"X\"\ntype = \"Lookup\"\nlookup = \"CustomModule9\"\n",
        "[[field]]\nmodule = \"Leads\"\nlabel = \"X\"\ntype = \"Lookup\"\nlookup = \"Leeds\"\n",
        "[[field]]\nmodule = \"CustomModule9\"\nlabel = \"X\"\n",
        "[[field]]\nmodule = \"Leads\"\nlabel = \"Company\"\n",
        "[[field]]\nlabel = \"X\"\n",
        "[[fields]]\nmodule = \"Leads\"\n",
        "not toml",
    ];
    let mut out = String::new();
    for text in cases {
        let err = Schema::standard().unwrap().extend_toml(text).unwrap_err();
        writeln!(out, "{text:?}\n=> {err}\n").unwrap();
    }
    check("schema-file-errors.txt", &out);
}
