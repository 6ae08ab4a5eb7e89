//! Line items on the v8 face: a Quotes, SalesOrders, PurchaseOrders or Invoices record carries
//! them as an array under its module's key (`Quoted_Items`, `Ordered_Items`,
//! `Purchased_Items`, `Invoiced_Items`), each item
//! `{"Product_Name":{"id":".."},"Quantity":n,"List_Price":n,"Discount":n,"Tax":n,"Description":".."}`.
//!
//! The items are checked by the XML face's rules (`api::line_items`: a live product, a
//! non-negative `Quantity`, prices, discount and tax non-negative numbers) and stored in the
//! same place, so either face reads what the other wrote. JSON types are strict (CD-5):
//! numbers must be JSON numbers. A problem is the record's one error, its `json_path` naming
//! the item (`$.data[0].Quoted_Items[1].Quantity`).

use rusqlite::Transaction;
use serde_json::{Map, Value, json};
use zcrm_protocol::line_items::{self as li, v8_key};

use super::errors::{self, record_error};
use crate::api::line_items as xml_items;
use crate::schema::ModuleDef;
use crate::store::items::LineItem;
use crate::store::records::Rec;

/// The item fields a v8 item may carry: (v8 name, XML label).
const FIELDS: [(&str, &str); 6] = [
    ("Product_Name", li::PRODUCT_ID),
    ("Quantity", li::QUANTITY),
    ("List_Price", li::UNIT_PRICE),
    ("Discount", li::DISCOUNT),
    ("Tax", li::TAX),
    ("Description", li::DESCRIPTION),
];

/// The validated items of record `i` of a write: `None` when the module has none or the
/// record sent none (an update keeps the stored ones), else the items or the record's error.
pub fn input(
    tx: &Transaction<'_>,
    def: &ModuleDef,
    i: usize,
    obj: &Map<String, Value>,
) -> Result<Option<Vec<LineItem>>, Value> {
    let Some(key) = v8_key(def.module) else { return Ok(None) };
    let Some(given) = obj.get(key) else { return Ok(None) };
    let path = format!("$.data[{i}].{key}");
    let Some(list) = given.as_array() else {
        return Err(errors::invalid_type(key, &path, "lineitem"));
    };
    if list.is_empty() {
        return Ok(None);
    }
    list.iter()
        .enumerate()
        .map(|(j, v)| one(tx, v, &format!("{path}[{j}]")))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn one(tx: &Transaction<'_>, v: &Value, path: &str) -> Result<LineItem, Value> {
    let Some(obj) = v.as_object() else {
        return Err(record_error("INVALID_DATA", "invalid data", json!({"json_path": path})));
    };
    let at = |name: &str| format!("{path}.{name}");
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, label) in FIELDS {
        let Some(v) = obj.get(name).filter(|v| !v.is_null()) else {
            if name == "Product_Name" || name == "Quantity" {
                return Err(errors::mandatory(name, &at(name)));
            }
            continue;
        };
        let text = match name {
            "Product_Name" => {
                let id = v.as_object().and_then(|o| o.get("id"));
                match id {
                    Some(Value::String(s)) => s.trim().to_owned(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(errors::invalid_type(name, &at(name), "lookup")),
                }
            }
            "Description" => match v.as_str() {
                Some(s) => s.to_owned(),
                None => return Err(errors::invalid_type(name, &at(name), "textarea")),
            },
            _ => match v {
                Value::Number(n) if n.as_f64().is_some_and(|f| f >= 0.0) => n.to_string(),
                _ => return Err(errors::invalid_type(name, &at(name), "double")),
            },
        };
        pairs.push((label.to_owned(), text));
    }
    xml_items::item(tx, &pairs).map_err(|e| {
        // The XML face names the inner label it refused; the product is the usual one.
        let name = FIELDS
            .iter()
            .find(|(_, label)| *label != li::PRODUCT_ID && e.message.contains(label))
            .map_or("Product_Name", |(n, _)| n);
        let id = pairs.iter().find(|(l, _)| l == li::PRODUCT_ID).map(|(_, v)| v.clone());
        record_error(
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": name, "json_path": at(name), "expected_data_type": if name == "Product_Name" { "lookup" } else { "double" }, "id": id}),
        )
    })
}

/// A stored item's number as v8 answers it.
fn number(text: &str) -> Value {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// The record's items under its module's key, as `GET /{module}/{id}` answers them:
/// `Product_Name {name, id}`, `Quantity`, `List_Price`, `Total`, `Discount`,
/// `Total_After_Discount`, `Tax`, `Net_Total`, `Description` (`null` when not given).
pub fn output(def: &ModuleDef, rec: &Rec) -> Option<(&'static str, Value)> {
    let key = v8_key(def.module)?;
    let items = rec
        .line_items
        .iter()
        .map(|item| {
            let get = |l: &str| item.iter().find(|(k, _)| k == l).map(|(_, v)| v.as_str());
            json!({
                "Product_Name": {"name": get("Product Name"), "id": get(li::PRODUCT_ID)},
                "Quantity": get(li::QUANTITY).map_or(Value::Null, number),
                "List_Price": get(li::UNIT_PRICE).map_or(Value::Null, number),
                "Total": get("Total").map_or(Value::Null, number),
                "Discount": get(li::DISCOUNT).map_or(Value::Null, number),
                "Total_After_Discount": get("Total After Discount").map_or(Value::Null, number),
                "Tax": get(li::TAX).map_or(Value::Null, number),
                "Net_Total": get("Net Total").map_or(Value::Null, number),
                "Description": get(li::DESCRIPTION),
            })
        })
        .collect();
    Some((key, Value::Array(items)))
}
