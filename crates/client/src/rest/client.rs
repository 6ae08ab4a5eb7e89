//! [`RestClient`]: Zoho's REST API v8 behind [`crate::CrmApi`]. Every call gets an access token
//! (cached, refreshed a minute before expiry and once after a 401 `INVALID_TOKEN`), reserves
//! its credits in the ledger before it is sent, and is retried only when repeating is safe:
//! reads after network failures, 5xx and bodies cut short; any call refused with 429 for
//! concurrency; never a write whose outcome is unknown (that is [`ClientError::InDoubt`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jiff::tz::TimeZone;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tracing::{debug, warn};
use zcrm_protocol::{Method, MethodClass, ModuleFields};

use crate::api::CallKind;
use crate::budget::Ledger;
use crate::endpoint::Endpoint;
use crate::rest::fields::{Schema, decode_fields};
use crate::rest::names;
use crate::rest::oauth::{self, OAuthConfig};
use crate::rest::paging::Tokens;
use crate::rest::results::{Problem, status_error};
use crate::rest::token_cache::{AccessToken, TokenCache};
use crate::retry::{RetryPolicy, seed};
use crate::transport::{Answer, Failure, FilePart, Transport, TransportConfig};
use crate::{AuthToken, ClientError};

/// The path prefix of every v8 call.
pub const API_PREFIX: &str = "/crm/v8";

/// Everything a [`RestClient`] needs besides the ledger.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// Where the CRM is called until the token endpoint names its `api_domain` (a data
    /// centre's [`crate::DataCentre::api_domain`], or the emulator's URL).
    pub api_url: Endpoint,
    /// The OAuth client and refresh token.
    pub oauth: OAuthConfig,
    /// The state dir: the access token is cached in `STATE/oauth/` (owner-only).
    pub state_dir: PathBuf,
    /// The org's time zone: date-times are sent and read in it.
    pub timezone: TimeZone,
    /// Timeouts, body cap and extra CA.
    pub transport: TransportConfig,
    /// Retries of reads and of calls that were refused or never sent.
    pub retry: RetryPolicy,
    /// The `trigger` of every write (`workflow`, `approval`, `blueprint`, ...); empty (the
    /// default) runs no automation, as a migration wants.
    pub trigger: Vec<String>,
}

impl RestConfig {
    /// A configuration with the default transport, retries and no triggers.
    pub fn new(
        api_url: Endpoint,
        oauth: OAuthConfig,
        state_dir: impl Into<PathBuf>,
        timezone: TimeZone,
    ) -> Self {
        Self {
            api_url,
            oauth,
            state_dir: state_dir.into(),
            timezone,
            transport: TransportConfig::default(),
            retry: RetryPolicy::default(),
            trigger: Vec::new(),
        }
    }
}

/// The body of a call.
pub(crate) enum Body<'a> {
    /// None.
    None,
    /// JSON text.
    Json(&'a str),
    /// A file, as the multipart part `file`.
    File(&'a FilePart<'a>),
    /// A Bulk Write ZIP streamed from disk as the multipart part `file`, with the headers
    /// `feature: bulk-write` and `X-CRM-ORG`.
    Upload {
        /// The ZIP.
        zip: &'a std::path::Path,
        /// The org's id (`zgid`).
        org: &'a str,
    },
}

/// Where a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    /// The API domain (`path` follows it).
    Api,
    /// The data centre's upload host (`path` follows it; the API's own origin when that is
    /// not Zoho's).
    Upload,
    /// `path` is an absolute URL already checked by [`crate::bulk::download_allowed`].
    Absolute,
}

