//! Typed requests: a method, the path module, and its parameters (docs/protocol.md §4). The client
//! adds `authtoken` and `scope`; nothing here knows about HTTP.

use crate::error::{EncodeError, ParamError};
use crate::method::{Format, Method};
use crate::params::{
    Criteria, FieldsFilter, IdSelection, Pairs, ReadParams, SearchCondition, SelectColumns,
    UserType, Window, WriteParams,
};
use crate::value::{RecordId, format_datetime};

/// One API call, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The module in the path (ignored for getUsers/getModules, which have fixed paths).
    pub module: String,
    /// Parameters, `xmlData` included, in sending order.
    pub params: Pairs,
}

/// A request that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A parameter breaks the documented rules.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The xmlData could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

impl Request {
    fn new(method: Method, module: &str, params: Pairs) -> Self {
        Self { method, module: module.to_owned(), params }
    }

    /// The URL path for `format`.
    pub fn path(&self, format: Format) -> String {
        self.method.path(format, &self.module)
    }

    /// Whether this call changes data.
    pub fn is_write(&self) -> bool {
        self.method.is_write()
    }

    /// Rows in the xmlData, for writes (counted from `<row `).
    pub fn xml_rows(&self) -> usize {
        self.params
            .iter()
            .find(|(k, _)| *k == "xmlData")
            .map_or(0, |(_, v)| v.matches("<row ").count())
    }

    /// getFields.
    pub fn get_fields(module: &str, filter: FieldsFilter) -> Self {
        Self::new(Method::GetFields, module, filter.to_pairs())
    }

    /// getRecords.
    pub fn get_records(module: &str, p: &ReadParams) -> Result<Self, RequestError> {
        Ok(Self::new(Method::GetRecords, module, p.to_pairs()?))
    }

    /// getMyRecords.
    pub fn get_my_records(module: &str, p: &ReadParams) -> Result<Self, RequestError> {
        Ok(Self::new(Method::GetMyRecords, module, p.to_pairs()?))
    }

    /// getRecordById with `id` or `idlist`.
    pub fn get_record_by_id(
        module: &str,
        ids: &IdSelection,
        p: &ReadParams,
    ) -> Result<Self, RequestError> {
        let mut params = vec![ids.to_pair()?];
        params.push(("selectColumns", p.select.to_param()?));
        params.extend(
            p.to_pairs()?.into_iter().filter(|(k, _)| matches!(*k, "newFormat" | "version")),
        );
        Ok(Self::new(Method::GetRecordById, module, params))
    }

    /// getDeletedRecordIds.
    pub fn get_deleted_record_ids(
        module: &str,
        window: Window,
        since: Option<jiff::civil::DateTime>,
    ) -> Self {
        let mut params =
            vec![("fromIndex", window.from.to_string()), ("toIndex", window.to.to_string())];
        if let Some(t) = since {
            params.push(("lastModifiedTime", format_datetime(t)));
        }
        Self::new(Method::GetDeletedRecordIds, module, params)
    }

    /// searchRecords with `criteria`.
    pub fn search_records(
        module: &str,
        criteria: &Criteria,
        p: &ReadParams,
    ) -> Result<Self, RequestError> {
        let mut params = vec![("criteria", criteria.to_string())];
        params.extend(p.to_pairs()?);
        Ok(Self::new(Method::SearchRecords, module, params))
    }

    /// getSearchRecords with `searchCondition` (250 calls a day).
    pub fn get_search_records(
        module: &str,
        cond: &SearchCondition,
        p: &ReadParams,
    ) -> Result<Self, RequestError> {
        let mut params = vec![("searchCondition", cond.to_param())];
        params.extend(p.to_pairs()?);
        Ok(Self::new(Method::GetSearchRecords, module, params))
    }

    /// getSearchRecordsByPDC on a predefined column.
    pub fn get_search_records_by_pdc(
        module: &str,
        column: &str,
        value: &str,
        p: &ReadParams,
    ) -> Result<Self, RequestError> {
        let mut params =
            vec![("searchColumn", column.to_owned()), ("searchValue", value.to_owned())];
        params.extend(p.to_pairs()?);
        Ok(Self::new(Method::GetSearchRecordsByPdc, module, params))
    }

