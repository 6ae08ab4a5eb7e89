//! getFields, getUsers, getModules.

use zcrm_protocol::RecordId;
use zcrm_protocol::params::{FieldsFilter, UserType};
use zcrm_protocol::response::misc::{ModuleInfo, User};

use super::{Call, Fail, Reply};

/// getFields (no `<response>` wrapper); version=1 lists the legacy fields.
pub fn get_fields(c: &Call<'_>) -> Result<Reply, Fail> {
    let def = c.def()?;
    let filter = FieldsFilter::read(c.params)?;
    let v1 = matches!(c.params.get("version").map(|v| v.trim()), None | Some("") | Some("1"));
    def.fields_meta(filter, v1).encode().map(Reply::Xml).map_err(|_| Fail::internal())
}

/// The contact attributes of a user; the org's users have none, and real answers carry them as
/// the text `null` (docs/protocol.md §4.17).
const CONTACT_ATTRIBUTES: [&str; 9] =
    ["phone", "mobile", "fax", "website", "street", "city", "state", "zip", "country"];

/// getUsers.
pub fn get_users(c: &Call<'_>) -> Result<Reply, Fail> {
    let kind = UserType::read(c.params)?;
    let tz = c.st.cfg.timezone.clone();
    let users: Vec<User> = c
        .st
        .schema
        .users
        .iter()
        .filter(|u| match kind {
            UserType::AllUsers => true,
            UserType::ActiveUsers => u.active,
            UserType::DeactiveUsers => !u.active,
            UserType::AdminUsers => u.profile == "Administrator",
            UserType::ActiveConfirmedAdmins => u.profile == "Administrator" && u.active,
        })
        .map(|u| {
            let mut attributes = vec![
                ("email".to_owned(), u.email.clone()),
                ("role".to_owned(), u.role.clone()),
                ("profile".to_owned(), u.profile.clone()),
                ("status".to_owned(), if u.active { "active" } else { "deactive" }.to_owned()),
                ("confirm".to_owned(), "true".to_owned()),
                ("zuid".to_owned(), (u.id % 100_000_000).to_string()),
                ("timezone".to_owned(), tz.clone()),
                ("language".to_owned(), "en_US".to_owned()),
            ];
            attributes.extend(CONTACT_ATTRIBUTES.map(|a| (a.to_owned(), "null".to_owned())));
            User { id: RecordId(u.id), name: u.name.clone(), email: u.email.clone(), attributes }
        })
        .collect();
    User::encode_list(&users).map(Reply::Xml).map_err(|_| Fail::internal())
}

/// getModules.
pub fn get_modules(c: &Call<'_>) -> Result<Reply, Fail> {
    let modules: Vec<ModuleInfo> =
        c.st.schema
            .modules
            .values()
            .enumerate()
            .map(|(i, m)| ModuleInfo {
                id: RecordId(900_000_000_000_000_001 + i as u64),
                api_name: m.module.api_name().into_owned(),
                plural: m.plural.clone(),
                singular: m.singular.clone(),
                kind: if m.module.is_custom() { 4 } else { 1 },
            })
            .collect();
    ModuleInfo::encode_list(c.uri, &modules).map(Reply::Xml).map_err(|_| Fail::internal())
}
