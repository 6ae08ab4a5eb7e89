//! [`RestClient`] as the API seam: what each [`CrmApi`] method is on the REST API.

use std::path::Path;
use std::time::Duration;

use zcrm_protocol::params::{ReadParams, UserType, Window};
use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, UploadResult, User,
};
use zcrm_protocol::rest_limits::{CONVERT_CREDITS, write_credits};
use zcrm_protocol::xmldata::XmlData;
use zcrm_protocol::{
    DecodeError, Method, ModuleFields, RecordId, RecordsPage, ResponseError, WriteResponse,
};

use serde_json::Value as Json;

use crate::ClientError;
use crate::actions::{Conversion, Relation};
use crate::api::{CallKind, CrmApi, Dialect, OnDuplicate, PayloadBuilder, WriteKind, WriteOptions};
use crate::budget::Ledger;
use crate::bulk::{BulkEncoder, BulkJob, BulkState};
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::names;
use crate::rest::payload::{JsonPayload, with_call_options};
use crate::rest::records;
use crate::rest::results::write_response;
use crate::retry::RetryPolicy;
use crate::server_clock::ServerClock;
use crate::transport::FilePart;

/// The records of a v8 payload.
fn payload_rows(payload: &str) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Count {
        data: Vec<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Count>(payload).ok().map(|c| c.data.len())
}

impl CrmApi for RestClient {
    fn dialect(&self) -> Dialect {
        Dialect::V8
    }

