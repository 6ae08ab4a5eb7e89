//! Line items (`[steps.line_items]`) end to end on both faces: products, accounts and quotes
//! whose lines come from a file of their own, joined by key. The lines land on the right
//! quotes with the right products and quantities (read back through the XML face, whichever
//! face wrote them); a line whose product does not exist, or whose quantity is negative,
//! rejects its quote naming the line; a line of no quote goes to the line reject file; the
//! quotes cost one write call per 100 (no call per line).

use std::collections::HashMap;

use zcrm_emulator::EmulatorHandle;
use zcrm_protocol::Cell;
use zcrm_protocol::params::{ReadParams, Window};

use crate::crm::{check_client, report};
use crate::v8::{credits, emulator, pipeline, workdir};

const STEPS: &str = r#"
[[steps]]
name = "accounts"
import = "Accounts"
source = "accounts.csv"
key = "acc"
[steps.map]
"Account Name" = "name"

[[steps]]
name = "products"
import = "Products"
source = "products.csv"
key = "sku"
[steps.map]
"Product Name" = "name"
"Unit Price" = "price"

[[steps]]
name = "quotes"
import = "Quotes"
source = "quotes.csv"
key = "quote_no"
[steps.map]
"Subject" = "subject"
"ACCOUNTID" = { lookup = "accounts", column = "acc" }
[steps.line_items]
source = "quote_lines.csv"
parent = "quote_no"
[steps.line_items.map]
"Product Id" = { lookup = "products", column = "sku" }
"Quantity" = "qty"
"List Price" = "price"
"#;

const QUOTES: usize = 150;

/// The files; returns the line numbers of the unknown product, the negative quantity and the
/// orphan line.
fn files(dir: &std::path::Path) -> (u64, u64, u64) {
    std::fs::write(dir.join("accounts.csv"), "acc,name\nA1,Acme\n").unwrap();
    std::fs::write(dir.join("products.csv"), "sku,name,price\nP1,Widget,10\nP2,Gadget,5\n")
        .unwrap();
    let mut quotes = String::from("quote_no,subject,acc\n");
    let mut lines = String::from("quote_no,sku,qty,price\n");
    let mut line = 1u64;
    let (mut unknown, mut negative) = (0, 0);
    let mut push = |text: String, line: &mut u64| {
        lines.push_str(&text);
        *line += 1;
        *line
    };
    for i in 1..=QUOTES {
        quotes.push_str(&format!("Q{i},Quote {i},A1\n"));
        push(format!("Q{i},P1,{},\n", i % 5 + 1), &mut line);
        match i {
            1 => {
                push("Q1,P2,2,7.5\n".to_owned(), &mut line);
            }
            7 => unknown = push("Q7,P9,1,\n".to_owned(), &mut line),
            8 => negative = push("Q8,P2,-1,\n".to_owned(), &mut line),
            _ => {}
        }
    }
    let orphan = push("Q999,P1,1,\n".to_owned(), &mut line);
    std::fs::write(dir.join("quotes.csv"), quotes).unwrap();
    std::fs::write(dir.join("quote_lines.csv"), lines).unwrap();
    (unknown, negative, orphan)
}

