//! The demo data of `--seed-demo`, written through the same validation and merge as inserts.

use std::collections::HashMap;

use rusqlite::Transaction;

use super::write::create;
use super::{Call, Fail, validate};
use crate::error::EmulatorError;
use crate::state::State;
use crate::store::records;

const FIRST: &[&str] = &[
    "Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko",
    "Liam", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
];
const LAST: &[&str] = &[
    "Anders", "Brooks", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi",
    "Schmidt", "Tanaka",
];
const WORDS: &[&str] = &[
    "Acme", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
    "Keystone", "Lumen", "Maple", "Nimbus", "Orbit", "Pioneer",
];
const SUFFIX: &[&str] =
    &["Labs", "Systems", "Trading", "Foods", "Logistics", "Health", "Energy", "Media"];
const CITIES: &[&str] =
    &["Austin", "Boston", "Chicago", "Denver", "Seattle", "Portland", "Atlanta", "Miami"];
const STAGES: &[&str] = &[
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
const SOURCES: &[&str] = &["Advertisement", "Cold Call", "Partner", "Trade Show", "Web Form"];
const STATUSES: &[&str] = &["Not Contacted", "Attempted to Contact", "Contacted", "Pre Qualified"];

fn pick<'a>(list: &[&'a str], n: usize) -> &'a str {
    list[n % list.len()]
}

fn f(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

fn insert(
    c: &Call<'_>,
    tx: &Transaction<'_>,
    module: &str,
    fields: &[(String, String)],
) -> Result<u64, Fail> {
    let def = c.st.schema.module(module).ok_or_else(Fail::internal)?;
    let ch = validate::row(c, tx, def, fields).map_err(|e| Fail::new(e.code, e.message))?;
    Ok(create(c, tx, def, &ch, None)?.map_err(|e| Fail::new(e.code, e.message))?.id)
}

/// Writes 300 accounts, 1,200 contacts, 600 potentials and 1,500 leads into an empty store.
pub fn seed_demo(st: &State) -> Result<(), EmulatorError> {
    let params = HashMap::new();
    let empty = st.store.read(records::counts)?.is_empty();
    if !empty {
        return Ok(());
    }
    let base = st.clock.now().as_second() - 90 * 86_400;
    let out = st.store.write(|tx| -> Result<Result<(), Fail>, rusqlite::Error> {
        let mut call = Call {
            st,
            method: zcrm_protocol::Method::InsertRecords,
            module_name: "",
            module: None,
            params: &params,
            upload: None,
            uri: "",
            user: st.schema.admin(),
            now: base,
            xml_data: std::cell::Cell::new(None),
        };
        let run = |call: &mut Call<'_>| -> Result<(), Fail> {
            let mut accounts = Vec::new();
            for i in 0..300usize {
                call.now = base + i as i64 * 60;
                let name = format!("{} {} {}", pick(WORDS, i), pick(SUFFIX, i / 16), i + 1);
                let fields = [
                    f("Account Name", name),
                    f("Phone", format!("+1 555 {:04}", i)),
                    f("Website", format!("https://www.example{i}.com")),
                    f(
                        "Industry",
                        pick(&["ERP", "ASP", "Service Provider", "Systems Integrator"], i),
                    ),
                    f("Employees", ((i * 37) % 5000 + 5).to_string()),
                    f("Annual Revenue", format!("{}.00", (i * 7919) % 900_000 + 10_000)),
                    f("Billing City", pick(CITIES, i)),
                ];
                accounts.push(insert(call, tx, "Accounts", &fields)?);
            }
            let mut contacts = Vec::new();
            for i in 0..1200usize {
                call.now = base + 20_000 + i as i64 * 60;
                let (first, last) = (pick(FIRST, i), pick(LAST, i / 20 + i));
                let fields = [
                    f("First Name", first),
                    f("Last Name", last),
                    f(
                        "Email",
                        format!(
                            "{}.{}{}@example.com",
                            first.to_lowercase(),
                            last.to_lowercase(),
                            i
                        ),
                    ),
                    f("ACCOUNTID", accounts[i / 4].to_string()),
                    f("Title", pick(&["CEO", "CTO", "Buyer", "Engineer", "Analyst"], i)),
                    f("Mailing City", pick(CITIES, i / 4)),
                    f("Lead Source", pick(SOURCES, i)),
                ];
                contacts.push(insert(call, tx, "Contacts", &fields)?);
            }
            for i in 0..600usize {
                call.now = base + 100_000 + i as i64 * 60;
                let day = jiff::civil::date(2024, 1, 1)
                    .checked_add(jiff::Span::new().days((i % 365) as i64))
                    .unwrap_or(jiff::civil::date(2024, 1, 1));
                let fields = [
                    f("Potential Name", format!("Deal {} #{}", pick(WORDS, i / 3), i + 1)),
                    f("Closing Date", day.to_string()),
                    f("Stage", pick(STAGES, i)),
                    f("Amount", format!("{}.00", (i * 1237) % 250_000 + 500)),
                    f("ACCOUNTID", accounts[i / 2].to_string()),
                    f("CONTACTID", contacts[i * 2].to_string()),
                ];
                insert(call, tx, "Potentials", &fields)?;
            }
            for i in 0..1500usize {
                call.now = base + 200_000 + i as i64 * 60;
                let (first, last) = (pick(FIRST, i / 3), pick(LAST, i));
                let fields = [
                    f("First Name", first),
                    f("Last Name", last),
                    f("Company", format!("{} {}", pick(WORDS, i / 7), pick(SUFFIX, i))),
                    f(
                        "Email",
                        format!(
                            "{}.{}.lead{}@example.org",
                            first.to_lowercase(),
                            last.to_lowercase(),
                            i
                        ),
                    ),
                    f("Lead Source", pick(SOURCES, i / 2)),
                    f("Lead Status", pick(STATUSES, i)),
                    f("City", pick(CITIES, i / 5)),
                    f("No of Employees", ((i * 13) % 900 + 1).to_string()),
                ];
                insert(call, tx, "Leads", &fields)?;
            }
            Ok(())
        };
        Ok(run(&mut call))
    })?;
    out.map_err(|e| EmulatorError::Config(format!("seeding demo data: {} {}", e.code, e.message)))
}