/// One v8 call.
pub(crate) struct Call<'a> {
    /// The XML API method it stands for (errors name it; its `is_write` decides doubt).
    pub(crate) method: Method,
    /// The HTTP method.
    pub(crate) http: reqwest::Method,
    /// The path after the API domain (`/crm/v8/Leads`).
    pub(crate) path: String,
    /// The query.
    pub(crate) query: Vec<(&'static str, String)>,
    /// `If-Modified-Since`, ISO 8601 with offset.
    pub(crate) if_modified_since: Option<String>,
    /// The body.
    pub(crate) body: Body<'a>,
    /// What it costs.
    pub(crate) kind: CallKind,
    /// The module (in-doubt errors name it).
    pub(crate) module: &'a str,
    /// Records it carries (in-doubt errors count them).
    pub(crate) rows: usize,
    /// Where it goes.
    pub(crate) host: Host,
}

/// A Zoho CRM REST API (v8) client. Cheap to share across threads (`&self` methods).
pub struct RestClient {
    pub(crate) transport: Transport,
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) retry: RetryPolicy,
    oauth: OAuthConfig,
    tokens: TokenCache,
    api_url: Endpoint,
    pub(crate) tz: TimeZone,
    pub(crate) trigger: Vec<String>,
    schemas: Mutex<HashMap<String, Arc<Schema>>>,
    pub(crate) pages: Tokens,
    /// The 2,000th record of each search read, to tell where a search ends.
    pub(crate) search_edges: crate::rest::search::SearchEdges,
    /// Each module's custom views, read once (`settings/custom_views`).
    pub(crate) views: crate::rest::views::Views,
    /// The org's id (`zgid`), read once for Bulk Write uploads.
    pub(crate) org_id: std::sync::OnceLock<String>,
    /// The org's user names (id → name), for the owners of Bulk Read rows.
    pub(crate) users: Mutex<Arc<HashMap<String, String>>>,
    /// Bulk Read result downloads, at most ten a minute.
    pub(crate) pacer: crate::bulk_read::DownloadPacer,
    /// Where bulk result files are kept while they are read (the state dir's `bulk/`).
    pub(crate) bulk_dir: PathBuf,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("api_url", &self.api_url)
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// Builds a client that charges every call's credits to `ledger`.
    pub fn new(cfg: RestConfig, ledger: Arc<Ledger>) -> Result<Self, ClientError> {
        let tokens = TokenCache::new(
            &cfg.state_dir,
            cfg.oauth.accounts_url.base(),
            &cfg.oauth.client_id,
            &cfg.oauth.refresh_token,
        );
        Ok(Self {
            transport: Transport::new(cfg.api_url.clone(), AuthToken::new(""), &cfg.transport)?,
            ledger,
            retry: cfg.retry,
            oauth: cfg.oauth,
            tokens,
            api_url: cfg.api_url,
            tz: cfg.timezone,
            trigger: cfg.trigger,
            schemas: Mutex::new(HashMap::new()),
            pages: Tokens::default(),
            search_edges: crate::rest::search::SearchEdges::default(),
            views: crate::rest::views::Views::default(),
            org_id: std::sync::OnceLock::new(),
            users: Mutex::new(Arc::new(HashMap::new())),
            pacer: crate::bulk_read::DownloadPacer::default(),
            bulk_dir: cfg.state_dir.join("bulk"),
        })
    }

    /// Replaces the access-token cache's clock (tests of expiry).
    pub fn with_token_clock(
        mut self,
        clock: impl Fn() -> jiff::Timestamp + Send + Sync + 'static,
    ) -> Self {
        self.tokens = self.tokens.with_clock(clock);
        self
    }

    /// Makes `fields` (a v8 module's metadata, e.g. from the state dir's cache) the metadata
    /// payloads and pages of its module use, sparing a `settings/fields` call. Metadata
    /// without `api_name`s (the XML API's, or a cache that dropped them) is not remembered:
    /// `false`.
    pub fn remember_fields(&self, fields: ModuleFields) -> bool {
        if fields.fields().any(|(_, f)| f.api_name.is_none()) {
            return false;
        }
        self.remember(fields);
        true
    }

    pub(crate) fn remember(&self, fields: ModuleFields) -> Arc<Schema> {
        let key = names::legacy_module(&fields.module).to_owned();
        let schema = Arc::new(Schema::new(fields));
        self.schemas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, schema.clone());
        schema
    }

    /// The remembered schema of `module`, if any.
    pub(crate) fn cached_schema(&self, module: &str) -> Option<Arc<Schema>> {
        let m = self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(names::legacy_module(module)).cloned()
    }

    /// The schema of `module`: remembered, or one `settings/fields` call.
    pub(crate) fn schema(&self, module: &str) -> Result<Arc<Schema>, ClientError> {
        if let Some(s) = self.cached_schema(module) {
            return Ok(s);
        }
        let fields = self.get_fields(module)?;
        Ok(self.remember(fields))
    }

    /// `GET /crm/v8/settings/fields?module=`.
    pub(crate) fn get_fields(&self, module: &str) -> Result<ModuleFields, ClientError> {
        let legacy = names::legacy_module(module);
        let call = Call {
            method: Method::GetFields,
            http: reqwest::Method::GET,
            path: format!("{API_PREFIX}/settings/fields"),
            query: vec![("module", names::v8_module(module).to_owned())],
            if_modified_since: None,
            body: Body::None,
            kind: CallKind::Metadata,
            module,
            rows: 0,
            host: Host::Api,
        };
        self.call(&call, |a| match a.status {
            200 | 204 => decode_fields(legacy, &a.body)
                .map_err(|e| Problem::Undecodable(format!("settings/fields: {e}"))),
            s => Err(Problem::Api(status_error(s, &a.body))),
        })
    }

    pub(crate) fn token(&self) -> Result<AccessToken, ClientError> {
        self.tokens.get(|| {
            oauth::refresh(&self.transport, &self.oauth, self.retry).map_err(ClientError::OAuth)
        })
    }

    pub(crate) fn replace_token(&self, rejected: &AccessToken) -> Result<AccessToken, ClientError> {
        self.tokens.replace(&rejected.token, || {
            oauth::refresh(&self.transport, &self.oauth, self.retry).map_err(ClientError::OAuth)
        })
    }

    /// The API domain calls go to now (the token's `api_domain`, else the configured URL).
    pub(crate) fn api_origin(&self) -> Result<String, ClientError> {
        let token = self.token()?;
        Ok(self.base(&token)?.base().trim_end_matches('/').to_owned())
    }

    pub(crate) fn base(&self, token: &AccessToken) -> Result<Endpoint, ClientError> {
        if token.api_domain.is_empty() {
            return Ok(self.api_url.clone());
        }
        oauth::api_base(&token.api_domain).map_err(ClientError::OAuth)
    }

    fn in_doubt(&self, c: &Call<'_>, reason: String) -> ClientError {
        ClientError::InDoubt { method: c.method, module: c.module.to_owned(), rows: c.rows, reason }
    }

    /// Sends `c` and reads the answer with `decode` (given every status but 401, 429 and
    /// 5xx), retrying what is safe to retry.
    pub(crate) fn call<T>(
        &self,
        c: &Call<'_>,
        mut decode: impl FnMut(&Answer) -> Result<T, Problem>,
    ) -> Result<T, ClientError> {
        let method = c.method;
        let is_write = method.is_write();
        let units = crate::CrmApi::cost(self, c.kind);
        let mut jitter = seed();
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            // A refresh that fails spends no credit.
            let token = self.token()?;
            let base = self.base(&token)?;
            // A free call (a bulk job's status) is not counted.
            if units > 0 {
                self.ledger.reserve(MethodClass::General, units)?;
            }
            debug!(%method, module = c.module, attempt, "sending (v8)");
            if is_write {
                crate::client::mark_write_sent();
            }
            let url = match c.host {
                Host::Api => format!("{}{}", base.base(), c.path),
                Host::Upload => format!("{}{}", crate::bulk::upload_origin(base.base()), c.path),
                Host::Absolute => c.path.clone(),
            };
            let mut rb = self
                .transport
                .request(c.http.clone(), &url)
                .header(AUTHORIZATION, format!("Zoho-oauthtoken {}", token.token.expose()));
            if !c.query.is_empty() {
                rb = rb.query(&c.query);
            }
            if let Some(ims) = &c.if_modified_since {
                rb = rb.header("If-Modified-Since", ims.as_str());
            }
            rb = match &c.body {
                Body::None => rb,
                Body::Json(j) => rb.header(CONTENT_TYPE, "application/json").body((*j).to_owned()),
                Body::File(f) => {
                    let part = reqwest::blocking::multipart::Part::bytes(f.bytes.clone())
                        .file_name(f.file_name.to_owned());
                    rb.multipart(reqwest::blocking::multipart::Form::new().part("file", part))
                }
                Body::Upload { zip, org } => {
                    // Streamed from the file, never read whole into memory.
                    match reqwest::blocking::multipart::Form::new().file("file", zip) {
                        Ok(form) => rb
                            .header("feature", "bulk-write")
                            .header("X-CRM-ORG", *org)
                            .multipart(form),
                        Err(e) => {
                            return Err(ClientError::Transport {
                                method,
                                attempts: attempt,
                                reason: format!("reading {}: {e}", zip.display()),
                            });
                        }
                    }
                }
            };
            let retry_ok = attempt < self.retry.max_attempts;
            let failure = match self.transport.exchange(rb) {
                Ok(answer) => match answer.status {
                    401 => {
                        // A refused token costs no credit (CD-2).
                        self.ledger.refund(MethodClass::General, units)?;
                        let error = status_error(401, &answer.body);
                        if !renewed && error.code.as_str() == "INVALID_TOKEN" {
                            // Expired or revoked early: one new token, one retry (the call was
                            // refused, so even a write repeats safely).
                            renewed = true;
                            attempt -= 1;
                            warn!(%method, "access token refused; refreshing once");
                            self.replace_token(&token)?;
                            continue;
                        }
                        return Err(ClientError::Api { method, error });
                    }
                    429 => {
                        // A refused call is charged nothing (CD-20).
                        self.ledger.refund(MethodClass::General, units)?;
                        // The same body for credits and concurrency (CD-21): credits are spent
                        // when the server says fewer remain than this call costs, or when
                        // backing off did not help.
                        let spent = answer.credits_remaining.is_some_and(|r| r < u64::from(units));
                        if spent || !retry_ok {
                            return Err(self.ledger.mark_server_limit()?.into());
                        }
                        warn!(%method, attempt, "429 TOO_MANY_REQUESTS; backing off");
                        std::thread::sleep(self.retry.delay(attempt, &mut jitter));
                        continue;
                    }
                    s if s >= 500 => Failure::Unknown(format!("HTTP {s} from {}", base.base())),
                    _ => match decode(&answer) {
                        Ok(v) => return Ok(v),
                        Err(Problem::Api(error)) => return Err(ClientError::Api { method, error }),
                        Err(Problem::Undecodable(reason)) => {
                            if is_write {
                                return Err(self.in_doubt(c, reason));
                            }
                            if retry_ok {
                                warn!(%method, attempt, %reason, "retrying after an undecodable answer");
                                std::thread::sleep(self.retry.delay(attempt, &mut jitter));
                                continue;
                            }
                            return Err(ClientError::Decode {
                                method,
                                source: zcrm_protocol::DecodeError::Shape(reason),
                            });
                        }
                    },
                },
                Err(f) => f,
            };
            let reason =
                failure.settle(method, is_write, retry_ok, attempt, |r| self.in_doubt(c, r))?;
            warn!(%method, attempt, %reason, "retrying after a network failure");
            std::thread::sleep(self.retry.delay(attempt, &mut jitter));
        }
    }
}
