//! `[steps.line_items]`: what the loader accepts and refuses (every problem at once, placed in
//! the file), and the join of a line file to its rows through the on-disk index.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use zcrm_mapping::MappedValue;
use zcrm_pipeline::lines::{LineIndex, Lines, compile_lines};
use zcrm_pipeline::{LoadError, Step, load, load_str};
use zcrm_protocol::{RecordId, Value};

const PRODUCTS: &str = "[[steps]]\nname = \"products\"\nimport = \"Products\"\nsource = \"products.csv\"\nkey = \"sku\"\n[steps.map]\n\"Product Name\" = \"name\"\n";

fn quotes(extra_step: &str, line_items: &str) -> String {
    format!(
        "{PRODUCTS}\n[[steps]]\nname = \"quotes\"\nimport = \"Quotes\"\nsource = \"quotes.csv\"\n{extra_step}[steps.map]\n\"Subject\" = \"subject\"\n{line_items}"
    )
}

const LINES: &str = "[steps.line_items]\nsource = \"lines.csv\"\nparent = \"quote_no\"\n[steps.line_items.map]\n\"Product Id\" = { lookup = \"products\", column = \"sku\" }\n\"Quantity\" = \"qty\"\n\"List Price\" = \"price\"\n";

fn problems(text: &str) -> Vec<String> {
    match load_str(Path::new("p.toml"), text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(LoadError::Invalid(d)) => d.0.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_line_items_table_is_read_with_its_paths_relative_to_the_pipeline() {
    let p = load_str(Path::new("dir/p.toml"), &quotes("key = \"quote_no\"\n", LINES)).unwrap();
    let Step::Import(q) = &p.steps[1] else { panic!() };
    let l = q.line_items.as_ref().unwrap();
    assert_eq!(l.source, Path::new("dir/lines.csv"));
    assert_eq!(l.parent, "quote_no");
    assert_eq!(l.rejects, Path::new("dir/out/quotes.lines.rejects.csv"));
    let fields: Vec<&str> = l.map.entries.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["Product Id", "Quantity", "List Price"]);
    assert_eq!(l.map.entries[0].spec.lookup.as_deref(), Some("products"));
}

#[test]
fn every_problem_of_a_line_items_table_is_reported_at_once() {
    // No key on the step, an unknown key in the table, no parent, a lookup of no step.
    let bad = "[steps.line_items]\nsource = \"lines.csv\"\nparnet = \"q\"\n[steps.line_items.map]\n\"Product Id\" = { lookup = \"prodcts\", column = \"sku\" }\n";
    let d = problems(&quotes("", bad));
    let all = d.join("\n");
    assert!(all.contains("unknown field `parnet` in [steps.line_items]"), "{all}");
    assert!(all.contains("has line items but no `key`"), "{all}");
    assert!(all.contains("[steps.line_items] has no `parent`"), "{all}");
    assert!(all.contains("looks up the step \"prodcts\""), "{all}");
    assert!(d.iter().all(|p| p.starts_with("p.toml:")), "placed: {all}");
    // Only the four modules have line items.
    let leads = format!(
        "[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"l.csv\"\nkey = \"id\"\n[steps.map]\n\"Last Name\" = \"l\"\n{LINES}"
    );
    let all = problems(&leads).join("\n");
    assert!(all.contains("Leads records have no line items"), "{all}");
    // Export steps take none.
    let export = "[[steps]]\nname = \"e\"\nexport = \"Quotes\"\nto = \"out/q.csv\"\n[steps.line_items]\nsource = \"x.csv\"\n";
    assert!(problems(export).join("\n").contains("`line_items` does not apply to export steps"));
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn the_line_file_header_is_checked_when_the_step_is_compiled() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "products.csv", "sku,name\n");
    write(dir.path(), "quotes.csv", "quote_no,subject\n");
    write(dir.path(), "lines.csv", "quote,sku,qty,prise\n");
    let path = dir.path().join("p.toml");
    write(dir.path(), "p.toml", &quotes("key = \"quote_no\"\n", LINES));
    let p = load(&path).unwrap();
    let Step::Import(q) = &p.steps[1] else { panic!() };
    let mut diags = Vec::new();
    assert!(compile_lines(&p, q, &mut diags).is_none());
    let all: Vec<String> = diags.iter().map(ToString::to_string).collect();
    let all = all.join("\n");
    assert!(all.contains("the parent column `quote_no` is not in"), "{all}");
    assert_eq!(diags[0].hint.as_deref(), Some("did you mean the column `quote`?"));
    assert!(all.contains("unknown source column `price`"), "{all}");
    assert_eq!(diags.len(), 2, "{all}");
}

