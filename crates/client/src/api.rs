//! The API seam: everything zcrm's stages ask of the CRM, whatever the wire dialect.
//!
//! The batcher, the writers and the engine hold a `&dyn CrmApi` and never a concrete client:
//! a dialect decides how a call is encoded, sent, retried and charged, and answers in the
//! types the stages read. [`Client`] (Zoho's XML API) is the first implementation; a second
//! dialect is a new implementation of this trait, not a fork of the stages.
//!
//! Every method says what it costs through [`CrmApi::cost`], in the dialect's own unit (one
//! call of the daily budget on the XML API); the dialect charges its ledger before sending.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

use zcrm_protocol::params::{DuplicateCheck, ReadParams, UserType, Window, WriteParams};
use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, UploadResult, User,
};
use zcrm_protocol::xmldata::{XmlData, decode_xml_data};
use zcrm_protocol::{
    DecodeError, Direction, EncodeError, Method, ModuleFields, RecordId, RecordsPage,
    ResponseError, Value, WriteResponse, XmlDataBuilder,
};

use crate::actions::{Conversion, Relation};
use crate::budget::Ledger;
use crate::bulk::{BulkEncoder, BulkJob, BulkState};
use crate::bulk_read::{BulkReadOutcome, BulkReadRequest, ChunkSink};
use crate::retry::RetryPolicy;
use crate::server_clock::ServerClock;
use crate::transport::FilePart;
use crate::{Client, ClientError};

/// The wire dialects zcrm speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Zoho's XML API (`/crm/private/xml/...`, an authtoken, a daily call budget).
    Xml,
    /// Zoho's REST API v8 (`/crm/v8/...`, OAuth 2.0, credits per rolling 24 hours).
    V8,
}

/// A kind of call, for [`CrmApi::cost`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A module's field metadata.
    Metadata,
    /// One page of records.
    Read,
    /// One page of a custom view's records (v8 `GET /{module}?cvid=`: 3 credits).
    ViewRead,
    /// One page of deleted record ids.
    DeletedIds,
    /// A write of `rows` records.
    Write {
        /// Records in the payload.
        rows: u32,
    },
    /// A delete.
    Delete,
    /// Users or modules.
    Settings,
    /// Related records (read or update).
    Related,
    /// A lead conversion.
    Convert,
    /// A file upload.
    File,
    /// Bulk Write: the upload of a job's ZIP.
    BulkUpload,
    /// Bulk Write: a job created.
    BulkJob,
    /// Creating a Bulk Read job (a page of up to 200,000 records).
    BulkRead,
    /// A bulk job's status, a search for a job, or a result's download (free on v8).
    BulkStatus,
}

/// The kind of an XML API call of `method` carrying `rows` records (for writes).
pub fn call_kind(method: Method, rows: u32) -> CallKind {
    use Method as M;
    match method {
        M::GetFields => CallKind::Metadata,
        M::GetDeletedRecordIds => CallKind::DeletedIds,
        M::InsertRecords | M::UpdateRecords => CallKind::Write { rows },
        M::DeleteRecords => CallKind::Delete,
        M::GetUsers | M::GetModules => CallKind::Settings,
        M::GetRelatedRecords | M::UpdateRelatedRecords => CallKind::Related,
        M::ConvertLead => CallKind::Convert,
        M::UploadFile
        | M::DownloadFile
        | M::DeleteFile
        | M::UploadPhoto
        | M::DownloadPhoto
        | M::DeletePhoto => CallKind::File,
        M::GetRecords
        | M::GetMyRecords
        | M::GetRecordById
        | M::SearchRecords
        | M::GetSearchRecords
        | M::GetSearchRecordsByPdc
        | M::GetCvRecords => CallKind::Read,
    }
}

/// How a write call treats its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Create every row.
    Insert,
    /// Create each row, or update the record that has its duplicate-check value.
    InsertOrUpdateDuplicate,
    /// Update the records the rows name by `Id`.
    Update,
}

/// What an insert does with a row whose duplicate-check value an existing record has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    /// Create it anyway (no duplicate check).
    #[default]
    Create,
    /// Refuse the row: it goes to the reject file.
    Reject,
    /// Do not create it: the row is recorded as matching the existing record (later steps'
    /// lookups point at it).
    Match,
}

