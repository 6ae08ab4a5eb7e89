//! Line items (`Product Details`) of the inventory modules over HTTP: stored on insert and
//! update, validated per row, returned as `<product no>` entries with bare double values.

use super::harness::*;
use zcrm_protocol::{Cell, RowOutcome, WriteResponse, XmlDataBuilder};

fn insert_one(env: &Env, module: &str, fields: &[(&str, &str)]) -> String {
    let mut b = XmlDataBuilder::new(module, 100);
    b.push_row(fields.iter().copied()).unwrap();
    let body =
        env.post(module, "insertRecords", &[("version", "4"), ("xmlData", &b.finish().unwrap())]);
    match WriteResponse::decode(body.as_bytes()).unwrap() {
        WriteResponse::Rows(r) => r[0].outcome.detail().expect("row added").id.0.to_string(),
        other => panic!("{other:?}"),
    }
}

/// A product and an account to point sales orders at.
fn setup(env: &Env) -> (String, String, String) {
    let widget = insert_one(env, "Products", &[("Product Name", "Widget"), ("Unit Price", "7222")]);
    let gadget = insert_one(env, "Products", &[("Product Name", "Gadget")]);
    let account = insert_one(env, "Accounts", &[("Account Name", "Acme")]);
    (widget, gadget, account)
}

fn write_order(
    env: &Env,
    method: &str,
    fields: &[(&str, &str)],
    products: &[Vec<(&str, &str)>],
    extra: &[(&str, &str)],
) -> Vec<zcrm_protocol::RowResult> {
    let mut b = XmlDataBuilder::new("SalesOrders", 100);
    b.push_row_with_products(fields.iter().copied(), products).unwrap();
    let xml = b.finish().unwrap();
    let mut params = vec![("version", "4"), ("xmlData", xml.as_str())];
    params.extend_from_slice(extra);
    match WriteResponse::decode(env.post("SalesOrders", method, &params).as_bytes()).unwrap() {
        WriteResponse::Rows(r) => r,
        other => panic!("{other:?}"),
    }
}

type Items = Vec<Vec<(String, Option<String>)>>;

fn items_of(body: &str) -> Items {
    let p = page(body);
    let row = p.rows().next().unwrap();
    match row.get("Product Details") {
        Some(Cell::LineItems(items)) => items.clone(),
        other => panic!("no line items: {other:?} in {body}"),
    }
}

fn value<'a>(item: &'a [(String, Option<String>)], label: &str) -> Option<&'a str> {
    item.iter().find(|(k, _)| k == label).and_then(|(_, v)| v.as_deref())
}

