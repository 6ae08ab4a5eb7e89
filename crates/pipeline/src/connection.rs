//! What a [`ConnectionSpec`] says beyond its fields: the org key that state is kept under, the
//! daily budget rule, and the budget ledger. Connecting (a client, or the embedded emulator
//! started in-process) is the front end's job: this crate never starts a server.

use std::path::Path;
use std::sync::Arc;

use zcrm_client::{AuthToken, ClientError, Ledger, LedgerConfig};
use zcrm_protocol::BudgetRule;

use crate::ConnectionSpec;

impl ConnectionSpec {
    /// The org key of the budget ledger and the metadata cache: `embedded`; or the API host
    /// with the `org` name the connection gives (`crm.zoho.eu/acme`); or the host with a
    /// one-way fingerprint of the token (`crm.zoho.eu~3f9c0a1b2c4d`), so two orgs on one data
    /// centre never share a budget or metadata, and a wrong token misses the cache instead of
    /// hiding behind it. The token itself is never part of the key.
    pub fn org(&self) -> Result<String, ClientError> {
        let Some(u) = &self.url else { return Ok("embedded".to_owned()) };
        let host = u.host().to_owned();
        Ok(match &self.org {
            Some(name) => format!("{host}/{name}"),
            None => format!("{host}~{}", AuthToken::from_env(&self.authtoken_env)?.fingerprint()),
        })
    }

    /// The daily budget rule.
    pub fn rule(&self) -> BudgetRule {
        match self.daily_budget {
            Some(n) => BudgetRule::Fixed(n),
            None => BudgetRule::Edition { edition: self.edition, licenses: self.licenses },
        }
    }

    /// Opens the budget ledger in `state_dir` for `consumer`.
    pub fn ledger(&self, state_dir: &Path, consumer: &str) -> Result<Arc<Ledger>, ClientError> {
        let cfg = LedgerConfig {
            org: self.org()?,
            consumer: consumer.to_owned(),
            timezone: self.timezone.clone(),
            rule: self.rule(),
            share: self.budget_share,
        };
        Ok(Arc::new(Ledger::open(&state_dir.join("budget.sqlite"), cfg)?))
    }
}
