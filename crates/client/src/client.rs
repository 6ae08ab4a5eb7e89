//! The API client: one typed method per API method, each call reserved in the ledger before it
//! is sent, retried only when repeating is safe and can help.

use std::sync::Arc;

use tracing::{debug, warn};
use zcrm_protocol::params::{
    Criteria, FieldsFilter, IdSelection, ReadParams, SearchCondition, UserType, Window, WriteParams,
};
use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, UploadResult, User,
    decode_deleted_ids,
};
use zcrm_protocol::response::records::precheck_records;
use zcrm_protocol::{
    ApiCode, Method, ModuleFields, RecordId, RecordsPage, Request, ResponseError, Retry,
    WriteResponse,
};

use crate::ClientError;
use crate::budget::Ledger;
use crate::endpoint::Endpoint;
use crate::retry::{RetryPolicy, seed};
use crate::secret::AuthToken;
use crate::transport::{FilePart, Transport, TransportConfig};

/// Set once any client of this process hands a write call to the network.
static WRITE_SENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process has sent a write call (the CRM may have changed): after one, a failure
/// is no longer "nothing was sent".
pub fn write_sent() -> bool {
    WRITE_SENT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Records that a write call is being handed to the network (any dialect).
pub(crate) fn mark_write_sent() {
    WRITE_SENT.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Everything a client needs besides the ledger.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The checked base URL.
    pub endpoint: Endpoint,
    /// The auth token.
    pub token: AuthToken,
    /// Timeouts and extra CA.
    pub transport: TransportConfig,
    /// Retries for reads and for calls that were never sent.
    pub retry: RetryPolicy,
}

/// A Zoho CRM XML API client. Cheap to share across threads (`&self` methods).
pub struct Client {
    transport: Transport,
    ledger: Arc<Ledger>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("ledger", &self.ledger).finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client that records every call in `ledger`.
    pub fn new(cfg: ClientConfig, ledger: Arc<Ledger>) -> Result<Self, ClientError> {
        Ok(Self {
            transport: Transport::new(cfg.endpoint, cfg.token, &cfg.transport)?,
            ledger,
            retry: cfg.retry,
        })
    }

    /// The server's clock, as the `Date` headers of its answers show it (the local clock until
    /// the first answer).
    pub fn server_clock(&self) -> &crate::ServerClock {
        self.transport.server_clock()
    }

    /// The longest one call may take (its answer included); a call that left longer ago than
    /// this has ended one way or the other.
    pub fn call_deadline(&self) -> std::time::Duration {
        self.transport.deadline()
    }

    /// The back-off this client retries with (callers that repeat work of their own, such as
    /// resending an in-doubt payload, wait by it too).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The ledger this client spends from.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Sends `req` and decodes the answer with `decode`, retrying what is safe to retry.
    pub fn call<T>(
        &self,
        req: &Request,
        file: Option<&FilePart<'_>>,
        mut decode: impl FnMut(&[u8]) -> Result<T, ResponseError>,
    ) -> Result<T, ClientError> {
        let method = req.method;
        let is_write = method.is_write();
        let path = req.path(zcrm_protocol::Format::Xml);
        let mut jitter = seed();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let units =
                crate::CrmApi::cost(self, crate::api::call_kind(method, req.xml_rows() as u32));
            self.ledger.reserve(method.class(), units)?;
            debug!(%method, module = %req.module, attempt, "sending");
            if is_write {
                WRITE_SENT.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let outcome = self.transport.post(&path, &req.params, file);
            let retry_ok = attempt < self.retry.max_attempts;
            let failure = match outcome {
                Ok(body) => match decode(&body) {
                    Ok(v) => return Ok(v),
                    Err(ResponseError::Api(e)) => {
                        if e.code == ApiCode::ApiLimitExceeded {
                            return Err(self.ledger.mark_server_limit()?.into());
                        }
                        // 4820 (rate limit) refused the call, so even a write may repeat; 4500 on
                        // a write may be deterministic (a bad Id), so only reads repeat it.
                        let repeatable = e.retry() == Retry::AfterBackoff
                            && (!is_write || e.code == ApiCode::RateLimited);
                        if repeatable && retry_ok {
                            warn!(%method, code = %e.code, attempt, "retrying after API error");
                            std::thread::sleep(self.retry.delay(attempt, &mut jitter));
                            continue;
                        }
                        return Err(ClientError::Api { method, error: e });
                    }
                    Err(ResponseError::Decode(e)) => {
                        // A body that does not decode may be a truncated answer to a call that
                        // did its work.
                        if is_write {
                            return Err(self.in_doubt(req, format!("undecodable response: {e}")));
                        }
                        if retry_ok {
                            warn!(%method, attempt, "retrying after an undecodable response");
                            std::thread::sleep(self.retry.delay(attempt, &mut jitter));
                            continue;
                        }
                        return Err(ClientError::Decode { method, source: e });
                    }
                },
                Err(f) => f,
            };
            let reason =
                failure.settle(method, is_write, retry_ok, attempt, |r| self.in_doubt(req, r))?;
            warn!(%method, attempt, %reason, "retrying after a network failure");
            std::thread::sleep(self.retry.delay(attempt, &mut jitter));
        }
    }

    fn in_doubt(&self, req: &Request, reason: String) -> ClientError {
        ClientError::InDoubt {
            method: req.method,
            module: req.module.clone(),
            rows: req.xml_rows(),
            reason,
        }
    }

    fn records<T>(
        &self,
        req: &Request,
        mut f: impl FnMut(RecordsPage<'_>) -> T,
    ) -> Result<T, ClientError> {
        self.call(req, None, |body| RecordsPage::decode(body).map(&mut f))
    }

    fn build<T>(r: Result<T, zcrm_protocol::request::RequestError>) -> Result<T, ClientError> {
        r.map_err(|source| ClientError::InvalidRequest { source })
    }

    /// getFields: the module's field metadata.
    pub fn get_fields(&self, module: &str) -> Result<ModuleFields, ClientError> {
        self.call(&Request::get_fields(module, FieldsFilter::All), None, ModuleFields::decode)
    }

    /// getRecords: one page, handed to `f` while the body is alive (no copy of the values).
    pub fn get_records<T>(
        &self,
        module: &str,
        p: &ReadParams,
        f: impl FnMut(RecordsPage<'_>) -> T,
    ) -> Result<T, ClientError> {
        self.records(&Self::build(Request::get_records(module, p))?, f)
    }

    /// getRecords, returning the response body for decoding later (on another thread) and an
    /// upper bound of its rows. API errors, `<nodata>` and bodies cut short are handled here as
    /// for [`Client::get_records`] (see [`precheck_records`]).
    pub fn get_records_body(
        &self,
        module: &str,
        p: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let req = Self::build(Request::get_records(module, p))?;
        self.call(&req, None, |body| precheck_records(body).map(|rows| (body.to_vec(), rows)))
    }

    /// getRecords, returning an owned page.
    pub fn get_records_owned(
        &self,
        module: &str,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.get_records(module, p, |p| p.into_owned())
    }

    /// getMyRecords.
    pub fn get_my_records(
        &self,
        module: &str,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(&Self::build(Request::get_my_records(module, p))?, |p| p.into_owned())
    }

    /// getRecordById with `id` or `idlist`; unknown ids are simply absent.
    pub fn get_record_by_id(
        &self,
        module: &str,
        ids: &IdSelection,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(&Self::build(Request::get_record_by_id(module, ids, p))?, |p| p.into_owned())
    }

    /// getDeletedRecordIds for a window, optionally since a time.
    pub fn get_deleted_record_ids(
        &self,
        module: &str,
        window: Window,
        since: Option<jiff::civil::DateTime>,
    ) -> Result<Vec<RecordId>, ClientError> {
        self.call(&Request::get_deleted_record_ids(module, window, since), None, decode_deleted_ids)
    }

    /// searchRecords.
    pub fn search_records(
        &self,
        module: &str,
        criteria: &Criteria,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(&Self::build(Request::search_records(module, criteria, p))?, |p| {
            p.into_owned()
        })
    }

    /// getSearchRecords (250 calls a day).
    pub fn get_search_records(
        &self,
        module: &str,
        cond: &SearchCondition,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(&Self::build(Request::get_search_records(module, cond, p))?, |p| {
            p.into_owned()
        })
    }

    /// getSearchRecordsByPDC.
    pub fn get_search_records_by_pdc(
        &self,
        module: &str,
        column: &str,
        value: &str,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(
            &Self::build(Request::get_search_records_by_pdc(module, column, value, p))?,
            |p| p.into_owned(),
        )
    }

    /// getCVRecords (250 calls a day).
    pub fn get_cv_records(
        &self,
        module: &str,
        cv_name: &str,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(&Self::build(Request::get_cv_records(module, cv_name, p))?, |p| p.into_owned())
    }

    /// getRelatedRecords: records of `module` related to a `parent_module` record.
    pub fn get_related_records(
        &self,
        module: &str,
        parent_module: &str,
        id: RecordId,
        p: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.records(
            &Self::build(Request::get_related_records(module, parent_module, id, p))?,
            |p| p.into_owned(),
        )
    }

    /// updateRelatedRecords.
    pub fn update_related_records(
        &self,
        module: &str,
        id: RecordId,
        related_module: &str,
        xml_data: String,
    ) -> Result<RelatedUpdateResult, ClientError> {
        self.call(
            &Request::update_related_records(module, id, related_module, xml_data),
            None,
            RelatedUpdateResult::decode,
        )
    }

    /// insertRecords. An unknown outcome is [`ClientError::InDoubt`], never retried.
    pub fn insert_records(
        &self,
        module: &str,
        xml_data: String,
        p: &WriteParams,
    ) -> Result<WriteResponse, ClientError> {
        self.call(&Request::insert_records(module, xml_data, p), None, WriteResponse::decode)
    }

    /// updateRecords (`id` for one record, or `Id` FLs with `version=4`).
    pub fn update_records(
        &self,
        module: &str,
        id: Option<RecordId>,
        xml_data: String,
        p: &WriteParams,
    ) -> Result<WriteResponse, ClientError> {
        self.call(&Request::update_records(module, id, xml_data, p), None, WriteResponse::decode)
    }

    /// deleteRecords of one record (5000 even when it was already gone).
    pub fn delete_record(&self, module: &str, id: RecordId) -> Result<StatusResult, ClientError> {
        self.call(&Request::delete_records(module, id), None, StatusResult::decode)
    }

    /// convertLead.
    pub fn convert_lead(
        &self,
        lead_id: RecordId,
        xml_data: String,
    ) -> Result<ConvertResult, ClientError> {
        self.call(&Request::convert_lead(lead_id, xml_data), None, ConvertResult::decode)
    }

    /// uploadFile: attaches `file` to a record.
    pub fn upload_file(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<UploadResult, ClientError> {
        self.call(&Request::upload_file(module, id, None), Some(file), UploadResult::decode)
    }

    /// uploadPhoto (Leads and Contacts).
    pub fn upload_photo(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<StatusResult, ClientError> {
        self.call(
            &Request::by_id(Method::UploadPhoto, module, id),
            Some(file),
            StatusResult::decode,
        )
    }

    /// downloadFile / downloadPhoto: the raw bytes (an XML error envelope is an API error).
    pub fn download(
        &self,
        method: Method,
        module: &str,
        id: RecordId,
    ) -> Result<Vec<u8>, ClientError> {
        self.call(&Request::by_id(method, module, id), None, |body| {
            let head = &body[..body.len().min(64)];
            let looks_xml = head.starts_with(b"<?xml") || head.starts_with(b"<response");
            if looks_xml && let Err(e) = zcrm_protocol::response::check_error(body) {
                return Err(e);
            }
            Ok(body.to_vec())
        })
    }

    /// deleteFile / deletePhoto.
    pub fn delete_attachment(
        &self,
        method: Method,
        module: &str,
        id: RecordId,
    ) -> Result<StatusResult, ClientError> {
        self.call(&Request::by_id(method, module, id), None, StatusResult::decode)
    }

    /// getUsers.
    pub fn get_users(&self, kind: UserType) -> Result<Vec<User>, ClientError> {
        self.call(&Request::get_users(kind), None, User::decode_list)
    }

    /// getModules.
    pub fn get_modules(&self, api_only: bool) -> Result<Vec<ModuleInfo>, ClientError> {
        self.call(&Request::get_modules(api_only), None, ModuleInfo::decode_list)
    }
}