/// A step's options for its write calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// Fire the org's workflow rules (off by default: what a migration wants).
    pub workflow: bool,
    /// Create the records in approval mode.
    pub approval: bool,
    /// What an insert does with a duplicate.
    pub on_duplicate: OnDuplicate,
}

/// One write payload in the dialect's encoding, built row by row.
pub trait PayloadBuilder {
    /// Adds a row of `(field label, typed value)`, each value rendered in the dialect's own
    /// form; the row's number in the payload (answers refer to rows by it), or why it cannot be
    /// encoded (the row is rejected, the payload goes on).
    fn push_row<'s>(
        &mut self,
        fields: &mut dyn Iterator<Item = (&'s str, &'s Value)>,
    ) -> Result<u32, EncodeError>;
    /// [`PayloadBuilder::push_row`] for a record with line items (`Product Details` of Quotes,
    /// SalesOrders, PurchaseOrders and Invoices): each item's `(label, typed value)` pairs,
    /// labelled as the XML API names them (`zcrm_protocol::line_items`). No items: a plain row.
    fn push_row_with_items<'s>(
        &mut self,
        fields: &mut dyn Iterator<Item = (&'s str, &'s Value)>,
        items: &[Vec<(&'s str, &'s Value)>],
    ) -> Result<u32, EncodeError>;
    /// The encoded payload: what the journal keeps and the write call sends.
    fn finish(self: Box<Self>) -> Result<String, EncodeError>;
}

/// The CRM as zcrm's stages see it.
pub trait CrmApi: Sync {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// What a call of `kind` costs, in the unit of the dialect's ledger.
    fn cost(&self, kind: CallKind) -> u32;
    /// The ledger every call is charged to before it is sent.
    fn ledger(&self) -> &Ledger;
    /// The server's clock, as its answers state it.
    fn server_clock(&self) -> &ServerClock;
    /// The longest a call may take, answer included.
    fn call_deadline(&self) -> Duration;
    /// How failed calls are retried (and in-doubt writes backed off).
    fn retry_policy(&self) -> RetryPolicy;

    /// The fields of `module`.
    fn fields(&self, module: &str) -> Result<ModuleFields, ClientError>;
    /// Takes `module`'s fields from a cache instead of asking for them (a dialect that needs
    /// them to encode payloads keeps them; the XML dialect needs nothing).
    fn remember_fields(&self, _fields: &ModuleFields) {}
    /// One page of records, handed to `page` while the answer is alive (no copy of values).
    fn read(
        &self,
        module: &str,
        params: &ReadParams,
        page: &mut dyn FnMut(RecordsPage<'_>),
    ) -> Result<(), ClientError>;
    /// One page of records as the answer's bytes, to decode later with [`CrmApi::decode_page`]
    /// (on another thread), and an upper bound of its rows.
    fn read_body(&self, module: &str, params: &ReadParams)
    -> Result<(Vec<u8>, usize), ClientError>;
    /// Decodes a page [`CrmApi::read_body`] returned.
    fn decode_page<'a>(&self, body: &'a [u8]) -> Result<RecordsPage<'a>, ResponseError>;
    /// Pages of records one export may ask for at once with [`CrmApi::read_body`]: what the
    /// dialect's documented concurrency allows, with room left for other callers.
    fn max_reads_in_flight(&self) -> u32 {
        1
    }
    /// The first record (1-based) from which a page of records can only be asked for with the
    /// answer of the page before it (v8 `page_token`s); `None` when any page can be asked for
    /// on its own.
    fn chained_reads_from(&self) -> Option<u32> {
        None
    }
    /// One page of the ids of records deleted (since a time, when given).
    fn deleted_ids(
        &self,
        module: &str,
        window: Window,
        since: Option<jiff::civil::DateTime>,
    ) -> Result<Vec<RecordId>, ClientError>;
    /// Reads a whole module (or its records modified since a time) through the dialect's Bulk
    /// Read API, handing `chunk` the rows as page bodies for [`CrmApi::decode_page`], in record
    /// id order. A dialect without one answers [`ClientError::Unsupported`] before any call.
    fn bulk_read(
        &self,
        request: &BulkReadRequest<'_>,
        chunk: &mut ChunkSink<'_>,
    ) -> Result<BulkReadOutcome, ClientError> {
        let _ = (request, chunk);
        Err(ClientError::Unsupported {
            dialect: match self.dialect() {
                Dialect::Xml => "XML",
                Dialect::V8 => "v8",
            },
            what: "Bulk Read".into(),
        })
    }

