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
    let (Some(accounts), Some(contacts), Some(potentials)) = (
        c.st.schema.module("Accounts"),
        c.st.schema.module("Contacts"),
        c.st.schema.module("Potentials"),
    ) else {
        return Err(Fail::internal());
    };
    let given_account =
        potential_row.and_then(|r| r.get("ACCOUNTID")).and_then(|v| v.trim().parse::<u64>().ok());
    let company = lead.get("Company").unwrap_or_default().to_owned();
    let account_id = match given_account {
        Some(id) => records::get_live(tx, Some("Accounts"), id)?
            .map(|r| r.id)
            .ok_or_else(|| Fail::bad_param("ACCOUNTID"))?,
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
                let ch = validate::row(c, tx, accounts, &fields).map_err(row_fail)?;
                create(c, tx, accounts, &ch, None)?.map_err(row_fail)?.id
            }
        },
    };
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
    let ch = validate::row(c, tx, contacts, &fields).map_err(row_fail)?;
    let contact_id = create(c, tx, contacts, &ch, None)?.map_err(row_fail)?.id;
    let potential = if create_potential {
        let row = potential_row.ok_or_else(|| Fail::bad_param("xmlData"))?;
        let mut fields = potential_fields(row);
        fields.push(("ACCOUNTID".to_owned(), account_id.to_string()));
        fields.push(("CONTACTID".to_owned(), contact_id.to_string()));
        let ch = validate::row(c, tx, potentials, &fields).map_err(row_fail)?;
        Some(RecordId(create(c, tx, potentials, &ch, None)?.map_err(row_fail)?.id))
    } else {
        None
    };
    records::set_state(tx, "Leads", lead_id, records::CONVERTED, c.now)?;
    ConvertResult { contact: RecordId(contact_id), account: RecordId(account_id), potential }
        .encode()
        .map(Reply::Xml)
        .map_err(|_| Fail::internal())
}
