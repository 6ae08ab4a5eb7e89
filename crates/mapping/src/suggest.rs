//! A first map for a source file (`zcrm init`): each column matched to the field whose label
//! or API name is nearest (case, spaces, underscores and punctuation ignored, then common
//! synonyms such as "surname" → Last Name, then near spellings), date formats guessed from a
//! sample of the rows, picklist values checked against the field's list, the module's required
//! fields that no column matched, and the columns that matched nothing. A column named like an
//! id (`contact_id`, `AccountId`, `legacy id`) is never matched by a near spelling (an id is not
//! a name): the first whose sample values are unique is the step's key, and the others are keys
//! of other files, each with the lookup field its name points at.

use std::collections::HashSet;

use zcrm_protocol::{FieldMeta, FieldType, ModuleFields};

/// How a column was matched to its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// The column's name is the field's label or API name (case, spaces and punctuation aside).
    Name,
    /// A common synonym ("surname" for Last Name).
    Synonym,
    /// A near spelling.
    Near,
}

/// One suggested map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedEntry {
    /// The field's label.
    pub field: String,
    /// The source column.
    pub column: String,
    /// How it was matched.
    pub how: Matched,
    /// The column holds a user's e-mail or name for the owner field (`{ owner = ... }`).
    pub owner: bool,
    /// The strftime format the sample's dates are in, when not ISO 8601.
    pub date_format: Option<String>,
    /// What the user should know about this entry (ambiguous dates, values not in a picklist).
    pub notes: Vec<String>,
}

/// A suggested map for a source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suggestion {
    /// Entries in the source's column order.
    pub entries: Vec<SuggestedEntry>,
    /// Required fields no column matched (labels).
    pub missing_required: Vec<String>,
    /// Columns that matched no field, each with the nearest field if any.
    pub unmatched: Vec<(String, Option<String>)>,
    /// A column that identifies rows (named like an id, unique and non-empty in the sample).
    pub key: Option<String>,
    /// Other columns named like an id: keys of other files, with the lookup field of this
    /// module their name points at (`account_id` → Account Name), if any.
    pub references: Vec<(String, Option<String>)>,
}

/// Common names for standard fields: the normalised column name, then candidate labels in
/// order (the first the module has wins).
const SYNONYMS: &[(&[&str], &[&str])] = &[
    (&["surname", "lastname", "familyname", "last", "nachname", "nom"], &["Last Name"]),
    (&["firstname", "givenname", "forename", "first", "vorname", "prenom"], &["First Name"]),
    (&["email", "emailaddress", "mail", "emailid", "primaryemail"], &["Email"]),
    (&["phone", "telephone", "tel", "phonenumber", "workphone", "officephone"], &["Phone"]),
    (&["mobile", "cell", "cellphone", "mobilephone", "mobilenumber"], &["Mobile"]),
    (
        &["company", "organisation", "organization", "employer", "companyname", "org"],
        &["Company", "Account Name"],
    ),
    (&["account", "accountname", "customer", "client"], &["Account Name", "Company"]),
    (&["title", "jobtitle", "position", "role"], &["Designation", "Title"]),
    (&["website", "url", "web", "homepage", "site"], &["Website"]),
    (
        &["zip", "zipcode", "postcode", "postalcode", "plz"],
        &["Zip Code", "Mailing Zip", "Billing Code"],
    ),
    (&["city", "town"], &["City", "Mailing City", "Billing City"]),
    (&["state", "province", "region", "county"], &["State", "Mailing State", "Billing State"]),
    (&["country", "nation"], &["Country", "Mailing Country", "Billing Country"]),
    (
        &["street", "address", "address1", "streetaddress", "addressline1"],
        &["Street", "Mailing Street", "Billing Street"],
    ),
    (&["notes", "note", "comments", "comment", "description", "remarks"], &["Description"]),
    (&["source", "leadsource", "origin", "channel"], &["Lead Source"]),
    (&["revenue", "annualrevenue", "turnover"], &["Annual Revenue"]),
    (
        &["employees", "headcount", "noofemployees", "staff", "numberofemployees"],
        &["No of Employees", "Employees"],
    ),
    (&["industry", "sector"], &["Industry"]),
    (&["status", "leadstatus"], &["Lead Status"]),
    (&["salutation", "prefix", "honorific"], &["Salutation"]),
    (&["dob", "birthday", "dateofbirth", "birthdate"], &["Date of Birth"]),
    (&["secondaryemail", "email2", "otheremail"], &["Secondary Email"]),
    (&["skype", "skypeid"], &["Skype ID"]),
    (&["deal", "dealname", "opportunity", "opportunityname", "potential"], &["Potential Name"]),
    (&["close", "closedate", "closing", "expectedclose"], &["Closing Date"]),
    (&["amount", "value", "dealvalue", "dealamount"], &["Amount"]),
    (&["stage", "dealstage", "salesstage"], &["Stage"]),
    (&["product", "productname", "item"], &["Product Name"]),
    (&["sku", "productcode", "itemcode"], &["Product Code"]),
    (&["price", "unitprice", "listprice"], &["Unit Price"]),
    (&["subject", "topic"], &["Subject"]),
    (
        &["optout", "emailoptout", "unsubscribed", "unsubscribe", "donotemail", "noemail"],
        &["Email Opt Out"],
    ),
];