    /// Credits: a write 1 per 10 records, a lead conversion 5, anything else 1.
    fn cost(&self, kind: CallKind) -> u32 {
        match kind {
            CallKind::Write { rows } => write_credits(rows),
            CallKind::Convert => CONVERT_CREDITS,
            CallKind::BulkRead => crate::bulk_read::BULK_READ_JOB_CREDITS,
            CallKind::ViewRead => zcrm_protocol::rest_limits::VIEW_LIST_CREDITS,
            CallKind::Metadata
            | CallKind::Read
            | CallKind::DeletedIds
            | CallKind::Delete
            | CallKind::Settings
            | CallKind::Related
            | CallKind::File => 1,
            CallKind::BulkUpload | CallKind::BulkStatus => 0,
            CallKind::BulkJob => crate::bulk::BULK_JOB_CREDITS,
        }
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn server_clock(&self) -> &ServerClock {
        self.transport.server_clock()
    }

    fn call_deadline(&self) -> Duration {
        self.transport.deadline()
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    fn fields(&self, module: &str) -> Result<ModuleFields, ClientError> {
        let fields = self.get_fields(module)?;
        self.remember(fields.clone());
        Ok(fields)
    }

    fn read(
        &self,
        module: &str,
        params: &ReadParams,
        page: &mut dyn FnMut(RecordsPage<'_>),
    ) -> Result<(), ClientError> {
        let l = self.list(module, params)?;
        page(self.read_page(&l.schema, &l.parts)?);
        Ok(())
    }

    /// The bodies of the read's calls in an envelope of this dialect (see
    /// [`crate::rest::records::envelope`]); checked whole, not decoded.
    fn read_body(
        &self,
        module: &str,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let l = self.list(module, params)?;
        Ok((records::envelope(&l.schema.fields.module, &l.parts), l.rows))
    }

    fn decode_page<'a>(&self, body: &'a [u8]) -> Result<RecordsPage<'a>, ResponseError> {
        if let Some(csv) = crate::rest::bulk_csv::open(body) {
            let (module, rows) = csv?;
            let schema = self.cached_schema(module).ok_or_else(|| {
                DecodeError::Shape(format!("no metadata of {module} to decode its rows with"))
            })?;
            return Ok(crate::rest::bulk_csv::decode(&schema, &self.tz, &self.user_names(), rows)?);
        }
        let (module, parts) = records::open_envelope(body)?;
        let schema = self.cached_schema(module).ok_or_else(|| {
            DecodeError::Shape(format!("no metadata of {module} to decode its page with"))
        })?;
        Ok(records::decode_parts(&schema, &self.tz, &parts)?)
    }

    /// The edition's concurrency cap, less one when it is small (see
    /// `zcrm_protocol::rest_limits::reads_in_flight_cap`); an org whose credits are set
    /// explicitly (`daily_credits`) names no edition, and gets the Free edition's.
    fn max_reads_in_flight(&self) -> u32 {
        let edition = match self.ledger.config().rule {
            zcrm_protocol::BudgetRule::Credits { edition, .. }
            | zcrm_protocol::BudgetRule::Edition { edition, .. } => edition,
            _ => zcrm_protocol::Edition::Free,
        };
        zcrm_protocol::rest_limits::reads_in_flight_cap(edition)
    }

    /// Past record 2,000 pages are `page_token`s, each from the answer before it.
    fn chained_reads_from(&self) -> Option<u32> {
        Some(zcrm_protocol::rest_limits::MAX_PAGE_RECORDS + 1)
    }

    fn read_filtered_body(
        &self,
        module: &str,
        filter: &crate::filtered::RecordFilter,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        self.filtered_body(module, filter, params)
    }

    fn deleted_ids(
        &self,
        module: &str,
        window: Window,
        since: Option<jiff::civil::DateTime>,
    ) -> Result<Vec<RecordId>, ClientError> {
        self.deleted(module, window, since)
    }

    /// Bulk Read jobs of at most 200,000 records each (see `rest::bulk_read`).
    fn bulk_read(
        &self,
        request: &crate::bulk_read::BulkReadRequest<'_>,
        chunk: &mut crate::bulk_read::ChunkSink<'_>,
    ) -> Result<crate::bulk_read::BulkReadOutcome, ClientError> {
        RestClient::bulk_read(self, request, chunk)
    }

    /// A JSON payload of at most 100 records. Without the module's metadata (remembered, or
    /// fetched here: one call) every name is refused row by row, naming the cause.
    fn remember_fields(&self, fields: &ModuleFields) {
        if !RestClient::remember_fields(self, fields.clone()) {
            tracing::debug!(module = %fields.module, "cached metadata without API names: asked again when needed");
        }
    }

    fn payload(&self, module: &str, max_rows: u32) -> Box<dyn PayloadBuilder> {
        match self.schema(module) {
            Ok(schema) => Box::new(JsonPayload::new(schema, self.tz.clone(), max_rows)),
            Err(e) => {
                tracing::warn!(module, error = %e, "no metadata for a v8 payload");
                let empty = ModuleFields {
                    module: names::legacy_module(module).to_owned(),
                    sections: Vec::new(),
                };
                Box::new(JsonPayload::new(
                    std::sync::Arc::new(crate::rest::fields::Schema::new(empty)),
                    self.tz.clone(),
                    max_rows,
                ))
            }
        }
    }

    /// Not available: the journal keeps each row's values for reconciliation on this dialect.
    fn decode_payload(&self, _payload: &str) -> Result<XmlData, DecodeError> {
        Err(DecodeError::Shape(
            "a v8 payload is JSON, not xmlData; reconciliation reads the values the journal kept"
                .into(),
        ))
    }

    /// Insert: `POST /crm/v8/{module}`; insert or update on duplicate: `POST .../upsert` with
    /// the module's system duplicate-check field; update: `PUT` (each record names its `id`).
    /// `trigger` from the options (workflow, approval) beside the client's own; a duplicate
    /// policy other than creating is the XML API's `duplicateCheck=1`, which v8 does not have
    /// (its unique fields always refuse duplicates, and upsert matches the system field).
    fn write(
        &self,
        module: &str,
        kind: WriteKind,
        payload: String,
        options: &WriteOptions,
    ) -> Result<WriteResponse, ClientError> {
        if options.on_duplicate != OnDuplicate::Create {
            return Err(ClientError::Unsupported {
                dialect: "v8",
                what: "on_duplicate (the XML API's duplicateCheck=1)".into(),
            });
        }
        let mut trigger = self.trigger.clone();
        for (on, name) in [(options.workflow, "workflow"), (options.approval, "approval")] {
            if on && !trigger.iter().any(|t| t == name) {
                trigger.push(name.to_owned());
            }
        }
        let rows = payload_rows(&payload).ok_or_else(|| ClientError::Unsupported {
            dialect: "v8",
            what: "a write payload that is not a v8 JSON payload".into(),
        })?;
        let schema = self.cached_schema(module);
        let m = names::v8_module(module);
        let (method, http, path, dup) = match kind {
            WriteKind::Insert => {
                (Method::InsertRecords, reqwest::Method::POST, format!("{API_PREFIX}/{m}"), None)
            }
            WriteKind::InsertOrUpdateDuplicate => (
                Method::InsertRecords,
                reqwest::Method::POST,
                format!("{API_PREFIX}/{m}/upsert"),
                names::system_duplicate_field(module),
            ),
            WriteKind::Update => {
                (Method::UpdateRecords, reqwest::Method::PUT, format!("{API_PREFIX}/{m}"), None)
            }
        };
        let body = with_call_options(&payload, &trigger, dup);
        let call = Call {
            method,
            http,
            path,
            query: Vec::new(),
            if_modified_since: None,
            body: Body::Json(&body),
            kind: CallKind::Write { rows: rows as u32 },
            module,
            rows,
            host: Host::Api,
        };
        self.call(&call, |a| {
            write_response(a.status, &a.body, kind, rows, schema.as_deref(), &self.tz)
        })
    }

    fn delete(&self, module: &str, id: RecordId) -> Result<StatusResult, ClientError> {
        self.delete_record(module, id)
    }

    fn users(&self, kind: UserType) -> Result<Vec<User>, ClientError> {
        self.get_users(kind)
    }

    fn modules(&self) -> Result<Vec<ModuleInfo>, ClientError> {
        self.get_modules()
    }

    fn related(
        &self,
        module: &str,
        parent_module: &str,
        id: RecordId,
        params: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.related_records(module, parent_module, id, params)
    }

    /// `{"data":[{"id":"...","Member_Status":"..."}]}`: relation labels with underscores.
    fn relate(
        &self,
        module: &str,
        id: RecordId,
        related_module: &str,
        relations: &[Relation],
    ) -> Result<RelatedUpdateResult, ClientError> {
        let data: Vec<Json> = relations
            .iter()
            .map(|r| {
                let mut item = serde_json::Map::new();
                item.insert("id".into(), Json::String(r.id.to_string()));
                for (label, value) in &r.fields {
                    item.insert(label.trim().replace(' ', "_"), Json::String(value.clone()));
                }
                Json::Object(item)
            })
            .collect();
        let body = serde_json::json!({ "data": data }).to_string();
        self.update_related(module, id, related_module, &body)
    }

    /// `{"data":[{"overwrite":false,"notify_lead_owner":..,"notify_new_entity_owner":..,
    /// "assign_to":{"id":..},"Deals":{...}}]}`; the deal's fields are encoded as a write of
    /// Potentials (`Deals`) would encode them.
    fn convert_lead(
        &self,
        lead: RecordId,
        conversion: &Conversion,
    ) -> Result<ConvertResult, ClientError> {
        let mut item = serde_json::Map::new();
        item.insert("overwrite".into(), Json::Bool(false));
        item.insert("notify_lead_owner".into(), Json::Bool(conversion.notify));
        item.insert("notify_new_entity_owner".into(), Json::Bool(conversion.notify));
        if let Some(a) = &conversion.assign_to {
            item.insert("assign_to".into(), serde_json::json!({ "id": a.id.to_string() }));
        }
        if !conversion.potential.is_empty() {
            let encode = |source| ClientError::Encode { method: Method::ConvertLead, source };
            let mut deal = self.payload("Potentials", 1);
            deal.push_row(&mut conversion.potential.iter().map(|(k, v)| (k.as_str(), v)))
                .map_err(encode)?;
            let body = deal.finish().map_err(encode)?;
            let record = serde_json::from_str::<Json>(&body)
                .ok()
                .and_then(|mut b| b.get_mut("data")?.get_mut(0).map(Json::take))
                .unwrap_or(Json::Null);
            item.insert("Deals".into(), record);
        }
        let body = serde_json::json!({ "data": [Json::Object(item)] }).to_string();
        self.convert(lead, &body)
    }

    fn conversion_of(&self, lead: RecordId) -> Result<Option<ConvertResult>, ClientError> {
        self.converted_detail(lead)
    }

    fn attachment_pages(
        &self,
        module: &str,
        id: RecordId,
        page: &mut dyn FnMut(&[crate::api::AttachmentFile]) -> std::ops::ControlFlow<()>,
    ) -> Result<Option<u32>, ClientError> {
        RestClient::attachment_pages(self, module, id, page).map(Some)
    }

    fn download_attachment(
        &self,
        module: &str,
        record: RecordId,
        attachment: RecordId,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ClientError> {
        RestClient::download_attachment(self, module, record, attachment, out)
    }

    fn attachments(
        &self,
        module: &str,
        id: RecordId,
    ) -> Result<Option<Vec<crate::api::Attachment>>, ClientError> {
        self.list_attachments(module, id).map(Some)
    }

    fn created_at(
        &self,
        module: &str,
        id: RecordId,
    ) -> Result<Option<jiff::Timestamp>, ClientError> {
        self.created_time(module, id)
    }

    fn set_photo(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<StatusResult, ClientError> {
        self.upload_photo(module, id, file)
    }

    fn attach(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<UploadResult, ClientError> {
        self.upload(module, id, file)
    }

    fn bulk_encoder(&self, module: &str) -> Result<Box<dyn BulkEncoder>, ClientError> {
        Ok(Box::new(self.csv_encoder(module)?))
    }

    fn bulk_upload(&self, zip: &Path) -> Result<String, ClientError> {
        self.bulk_upload_zip(zip)
    }

    fn bulk_create(&self, job: &BulkJob) -> Result<String, ClientError> {
        self.bulk_create_job(job)
    }

    fn bulk_find(&self, file_id: &str) -> Result<Option<String>, ClientError> {
        self.bulk_find_job(file_id)
    }

    fn bulk_status(&self, job_id: &str) -> Result<BulkState, ClientError> {
        self.bulk_job_status(job_id)
    }

    fn bulk_download(&self, url: &str, to: &Path) -> Result<(), ClientError> {
        self.bulk_download_result(url, to)
    }
}
