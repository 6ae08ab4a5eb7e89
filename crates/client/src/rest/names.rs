//! Names that differ between the dialects: modules (`Potentials` is `Deals` on the REST API),
//! the system duplicate-check field of upserts, and the XML API's id columns (`LEADID`,
//! `SMOWNERID`, `ACCOUNTID`) that zcrm's stages still speak.

use std::str::FromStr;

use zcrm_protocol::{FieldMeta, FieldType, Module};

/// The modules whose REST API name differs from the XML API's: (XML, REST).
const RENAMED: [(&str, &str); 4] = [
    ("Potentials", "Deals"),
    ("SalesOrders", "Sales_Orders"),
    ("PurchaseOrders", "Purchase_Orders"),
    ("PriceBooks", "Price_Books"),
];

/// The REST API's name of module `name` (an XML API name, or already a REST one).
pub fn v8_module(name: &str) -> &str {
    RENAMED.iter().find(|(xml, _)| *xml == name).map_or(name, |(_, rest)| rest)
}

/// The XML API's name of REST module `name` (what zcrm's stages and metadata speak).
pub fn legacy_module(name: &str) -> &str {
    RENAMED.iter().find(|(_, rest)| *rest == name).map_or(name, |(xml, _)| xml)
}

/// The record-id column of `module` in the XML dialect's pages (`LEADID`), or `ID` for a
/// module the XML API did not know.
pub fn id_label(module: &str) -> String {
    Module::from_str(legacy_module(module))
        .map_or_else(|_| "ID".to_owned(), |m| m.id_field().into_owned())
}

/// The field `/upsert` matches on (`duplicate_check_fields`): the module's system
/// duplicate-check field (PROTOCOL §3.6), `None` where it has none.
pub fn system_duplicate_field(module: &str) -> Option<&'static str> {
    Some(match legacy_module(module) {
        "Leads" | "Contacts" => "Email",
        "Accounts" => "Account_Name",
        "Potentials" => "Deal_Name",
        "Campaigns" => "Campaign_Name",
        "Cases" | "Quotes" | "SalesOrders" | "PurchaseOrders" | "Invoices" => "Subject",
        "Solutions" => "Solution_Title",
        "Products" => "Product_Name",
        "Vendors" => "Vendor_Name",
        "PriceBooks" => "Price_Book_Name",
        m if m.starts_with("CustomModule") => "Name",
        _ => return None,
    })
}

/// The XML API's id column for a lookup or owner field, as the mapping stage names it:
/// `SMOWNERID` for the record owner, `SMCREATORID` / `MODIFIEDBY` for the creator and the last
/// modifier, the target module's id column for a lookup (`PARENT` before it for a "Parent ..."
/// lookup).
pub fn id_column(f: &FieldMeta) -> Option<String> {
    match f.field_type {
        FieldType::OwnerLookup => match f.api_name.as_deref() {
            Some("Created_By") => Some("SMCREATORID".into()),
            Some("Modified_By") => Some("MODIFIEDBY".into()),
            _ if f.label.ends_with(" Owner") || f.api_name.as_deref() == Some("Owner") => {
                Some("SMOWNERID".into())
            }
            _ => None,
        },
        // A note's parent: a record of any module, sent as `SEID` (with `SEMODULE`).
        FieldType::Lookup
            if f.lookup_module.is_none() && f.api_name.as_deref() == Some("Parent_Id") =>
        {
            Some("SEID".into())
        }
        FieldType::Lookup => {
            let m = Module::from_str(f.lookup_module.as_deref()?).ok()?;
            let id = m.id_field().into_owned();
            Some(if f.label.starts_with("Parent ") { format!("PARENT{id}") } else { id })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deals_are_potentials_both_ways_and_others_keep_their_name() {
        assert_eq!(v8_module("Potentials"), "Deals");
        assert_eq!(v8_module("Deals"), "Deals");
        assert_eq!(legacy_module("Deals"), "Potentials");
        assert_eq!(v8_module("Leads"), "Leads");
        assert_eq!(legacy_module("Price_Books"), "PriceBooks");
        assert_eq!(id_label("Deals"), "POTENTIALID");
        assert_eq!(id_label("Leads"), "LEADID");
        assert_eq!(system_duplicate_field("Deals"), Some("Deal_Name"));
        assert_eq!(system_duplicate_field("Tasks"), None);
    }

    #[test]
    fn id_columns_follow_the_mapping_stage() {
        let mut owner = FieldMeta::new("Lead Owner", FieldType::OwnerLookup);
        owner.api_name = Some("Owner".into());
        assert_eq!(id_column(&owner).as_deref(), Some("SMOWNERID"));
        let mut by = FieldMeta::new("Created By", FieldType::OwnerLookup);
        by.api_name = Some("Created_By".into());
        assert_eq!(id_column(&by).as_deref(), Some("SMCREATORID"));
        let mut acc = FieldMeta::new("Account Name", FieldType::Lookup);
        acc.lookup_module = Some("Accounts".into());
        assert_eq!(id_column(&acc).as_deref(), Some("ACCOUNTID"));
        let mut parent = FieldMeta::new("Parent Account", FieldType::Lookup);
        parent.lookup_module = Some("Accounts".into());
        assert_eq!(id_column(&parent).as_deref(), Some("PARENTACCOUNTID"));
    }
}
