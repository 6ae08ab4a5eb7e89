//! The standard org: its modules' fields, as a getFields dump of a default Zoho CRM org lists
//! them, are data files (`crates/emulator/schema/<Module>.toml`, read by
//! [`crate::schema_file`] like a `--schema` file); its users are below.

use crate::schema::UserDef;

/// Each standard module's schema file: its name and text, in Zoho's module order.
pub const MODULE_FILES: [(&str, &str); 18] = [
    ("Leads.toml", include_str!("../schema/Leads.toml")),
    ("Contacts.toml", include_str!("../schema/Contacts.toml")),
    ("Accounts.toml", include_str!("../schema/Accounts.toml")),
    ("Potentials.toml", include_str!("../schema/Potentials.toml")),
    ("Campaigns.toml", include_str!("../schema/Campaigns.toml")),
    ("Tasks.toml", include_str!("../schema/Tasks.toml")),
    ("Events.toml", include_str!("../schema/Events.toml")),
    ("Calls.toml", include_str!("../schema/Calls.toml")),
    ("Products.toml", include_str!("../schema/Products.toml")),
    ("Cases.toml", include_str!("../schema/Cases.toml")),
    ("Solutions.toml", include_str!("../schema/Solutions.toml")),
    ("Vendors.toml", include_str!("../schema/Vendors.toml")),
    ("Quotes.toml", include_str!("../schema/Quotes.toml")),
    ("SalesOrders.toml", include_str!("../schema/SalesOrders.toml")),
    ("PurchaseOrders.toml", include_str!("../schema/PurchaseOrders.toml")),
    ("Invoices.toml", include_str!("../schema/Invoices.toml")),
    ("PriceBooks.toml", include_str!("../schema/PriceBooks.toml")),
    ("Notes.toml", include_str!("../schema/Notes.toml")),
];

/// The org's users: an administrator (every token acts as this user) and two others.
pub fn standard_users() -> Vec<UserDef> {
    vec![
        UserDef {
            id: 900_000_000_000_000_101,
            name: "Ann Owner".to_owned(),
            email: "ann.owner@example.com".to_owned(),
            role: "CEO".to_owned(),
            profile: "Administrator".to_owned(),
            active: true,
        },
        UserDef {
            id: 900_000_000_000_000_102,
            name: "Bob Seller".to_owned(),
            email: "bob.seller@example.com".to_owned(),
            role: "Manager".to_owned(),
            profile: "Standard".to_owned(),
            active: true,
        },
        UserDef {
            id: 900_000_000_000_000_103,
            name: "Cleo Former".to_owned(),
            email: "cleo.former@example.com".to_owned(),
            role: "Manager".to_owned(),
            profile: "Standard".to_owned(),
            active: false,
        },
    ]
}
