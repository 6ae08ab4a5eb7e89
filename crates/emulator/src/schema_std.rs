//! The standard modules' fields, as a getFields dump of a default Zoho CRM org lists them.

use zcrm_protocol::Module;
use zcrm_protocol::field::FieldType as T;

use crate::schema::{FieldDef, LookupTarget, ModuleDef, UserDef};

/// A field being declared.
struct F(FieldDef);

fn f(label: &str, ty: T) -> F {
    F(FieldDef::new(label, ty))
}

fn text(label: &str, len: u32) -> F {
    f(label, T::Text).len(len)
}

fn pick(label: &str, options: &[&str]) -> F {
    let mut d = FieldDef::new(label, T::PickList);
    d.picklist =
        std::iter::once("-None-").chain(options.iter().copied()).map(str::to_owned).collect();
    F(d)
}

fn lookup(label: &str, module: Module, column: &str) -> F {
    let mut d = FieldDef::new(label, T::Lookup);
    d.lookup = Some((LookupTarget::Module(module), column.to_owned()));
    F(d)
}

impl F {
    fn req(mut self) -> Self {
        self.0.required = true;
        self
    }
    fn len(mut self, n: u32) -> Self {
        self.0.max_length = Some(n);
        self
    }
    fn dv(mut self, display: &str) -> Self {
        self.0.display = display.to_owned();
        self
    }
    fn ro(mut self) -> Self {
        self.0.read_only = true;
        self
    }
}

/// Builds a module from sections of fields, adding the owner and system fields.
fn module(
    module: Module,
    plural: &str,
    name_field: &str,
    sections: Vec<(&str, Vec<F>)>,
) -> ModuleDef {
    let singular = module.singular().into_owned();
    let mut names = Vec::new();
    let mut fields = Vec::new();
    let mut owner = FieldDef::new(&format!("{singular} Owner"), T::OwnerLookup);
    owner.lookup = Some((LookupTarget::User, "SMOWNERID".to_owned()));
    fields.push(owner);
    for (i, (name, list)) in sections.into_iter().enumerate() {
        names.push(name.to_owned());
        for F(mut d) in list {
            d.section = i;
            fields.push(d);
        }
    }
    for (label, column) in [("Created By", "SMCREATORID"), ("Modified By", "MODIFIEDBY")] {
        let mut d = FieldDef::new(label, T::OwnerLookup);
        d.lookup = Some((LookupTarget::User, column.to_owned()));
        d.read_only = true;
        d.system = true;
        fields.push(d);
    }
    for label in ["Created Time", "Modified Time"] {
        let mut d = FieldDef::new(label, T::DateTime);
        d.read_only = true;
        d.system = true;
        fields.push(d);
    }
    ModuleDef {
        module,
        plural: plural.to_owned(),
        singular,
        sections: names,
        fields,
        name_field: name_field.to_owned(),
    }
}

fn address(prefix: &str) -> Vec<F> {
    let p = |s: &str| if prefix.is_empty() { s.to_owned() } else { format!("{prefix} {s}") };
    vec![
        text(&p("Street"), 250),
        text(&p("City"), 30),
        text(&p("State"), 30),
        text(&p(if prefix.is_empty() { "Zip Code" } else { "Code" }), 30),
        text(&p("Country"), 30),
    ]
}

fn description() -> (&'static str, Vec<F>) {
    ("Description Information", vec![f("Description", T::TextArea)])
}