/// The field a column named just "name" means: the module's own name field, a text field
/// whose label ends in " Name" (Account Name, Potential Name, Product Name...), the required
/// one first; never a person's First or Last Name.
fn name_field<'a, 'f>(all: &'a [&'f FieldMeta]) -> Option<&'a &'f FieldMeta> {
    let named = |f: &&&FieldMeta| {
        f.field_type == FieldType::Text
            && f.label.ends_with(" Name")
            && !matches!(f.label.as_str(), "First Name" | "Last Name" | "Full Name")
    };
    all.iter().filter(named).find(|f| f.required).or_else(|| all.iter().find(named))
}

/// Column names that mean "the owner" (matched to the module's owner field by e-mail or name).
const OWNER_NAMES: &[&str] =
    &["owner", "owneremail", "ownername", "salesrep", "assignedto", "accountmanager", "rep"];

/// Column names that identify a row.
const KEY_NAMES: &[&str] = &["id", "key", "legacyid", "externalid", "sourceid", "recordid", "uid"];

/// Whether a column is named like an id: one of [`KEY_NAMES`], or a name ending in an `id`
/// word (`contact_id`, `Account ID`, `leadId`, `VENDORID`) — not a word that merely ends in
/// "id" (`paid`, `valid`).
fn id_like(header: &str) -> bool {
    let h = header.trim();
    if KEY_NAMES.contains(&norm(h).as_str()) {
        return true;
    }
    let lower = h.to_ascii_lowercase();
    let Some(stem) = lower.strip_suffix("id") else { return false };
    let word = match h[..stem.len()].chars().next_back() {
        Some(c) if !c.is_ascii_alphanumeric() => true,
        // `leadId`, `leadID`: a lower-case letter before a capital I.
        Some(c) => c.is_ascii_lowercase() && h[stem.len()..].starts_with('I'),
        None => false,
    };
    // `VENDORID`: an upper-case name ending in ID.
    word || (h.len() > 2 && h.chars().all(|c| !c.is_ascii_lowercase()) && h.ends_with("ID"))
}

/// What an id-like column names, in lower-case letters and digits: `account_id` → `account`,
/// `SalesOrderID` → `salesorder` (`None` for a bare `id`).
pub fn id_stem(column: &str) -> Option<String> {
    let n = norm(column);
    let stem = n.strip_suffix("id").unwrap_or(&n);
    (!stem.is_empty()).then(|| stem.to_owned())
}

/// The lookup field of this module an id-like column's name points at: `account_id` →
/// Account Name (its stem is a synonym of the field, or starts the field's label).
fn referenced<'f>(header: &str, lookups: &[&'f FieldMeta]) -> Option<&'f FieldMeta> {
    let stem = id_stem(header)?;
    let stem = stem.as_str();
    let by_synonym = SYNONYMS
        .iter()
        .find(|(names, _)| names.contains(&stem))
        .and_then(|(_, labels)| labels.iter().find_map(|l| lookups.iter().find(|f| f.label == *l)));
    by_synonym.or_else(|| lookups.iter().find(|f| norm(&f.label).starts_with(stem))).copied()
}

