//! Filtered reads: the records of a search criteria or of a custom view, a page at a time, as
//! page bodies for [`crate::CrmApi::decode_page`] (what `export` steps with `criteria` or
//! `view` read).

use zcrm_protocol::params::{Criteria, ReadParams};
use zcrm_protocol::request::Request;
use zcrm_protocol::response::records::precheck_records;

use crate::{Client, ClientError};

/// Which records a filtered read returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFilter {
    /// Those matching a search criteria, in the XML API's `(Field:value)` grammar (equals, or
    /// starts with for `value*`; AND/OR): XML `searchRecords` (60 calls a minute), v8
    /// `GET /{module}/search?criteria=` (at most 2,000 records).
    Criteria(Criteria),
    /// Those of a custom view: XML `getCVRecords` with `cvName` (250 calls a day with
    /// getSearchRecords), v8 `GET /{module}?cvid=` (the view's id).
    View(String),
}

impl Client {
    /// searchRecords or getCVRecords as the answer's bytes and an upper bound of its rows.
    pub(crate) fn filtered_body(
        &self,
        module: &str,
        filter: &RecordFilter,
        p: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let req = match filter {
            RecordFilter::Criteria(c) => Request::search_records(module, c, p),
            RecordFilter::View(v) => Request::get_cv_records(module, v, p),
        }
        .map_err(|source| ClientError::InvalidRequest { source })?;
        self.call(&req, None, |body| precheck_records(body).map(|rows| (body.to_vec(), rows)))
    }
}
