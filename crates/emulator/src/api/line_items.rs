//! Line items of Quotes, SalesOrders, PurchaseOrders and Invoices (docs/protocol.md §3.1, §4.5):
//! validating the `<product>` entries of a write row, and shaping stored items for a page.
//!
//! Each entry needs a `Product Id` of a live Products record; `Quantity` (required),
//! `Unit Price` (default: the product's own), `Discount` and `Tax` (default 0) must be plain
//! non-negative numbers. Any problem is the row's 4832 naming the inner field. The stored item
//! holds the product's name and the derived Total, Total After Discount and Net Total, all
//! numbers printed as doubles (`11.0`). Other inner labels are ignored, except a
//! `Product Description` text.

use rusqlite::Connection;
use rust_decimal::Decimal;
use zcrm_protocol::error::ApiError;
use zcrm_protocol::response::records::OutField;
use zcrm_protocol::value::{format_double, parse_decimal};
use zcrm_protocol::{Module, RecordId};

use super::validate::wrong_value;
use crate::schema::ModuleDef;
use crate::store::items::LineItem;
use crate::store::records;

/// The inner labels written bare (ids and numbers); the others are CDATA.
const BARE: [&str; 8] = [
    "Product Id",
    "Unit Price",
    "Quantity",
    "Total",
    "Discount",
    "Total After Discount",
    "Tax",
    "Net Total",
];

fn number(entry: &[(String, String)], label: &str) -> Option<Result<Decimal, ApiError>> {
    let (_, text) = entry.iter().find(|(k, _)| k == label)?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(
        parse_decimal(text)
            .ok()
            .filter(|d| !d.is_sign_negative() || d.is_zero())
            .ok_or_else(|| wrong_value(label)),
    )
}

/// One validated item from its `(label, text)` pairs (the REST face validates its items
/// through here too: one store, the same rules).
pub fn item(conn: &Connection, entry: &[(String, String)]) -> Result<LineItem, ApiError> {
    let id_text = entry.iter().find(|(k, _)| k == "Product Id").map(|(_, v)| v.trim());
    let id: RecordId =
        id_text.and_then(|t| t.parse().ok()).ok_or_else(|| wrong_value("Product Id"))?;
    let product = records::get_live(conn, Some(&Module::Products.api_name()), id.0)
        .map_err(|_| wrong_value("Product Id"))?
        .ok_or_else(|| wrong_value("Product Id"))?;
    let quantity = number(entry, "Quantity").ok_or_else(|| wrong_value("Quantity"))??;
    let unit_price = match number(entry, "Unit Price") {
        Some(p) => p?,
        None => {
            product.get("Unit Price").and_then(|p| parse_decimal(p).ok()).unwrap_or(Decimal::ZERO)
        }
    };
    let discount = number(entry, "Discount").transpose()?.unwrap_or(Decimal::ZERO);
    let tax = number(entry, "Tax").transpose()?.unwrap_or(Decimal::ZERO);
    let total = unit_price.checked_mul(quantity).ok_or_else(|| wrong_value("Quantity"))?;
    let after = total.checked_sub(discount).ok_or_else(|| wrong_value("Discount"))?;
    let net = after.checked_add(tax).ok_or_else(|| wrong_value("Tax"))?;
    let mut out: LineItem = vec![
        ("Product Id".to_owned(), id.to_string()),
        ("Product Name".to_owned(), product.get("Product Name").unwrap_or_default().to_owned()),
        ("Unit Price".to_owned(), format_double(unit_price)),
        ("Quantity".to_owned(), format_double(quantity)),
        ("Total".to_owned(), format_double(total)),
        ("Discount".to_owned(), format_double(discount)),
        ("Total After Discount".to_owned(), format_double(after)),
        ("Tax".to_owned(), format_double(tax)),
        ("Net Total".to_owned(), format_double(net)),
    ];
    if let Some((_, d)) = entry.iter().find(|(k, _)| k == "Product Description") {
        out.push(("Product Description".to_owned(), d.clone()));
    }
    Ok(out)
}

/// The validated items of a row: `None` when the module has no line items or the row sent
/// none (an update then keeps the stored ones).
pub fn validate(
    conn: &Connection,
    def: &ModuleDef,
    products: &[Vec<(String, String)>],
) -> Result<Option<Vec<LineItem>>, ApiError> {
    if !def.module.has_line_items() || products.is_empty() {
        return Ok(None);
    }
    products.iter().map(|p| item(conn, p)).collect::<Result<Vec<_>, _>>().map(Some)
}

/// A stored item as response fields.
pub fn out_fields(item: &LineItem) -> Vec<OutField<'_>> {
    item.iter().map(|(k, v)| OutField::text(k, Some(v), BARE.contains(&k.as_str()))).collect()
}
