//! Server-side validation of one xmlData row (docs/protocol.md contract decision 7): types, formats
//! and lengths (4832), lookups that must exist (4832), read-only and system fields silently
//! ignored, unknown picklist values accepted; then merging into a record with its system fields
//! and the mandatory check (4891).

use std::collections::HashMap;

use rusqlite::Connection;
use zcrm_protocol::error::{ApiCode, ApiError};
use zcrm_protocol::field::FieldType;
use zcrm_protocol::messages;
use zcrm_protocol::{Direction, RecordId, Value};

use super::Call;
use crate::schema::{LookupTarget, ModuleDef};
use crate::store::records::{self, Rec};

/// 4832 for `label`.
pub fn wrong_value(label: &str) -> ApiError {
    ApiError::new(ApiCode::WrongValue, messages::wrong_value(label))
}

/// 4891 for `label`.
pub fn mandatory_missing(label: &str) -> ApiError {
    ApiError::new(ApiCode::MandatoryFieldMissingRow, messages::mandatory_missing(label))
}

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.contains(char::is_whitespace)
}

/// The name a record shows in lookups pointing at it.
pub fn display_name(def: Option<&ModuleDef>, rec: &Rec) -> String {
    let name = def.map(|d| d.name_field.as_str()).unwrap_or("Subject");
    if name == "Last Name" {
        let first = rec.get("First Name").unwrap_or_default();
        let last = rec.get("Last Name").unwrap_or_default();
        return format!("{first} {last}").trim().to_owned();
    }
    rec.get(name).unwrap_or_default().to_owned()
}

/// Validated changes of one row: key → canonical text (`None` clears).
pub type Changes = Vec<(String, Option<String>)>;

/// The key a sent label stands for: Notes take their parent as `entityId` (Zoho's documented
/// field, any case) as well as `SEID`.
fn key_of<'l>(def: &ModuleDef, sent: &'l str) -> &'l str {
    if def.module == zcrm_protocol::Module::Notes && sent.eq_ignore_ascii_case("entityId") {
        "SEID"
    } else {
        sent
    }
}

/// Validates the FLs of a row against `def`.
pub fn row(
    c: &Call<'_>,
    conn: &Connection,
    def: &ModuleDef,
    fields: &[(String, String)],
) -> Result<Changes, ApiError> {
    let mut out: Changes = Vec::with_capacity(fields.len() + 4);
    for (sent, raw) in fields {
        let text = raw.trim();
        let label = key_of(def, sent);
        if let Some(f) = def.by_id_column(label) {
            if f.read_only || f.system {
                continue;
            }
            if text.is_empty() {
                out.push((label.to_owned(), None));
                out.push((f.label.clone(), None));
                continue;
            }
            let id: RecordId = text.parse().map_err(|_| wrong_value(sent))?;
            let Some((target, _)) = &f.lookup else { continue };
            let name = match target {
                LookupTarget::User => {
                    c.st.schema.user(id.0).filter(|u| u.active).map(|u| u.name.clone())
                }
                LookupTarget::Module(m) => {
                    let m = m.api_name();
                    records::get_live(conn, Some(&m), id.0)
                        .map_err(|_| wrong_value(sent))?
                        .map(|r| display_name(c.st.schema.module(&m), &r))
                }
                LookupTarget::Any => {
                    records::get_live(conn, None, id.0).map_err(|_| wrong_value(sent))?.map(|r| {
                        let name = display_name(c.st.schema.module(&r.module), &r);
                        out.push(("SEMODULE".to_owned(), Some(r.module.clone())));
                        name
                    })
                }
            };
            let name = name.ok_or_else(|| wrong_value(sent))?;
            out.push((label.to_owned(), Some(id.to_string())));
            out.push((f.label.clone(), Some(name)));
            continue;
        }
        let Some(f) = def.field_loose(label) else { continue };
        if f.read_only || f.system || f.ty.is_computed() {
            continue;
        }
        if text.is_empty() {
            out.push((f.label.clone(), None));
            continue;
        }
        if f.ty == FieldType::OwnerLookup {
            // "Lead Owner" by user name or email.
            let user =
                c.st.schema
                    .users
                    .iter()
                    .find(|u| u.active && (u.name == text || u.email.eq_ignore_ascii_case(text)))
                    .ok_or_else(|| wrong_value(&f.label))?;
            if let Some(col) = f.id_column() {
                out.push((col.to_owned(), Some(user.id.to_string())));
            }
            out.push((f.label.clone(), Some(user.name.clone())));
            continue;
        }
        let value =
            Value::parse(&f.ty, text, Direction::Input).map_err(|_| wrong_value(&f.label))?;
        let canonical =
            value.to_text(Direction::Output).map_err(|_| wrong_value(&f.label))?.into_owned();
        if let Some(max) = f.max_length
            && !f.ty.is_decimal()
            && !matches!(
                f.ty,
                FieldType::Integer
                    | FieldType::LongInteger
                    | FieldType::Date
                    | FieldType::DateTime
                    | FieldType::Boolean
            )
            && canonical.chars().count() > max as usize
        {
            return Err(wrong_value(&f.label));
        }
        if f.ty == FieldType::Email && !email_ok(&canonical) {
            return Err(wrong_value(&f.label));
        }
        if f.ty == FieldType::Website && canonical.contains(char::is_whitespace) {
            return Err(wrong_value(&f.label));
        }
        out.push((f.label.clone(), Some(canonical)));
    }
    Ok(out)
}