/// Lower-case letters and digits only: `E-mail Address` → `emailaddress`.
fn norm(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Date formats tried on a sample, in order (ISO first: it needs no `date_format`).
const DATE_FORMATS: &[&str] =
    &["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y"];

/// The first format every non-empty sample value parses with: `None` for ISO dates (the
/// default), with a note when day-first and month-first both fit.
fn guess_date(values: &[&str], date_time: bool) -> (Option<String>, Vec<String>) {
    let values: Vec<&str> = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return (None, Vec::new());
    }
    let times: &[&str] = if date_time { &[" %H:%M:%S", " %H:%M", "T%H:%M:%S", ""] } else { &[""] };
    let fits = |fmt: &str| {
        values.iter().all(|v| {
            if date_time {
                jiff::civil::DateTime::strptime(fmt, v).is_ok()
                    || jiff::civil::Date::strptime(fmt, v).is_ok()
            } else {
                jiff::civil::Date::strptime(fmt, v).is_ok()
            }
        })
    };
    for date in DATE_FORMATS {
        for time in times {
            let fmt = format!("{date}{time}");
            if !fits(&fmt) {
                continue;
            }
            if *date == "%Y-%m-%d" {
                return (None, Vec::new());
            }
            let mut notes = Vec::new();
            let swapped = match *date {
                "%d/%m/%Y" => Some("%m/%d/%Y"),
                "%d-%m-%Y" => Some("%m-%d-%Y"),
                _ => None,
            };
            if let Some(other) = swapped
                && fits(&format!("{other}{time}"))
            {
                notes.push(format!(
                    "every sample date reads day-first and month-first alike: assumed {fmt} (day first); use {other}{time} if months come first"
                ));
            }
            return (Some(fmt), notes);
        }
    }
    (None, vec!["no date format fits every sample value: check the column".to_owned()])
}

/// Sample values of a picklist column that are not among the field's choices (any case).
fn off_list(f: &FieldMeta, values: &[&str]) -> Vec<String> {
    let choices: HashSet<String> = f.picklist.iter().map(|c| c.to_lowercase()).collect();
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let items: Vec<&str> =
            if f.field_type == FieldType::MultiPickList { v.split(';').collect() } else { vec![v] };
        for item in items {
            let item = item.trim();
            if !item.is_empty()
                && !choices.contains(&item.to_lowercase())
                && !out.iter().any(|o| o == item)
            {
                out.push(item.to_owned());
            }
        }
    }
    out
}

fn writable(f: &FieldMeta) -> bool {
    !f.read_only && !f.field_type.is_computed()
}

