//! Module names as the API spells them in URLs, and the per-module facts docs/protocol.md records.

use std::fmt;
use std::str::FromStr;

/// A CRM module, by its API (tab) name: the standard modules, or `CustomModuleN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    /// Leads.
    Leads,
    /// Contacts.
    Contacts,
    /// Accounts.
    Accounts,
    /// Potentials (deals).
    Potentials,
    /// Campaigns.
    Campaigns,
    /// Tasks (an activity module).
    Tasks,
    /// Events (an activity module).
    Events,
    /// Calls (an activity module).
    Calls,
    /// Products.
    Products,
    /// Cases.
    Cases,
    /// Solutions.
    Solutions,
    /// Vendors.
    Vendors,
    /// Quotes.
    Quotes,
    /// Sales orders.
    SalesOrders,
    /// Purchase orders.
    PurchaseOrders,
    /// Invoices.
    Invoices,
    /// Price books.
    PriceBooks,
    /// Notes.
    Notes,
    /// A custom module, `CustomModule1`..`CustomModuleN`.
    Custom(u16),
}

/// Every standard module, in the order Zoho's module list shows them.
pub const STANDARD_MODULES: [Module; 18] = [
    Module::Leads,
    Module::Contacts,
    Module::Accounts,
    Module::Potentials,
    Module::Campaigns,
    Module::Tasks,
    Module::Events,
    Module::Calls,
    Module::Products,
    Module::Cases,
    Module::Solutions,
    Module::Vendors,
    Module::Quotes,
    Module::SalesOrders,
    Module::PurchaseOrders,
    Module::Invoices,
    Module::PriceBooks,
    Module::Notes,
];

impl Module {
    /// The API name used in URLs and as the root element of xmlData and responses.
    pub fn api_name(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow::Borrowed;
        match self {
            Self::Leads => Borrowed("Leads"),
            Self::Contacts => Borrowed("Contacts"),
            Self::Accounts => Borrowed("Accounts"),
            Self::Potentials => Borrowed("Potentials"),
            Self::Campaigns => Borrowed("Campaigns"),
            Self::Tasks => Borrowed("Tasks"),
            Self::Events => Borrowed("Events"),
            Self::Calls => Borrowed("Calls"),
            Self::Products => Borrowed("Products"),
            Self::Cases => Borrowed("Cases"),
            Self::Solutions => Borrowed("Solutions"),
            Self::Vendors => Borrowed("Vendors"),
            Self::Quotes => Borrowed("Quotes"),
            Self::SalesOrders => Borrowed("SalesOrders"),
            Self::PurchaseOrders => Borrowed("PurchaseOrders"),
            Self::Invoices => Borrowed("Invoices"),
            Self::PriceBooks => Borrowed("PriceBooks"),
            Self::Notes => Borrowed("Notes"),
            Self::Custom(n) => std::borrow::Cow::Owned(format!("CustomModule{n}")),
        }
    }

    /// The singular label used in system field names ("Lead Owner", "Contact Owner").
    pub fn singular(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow::Borrowed;
        match self {
            Self::Leads => Borrowed("Lead"),
            Self::Contacts => Borrowed("Contact"),
            Self::Accounts => Borrowed("Account"),
            Self::Potentials => Borrowed("Potential"),
            Self::Campaigns => Borrowed("Campaign"),
            Self::Tasks => Borrowed("Task"),
            Self::Events => Borrowed("Event"),
            Self::Calls => Borrowed("Call"),
            Self::Products => Borrowed("Product"),
            Self::Cases => Borrowed("Case"),
            Self::Solutions => Borrowed("Solution"),
            Self::Vendors => Borrowed("Vendor"),
            Self::Quotes => Borrowed("Quote"),
            Self::SalesOrders => Borrowed("Sales Order"),
            Self::PurchaseOrders => Borrowed("Purchase Order"),
            Self::Invoices => Borrowed("Invoice"),
            Self::PriceBooks => Borrowed("Price Book"),
            Self::Notes => Borrowed("Note"),
            Self::Custom(n) => std::borrow::Cow::Owned(format!("CustomModule{n}")),
        }
    }

