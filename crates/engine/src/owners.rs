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

/// How long the state dir's copy of the org's users serves a run before they are read again.
pub const USERS_MAX_AGE_SECS: i64 = 3600;

/// The state dir's copy of the org's active users (`users/<org>.json`, owner-only).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CachedUsers {
    /// When they were read, epoch seconds.
    fetched_at: i64,
    /// `(id, e-mail, full name)` of each active user.
    users: Vec<(u64, String, String)>,
}

impl Users {
    fn from_list(list: &[(u64, String, String)]) -> Self {
        let mut users = Self::default();
        for (id, email, name) in list {
            let id = RecordId(*id);
            if !email.trim().is_empty() {
                users.by_email.insert(email.trim().to_lowercase(), id);
                users.emails.insert(id, email.trim().to_owned());
                users.known.push(email.trim().to_owned());
            }
            if !name.trim().is_empty() {
                users.by_name.entry(name.trim().to_lowercase()).or_default().push(id);
                users.known.push(name.trim().to_owned());
            }
        }
        users
    }

    fn read_list(client: &dyn CrmApi) -> Result<Vec<(u64, String, String)>, ClientError> {
        Ok(client
            .users(UserType::ActiveUsers)?
            .into_iter()
            .map(|u| (u.id.0, u.email, u.name))
            .collect())
    }

    /// The active users from the state dir's copy at `cache` when it is younger than
    /// [`USERS_MAX_AGE_SECS`], else read from the CRM (one call) and kept there; with the copy's
    /// age in seconds when it served. A copy that cannot be read or written is only a lost
    /// saving: the users are read from the CRM.
    pub(crate) fn load(
        client: &dyn CrmApi,
        cache: &std::path::Path,
    ) -> Result<(Self, Option<i64>), ClientError> {
        let now = jiff::Timestamp::now().as_second();
        let cached = std::fs::read(cache)
            .ok()
            .and_then(|b| serde_json::from_slice::<CachedUsers>(&b).ok())
            .filter(|c| (0..USERS_MAX_AGE_SECS).contains(&(now - c.fetched_at)));
        if let Some(c) = cached {
            return Ok((Self::from_list(&c.users), Some(now - c.fetched_at)));
        }
        let list = Self::read_list(client)?;
        let copy = CachedUsers { fetched_at: now, users: list };
        if let Ok(bytes) = serde_json::to_vec(&copy)
            && let Err(e) = zcrm_client::owner_only::write_atomic(cache, &bytes)
        {
            tracing::warn!(error = %e, "the org's users could not be kept in the state dir");
        }
        Ok((Self::from_list(&copy.users), None))
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
