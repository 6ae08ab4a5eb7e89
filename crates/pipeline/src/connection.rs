//! What a [`ConnectionSpec`] says beyond its fields: the org key that state is kept under, the
//! daily budget rule, and the budget ledger. Connecting (a client, or the embedded emulator
//! started in-process) is the front end's job: this crate never starts a server.

use std::path::Path;
use std::sync::Arc;

use zcrm_client::{AuthToken, ClientError, Ledger, LedgerConfig};
use zcrm_protocol::BudgetRule;

use crate::{Api, ConnectionSpec};

impl ConnectionSpec {
    /// The org key of the budget ledger and the metadata cache: `embedded`; or the API host
    /// with the `org` name the connection gives (`crm.zoho.eu/acme`); or the host with a
    /// one-way fingerprint of the token (`crm.zoho.eu~3f9c0a1b2c4d`), so two orgs on one data
    /// centre never share a budget or metadata, and a wrong token misses the cache instead of
    /// hiding behind it. The token itself is never part of the key.
    ///
    /// A v8 connection is keyed the same way with its refresh token in place of the authtoken;
    /// the embedded emulator's v8 face is `embedded~v8` (its metadata names fields by API name
    /// too, so it is cached apart from the XML face's).
    pub fn org(&self) -> Result<String, ClientError> {
        let Some(u) = &self.url else {
            return Ok(match self.api {
                Api::Xml => "embedded".to_owned(),
                Api::V8 => "embedded~v8".to_owned(),
            });
        };
        let host = u.host().to_owned();
        let secret = match self.api {
            Api::Xml => &self.authtoken_env,
            Api::V8 => &self.oauth.refresh_token,
        };
        Ok(match &self.org {
            Some(name) => format!("{host}/{name}"),
            None => format!("{host}~{}", AuthToken::from_env(secret)?.fingerprint()),
        })
    }

    /// The budget rule: calls per org day (XML), or credits per rolling 24 hours (v8).
    pub fn rule(&self) -> BudgetRule {
        match (self.api, self.daily_budget, self.daily_credits) {
            (Api::Xml, Some(n), _) => BudgetRule::Fixed(n),
            (Api::Xml, None, _) => {
                BudgetRule::Edition { edition: self.edition, licenses: self.licenses }
            }
            (Api::V8, _, Some(n)) => BudgetRule::FixedCredits(n),
            (Api::V8, _, None) => {
                BudgetRule::Credits { edition: self.edition, licenses: self.licenses }
            }
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