/// Suggests a map for a source with `headers` and `sample` rows (cells by column index) onto
/// a module with `fields`.
pub fn suggest_map(
    headers: &[String],
    sample: &[Vec<String>],
    fields: &ModuleFields,
) -> Suggestion {
    let all: Vec<&FieldMeta> = fields.fields().map(|(_, f)| f).filter(|f| writable(f)).collect();
    let owner_field = all.iter().find(|f| f.field_type == FieldType::OwnerLookup).copied();
    let lookups: Vec<&FieldMeta> =
        all.iter().filter(|f| f.field_type == FieldType::Lookup).copied().collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut out = Suggestion::default();
    let column_values = |i: usize| -> Vec<&str> {
        sample.iter().filter_map(|r| r.get(i).map(String::as_str)).collect()
    };
    for (i, header) in headers.iter().enumerate() {
        let n = norm(header);
        let by_name = all.iter().find(|f| {
            norm(&f.label) == n
                || norm(&f.display_label) == n
                || f.api_name.as_deref().is_some_and(|a| norm(a) == n)
        });
        let by_synonym = || {
            SYNONYMS
                .iter()
                .find(|(names, _)| names.contains(&n.as_str()))
                .and_then(|(_, labels)| {
                    labels.iter().find_map(|l| all.iter().find(|f| f.label == *l))
                })
                .or_else(|| if n == "name" { name_field(&all) } else { None })
        };
        let by_near = || {
            let labels = all.iter().map(|f| f.label.as_str());
            crate::did_you_mean(header, labels).and_then(|l| all.iter().find(|f| f.label == l))
        };
        let owner = OWNER_NAMES.contains(&n.as_str());
        // An id is not a name: a near spelling of a field is no match for it.
        let is_id = id_like(header);
        let found = match (owner, owner_field) {
            (true, Some(f)) => Some((f, Matched::Synonym)),
            _ => by_name
                .map(|f| (*f, Matched::Name))
                .or_else(|| by_synonym().map(|f| (*f, Matched::Synonym)))
                .or_else(|| if is_id { None } else { by_near().map(|f| (*f, Matched::Near)) }),
        };
        match found {
            Some((f, how)) if used.insert(f.label.clone()) => {
                let values = column_values(i);
                let mut e = SuggestedEntry {
                    field: f.label.clone(),
                    column: header.clone(),
                    how,
                    owner: f.field_type == FieldType::OwnerLookup,
                    date_format: None,
                    notes: Vec::new(),
                };
                match f.field_type {
                    FieldType::Date | FieldType::DateTime => {
                        let (fmt, notes) = guess_date(&values, f.field_type == FieldType::DateTime);
                        e.date_format = fmt;
                        e.notes = notes;
                    }
                    FieldType::PickList | FieldType::MultiPickList => {
                        let off = off_list(f, &values);
                        if !off.is_empty() {
                            let shown: Vec<String> =
                                off.iter().take(5).map(|v| format!("{v:?}")).collect();
                            e.notes.push(format!(
                                "{} sample value(s) are not in the picklist ({}{}): map them with values = {{ ... }} or set picklist = \"warn\"",
                                off.len(),
                                shown.join(", "),
                                if off.len() > 5 { ", ..." } else { "" }
                            ));
                        }
                    }
                    _ => {}
                }
                out.entries.push(e);
            }
            Some((f, _)) => out.unmatched.push((header.clone(), Some(f.label.clone()))),
            None => out.unmatched.push((header.clone(), None)),
        }
        let mapped = out.entries.last().is_some_and(|e| e.column == *header);
        if is_id && !mapped {
            let values = column_values(i);
            let unique: HashSet<&str> = values.iter().copied().collect();
            if out.key.is_none()
                && !values.is_empty()
                && values.iter().all(|v| !v.trim().is_empty())
                && unique.len() == values.len()
            {
                out.key = Some(header.clone());
            } else {
                let field = referenced(header, &lookups).map(|f| f.label.clone());
                out.references.push((header.clone(), field));
            }
        }
    }
    // The key column is used (as the step's `key`), and the keys of other files are listed
    // as such, not as columns that matched nothing.
    out.unmatched.retain(|(c, _)| {
        out.key.as_ref() != Some(c) && !out.references.iter().any(|(r, _)| r == c)
    });
    out.missing_required = all
        .iter()
        .filter(|f| f.required && !used.contains(&f.label))
        .map(|f| f.label.clone())
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use zcrm_protocol::Section;

    use super::*;

    fn leads() -> ModuleFields {
        let mut last = FieldMeta::new("Last Name", FieldType::Text);
        last.required = true;
        let mut company = FieldMeta::new("Company", FieldType::Text);
        company.required = true;
        let mut source = FieldMeta::new("Lead Source", FieldType::PickList);
        source.picklist = vec!["Web".into(), "Cold Call".into()];
        let mut created = FieldMeta::new("Created Time", FieldType::DateTime);
        created.read_only = true;
        let fields = vec![
            FieldMeta::new("Lead Owner", FieldType::OwnerLookup),
            FieldMeta::new("First Name", FieldType::Text),
            last,
            company,
            FieldMeta::new("Email", FieldType::Email),
            source,
            FieldMeta::new("Date of Birth", FieldType::Date),
            created,
        ];
        ModuleFields {
            module: "Leads".into(),
            sections: vec![Section { name: "s".into(), display_name: "s".into(), fields }],
        }
    }

    fn cols(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_synonyms_and_near_spellings_find_their_fields() {
        let headers = cols(&[
            "legacy_id",
            "Surname",
            "first_name",
            "E-mail",
            "lead source",
            "owner",
            "Birthday",
            "shoe size",
            "Emial",
        ]);
        let sample = vec![
            cols(&["L1", "Lee", "Ann", "a@x.com", "web", "ann@x.com", "31/12/1980", "42", "x"]),
            cols(&["L2", "Ray", "Bob", "b@x.com", "Fair", "bob@x.com", "01/02/1975", "40", "y"]),
        ];
        let s = suggest_map(&headers, &sample, &leads());
        let got: Vec<(&str, &str, Matched)> =
            s.entries.iter().map(|e| (e.column.as_str(), e.field.as_str(), e.how)).collect();
        assert_eq!(
            got,
            [
                ("Surname", "Last Name", Matched::Synonym),
                ("first_name", "First Name", Matched::Name),
                ("E-mail", "Email", Matched::Name),
                ("lead source", "Lead Source", Matched::Name),
                ("owner", "Lead Owner", Matched::Synonym),
                ("Birthday", "Date of Birth", Matched::Synonym),
            ]
        );
        assert!(s.entries[4].owner);
        assert_eq!(s.entries[5].date_format.as_deref(), Some("%d/%m/%Y"), "31/12 is day first");
        assert!(s.entries[5].notes.is_empty(), "31 cannot be a month");
        assert!(s.entries[3].notes[0].contains("\"Fair\""), "{:?}", s.entries[3].notes);
        assert_eq!(s.key.as_deref(), Some("legacy_id"));
        assert_eq!(s.missing_required, ["Company"]);
        // "Emial" is near Email, which "E-mail" already took.
        assert!(s.unmatched.contains(&("Emial".into(), Some("Email".into()))), "{:?}", s.unmatched);
        assert!(s.unmatched.contains(&("shoe size".into(), None)), "{:?}", s.unmatched);
    }

    fn contacts() -> ModuleFields {
        let mut last = FieldMeta::new("Last Name", FieldType::Text);
        last.required = true;
        let fields = vec![
            FieldMeta::new("Contact Owner", FieldType::OwnerLookup),
            FieldMeta::new("First Name", FieldType::Text),
            last,
            FieldMeta::new("Email", FieldType::Email),
            FieldMeta::new("Account Name", FieldType::Lookup),
            FieldMeta::new("Vendor Name", FieldType::Lookup),
            FieldMeta::new("Title", FieldType::Text),
            FieldMeta::new("Paid", FieldType::Boolean),
        ];
        ModuleFields {
            module: "Contacts".into(),
            sections: vec![Section { name: "s".into(), display_name: "s".into(), fields }],
        }
    }

    /// `contact_id` is the key, not a near spelling of Contact Owner; `account_id` is a key of
    /// another file pointing at Account Name, not a near spelling of it; `paid` is no id.
    #[test]
    fn id_columns_are_keys_and_references_never_near_spellings() {
        let headers =
            cols(&["contact_id", "first", "last", "email", "account_id", "paid", "vendorId"]);
        let sample = vec![
            cols(&["C-1", "Ann", "Lee", "a@x.com", "A-2", "true", "V1"]),
            cols(&["C-2", "Bob", "Ray", "b@x.com", "A-2", "false", "V1"]),
        ];
        let s = suggest_map(&headers, &sample, &contacts());
        let got: Vec<(&str, &str)> =
            s.entries.iter().map(|e| (e.column.as_str(), e.field.as_str())).collect();
        assert_eq!(
            got,
            [("first", "First Name"), ("last", "Last Name"), ("email", "Email"), ("paid", "Paid")]
        );
        assert_eq!(s.key.as_deref(), Some("contact_id"));
        assert_eq!(
            s.references,
            [
                ("account_id".to_owned(), Some("Account Name".to_owned())),
                ("vendorId".to_owned(), Some("Vendor Name".to_owned())),
            ]
        );
        assert!(s.unmatched.is_empty(), "{:?}", s.unmatched);
        for (h, want) in [
            ("contact_id", true),
            ("Account ID", true),
            ("leadId", true),
            ("VENDORID", true),
            ("legacy id", true),
            ("uid", true),
            ("paid", false),
            ("Valid", false),
            ("id", true),
        ] {
            assert_eq!(id_like(h), want, "{h}");
        }
    }

    /// A column named "name" is the module's own name field (Potential Name, the required
    /// text field ending in " Name"), never a lookup or a person's name; opt-out columns are
    /// Email Opt Out.
    #[test]
    fn a_name_column_is_the_modules_name_field() {
        let mut name = FieldMeta::new("Potential Name", FieldType::Text);
        name.required = true;
        let fields = vec![
            FieldMeta::new("Account Name", FieldType::Lookup),
            FieldMeta::new("Campaign Source Name", FieldType::Text),
            name,
            FieldMeta::new("Email Opt Out", FieldType::Boolean),
        ];
        let deals = ModuleFields {
            module: "Potentials".into(),
            sections: vec![Section { name: "s".into(), display_name: "s".into(), fields }],
        };
        let s = suggest_map(&cols(&["name", "opt_out"]), &[], &deals);
        let got: Vec<(&str, &str)> =
            s.entries.iter().map(|e| (e.column.as_str(), e.field.as_str())).collect();
        assert_eq!(got, [("name", "Potential Name"), ("opt_out", "Email Opt Out")]);
        assert!(s.missing_required.is_empty());
        // Leads' only " Name" text fields are a person's: "name" stays unmatched.
        let s = suggest_map(&cols(&["name"]), &[], &leads());
        assert!(s.entries.is_empty(), "{:?}", s.entries);
    }

    #[test]
    fn ambiguous_dates_say_so_and_iso_dates_need_no_format() {
        let (fmt, notes) = guess_date(&["01/02/2020", "03/04/2021"], false);
        assert_eq!(fmt.as_deref(), Some("%d/%m/%Y"));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(guess_date(&["2020-01-02", ""], false), (None, Vec::new()));
        assert_eq!(guess_date(&["12/31/2020"], false).0.as_deref(), Some("%m/%d/%Y"));
        assert_eq!(
            guess_date(&["2020-01-02 10:30"], true).0,
            None,
            "ISO date-times are the default"
        );
        assert_eq!(guess_date(&["02.01.2020 10:30"], true).0.as_deref(), Some("%d.%m.%Y %H:%M"));
    }
}