#[test]
fn sales_order_line_items_are_stored_and_returned() {
    let env = start();
    let (widget, gadget, account) = setup(&env);
    let r = write_order(
        &env,
        "insertRecords",
        &[("Subject", "SO-1"), ("ACCOUNTID", &account)],
        &[
            vec![("Product Id", widget.as_str()), ("Quantity", "11")],
            vec![("Product Id", gadget.as_str()), ("Unit Price", "10.50"), ("Quantity", "1")],
        ],
        &[],
    );
    let id = r[0].outcome.detail().expect("added").id.0.to_string();
    let body = env.get("SalesOrders", "getRecordById", &[("id", &id)]);
    // Inner values are bare and printed as doubles; names come from the products.
    assert!(body.contains("<product no=\"1\"><FL val=\"Product Id\">"), "{body}");
    assert!(body.contains("<FL val=\"Unit Price\">7222.0</FL><FL val=\"Quantity\">11.0</FL>"));
    assert!(body.contains("<FL val=\"Product Name\"><![CDATA[Widget]]></FL>"));
    let items = items_of(&body);
    assert_eq!(items.len(), 2);
    assert_eq!(value(&items[0], "Product Id"), Some(widget.as_str()));
    assert_eq!(value(&items[0], "Total"), Some("79442.0"));
    assert_eq!(value(&items[1], "Product Name"), Some("Gadget"));
    assert_eq!(value(&items[1], "Unit Price"), Some("10.5"));
    assert_eq!(value(&items[1], "Net Total"), Some("10.5"));
    // Every read shape carries them: getRecords, newFormat=2, JSON; selectColumns can leave them out.
    assert_eq!(items_of(&env.get("SalesOrders", "getRecords", &[])).len(), 2);
    assert_eq!(items_of(&env.get("SalesOrders", "getRecords", &[("newFormat", "2")])).len(), 2);
    let only_subject =
        page(&env.get("SalesOrders", "getRecords", &[("selectColumns", "SalesOrders(Subject)")]));
    assert_eq!(only_subject.rows().next().unwrap().get("Product Details"), None);
    let json = env
        .http
        .get(format!("{}/crm/private/json/SalesOrders/getRecordById", env.emu.url()))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi"), ("id", id.as_str())])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(json.contains("\"product\""), "{json}");

    // An update with products replaces them; one without keeps them.
    let r = write_order(
        &env,
        "updateRecords",
        &[("Id", &id)],
        &[vec![("Product Id", gadget.as_str()), ("Quantity", "3"), ("Discount", "1.5")]],
        &[],
    );
    assert!(matches!(r[0].outcome, RowOutcome::Updated(_)), "{r:?}");
    let items = items_of(&env.get("SalesOrders", "getRecordById", &[("id", &id)]));
    assert_eq!(items.len(), 1);
    assert_eq!(value(&items[0], "Quantity"), Some("3.0"));
    assert_eq!(value(&items[0], "Unit Price"), Some("0.0"), "Gadget has no price");
    assert_eq!(value(&items[0], "Discount"), Some("1.5"));
    let xml = format!(
        "<SalesOrders><row no=\"1\"><FL val=\"Id\">{id}</FL><FL val=\"Subject\">SO-1b</FL></row></SalesOrders>"
    );
    env.post("SalesOrders", "updateRecords", &[("version", "4"), ("xmlData", &xml)]);
    let body = env.get("SalesOrders", "getRecordById", &[("id", &id)]);
    assert_eq!(page(&body).rows().next().unwrap().text("Subject"), Some("SO-1b"));
    assert_eq!(items_of(&body).len(), 1);
}

#[test]
fn bad_line_items_fail_their_row_with_4832() {
    let env = start();
    let (widget, _, account) = setup(&env);
    let base = [("Subject", "SO"), ("ACCOUNTID", account.as_str())];
    let cases: [(Vec<(&str, &str)>, &str); 6] = [
        (vec![("Product Id", "900000000009999"), ("Quantity", "1")], "Product Id"),
        (vec![("Product Id", account.as_str()), ("Quantity", "1")], "Product Id"),
        (vec![("Quantity", "1")], "Product Id"),
        (vec![("Product Id", widget.as_str()), ("Quantity", "many")], "Quantity"),
        (vec![("Product Id", widget.as_str())], "Quantity"),
        (
            vec![("Product Id", widget.as_str()), ("Quantity", "1"), ("Unit Price", "-3")],
            "Unit Price",
        ),
    ];
    for (product, label) in cases {
        let r = write_order(&env, "insertRecords", &base, std::slice::from_ref(&product), &[]);
        match &r[0].outcome {
            RowOutcome::Failed(e) => {
                assert_eq!(e.code.as_str(), "4832", "{product:?}");
                assert_eq!(
                    e.message,
                    format!("You have given a wrong value for the field : {label}")
                );
            }
            o => panic!("{product:?} gave {o:?}"),
        }
    }
    assert_eq!(env.emu.record_counts().get("SalesOrders"), None, "nothing was created");
    // version 1: the whole call fails with the row's error.
    let mut b = XmlDataBuilder::new("SalesOrders", 100);
    b.push_row_with_products(base, &[vec![("Product Id", "1"), ("Quantity", "1")]]).unwrap();
    let body = env.post("SalesOrders", "insertRecords", &[("xmlData", &b.finish().unwrap())]);
    assert_eq!(code_of(&body), "4832");
}