#[test]
fn lines_are_joined_by_key_in_file_order_and_bad_or_orphan_lines_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "products.csv", "sku,name\n");
    write(dir.path(), "quotes.csv", "quote_no,subject\n");
    write(
        dir.path(),
        "lines.csv",
        "quote_no,sku,qty,price\n\
         Q1,P1,2,\n\
         Q2,P2,1,3.5\n\
         Q1,P2,1.5,9\n\
         Q3,P1,,\n\
         Q3,P1,-2,\n\
         Q9,P1,1,\n\
         ,P1,1,\n",
    );
    let path = dir.path().join("p.toml");
    write(dir.path(), "p.toml", &quotes("key = \"quote_no\"\n", LINES));
    let p = load(&path).unwrap();
    let Step::Import(q) = &p.steps[1] else { panic!() };
    let mut diags = Vec::new();
    let src = compile_lines(&p, q, &mut diags).unwrap();
    let ix = LineIndex::build(q, src).unwrap();
    assert_eq!(ix.lines, 7);
    let Lines::Items(q1) = ix.lines_of("Q1").unwrap() else { panic!() };
    assert_eq!(q1.iter().map(|l| l.line).collect::<Vec<_>>(), [2, 4], "file order");
    let lookup = |key: &str| MappedValue::Lookup { step: "products".into(), key: key.into() };
    assert_eq!(q1[0].fields[0], ("Product Id".to_owned(), lookup("P1")));
    assert_eq!(q1[1].fields[0], ("Product Id".to_owned(), lookup("P2")));
    // `List Price` goes out as the item's `Unit Price`.
    assert_eq!(q1[1].fields[2].0, "Unit Price");
    assert!(
        matches!(&q1[1].fields[2].1, MappedValue::Value(Value::Decimal(d)) if d.to_string() == "9")
    );
    let Lines::Bad(q3) = ix.lines_of("Q3").unwrap() else { panic!() };
    assert_eq!(q3.len(), 2, "{q3:?}");
    assert!(q3[0].starts_with("Product Details: line 5: Quantity"), "{q3:?}");
    assert!(
        q3[1].starts_with("Product Details: line 6: Quantity") && q3[1].contains("negative"),
        "{q3:?}"
    );
    assert_eq!(ix.lines_of("Q4").unwrap(), Lines::Items(Vec::new()), "a row without lines");
    // Q2's row was rejected for another reason: its lines are not orphans.
    ix.claim("Q2").unwrap();
    let orphans = ix.finish().unwrap();
    assert_eq!(orphans, 2, "Q9 and the line without a parent");
    let text = std::fs::read_to_string(dir.path().join("out/quotes.lines.rejects.csv")).unwrap();
    assert!(text.contains("Q9,P1,1,,6,7,"), "{text}");
    assert!(text.contains("no row of step \"\"quotes\"\" has the key \"\"Q9\"\""), "{text}");
    assert!(text.contains("the line names no row"), "{text}");
}

#[test]
fn a_product_id_column_must_hold_record_ids() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "products.csv", "sku,name\n");
    write(dir.path(), "quotes.csv", "quote_no,subject\n");
    write(dir.path(), "lines.csv", "quote_no,pid,qty\nQ1,425248000000104001,1\nQ2,abc,1\n");
    let lines = "[steps.line_items]\nsource = \"lines.csv\"\nparent = \"quote_no\"\n[steps.line_items.map]\n\"Product Id\" = \"pid\"\n\"Quantity\" = \"qty\"\n";
    let path = dir.path().join("p.toml");
    write(dir.path(), "p.toml", &quotes("key = \"quote_no\"\n", lines));
    let p = load(&path).unwrap();
    let Step::Import(q) = &p.steps[1] else { panic!() };
    let ix = LineIndex::build(q, compile_lines(&p, q, &mut Vec::new()).unwrap()).unwrap();
    let Lines::Items(q1) = ix.lines_of("Q1").unwrap() else { panic!() };
    assert_eq!(q1[0].fields[0].1, MappedValue::Value(Value::Id(RecordId(425248000000104001))));
    let Lines::Bad(q2) = ix.lines_of("Q2").unwrap() else { panic!() };
    assert!(q2[0].contains("line 3: Product Id: \"abc\" is not a record Id"), "{q2:?}");
}