    /// The primary-key FL that leads every record (`LEADID`, `ACTIVITYID`, `CUSTOMMODULE1_ID`).
    pub fn id_field(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow::Borrowed;
        match self {
            Self::Leads => Borrowed("LEADID"),
            Self::Contacts => Borrowed("CONTACTID"),
            Self::Accounts => Borrowed("ACCOUNTID"),
            Self::Potentials => Borrowed("POTENTIALID"),
            Self::Campaigns => Borrowed("CAMPAIGNID"),
            Self::Tasks | Self::Events | Self::Calls => Borrowed("ACTIVITYID"),
            Self::Products => Borrowed("PRODUCTID"),
            Self::Cases => Borrowed("CASEID"),
            Self::Solutions => Borrowed("SOLUTIONID"),
            Self::Vendors => Borrowed("VENDORID"),
            Self::Quotes => Borrowed("QUOTEID"),
            Self::SalesOrders => Borrowed("SALESORDERID"),
            Self::PurchaseOrders => Borrowed("PURCHASEORDERID"),
            Self::Invoices => Borrowed("INVOICEID"),
            Self::PriceBooks => Borrowed("PRICEBOOKID"),
            Self::Notes => Borrowed("NOTESID"),
            Self::Custom(n) => std::borrow::Cow::Owned(format!("CUSTOMMODULE{n}_ID")),
        }
    }

    /// The field `duplicateCheck` compares on (docs/protocol.md §4.5), where the module has one.
    pub fn duplicate_check_field(self) -> Option<&'static str> {
        match self {
            Self::Leads | Self::Contacts => Some("Email"),
            Self::Accounts => Some("Account Name"),
            Self::Potentials => Some("Potential Name"),
            Self::Campaigns => Some("Campaign Name"),
            Self::Cases
            | Self::Quotes
            | Self::SalesOrders
            | Self::PurchaseOrders
            | Self::Invoices => Some("Subject"),
            Self::Solutions => Some("Solution Title"),
            Self::Products => Some("Product Name"),
            Self::Vendors => Some("Vendor Name"),
            Self::PriceBooks => Some("Price Book Name"),
            Self::Tasks | Self::Events | Self::Calls | Self::Notes | Self::Custom(_) => None,
        }
    }

    /// Whether `isApproval=true` is accepted on insert (Leads, Contacts and Cases only).
    pub fn supports_approval(self) -> bool {
        matches!(self, Self::Leads | Self::Contacts | Self::Cases)
    }

    /// Whether photos can be attached with uploadPhoto.
    pub fn supports_photo(self) -> bool {
        matches!(self, Self::Leads | Self::Contacts)
    }

    /// Whether records carry line items (`Product Details`): Quotes, SalesOrders,
    /// PurchaseOrders and Invoices.
    pub fn has_line_items(self) -> bool {
        matches!(self, Self::Quotes | Self::SalesOrders | Self::PurchaseOrders | Self::Invoices)
    }

    /// Whether the module is custom (`CustomModuleN`).
    pub fn is_custom(self) -> bool {
        matches!(self, Self::Custom(_))
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_name())
    }
}

/// A name that is not a module API name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown module {0:?} (expected an API name such as Leads or CustomModule1)")]
pub struct UnknownModule(pub String);

impl FromStr for Module {
    type Err = UnknownModule;

    /// Parses the exact API name (case-sensitive, as the URL path is).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(m) = STANDARD_MODULES.iter().find(|m| m.api_name() == s) {
            return Ok(*m);
        }
        s.strip_prefix("CustomModule")
            .filter(|n| !n.starts_with('0'))
            .and_then(|n| n.parse::<u16>().ok())
            .filter(|n| *n > 0)
            .map(Self::Custom)
            .ok_or_else(|| UnknownModule(s.to_owned()))
    }
}