/// The v8 face takes a quote's items as `Quoted_Items` (real v8's shape), checks them by the
/// XML face's rules, and both faces read the one store.
#[test]
fn v8_line_items_are_validated_stored_and_read_by_both_faces() {
    use reqwest::Method;
    use serde_json::json;

    use super::rest::{call, get, start_v8, token};
    let env = start_v8(|_| {});
    let tok = token(&env);
    let (widget, gadget, account) = setup(&env);
    let quote = |items: serde_json::Value| {
        let body = json!({"data": [{"Subject": "Q-1", "Account_Name": {"id": account}, "Quoted_Items": items}]});
        call(&env, &tok, Method::POST, "Quotes", &[], Some(&body))
    };
    let r = quote(json!([
        {"Product_Name": {"id": widget}, "Quantity": 2, "Discount": 4.5},
        {"Product_Name": {"id": gadget}, "Quantity": 1.5, "List_Price": 10, "Tax": 1, "Description": "blue"},
    ]));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    // v8 write, XML read.
    let items = {
        let body = env.get("Quotes", "getRecordById", &[("id", &id)]);
        let p = page(&body);
        match p.rows().next().unwrap().get("Product Details") {
            Some(Cell::LineItems(items)) => items.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(items.len(), 2);
    assert_eq!(value(&items[0], "Product Id"), Some(widget.as_str()));
    assert_eq!(value(&items[0], "Unit Price"), Some("7222.0"), "the product's own price");
    assert_eq!(value(&items[0], "Total After Discount"), Some("14439.5"));
    assert_eq!(value(&items[1], "Quantity"), Some("1.5"));
    assert_eq!(value(&items[1], "Net Total"), Some("16.0"));
    assert_eq!(value(&items[1], "Product Description"), Some("blue"));
    // v8 read of the same record.
    let rec = get(&env, &tok, &format!("Quotes/{id}"), &[]).body["data"][0].clone();
    let got = &rec["Quoted_Items"];
    assert_eq!(got[0]["Product_Name"], json!({"name": "Widget", "id": widget}));
    assert_eq!(got[0]["Quantity"], json!(2.0));
    assert_eq!(got[1]["List_Price"], json!(10.0));
    assert_eq!(got[1]["Description"], "blue");
    // XML write, v8 read.
    let r = write_order(
        &env,
        "insertRecords",
        &[("Subject", "SO-X"), ("ACCOUNTID", &account)],
        &[vec![("Product Id", gadget.as_str()), ("Quantity", "4")]],
        &[],
    );
    let so = r[0].outcome.detail().expect("added").id.0.to_string();
    let rec = get(&env, &tok, &format!("Sales_Orders/{so}"), &[]);
    assert_eq!(rec.status, 200, "{}", rec.body);
    assert_eq!(rec.body["data"][0]["Ordered_Items"][0]["Quantity"], json!(4.0));
    // The rules: a product that does not exist, a missing or negative quantity, a number as
    // text; each the record's one error naming the item.
    let r = quote(
        json!([{"Product_Name": {"id": widget}, "Quantity": 1}, {"Product_Name": {"id": "999"}, "Quantity": 1}]),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let e = &r.body["data"][0];
    assert_eq!(e["code"], "INVALID_DATA");
    assert_eq!(e["details"]["json_path"], "$.data[0].Quoted_Items[1].Product_Name");
    let r = quote(json!([{"Product_Name": {"id": widget}}]));
    assert_eq!(r.body["data"][0]["code"], "MANDATORY_NOT_FOUND", "{}", r.body);
    assert_eq!(r.body["data"][0]["details"]["api_name"], "Quantity");
    let r = quote(json!([{"Product_Name": {"id": widget}, "Quantity": -1}]));
    assert_eq!(r.body["data"][0]["details"]["json_path"], "$.data[0].Quoted_Items[0].Quantity");
    let r = quote(json!([{"Product_Name": {"id": widget}, "Quantity": "2"}]));
    assert_eq!(r.body["data"][0]["details"]["expected_data_type"], "double", "{}", r.body);
    let r = quote(json!({"Product_Name": {"id": widget}}));
    assert_eq!(r.body["data"][0]["details"]["api_name"], "Quoted_Items", "{}", r.body);
}