    /// getCVRecords of a custom view (250 calls a day).
    pub fn get_cv_records(
        module: &str,
        cv_name: &str,
        p: &ReadParams,
    ) -> Result<Self, RequestError> {
        let mut params = vec![("cvName", cv_name.to_owned())];
        params.extend(p.to_pairs()?);
        Ok(Self::new(Method::GetCvRecords, module, params))
    }

    /// getRelatedRecords: records of `module` related to `parent_module` record `id`.
    pub fn get_related_records(
        module: &str,
        parent_module: &str,
        id: RecordId,
        p: &ReadParams,
    ) -> Result<Self, RequestError> {
        let mut params = vec![("parentModule", parent_module.to_owned()), ("id", id.to_string())];
        params.extend(
            p.to_pairs()?
                .into_iter()
                .filter(|(k, _)| matches!(*k, "fromIndex" | "toIndex" | "newFormat")),
        );
        Ok(Self::new(Method::GetRelatedRecords, module, params))
    }

    /// updateRelatedRecords: relate `xml_data` rows of `related_module` to parent `id`.
    pub fn update_related_records(
        module: &str,
        id: RecordId,
        related_module: &str,
        xml_data: String,
    ) -> Self {
        let params = vec![
            ("id", id.to_string()),
            ("relatedModule", related_module.to_owned()),
            ("xmlData", xml_data),
        ];
        Self::new(Method::UpdateRelatedRecords, module, params)
    }

    /// insertRecords.
    pub fn insert_records(module: &str, xml_data: String, p: &WriteParams) -> Self {
        let mut params = vec![("xmlData", xml_data)];
        params.extend(p.to_pairs());
        Self::new(Method::InsertRecords, module, params)
    }

    /// updateRecords: `id` for a single record, or `None` with `Id` FLs and `version=4`.
    pub fn update_records(
        module: &str,
        id: Option<RecordId>,
        xml_data: String,
        p: &WriteParams,
    ) -> Self {
        let mut params = Vec::new();
        if let Some(id) = id {
            params.push(("id", id.to_string()));
        }
        params.push(("xmlData", xml_data));
        params.extend(p.to_pairs());
        Self::new(Method::UpdateRecords, module, params)
    }

    /// deleteRecords of one record.
    pub fn delete_records(module: &str, id: RecordId) -> Self {
        Self::new(Method::DeleteRecords, module, vec![("id", id.to_string())])
    }

    /// convertLead; `xml_data` holds the options row and, optionally, the potential row.
    pub fn convert_lead(lead_id: RecordId, xml_data: String) -> Self {
        Self::new(
            Method::ConvertLead,
            "Leads",
            vec![
                ("leadId", lead_id.to_string()),
                ("xmlData", xml_data),
                ("newFormat", "1".into()),
                ("version", "2".into()),
            ],
        )
    }

    /// uploadFile (the file itself travels as the multipart part `content`), or a link with
    /// `attachment_url`.
    pub fn upload_file(module: &str, id: RecordId, attachment_url: Option<&str>) -> Self {
        let mut params = vec![("id", id.to_string())];
        if let Some(url) = attachment_url {
            params.push(("attachmentUrl", url.to_owned()));
        }
        Self::new(Method::UploadFile, module, params)
    }

    /// downloadFile, deleteFile, uploadPhoto, downloadPhoto, deletePhoto: all keyed by `id`.
    pub fn by_id(method: Method, module: &str, id: RecordId) -> Self {
        Self::new(method, module, vec![("id", id.to_string())])
    }

    /// getUsers of a type.
    pub fn get_users(kind: UserType) -> Self {
        Self::new(Method::GetUsers, "Users", vec![("type", kind.as_str().to_owned())])
    }

    /// getModules; `api_only` sends `type=api`.
    pub fn get_modules(api_only: bool) -> Self {
        let params = if api_only { vec![("type", "api".to_owned())] } else { vec![] };
        Self::new(Method::GetModules, "Info", params)
    }

    /// A read of every record's `fields` of `module` (the export and upsert-index reads).
    pub fn page_of(module: &str, fields: &[&str], page: u32) -> Result<Self, RequestError> {
        let select = if fields.is_empty() {
            SelectColumns::All
        } else {
            SelectColumns::fields(module, fields.iter().copied())
        };
        let p = ReadParams { select, window: Window::page(page), ..ReadParams::default() };
        Self::get_records(module, &p)
    }
}
