//! convertLead: the lead becomes a contact and an account (found by name or created), and
//! optionally a potential; the lead leaves the Leads module. The potential row takes the labels
//! of Zoho's documented sample (`Potential Stage`) as well as the layout's (`Stage`).

use rusqlite::Transaction;
use zcrm_protocol::error::ApiCode;
use zcrm_protocol::params::required_id;
use zcrm_protocol::response::misc::ConvertResult;
use zcrm_protocol::{RecordId, decode_xml_data};

use super::write::create;
use super::{Call, Fail, Reply, validate};
use crate::store::records;

fn row_fail(e: zcrm_protocol::ApiError) -> Fail {
    Fail::new(e.code, e.message)
}

/// Labels of Zoho's convertLead documentation that the Potentials layout names otherwise:
/// (documented, current). Both are accepted; the current one wins when a row has both.
const DOCUMENTED_LABELS: &[(&str, &str)] = &[("Potential Stage", "Stage")];

/// The potential row's fields under the layout's labels, without the ids set by the conversion.
fn potential_fields(row: &zcrm_protocol::xmldata::XmlDataRow) -> Vec<(String, String)> {
    let has = |label: &str| row.fields.iter().any(|(k, _)| k == label);
    row.fields
        .iter()
        .filter(|(k, _)| k != "ACCOUNTID" && k != "CONTACTID")
        .filter_map(|(k, v)| match DOCUMENTED_LABELS.iter().find(|(doc, _)| doc == k) {
            Some((_, current)) if has(current) => None,
            Some((_, current)) => Some(((*current).to_owned(), v.clone())),
            None => Some((k.clone(), v.clone())),
        })
        .collect()
}

/// What a conversion is asked to do, whichever face asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversion {
    /// An existing account (else the one named like the lead's company, else a new one).
    pub account: Option<u64>,
    /// An existing contact to convert into (else a new one).
    pub contact: Option<u64>,
    /// The potential's fields under the layout's labels (`None`: no potential).
    pub potential: Option<Vec<(String, String)>>,
    /// Owner of the records the conversion creates (`None`: the caller).
    pub owner: Option<u64>,
}

/// The records a conversion produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    /// The contact.
    pub contact: u64,
    /// The account.
    pub account: u64,
    /// The potential, when one was asked for.
    pub potential: Option<u64>,
}

/// Why a conversion failed; nothing it wrote is to be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertFail {
    /// The given account is not a live account.
    UnknownAccount,
    /// The given contact is not a live contact.
    UnknownContact,
    /// A record the conversion writes is invalid: the module (XML name) and the error.
    Invalid(&'static str, zcrm_protocol::ApiError),
    /// A store failure.
    Fail(Fail),
}

impl From<Fail> for ConvertFail {
    fn from(f: Fail) -> Self {
        Self::Fail(f)
    }
}

impl From<rusqlite::Error> for ConvertFail {
    fn from(e: rusqlite::Error) -> Self {
        Self::Fail(e.into())
    }
}

/// The meta key of a converted lead's records.
fn conversion_key(lead: u64) -> String {
    format!("converted:{lead}")
}

/// The records a converted lead became (contact, account, potential), as recorded by
/// [`convert`]; `None` for a lead not converted (or converted before this was recorded).
pub fn converted_into(
    conn: &rusqlite::Connection,
    lead: u64,
) -> rusqlite::Result<Option<Converted>> {
    let Some(text) = crate::store::meta_get(conn, &conversion_key(lead))? else { return Ok(None) };
    let mut parts = text.split(',').map(|p| p.parse::<u64>().ok());
    Ok(match (parts.next().flatten(), parts.next().flatten(), parts.next()) {
        (Some(contact), Some(account), potential) => {
            Some(Converted { contact, account, potential: potential.flatten() })
        }
        _ => None,
    })
}