// Picklist options. Zoho's default values come first, in Zoho's order, as its API
// documentation shows them (display values): Lead Source from the sample responses of "Timeline
// of a Record" and "Get Global Picklists", Lead Status, Industry and Rating from "Fields
// Metadata", Stage from "Get Pipelines" (zoho.com/crm/developer/docs/api/v7/). Where a default
// was renamed, the stored value older data carries (the samples' `actual_value`) follows; values
// the emulator listed before that the samples do not show are kept last, so existing data stays
// valid.
const LEAD_SOURCES: &[&str] = &[
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Facebook",
    "Twitter",
    "Google+",
    "Partner",
    "Public Relations",
    "Sales Email Alias",
    "Seminar Partner",
    "Internal Seminar",
    "Trade Show",
    "Web Download",
    "Web Research",
    "Chat",
    // Stored values of renamed defaults.
    "OnlineStore",
    "Sales Mail Alias",
    "Seminar-Internal",
    // Listed before.
    "Web Form",
];
const LEAD_STATUSES: &[&str] = &[
    "Attempted to Contact",
    "Contact in Future",
    "Contacted",
    "Junk Lead",
    "Lost Lead",
    "Not Contacted",
    "Pre-Qualified",
    "Not Qualified",
    // Stored value of "Pre-Qualified".
    "Pre Qualified",
];
const INDUSTRIES: &[&str] = &[
    "ASP (Application Service Provider)",
    "Data/Telecom OEM",
    "ERP (Enterprise Resource Planning)",
    "Government/Military",
    "Large Enterprise",
    "ManagementISV",
    "MSP (Management Service Provider)",
    "Network Equipment Enterprise",
    "Non-management ISV",
    "Optical Networking",
    "Service Provider",
    "Small/Medium Enterprise",
    "Storage Equipment",
    "Storage Service Provider",
    "Systems Integrator",
    "Wireless Industry",
    // Stored value of "Network Equipment Enterprise"; earlier names of the first and third.
    "Network Equipment (Enterprise)",
    "ASP",
    "ERP",
];
const RATINGS: &[&str] = &[
    "Acquired",
    "Active",
    "Market Failed",
    "Project Cancelled",
    "Shut Down",
    // Stored value of "Shut Down".
    "ShutDown",
];
const STAGES: &[&str] = &[
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Identify Decision Makers",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
    "Closed Lost to Competition",
    "Closed-Lost to Competition",
    // Listed before.
    "Perception Analysis",
];
const SALUTATIONS: &[&str] = &["Mr.", "Mrs.", "Ms.", "Dr.", "Prof."];

fn activity_links() -> Vec<F> {
    let mut related = FieldDef::new("Related To", T::Lookup);
    related.lookup = Some((LookupTarget::Any, "SEID".to_owned()));
    vec![lookup("Contact Name", Module::Contacts, "CONTACTID"), F(related), text("SEMODULE", 50)]
}

fn totals() -> Vec<F> {
    ["Sub Total", "Discount", "Tax", "Adjustment", "Grand Total"]
        .iter()
        .map(|l| f(l, T::Currency))
        .collect()
}

fn line_items() -> (&'static str, Vec<F>) {
    ("Product Details", vec![text("Product Details", 32_000)])
}

