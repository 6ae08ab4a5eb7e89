//! insertRecords / updateRecords results: the single-record form (§3.4, version 1/2) and the
//! per-row form of `version=4` (§3.5) with codes 2000/2001/2002 or a per-row error.

use super::{parse_checked, shape};
use crate::error::{ApiCode, ApiError, DecodeError, EncodeError, ResponseError};
use crate::value::RecordId;
use crate::xml::tree::Element;
use crate::xml::writer::XmlWriter;

/// `Record(s) added successfully`.
pub const MSG_ADDED: &str = "Record(s) added successfully";
/// `Record(s) updated successfully`.
pub const MSG_UPDATED: &str = "Record(s) updated successfully";
/// `Record(s) already exists` (duplicateCheck=1 hit, single-record form).
pub const MSG_EXISTS: &str = "Record(s) already exists";

/// The `<recorddetail>` / `<details>` of a written record: its Id and the FLs beside it
/// (Created Time, Modified Time, Created By, Modified By).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDetail {
    /// The record's Id (for 2002, the existing record's).
    pub id: RecordId,
    /// The other FLs in document order.
    pub fields: Vec<(String, String)>,
}

impl RecordDetail {
    /// The value of an FL other than `Id`.
    pub fn get(&self, label: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == label).map(|(_, v)| v.as_str())
    }

    fn decode(e: &Element) -> Result<Self, ResponseError> {
        let mut id = None;
        let mut fields = Vec::new();
        for fl in e.elements().filter(|f| f.name == "FL") {
            let label = fl.attr("val").unwrap_or_default();
            if label == "Id" {
                let text = fl.text();
                id = Some(
                    text.parse()
                        .map_err(|_| DecodeError::BadValue { what: "record Id", value: text })?,
                );
            } else {
                fields.push((label.to_owned(), fl.text()));
            }
        }
        Ok(Self { id: id.ok_or_else(|| shape("record detail without an Id"))?, fields })
    }

    fn encode(&self, w: &mut XmlWriter) -> Result<(), EncodeError> {
        w.leaf("FL", &[("val", "Id")], &self.id.to_string())?;
        for (k, v) in &self.fields {
            w.leaf_cdata("FL", &[("val", k)], v)?;
        }
        Ok(())
    }
}

/// What happened to one row of a `version=4` write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// 2000: created.
    Added(RecordDetail),
    /// 2001: updated (updateRecords, or insert with duplicateCheck=2 that hit a record).
    Updated(RecordDetail),
    /// 2002: a duplicate exists (duplicateCheck=1); not created; the detail is the existing record.
    Duplicate(RecordDetail),
    /// A per-row error (4891, 4832, 4425, 401.2, ...).
    Failed(ApiError),
}

impl RowOutcome {
    /// The row's record, unless it failed.
    pub fn detail(&self) -> Option<&RecordDetail> {
        match self {
            Self::Added(d) | Self::Updated(d) | Self::Duplicate(d) => Some(d),
            Self::Failed(_) => None,
        }
    }

    /// The success code (2000/2001/2002) or the error code.
    pub fn code(&self) -> &str {
        match self {
            Self::Added(_) => "2000",
            Self::Updated(_) => "2001",
            Self::Duplicate(_) => "2002",
            Self::Failed(e) => e.code.as_str(),
        }
    }
}

/// The result for one `row no` of a `version=4` write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// The `row no` sent in xmlData (rows may come back in any order).
    pub no: u32,
    /// What happened.
    pub outcome: RowOutcome,
}

/// A decoded write result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteResponse {
    /// Version 1/2: one message and the record details.
    Single {
        /// e.g. `Record(s) added successfully`.
        message: String,
        /// One `<recorddetail>` per record.
        details: Vec<RecordDetail>,
    },
    /// Version 4: a result per row, sorted by `no`.
    Rows(Vec<RowResult>),
}

impl WriteResponse {
    /// Decodes an insertRecords/updateRecords response; an `<error>` envelope is an API error.
    pub fn decode(bytes: &[u8]) -> Result<Self, ResponseError> {
        let root = parse_checked(bytes)?;
        let result =
            root.child("result").ok_or_else(|| shape("write response without <result>"))?;
        if result.child("row").is_some() {
            let mut rows = result
                .elements()
                .filter(|e| e.name == "row")
                .map(|row| {
                    let no_text = row.attr("no").unwrap_or_default();
                    let no = no_text.trim().parse().map_err(|_| DecodeError::BadValue {
                        what: "row no",
                        value: no_text.to_owned(),
                    })?;
                    Ok(RowResult { no, outcome: row_outcome(row)? })
                })
                .collect::<Result<Vec<_>, ResponseError>>()?;
            rows.sort_by_key(|r| r.no);
            return Ok(Self::Rows(rows));
        }
        let message = result.child_text("message").unwrap_or_default();
        let details = result
            .elements()
            .filter(|e| e.name == "recorddetail")
            .map(RecordDetail::decode)
            .collect::<Result<_, _>>()?;
        Ok(Self::Single { message, details })
    }

    /// Encodes the response for the request path `uri` (the emulator's side).
    pub fn encode(&self, uri: &str) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open("response", &[("uri", uri)])?;
        w.open("result", &[])?;
        match self {
            Self::Single { message, details } => {
                w.leaf("message", &[], message)?;
                for d in details {
                    w.open("recorddetail", &[])?;
                    d.encode(&mut w)?;
                    w.close("recorddetail");
                }
            }
            Self::Rows(rows) => {
                for r in rows {
                    let no = r.no.to_string();
                    w.open("row", &[("no", &no)])?;
                    match &r.outcome {
                        RowOutcome::Failed(e) => {
                            w.open("error", &[])?;
                            w.leaf("code", &[], e.code.as_str())?;
                            w.leaf("details", &[], &e.message)?;
                            w.close("error");
                        }
                        ok => {
                            w.open("success", &[])?;
                            w.leaf("code", &[], ok.code())?;
                            w.open("details", &[])?;
                            if let Some(d) = ok.detail() {
                                d.encode(&mut w)?;
                            }
                            w.close("details");
                            w.close("success");
                        }
                    }
                    w.close("row");
                }
            }
        }
        w.close("result");
        w.close("response");
        Ok(w.finish())
    }
}

fn row_outcome(row: &Element) -> Result<RowOutcome, ResponseError> {
    if let Some(ok) = row.child("success") {
        let code = ok.child_text("code").unwrap_or_default();
        let details = ok.child("details").ok_or_else(|| shape("<success> without <details>"))?;
        let d = RecordDetail::decode(details)?;
        return match code.trim() {
            "2000" => Ok(RowOutcome::Added(d)),
            "2001" => Ok(RowOutcome::Updated(d)),
            "2002" => Ok(RowOutcome::Duplicate(d)),
            other => {
                Err(DecodeError::BadValue { what: "row success code", value: other.to_owned() }
                    .into())
            }
        };
    }
    if let Some(err) = row.child("error") {
        let code = err.child_text("code").unwrap_or_default();
        let message =
            err.child_text("details").or_else(|| err.child_text("message")).unwrap_or_default();
        return Ok(RowOutcome::Failed(ApiError::new(ApiCode::parse(&code), message)));
    }
    Err(shape("<row> without <success> or <error>"))
}