    /// One window of the records `filter` selects (a search criteria or a custom view), as
    /// [`CrmApi::read_body`] answers for `params` (columns, window, `last_modified`). A dialect
    /// without the filter answers [`ClientError::Unsupported`] before any call.
    fn read_filtered_body(
        &self,
        module: &str,
        filter: &crate::filtered::RecordFilter,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let _ = (module, filter, params);
        Err(ClientError::Unsupported {
            dialect: match self.dialect() {
                Dialect::Xml => "XML",
                Dialect::V8 => "v8",
            },
            what: "filtered reads".into(),
        })
    }

    /// A new write payload for `module`, of at most `max_rows` rows.
    fn payload(&self, module: &str, max_rows: u32) -> Box<dyn PayloadBuilder>;
    /// The rows of a payload [`CrmApi::payload`] built (reconciliation compares them with
    /// what the CRM holds).
    fn decode_payload(&self, payload: &str) -> Result<XmlData, DecodeError>;
    /// Sends a write payload with the step's `options`. An unknown outcome is
    /// [`ClientError::InDoubt`], never retried.
    fn write(
        &self,
        module: &str,
        kind: WriteKind,
        payload: String,
        options: &WriteOptions,
    ) -> Result<WriteResponse, ClientError>;
    /// Deletes one record.
    fn delete(&self, module: &str, id: RecordId) -> Result<StatusResult, ClientError>;