fn inventory_tail(v: &mut Vec<(&'static str, Vec<F>)>) {
    v.push((
        "Address Information",
        [address("Billing"), address("Shipping")].into_iter().flatten().collect(),
    ));
    v.push(line_items());
    v.push(("Terms and Conditions", vec![f("Terms and Conditions", T::TextArea)]));
    v.push(description());
}

/// Every standard module.
pub fn standard_modules() -> Vec<ModuleDef> {
    let mut campaign_source = text("Campaign Source", 120);
    campaign_source.0.legacy_v1 = true;
    let mut campaign_source_c = text("Campaign Source", 120);
    campaign_source_c.0.legacy_v1 = true;
    vec![
        module(
            Module::Leads,
            "Leads",
            "Last Name",
            vec![
                (
                    "Lead Information",
                    vec![
                        text("Company", 100).req(),
                        text("First Name", 40),
                        text("Last Name", 80).req(),
                        text("Designation", 100).dv("Title"),
                        f("Email", T::Email),
                        f("Phone", T::Phone),
                        f("Fax", T::Phone),
                        f("Mobile", T::Phone),
                        f("Website", T::Website),
                        pick("Lead Source", LEAD_SOURCES),
                        pick("Lead Status", LEAD_STATUSES),
                        pick("Industry", INDUSTRIES),
                        f("No of Employees", T::Integer),
                        f("Annual Revenue", T::Currency),
                        pick("Rating", RATINGS),
                        f("Email Opt Out", T::Boolean),
                        text("Skype ID", 50),
                        pick("Salutation", SALUTATIONS),
                        f("Secondary Email", T::Email),
                        text("Twitter", 50),
                        campaign_source,
                    ],
                ),
                ("Address Information", address("")),
                description(),
            ],
        ),
        module(
            Module::Contacts,
            "Contacts",
            "Last Name",
            vec![
                (
                    "Contact Information",
                    vec![
                        pick("Lead Source", LEAD_SOURCES),
                        text("First Name", 40),
                        text("Last Name", 80).req(),
                        lookup("Account Name", Module::Accounts, "ACCOUNTID"),
                        lookup("Vendor Name", Module::Vendors, "VENDORID"),
                        f("Email", T::Email),
                        text("Title", 100),
                        text("Department", 30),
                        f("Phone", T::Phone),
                        f("Home Phone", T::Phone),
                        f("Other Phone", T::Phone),
                        f("Fax", T::Phone),
                        f("Mobile", T::Phone),
                        f("Date of Birth", T::Date),
                        text("Assistant", 30),
                        f("Asst Phone", T::Phone),
                        lookup("Reports To", Module::Contacts, "REPORTSTOID"),
                        f("Email Opt Out", T::Boolean),
                        text("Skype ID", 50),
                        pick("Salutation", SALUTATIONS),
                        f("Secondary Email", T::Email),
                        text("Twitter", 50),
                        campaign_source_c,
                    ],
                ),
                (
                    "Address Information",
                    [address("Mailing"), address("Other")].into_iter().flatten().collect(),
                ),
                description(),
            ],
        ),
        module(
            Module::Accounts,
            "Accounts",
            "Account Name",
            vec![
                (
                    "Account Information",
                    vec![
                        pick("Rating", RATINGS),
                        text("Account Name", 100).req(),
                        f("Phone", T::Phone),
                        text("Account Site", 30),
                        f("Fax", T::Phone),
                        lookup("Parent Account", Module::Accounts, "PARENTACCOUNTID"),
                        f("Website", T::Website),
                        f("Account Number", T::LongInteger),
                        text("Ticker Symbol", 30),
                        pick(
                            "Account Type",
                            &[
                                "Analyst",
                                "Competitor",
                                "Customer",
                                "Distributor",
                                "Integrator",
                                "Investor",
                                "Other",
                                "Partner",
                                "Press",
                                "Prospect",
                                "Reseller",
                                "Supplier",
                                "Vendor",
                            ],
                        ),
                        pick(
                            "Ownership",
                            &[
                                "Other",
                                "Private",
                                "Public",
                                "Subsidiary",
                                "Partnership",
                                "Government",
                                "Privately Held",
                                "Public Company",
                            ],
                        ),
                        pick("Industry", INDUSTRIES),
                        f("Employees", T::Integer),
                        f("Annual Revenue", T::Currency),
                        f("SIC Code", T::Integer),
                    ],
                ),
                (
                    "Address Information",
                    [address("Billing"), address("Shipping")].into_iter().flatten().collect(),
                ),
                description(),
            ],
        ),
        module(
            Module::Potentials,
            "Potentials",
            "Potential Name",
            vec![
                (
                    "Potential Information",
                    vec![
                        f("Amount", T::Currency),
                        text("Potential Name", 120).req(),
                        f("Closing Date", T::Date).req(),
                        lookup("Account Name", Module::Accounts, "ACCOUNTID"),
                        pick("Stage", STAGES).req(),
                        pick("Type", &["Existing Business", "New Business"]),
                        f("Probability", T::Percent),
                        text("Next Step", 100),
                        pick("Lead Source", LEAD_SOURCES),
                        lookup("Campaign Source", Module::Campaigns, "CAMPAIGNID"),
                        lookup("Contact Name", Module::Contacts, "CONTACTID"),
                        f("Expected Revenue", T::Currency),
                    ],
                ),
                description(),
            ],
        ),
        module(
            Module::Campaigns,
            "Campaigns",
            "Campaign Name",
            vec![
                (
                    "Campaign Information",
                    vec![
                        text("Campaign Name", 120).req(),
                        pick(
                            "Type",
                            &[
                                "Conference",
                                "Webinar",
                                "Trade Show",
                                "Public Relations",
                                "Partners",
                                "Referral Program",
                                "Advertisement",
                                "Banner Ads",
                                "Direct mail",
                                "Email",
                                "Telemarketing",
                                "Others",
                            ],
                        ),
                        pick("Status", &["Planning", "Active", "Inactive", "Complete"]),
                        f("Start Date", T::Date),
                        f("End Date", T::Date),
                        f("Expected Revenue", T::Currency),
                        f("Budgeted Cost", T::Currency),
                        f("Actual Cost", T::Currency),
                        f("Expected Response", T::Integer),
                        f("Num sent", T::Integer),
                    ],
                ),
                description(),
            ],
        ),
        module(
            Module::Tasks,
            "Tasks",
            "Subject",
            vec![
                (
                    "Task Information",
                    [
                        vec![text("Subject", 255).req(), f("Due Date", T::Date)],
                        activity_links(),
                        vec![
                            pick(
                                "Status",
                                &[
                                    "Not Started",
                                    "Deferred",
                                    "In Progress",
                                    "Completed",
                                    "Waiting on someone else",
                                ],
                            ),
                            pick("Priority", &["High", "Highest", "Low", "Lowest", "Normal"]),
                            f("Send Notification Email", T::Boolean),
                        ],
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                ),
                description(),
            ],
        ),
        module(
            Module::Events,
            "Events",
            "Subject",
            vec![
                (
                    "Event Information",
                    [
                        vec![
                            text("Subject", 255).req(),
                            text("Venue", 255),
                            f("Start DateTime", T::DateTime).req(),
                            f("End DateTime", T::DateTime).req(),
                        ],
                        activity_links(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                ),
                description(),
            ],
        ),
        module(
            Module::Calls,
            "Calls",
            "Subject",
            vec![
                (
                    "Call Information",
                    [
                        vec![
                            text("Subject", 255).req(),
                            pick("Call Type", &["Inbound", "Outbound"]),
                            pick(
                                "Call Purpose",
                                &[
                                    "Prospecting",
                                    "Administrative",
                                    "Negotiation",
                                    "Demo",
                                    "Project",
                                    "Desk",
                                ],
                            ),
                        ],
                        activity_links(),
                        vec![
                            f("Call Start Time", T::DateTime).req(),
                            text("Call Duration", 10),
                            text("Call Result", 100),
                        ],
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                ),
                description(),
            ],
        ),
        module(
            Module::Products,
            "Products",
            "Product Name",
            vec![
                (
                    "Product Information",
                    vec![
                        text("Product Name", 120).req(),
                        text("Product Code", 40),
                        lookup("Vendor Name", Module::Vendors, "VENDORID"),
                        f("Product Active", T::Boolean),
                        pick("Manufacturer", &["AltvetPet Inc.", "LexPon Inc.", "MetBeat Corp."]),
                        pick("Product Category", &["Hardware", "Software", "CRM Applications"]),
                        f("Sales Start Date", T::Date),
                        f("Sales End Date", T::Date),
                        f("Support Start Date", T::Date),
                        f("Support Expiry Date", T::Date),
                    ],
                ),
                (
                    "Price Information",
                    vec![
                        f("Unit Price", T::Currency),
                        f("Commission Rate", T::Currency),
                        f("Tax", T::MultiPickList),
                        f("Taxable", T::Boolean),
                    ],
                ),
                (
                    "Stock Information",
                    vec![
                        pick(
                            "Usage Unit",
                            &[
                                "Box",
                                "Carton",
                                "Dozen",
                                "Each",
                                "Hours",
                                "Impressions",
                                "Lb",
                                "M",
                                "Pack",
                                "Pages",
                                "Pieces",
                                "Quantity",
                                "Reams",
                                "Sheet",
                                "Spiral Binder",
                                "Sq Ft",
                            ],
                        ),
                        f("Qty Ordered", T::Double),
                        f("Qty in Stock", T::Double),
                        f("Reorder Level", T::Double),
                        f("Qty in Demand", T::Double),
                    ],
                ),
                description(),
            ],
        ),
        module(
            Module::Cases,
            "Cases",
            "Subject",
            vec![
                (
                    "Case Information",
                    vec![
                        f("Case Number", T::AutoNumber).ro(),
                        text("Subject", 255).req(),
                        pick("Status", &["New", "On Hold", "Escalated", "Closed"]).req(),
                        pick("Priority", &["High", "Medium", "Low"]),
                        pick("Case Origin", &["Email", "Phone", "Web"]).req(),
                        pick("Type", &["Problem", "Feature Request", "Question"]),
                        pick(
                            "Case Reason",
                            &[
                                "User did not attend any training",
                                "Complex functionality",
                                "Existing problem",
                                "Instructions not understood",
                                "New problem",
                            ],
                        ),
                        lookup("Product Name", Module::Products, "PRODUCTID"),
                        lookup("Account Name", Module::Accounts, "ACCOUNTID"),
                        lookup("Potential Name", Module::Potentials, "POTENTIALID"),
                        text("Reported By", 100),
                        f("Email", T::Email),
                        f("Phone", T::Phone),
                    ],
                ),
                description(),
                (
                    "Solution Information",
                    vec![f("Solution", T::TextArea), f("Internal Comments", T::TextArea)],
                ),
            ],
        ),
        module(
            Module::Solutions,
            "Solutions",
            "Solution Title",
            vec![
                (
                    "Solution Information",
                    vec![
                        f("Solution Number", T::AutoNumber).ro(),
                        text("Solution Title", 255).req(),
                        pick("Status", &["Draft", "Reviewed", "Published"]),
                        lookup("Product Name", Module::Products, "PRODUCTID"),
                    ],
                ),
                (
                    "Question and Answer",
                    vec![f("Question", T::TextArea).req(), f("Answer", T::TextArea)],
                ),
            ],
        ),
        module(
            Module::Vendors,
            "Vendors",
            "Vendor Name",
            vec![
                (
                    "Vendor Information",
                    vec![
                        text("Vendor Name", 120).req(),
                        f("Phone", T::Phone),
                        f("Email", T::Email),
                        f("Website", T::Website),
                        pick(
                            "GL Account",
                            &[
                                "Sales-Software",
                                "Sales-Hardware",
                                "Rental-Income",
                                "Interest-Income",
                            ],
                        ),
                        text("Category", 100),
                    ],
                ),
                ("Address Information", address("")),
                description(),
            ],
        ),
        inventory(
            Module::Quotes,
            "Quotes",
            vec![
                lookup("Potential Name", Module::Potentials, "POTENTIALID"),
                pick(
                    "Quote Stage",
                    &[
                        "Draft",
                        "Negotiation",
                        "Delivered",
                        "On Hold",
                        "Confirmed",
                        "Closed Won",
                        "Closed Lost",
                    ],
                ),
                f("Valid Till", T::Date),
                lookup("Contact Name", Module::Contacts, "CONTACTID"),
                pick("Carrier", &["FedEX", "UPS", "USPS", "DHL", "BlueDart"]),
                lookup("Account Name", Module::Accounts, "ACCOUNTID").req(),
            ],
        ),
        inventory(
            Module::SalesOrders,
            "Sales Orders",
            vec![
                lookup("Potential Name", Module::Potentials, "POTENTIALID"),
                text("Customer No", 100),
                text("Purchase Order", 100),
                lookup("Quote Name", Module::Quotes, "QUOTEID"),
                lookup("Contact Name", Module::Contacts, "CONTACTID"),
                f("Due Date", T::Date),
                pick("Carrier", &["FedEX", "UPS", "USPS", "DHL", "BlueDart"]),
                pick("Status", &["Created", "Approved", "Delivered", "Cancelled"]),
                f("Sales Commission", T::Currency),
                f("Excise Duty", T::Currency),
                lookup("Account Name", Module::Accounts, "ACCOUNTID").req(),
            ],
        ),
        inventory(
            Module::PurchaseOrders,
            "Purchase Orders",
            vec![
                lookup("Vendor Name", Module::Vendors, "VENDORID").req(),
                text("Requisition No", 100),
                text("Tracking Number", 100),
                lookup("Contact Name", Module::Contacts, "CONTACTID"),
                f("PO Date", T::Date),
                f("Due Date", T::Date),
                pick("Carrier", &["FedEX", "UPS", "USPS", "DHL", "BlueDart"]),
                f("Excise Duty", T::Currency),
                pick("Status", &["Created", "Approved", "Delivered", "Cancelled"]),
                f("Sales Commission", T::Currency),
            ],
        ),
        inventory(
            Module::Invoices,
            "Invoices",
            vec![
                lookup("Sales Order", Module::SalesOrders, "SALESORDERID"),
                text("Purchase Order", 100),
                f("Invoice Date", T::Date),
                f("Due Date", T::Date),
                pick("Status", &["Created", "Approved", "Delivered", "Cancelled"]),
                f("Sales Commission", T::Currency),
                f("Excise Duty", T::Currency),
                lookup("Account Name", Module::Accounts, "ACCOUNTID").req(),
                lookup("Contact Name", Module::Contacts, "CONTACTID"),
            ],
        ),
        module(
            Module::PriceBooks,
            "Price Books",
            "Price Book Name",
            vec![
                (
                    "Price Book Information",
                    vec![
                        text("Price Book Name", 120).req(),
                        f("Active", T::Boolean),
                        pick("Pricing Model", &["Flat", "Differential"]),
                    ],
                ),
                description(),
            ],
        ),
        module(
            Module::Notes,
            "Notes",
            "Note Title",
            vec![(
                "Note Information",
                vec![
                    text("Note Title", 120),
                    f("Note Content", T::TextArea).req(),
                    text("SEMODULE", 50),
                    {
                        let mut parent = FieldDef::new("Parent Name", T::Lookup);
                        parent.lookup = Some((LookupTarget::Any, "SEID".to_owned()));
                        F(parent)
                    },
                ],
            )],
        ),
    ]
}

fn inventory(m: Module, plural: &str, specific: Vec<F>) -> ModuleDef {
    let mut info = vec![text("Subject", 255).req()];
    info.extend(specific);
    info.extend(totals());
    let singular = m.singular().into_owned();
    let mut sections: Vec<(&str, Vec<F>)> = Vec::new();
    let title: &'static str = match m {
        Module::Quotes => "Quote Information",
        Module::SalesOrders => "Sales Order Information",
        Module::PurchaseOrders => "Purchase Order Information",
        _ => "Invoice Information",
    };
    debug_assert!(title.starts_with(singular.as_str()));
    sections.push((title, info));
    inventory_tail(&mut sections);
    module(m, plural, "Subject", sections)
}

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