/// Applies changes over `base`, fills system fields, checks mandatory fields and returns the
/// record's fields in layout order.
pub fn merge(
    c: &Call<'_>,
    def: &ModuleDef,
    base: &[(String, String)],
    changes: &Changes,
    created: Option<i64>,
) -> Result<Vec<(String, String)>, ApiError> {
    // Borrowed views: key → value (`None`: cleared by a change); only the result is copied.
    let mut map: HashMap<&str, Option<&str>> =
        HashMap::with_capacity(base.len() + changes.len() + 8);
    for (k, v) in base {
        map.insert(k, Some(v));
    }
    for (k, v) in changes {
        map.insert(k, v.as_deref());
    }
    let user = c.user;
    let user_id = user.id.to_string();
    let owner_label = def.owner_label();
    if !matches!(map.get("SMOWNERID"), Some(Some(_))) {
        map.insert("SMOWNERID", Some(&user_id));
        map.insert(&owner_label, Some(&user.name));
    }
    let now = c.time_text(c.now);
    let created_text = created.map(|t| c.time_text(t));
    if let Some(created) = &created_text {
        map.insert("SMCREATORID", Some(&user_id));
        map.insert("Created By", Some(&user.name));
        map.insert("Created Time", Some(created));
    }
    map.insert("MODIFIEDBY", Some(&user_id));
    map.insert("Modified By", Some(&user.name));
    map.insert("Modified Time", Some(&now));
    let present = |k: &str| map.get(k).copied().flatten().is_some_and(|v| !v.trim().is_empty());
    for f in def.fields.iter().filter(|f| f.required) {
        if !present(&f.label) && !f.id_column().is_some_and(present) {
            return Err(mandatory_missing(&f.label));
        }
    }
    let mut out = Vec::with_capacity(map.len());
    for f in &def.fields {
        if let Some(col) = f.id_column()
            && let Some(Some(v)) = map.remove(col)
        {
            out.push((col.to_owned(), v.to_owned()));
        }
        if let Some(Some(v)) = map.remove(f.label.as_str()) {
            out.push((f.label.clone(), v.to_owned()));
        }
    }
    Ok(out)
}

/// The duplicate-check key of a record's fields.
pub fn dupkey(def: &ModuleDef, fields: &[(String, String)]) -> Option<String> {
    let label = def.duplicate_field()?;
    fields
        .iter()
        .find(|(k, _)| k == label)
        .map(|(_, v)| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
}

/// The duplicate-check key of a row's changes.
pub fn changes_dupkey(def: &ModuleDef, changes: &Changes) -> Option<String> {
    let label = def.duplicate_field()?;
    changes
        .iter()
        .find(|(k, _)| k == label)
        .and_then(|(_, v)| v.as_ref())
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
}

/// Record detail FLs: Created Time, Modified Time, Created By, Modified By.
pub fn detail(rec: &Rec) -> zcrm_protocol::RecordDetail {
    let fields = ["Created Time", "Modified Time", "Created By", "Modified By"]
        .iter()
        .map(|l| ((*l).to_owned(), rec.get(l).unwrap_or_default().to_owned()))
        .collect();
    zcrm_protocol::RecordDetail { id: RecordId(rec.id), fields }
}
