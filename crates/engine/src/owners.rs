//! Owners by e-mail or full name (`{ owner = "column" }`): the org's active users, read once
//! per run, give each name its user Id; a name no active user has rejects the row locally,
//! with the nearest names.

use std::collections::HashMap;

use zcrm_client::{ClientError, CrmApi};
use zcrm_protocol::RecordId;
use zcrm_protocol::params::UserType;

/// The org's active users by e-mail and by full name (both compared case-insensitively).
#[derive(Debug, Default)]
pub(crate) struct Users {
    by_email: HashMap<String, RecordId>,
    by_name: HashMap<String, Vec<RecordId>>,
    /// E-mails and names as the CRM has them, for hints.
    known: Vec<String>,
    /// Each user's e-mail (the XML API names a conversion's assignee by it).
    emails: HashMap<RecordId, String>,
}

impl Users {
    /// Reads the active users (one call).
    pub(crate) fn fetch(client: &dyn CrmApi) -> Result<Self, ClientError> {
        let mut users = Self::default();
        for u in client.users(UserType::ActiveUsers)? {
            if !u.email.trim().is_empty() {
                users.by_email.insert(u.email.trim().to_lowercase(), u.id);
                users.emails.insert(u.id, u.email.trim().to_owned());
                users.known.push(u.email.trim().to_owned());
            }
            if !u.name.trim().is_empty() {
                users.by_name.entry(u.name.trim().to_lowercase()).or_default().push(u.id);
                users.known.push(u.name.trim().to_owned());
            }
        }
        Ok(users)
    }

    /// The Id and e-mail of the active user with e-mail or full name `who`, or why there is none.
    pub(crate) fn resolve_user(&self, who: &str) -> Result<(RecordId, String), String> {
        let id = self.resolve(who)?;
        let email = self.emails.get(&id).cloned().ok_or_else(|| {
            format!("the active user {who:?} has no e-mail, which the CRM needs to assign records")
        })?;
        Ok((id, email))
    }

    /// The Id of the active user with e-mail or full name `who`, or why there is none.
    pub(crate) fn resolve(&self, who: &str) -> Result<RecordId, String> {
        let key = who.trim().to_lowercase();
        if let Some(id) = self.by_email.get(&key) {
            return Ok(*id);
        }
        match self.by_name.get(&key).map(Vec::as_slice) {
            Some([id]) => Ok(*id),
            Some(ids) if ids.len() > 1 => Err(format!(
                "{} active users are named {who:?}: give the owner's e-mail instead",
                ids.len()
            )),
            _ => {
                let hint = zcrm_protocol::suggest::did_you_mean(
                    who,
                    self.known.iter().map(String::as_str),
                )
                .map_or_else(String::new, |s| format!(" (did you mean {s:?}?)"));
                Err(format!("no active user has the e-mail or name {who:?}{hint}"))
            }
        }
    }
}