/// Converts live lead `lead`: the account (given, found by the company's name, or created from
/// the lead), the contact (given or created), the potential when asked; the lead leaves the
/// Leads module and what it became is recorded ([`converted_into`]). On an error the caller
/// discards what was written.
pub fn convert(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    lead: &records::Rec,
    req: &Conversion,
) -> Result<Converted, ConvertFail> {
    let (Some(accounts), Some(contacts), Some(potentials)) = (
        c.st.schema.module("Accounts"),
        c.st.schema.module("Contacts"),
        c.st.schema.module("Potentials"),
    ) else {
        return Err(Fail::internal().into());
    };
    let owned = |mut fields: Vec<(String, String)>| {
        if let Some(o) = req.owner {
            fields.push(("SMOWNERID".to_owned(), o.to_string()));
        }
        fields
    };
    let make = |def: &crate::schema::ModuleDef,
                module: &'static str,
                fields: Vec<(String, String)>|
     -> Result<u64, ConvertFail> {
        let ch = validate::row(c, tx, def, &owned(fields))
            .map_err(|e| ConvertFail::Invalid(module, e))?;
        Ok(create(c, tx, def, &ch, None)?.map_err(|e| ConvertFail::Invalid(module, e))?.id)
    };
    let company = lead.get("Company").unwrap_or_default().to_owned();
    let account_id = match req.account {
        Some(id) => records::get_live(tx, Some("Accounts"), id)?
            .map(|r| r.id)
            .ok_or(ConvertFail::UnknownAccount)?,
        None => match records::find_dup(tx, "Accounts", &company.trim().to_lowercase())? {
            Some(r) => r.id,
            None => {
                let mut fields = vec![("Account Name".to_owned(), company.clone())];
                for (from, to) in [
                    ("Phone", "Phone"),
                    ("Fax", "Fax"),
                    ("Website", "Website"),
                    ("Industry", "Industry"),
                    ("Annual Revenue", "Annual Revenue"),
                    ("No of Employees", "Employees"),
                    ("Street", "Billing Street"),
                    ("City", "Billing City"),
                    ("State", "Billing State"),
                    ("Zip Code", "Billing Code"),
                    ("Country", "Billing Country"),
                ] {
                    if let Some(v) = lead.get(from) {
                        fields.push((to.to_owned(), v.to_owned()));
                    }
                }
                make(accounts, "Accounts", fields)?
            }
        },
    };
    let contact_id = match req.contact {
        Some(id) => records::get_live(tx, Some("Contacts"), id)?
            .map(|r| r.id)
            .ok_or(ConvertFail::UnknownContact)?,
        None => {
            let mut fields = vec![("ACCOUNTID".to_owned(), account_id.to_string())];
            for (from, to) in [
                ("First Name", "First Name"),
                ("Last Name", "Last Name"),
                ("Email", "Email"),
                ("Phone", "Phone"),
                ("Mobile", "Mobile"),
                ("Fax", "Fax"),
                ("Designation", "Title"),
                ("Lead Source", "Lead Source"),
                ("Salutation", "Salutation"),
                ("Street", "Mailing Street"),
                ("City", "Mailing City"),
                ("State", "Mailing State"),
                ("Zip Code", "Mailing Zip"),
                ("Country", "Mailing Country"),
                ("Description", "Description"),
            ] {
                if let Some(v) = lead.get(from) {
                    fields.push((to.to_owned(), v.to_owned()));
                }
            }
            make(contacts, "Contacts", fields)?
        }
    };
    let potential = match &req.potential {
        Some(given) => {
            let mut fields = given.clone();
            fields.push(("ACCOUNTID".to_owned(), account_id.to_string()));
            fields.push(("CONTACTID".to_owned(), contact_id.to_string()));
            Some(make(potentials, "Potentials", fields)?)
        }
        None => None,
    };
    records::set_state(tx, "Leads", lead.id, records::CONVERTED, c.now)?;
    let record = format!(
        "{contact_id},{account_id},{}",
        potential.map(|p| p.to_string()).unwrap_or_default()
    );
    crate::store::meta_set(tx, &conversion_key(lead.id), &record)?;
    Ok(Converted { contact: contact_id, account: account_id, potential })
}

/// convertLead.
pub fn convert_lead(c: &Call<'_>, tx: &Transaction<'_>) -> Result<Reply, Fail> {
    let lead_id = required_id(c.params, "leadId")?.0;
    let lead =
        records::get_live(tx, Some("Leads"), lead_id)?.ok_or_else(|| Fail::bad_param("leadId"))?;
    let data = match c.params.get("xmlData").filter(|x| !x.trim().is_empty()) {
        Some(x) => Some(decode_xml_data(x).map_err(|e| {
            Fail::new(ApiCode::XmlParseError, format!("Unable to parse XML data : {e}"))
        })?),
        None => None,
    };
    let option = |name: &str| {
        data.as_ref()
            .and_then(|d| d.rows.first())
            .and_then(|r| r.options.iter().find(|(k, _)| k == name))
            .map(|(_, v)| v.trim().eq_ignore_ascii_case("true"))
    };
    let create_potential = option("createPotential").unwrap_or(false);
    let potential_row = data.as_ref().and_then(|d| d.rows.get(1));
    let account =
        potential_row.and_then(|r| r.get("ACCOUNTID")).and_then(|v| v.trim().parse::<u64>().ok());
    let potential = if create_potential {
        Some(potential_fields(potential_row.ok_or_else(|| Fail::bad_param("xmlData"))?))
    } else {
        None
    };
    let req = Conversion { account, contact: None, potential, owner: None };
    let done = convert(c, tx, &lead, &req).map_err(|e| match e {
        ConvertFail::UnknownAccount => Fail::bad_param("ACCOUNTID"),
        ConvertFail::UnknownContact => Fail::bad_param("CONTACTID"),
        ConvertFail::Invalid(_, e) => row_fail(e),
        ConvertFail::Fail(f) => f,
    })?;
    ConvertResult {
        contact: RecordId(done.contact),
        account: RecordId(done.account),
        potential: done.potential.map(RecordId),
    }
    .encode()
    .map(Reply::Xml)
    .map_err(|_| Fail::internal())
}