/// Every quote's subject → its items (`Product Id`, `Quantity`, `Unit Price`), read through
/// the XML face.
fn quotes(emu: &EmulatorHandle) -> HashMap<String, Vec<HashMap<String, String>>> {
    let client = check_client(emu);
    let mut out = HashMap::new();
    for page in 0.. {
        let p = ReadParams { window: Window::page(page), ..Default::default() };
        let n = client
            .get_records("Quotes", &p, |pg| {
                for r in pg.rows() {
                    let items = match r.get("Product Details") {
                        Some(Cell::LineItems(items)) => items
                            .iter()
                            .map(|i| {
                                i.iter()
                                    .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                                    .collect()
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    out.insert(r.text("Subject").unwrap_or_default().to_owned(), items);
                }
                pg.len()
            })
            .unwrap();
        if n < 200 {
            break;
        }
    }
    out
}

#[test]
fn quote_lines_join_their_quotes_on_both_faces_with_one_write_per_100_quotes() {
    for api in ["xml", "v8"] {
        let w = workdir();
        let emu = emulator(w.path(), |c| c);
        let (unknown, negative, orphan) = files(w.path());
        let p = pipeline(&w, &emu, api, "write_batch = 100\n", STEPS);
        // validate: the negative quantity and the orphan are found offline (the unknown
        // product only when the lookup is resolved).
        let out = w.expect(&["validate", &p], 1);
        let bad = report(&w.path().join("out/quotes.rejects.csv"));
        assert_eq!(bad.len(), 1, "{api}: {out}\n{bad:?}");
        assert!(
            bad[0]["_errors"].contains(&format!("Product Details: line {negative}: Quantity")),
            "{bad:?}"
        );
        let orphans = report(&w.path().join("out/quotes.lines.rejects.csv"));
        assert_eq!(orphans.len(), 1, "{orphans:?}");
        assert_eq!(orphans[0]["_line"], orphan.to_string());
        assert_eq!(orphans[0]["quote_no"], "Q999");
        assert!(orphans[0]["_errors"].contains("no row of step \"quotes\""), "{orphans:?}");
        w.expect(&["plan", &p], 0);
        let (calls, spent) = (emu.calls_today_of("insertRecords"), credits(&emu).0);
        w.expect(&["run", &p], 1);
        if api == "xml" {
            // accounts 1, products 1, quotes 148 in payloads of 100: 2.
            assert_eq!(emu.calls_today_of("insertRecords") - calls, 4, "{api}");
        } else {
            // 1 credit each for accounts and products, 10 + 5 for the quotes' two calls.
            assert_eq!(credits(&emu).0 - spent, 1 + 1 + 10 + 5, "{api}");
        }
        let bad = report(&w.path().join("out/quotes.rejects.csv"));
        let reasons: HashMap<&str, &str> =
            bad.iter().map(|r| (r["quote_no"].as_str(), r["_errors"].as_str())).collect();
        assert_eq!(reasons.len(), 2, "{api}: {reasons:?}");
        assert!(
            reasons["Q7"].contains(&format!("Product Details: line {unknown}: Product Id"))
                && reasons["Q7"].contains("\"P9\""),
            "{reasons:?}"
        );
        assert!(reasons["Q8"].contains(&format!("line {negative}")), "{reasons:?}");
        assert_eq!(report(&w.path().join("out/quotes.lines.rejects.csv")).len(), 1);
        let ok = report(&w.path().join("out/quotes.success.csv"));
        assert_eq!(ok.len(), QUOTES - 2);
        let ids: HashMap<String, String> = report(&w.path().join("out/products.success.csv"))
            .into_iter()
            .map(|r| (r["sku"].clone(), r["_id"].clone()))
            .collect();
        let crm = quotes(&emu);
        assert_eq!(crm.len(), QUOTES - 2, "{api}");
        assert!(!crm.contains_key("Quote 7") && !crm.contains_key("Quote 8"));
        let q1 = &crm["Quote 1"];
        assert_eq!(q1.len(), 2, "{api}: {q1:?}");
        assert_eq!(q1[0]["Product Id"], ids["P1"]);
        assert_eq!(q1[0]["Quantity"], "2.0");
        assert_eq!(q1[0]["Unit Price"], "10.0", "the product's price");
        assert_eq!(q1[1]["Product Id"], ids["P2"]);
        assert_eq!(q1[1]["Unit Price"], "7.5", "List Price is the item's price");
        for i in 2..=QUOTES {
            if i == 7 || i == 8 {
                continue;
            }
            let items = &crm[&format!("Quote {i}")];
            assert_eq!(items.len(), 1, "{api}: quote {i}");
            assert_eq!(items[0]["Quantity"], format!("{}.0", i % 5 + 1), "{api}: quote {i}");
            assert_eq!(items[0]["Product Id"], ids["P1"]);
        }
        // A rerun sends nothing again.
        let (calls, spent) = (emu.calls_today_of("insertRecords"), credits(&emu).0);
        w.expect(&["run", &p], 1);
        assert_eq!(emu.calls_today_of("insertRecords"), calls);
        assert_eq!(credits(&emu).0, spent);
    }
}
