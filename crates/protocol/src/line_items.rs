//! Line items (`Product Details`) of Quotes, SalesOrders, PurchaseOrders and Invoices: the
//! labels an item's fields have in the XML API and their names in the REST API (v8), where a
//! record carries its items as an array under a key of its module (`Quoted_Items`, ...).

use crate::Module;

/// The product (`Product Id` in XML; `Product_Name: {"id": ..}` on v8). Required.
pub const PRODUCT_ID: &str = "Product Id";
/// The quantity (required, a non-negative number).
pub const QUANTITY: &str = "Quantity";
/// The unit price (default: the product's). `List Price` is accepted as its other name.
pub const UNIT_PRICE: &str = "Unit Price";
/// The other name of [`UNIT_PRICE`] (v8's `List_Price`).
pub const LIST_PRICE: &str = "List Price";
/// The discount (an amount, default 0).
pub const DISCOUNT: &str = "Discount";
/// The tax (an amount, default 0).
pub const TAX: &str = "Tax";
/// The item's description.
pub const DESCRIPTION: &str = "Product Description";

/// Every label an item may be written with, in payload order.
pub const LABELS: [&str; 7] =
    [PRODUCT_ID, QUANTITY, UNIT_PRICE, LIST_PRICE, DISCOUNT, TAX, DESCRIPTION];

/// The key of a record's line items on v8: Quotes `Quoted_Items`, SalesOrders
/// `Ordered_Items`, PurchaseOrders `Purchased_Items`, Invoices `Invoiced_Items`.
pub fn v8_key(module: Module) -> Option<&'static str> {
    match module {
        Module::Quotes => Some("Quoted_Items"),
        Module::SalesOrders => Some("Ordered_Items"),
        Module::PurchaseOrders => Some("Purchased_Items"),
        Module::Invoices => Some("Invoiced_Items"),
        _ => None,
    }
}

/// An item field's v8 name (`Product Id` → `Product_Name`, `Unit Price` and `List Price` →
/// `List_Price`, `Product Description` → `Description`).
pub fn v8_name(label: &str) -> Option<&'static str> {
    match label {
        PRODUCT_ID => Some("Product_Name"),
        QUANTITY => Some("Quantity"),
        UNIT_PRICE | LIST_PRICE => Some("List_Price"),
        DISCOUNT => Some("Discount"),
        TAX => Some("Tax"),
        DESCRIPTION => Some("Description"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_modules_have_a_v8_key_and_every_label_a_v8_name() {
        for m in [Module::Quotes, Module::SalesOrders, Module::PurchaseOrders, Module::Invoices] {
            assert!(m.has_line_items() && v8_key(m).is_some());
        }
        assert_eq!(v8_key(Module::Leads), None);
        assert!(LABELS.iter().all(|l| v8_name(l).is_some()));
        assert_eq!(v8_name("Total"), None);
    }
}