    /// The org's users.
    fn users(&self, kind: UserType) -> Result<Vec<User>, ClientError>;
    /// The org's modules.
    fn modules(&self) -> Result<Vec<ModuleInfo>, ClientError>;
    /// Records of `module` related to record `id` of `parent_module`.
    fn related(
        &self,
        module: &str,
        parent_module: &str,
        id: RecordId,
        params: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError>;
    /// Relates records of `related_module` (at most [`MAX_RELATIONS`] a call) to record `id`
    /// of `module`, setting the relations' fields.
    fn relate(
        &self,
        module: &str,
        id: RecordId,
        related_module: &str,
        relations: &[Relation],
    ) -> Result<RelatedUpdateResult, ClientError>;
    /// Converts a lead into a contact, an account (found by name or created) and, when the
    /// conversion names one, a potential.
    fn convert_lead(
        &self,
        lead: RecordId,
        conversion: &Conversion,
    ) -> Result<ConvertResult, ClientError>;
    /// Attaches a file to a record.
    fn attach(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<UploadResult, ClientError>;
    /// What a converted lead became, when the dialect can tell (`None`: not converted, or the
    /// dialect has no way to ask — the XML API has none).
    fn conversion_of(&self, lead: RecordId) -> Result<Option<ConvertResult>, ClientError>;
    /// A record's attachments as `(id, file name, created)`, when the dialect can list them
    /// (`None` on the XML API, which has no call for it).
    fn attachments(
        &self,
        module: &str,
        id: RecordId,
    ) -> Result<Option<Vec<Attachment>>, ClientError>;
    /// A record's attachments with what an export of their files needs, a page at a time
    /// (`page` says whether to go on): the listing calls made, or `None` when the dialect
    /// cannot list them (the XML API has no call for it). Each call costs
    /// [`CallKind::Related`].
    fn attachment_pages(
        &self,
        module: &str,
        id: RecordId,
        page: &mut dyn FnMut(&[AttachmentFile]) -> std::ops::ControlFlow<()>,
    ) -> Result<Option<u32>, ClientError> {
        let _ = (module, id, page);
        Ok(None)
    }
    /// Streams the content of attachment `attachment` of record `record` into `out`: the bytes
    /// written, or `None` when the attachment (or its record) no longer exists. One call of
    /// [`CallKind::File`], retried only before a byte was handed to `out`; a body cut short is
    /// [`ClientError::Transport`] (start again with a fresh `out`). A dialect without the call
    /// answers [`ClientError::Unsupported`] before any call.
    fn download_attachment(
        &self,
        module: &str,
        record: RecordId,
        attachment: RecordId,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ClientError> {
        let _ = (module, record, attachment, out);
        Err(ClientError::Unsupported {
            dialect: match self.dialect() {
                Dialect::Xml => "XML",
                Dialect::V8 => "v8",
            },
            what: "downloading a record's attachments (the XML API cannot list them)".into(),
        })
    }
    /// When a record was created, or `None` when it does not exist (any more).
    fn created_at(&self, module: &str, id: RecordId) -> Result<Option<Timestamp>, ClientError>;
    /// Sets a record's photo (Leads, Contacts).
    fn set_photo(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<StatusResult, ClientError>;

    /// Bulk Write: how rows of `module` become cells of a job's CSV.
    fn bulk_encoder(&self, _module: &str) -> Result<Box<dyn BulkEncoder>, ClientError> {
        Err(no_bulk(self.dialect()))
    }
    /// Bulk Write: uploads a job's ZIP (streamed from disk); the server's `file_id`.
    fn bulk_upload(&self, _zip: &Path) -> Result<String, ClientError> {
        Err(no_bulk(self.dialect()))
    }
    /// Bulk Write: creates a job; its id. An unknown outcome is [`ClientError::InDoubt`]:
    /// find the job with [`CrmApi::bulk_find`] before creating it again.
    fn bulk_create(&self, _job: &BulkJob) -> Result<String, ClientError> {
        Err(no_bulk(self.dialect()))
    }
    /// Bulk Write: the job created from uploaded file `file_id`, if any (a create whose answer
    /// was lost). [`ClientError::Unsupported`] when the server cannot list its jobs.
    fn bulk_find(&self, _file_id: &str) -> Result<Option<String>, ClientError> {
        Err(no_bulk(self.dialect()))
    }
    /// Bulk Write: a job's state.
    fn bulk_status(&self, _job_id: &str) -> Result<BulkState, ClientError> {
        Err(no_bulk(self.dialect()))
    }
    /// Bulk Write: downloads a completed job's result ZIP to the file `to`.
    fn bulk_download(&self, _url: &str, _to: &Path) -> Result<(), ClientError> {
        Err(no_bulk(self.dialect()))
    }
}

/// What a dialect without Bulk Write answers.
fn no_bulk(dialect: Dialect) -> ClientError {
    ClientError::Unsupported {
        dialect: match dialect {
            Dialect::Xml => "xml",
            Dialect::V8 => "v8",
        },
        what: "Bulk Write".into(),
    }
}

/// An attachment as a listing shows it: `(id, file name, created)`.
pub type Attachment = (RecordId, String, Timestamp);

/// An attachment as a listing for an export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFile {
    /// The attachment's id.
    pub id: RecordId,
    /// Its file name, as the CRM has it (any characters: make it safe before using it as a
    /// path).
    pub file_name: String,
    /// Its size in bytes, when the listing says.
    pub size: Option<u64>,
    /// The URL of a link attachment (no content to download).
    pub link_url: Option<String>,
}

/// The most bytes one attachment download reads: more is a failure (a hostile or broken
/// server), not a file.
pub const MAX_ATTACHMENT_BYTES: u64 = 256 << 20;

/// Related records one relate call carries at most (updateRelatedRecords and v8's related
/// list update alike).
pub const MAX_RELATIONS: usize = 100;

/// The XML API's convertLead `xmlData`: row 1 the options, row 2 the potential.
fn xml_conversion(c: &Conversion) -> Result<String, EncodeError> {
    let mut x = XmlDataBuilder::new("Potentials", 2);
    let create = if c.potential.is_empty() { "false" } else { "true" };
    let notify = if c.notify { "true" } else { "false" };
    let mut options = vec![
        ("createPotential", create),
        ("notifyLeadOwner", notify),
        ("notifyNewEntityOwner", notify),
    ];
    if let Some(a) = &c.assign_to {
        options.push(("assignTo", a.email.as_str()));
    }
    x.push_options(options)?;
    if !c.potential.is_empty() {
        x.push_values(c.potential.iter().map(|(k, v)| (k.as_str(), v)))?;
    }
    x.finish()
}

/// The XML API's updateRelatedRecords `xmlData`: a row per related record, its id under the
/// related module's id column.
fn xml_relations(related_module: &str, relations: &[Relation]) -> Result<String, EncodeError> {
    let id_label = related_module
        .parse::<zcrm_protocol::Module>()
        .map_or_else(|_| "id".into(), zcrm_protocol::Module::id_field);
    let limit = u32::try_from(relations.len()).unwrap_or(u32::MAX);
    let mut x = XmlDataBuilder::new(related_module, limit);
    for r in relations {
        let id = r.id.to_string();
        let fields = std::iter::once((&*id_label, id.as_str()))
            .chain(r.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        x.push_row(fields)?;
    }
    x.finish()
}

/// The XML dialect's payload: an `xmlData` document.
struct XmlPayload(XmlDataBuilder);

impl PayloadBuilder for XmlPayload {
    fn push_row<'s>(
        &mut self,
        fields: &mut dyn Iterator<Item = (&'s str, &'s Value)>,
    ) -> Result<u32, EncodeError> {
        // The XML API reads every value as text in its input form (dates as MM/dd/yyyy).
        let texts = fields
            .map(|(label, v)| Ok((label, v.to_text(Direction::Input)?)))
            .collect::<Result<Vec<_>, EncodeError>>()?;
        self.0.push_row(texts.iter().map(|(l, t)| (*l, t.as_ref())))
    }

    /// Items go out as `<FL val="Product Details"><product no="n">` entries, each value as
    /// text in its input form.
    fn push_row_with_items<'s>(
        &mut self,
        fields: &mut dyn Iterator<Item = (&'s str, &'s Value)>,
        items: &[Vec<(&'s str, &'s Value)>],
    ) -> Result<u32, EncodeError> {
        if items.is_empty() {
            return self.push_row(fields);
        }
        let texts = fields
            .map(|(label, v)| Ok((label, v.to_text(Direction::Input)?)))
            .collect::<Result<Vec<_>, EncodeError>>()?;
        let items = items
            .iter()
            .map(|item| {
                item.iter()
                    .map(|(label, v)| Ok((*label, v.to_text(Direction::Input)?)))
                    .collect::<Result<Vec<_>, EncodeError>>()
            })
            .collect::<Result<Vec<_>, EncodeError>>()?;
        let products: Vec<Vec<(&str, &str)>> =
            items.iter().map(|i| i.iter().map(|(l, t)| (*l, t.as_ref())).collect()).collect();
        self.0.push_row_with_products(texts.iter().map(|(l, t)| (*l, t.as_ref())), &products)
    }

    fn finish(self: Box<Self>) -> Result<String, EncodeError> {
        self.0.finish()
    }
}

impl CrmApi for Client {
    fn dialect(&self) -> Dialect {
        Dialect::Xml
    }

    /// Every XML call is one call of the daily budget, whatever it carries.
    fn cost(&self, _: CallKind) -> u32 {
        1
    }

    fn ledger(&self) -> &Ledger {
        Client::ledger(self)
    }

    fn server_clock(&self) -> &ServerClock {
        Client::server_clock(self)
    }

    fn call_deadline(&self) -> Duration {
        Client::call_deadline(self)
    }

    fn retry_policy(&self) -> RetryPolicy {
        Client::retry_policy(self)
    }

    fn fields(&self, module: &str) -> Result<ModuleFields, ClientError> {
        self.get_fields(module)
    }

    fn read(
        &self,
        module: &str,
        params: &ReadParams,
        page: &mut dyn FnMut(RecordsPage<'_>),
    ) -> Result<(), ClientError> {
        self.get_records(module, params, page)
    }

    fn read_body(
        &self,
        module: &str,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        self.get_records_body(module, params)
    }

    fn decode_page<'a>(&self, body: &'a [u8]) -> Result<RecordsPage<'a>, ResponseError> {
        RecordsPage::decode(body)
    }

    /// The XML API documents no concurrency limit: zcrm's own ceiling.
    fn max_reads_in_flight(&self) -> u32 {
        zcrm_protocol::limits::MAX_READS_IN_FLIGHT
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
        self.get_deleted_record_ids(module, window, since)
    }

    fn payload(&self, module: &str, max_rows: u32) -> Box<dyn PayloadBuilder> {
        Box::new(XmlPayload(XmlDataBuilder::new(module, max_rows)))
    }

    fn decode_payload(&self, payload: &str) -> Result<XmlData, DecodeError> {
        decode_xml_data(payload)
    }

    /// `wfTrigger` and `isApproval` from the options; `duplicateCheck=2` for an insert that
    /// updates duplicates, `duplicateCheck=1` for one that rejects or matches them.
    fn write(
        &self,
        module: &str,
        kind: WriteKind,
        payload: String,
        options: &WriteOptions,
    ) -> Result<WriteResponse, ClientError> {
        let duplicate_check = match (kind, options.on_duplicate) {
            (WriteKind::InsertOrUpdateDuplicate, _) => Some(DuplicateCheck::Update),
            (WriteKind::Insert, OnDuplicate::Reject | OnDuplicate::Match) => {
                Some(DuplicateCheck::Skip)
            }
            _ => None,
        };
        let params = WriteParams {
            duplicate_check,
            wf_trigger: options.workflow,
            is_approval: options.approval,
            ..WriteParams::multi_row()
        };
        match kind {
            WriteKind::Insert | WriteKind::InsertOrUpdateDuplicate => {
                self.insert_records(module, payload, &params)
            }
            WriteKind::Update => self.update_records(module, None, payload, &params),
        }
    }

    fn delete(&self, module: &str, id: RecordId) -> Result<StatusResult, ClientError> {
        self.delete_record(module, id)
    }

    fn users(&self, kind: UserType) -> Result<Vec<User>, ClientError> {
        self.get_users(kind)
    }

    fn modules(&self) -> Result<Vec<ModuleInfo>, ClientError> {
        self.get_modules(true)
    }

    fn related(
        &self,
        module: &str,
        parent_module: &str,
        id: RecordId,
        params: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        self.get_related_records(module, parent_module, id, params)
    }

    fn relate(
        &self,
        module: &str,
        id: RecordId,
        related_module: &str,
        relations: &[Relation],
    ) -> Result<RelatedUpdateResult, ClientError> {
        let xml = xml_relations(related_module, relations).map_err(|source| {
            ClientError::Encode { method: Method::UpdateRelatedRecords, source }
        })?;
        self.update_related_records(module, id, related_module, xml)
    }

    fn convert_lead(
        &self,
        lead: RecordId,
        conversion: &Conversion,
    ) -> Result<ConvertResult, ClientError> {
        let xml = xml_conversion(conversion)
            .map_err(|source| ClientError::Encode { method: Method::ConvertLead, source })?;
        Client::convert_lead(self, lead, xml)
    }

    fn set_photo(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<StatusResult, ClientError> {
        self.upload_photo(module, id, file)
    }

    /// The XML API has no call that tells what a converted lead became.
    fn conversion_of(&self, _lead: RecordId) -> Result<Option<ConvertResult>, ClientError> {
        Ok(None)
    }

    /// The XML API has no call that lists a record's attachments.
    fn attachments(
        &self,
        _module: &str,
        _id: RecordId,
    ) -> Result<Option<Vec<Attachment>>, ClientError> {
        Ok(None)
    }

    /// getRecordById of `Created Time`, read in the org's time zone.
    fn created_at(&self, module: &str, id: RecordId) -> Result<Option<Timestamp>, ClientError> {
        let params = ReadParams {
            select: zcrm_protocol::params::SelectColumns::fields(module, ["Created Time"]),
            ..ReadParams::default()
        };
        let page =
            self.get_record_by_id(module, &zcrm_protocol::params::IdSelection::One(id), &params)?;
        let tz = &self.ledger().config().timezone;
        Ok(page.rows().next().and_then(|r| {
            let text = r.text("Created Time")?;
            let civil = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text.trim()).ok()?;
            tz.to_ambiguous_timestamp(civil).compatible().ok()
        }))
    }

    fn attach(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<UploadResult, ClientError> {
        self.upload_file(module, id, file)
    }
}
