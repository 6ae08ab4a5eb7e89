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
        // The common answer (version=4 rows) is read as a stream; every other shape (the
        // single-record form, error envelopes, refusals) goes through the tree.
        if let Some(rows) = stream::rows(bytes)? {
            return Ok(Self::Rows(rows));
        }
        Self::decode_tree(bytes)
    }

    /// The tree decoder: every shape.
    fn decode_tree(bytes: &[u8]) -> Result<Self, ResponseError> {
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

/// The `version=4` rows answer read as a stream of events: no tree, one allocation per value.
mod stream {
    use std::borrow::Cow;

    use quick_xml::events::BytesStart;

    use super::{RecordDetail, RowOutcome, RowResult};
    use crate::error::{ApiCode, ApiError, DecodeError, ResponseError};
    use crate::response::shape;
    use crate::xml::reader::{Ev, XmlReader};

    /// The next child element of the current element (`None` at its end); text is skipped.
    fn child<'a>(r: &mut XmlReader<'a>) -> Result<Option<BytesStart<'a>>, DecodeError> {
        loop {
            match r.next()? {
                Ev::Start(s) => return Ok(Some(s)),
                Ev::Text(_) => {}
                Ev::End => return Ok(None),
                Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }),
            }
        }
    }

    fn attr<'a>(s: &BytesStart<'a>, name: &str) -> Result<Option<Cow<'a, str>>, DecodeError> {
        for a in s.attributes().with_checks(false) {
            let a = a.map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
            if a.key.as_ref() == name {
                let v = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
                return Ok(Some(Cow::Owned(v.into_owned())));
            }
        }
        Ok(None)
    }

    fn details(r: &mut XmlReader<'_>) -> Result<RecordDetail, ResponseError> {
        let mut id = None;
        let mut fields = Vec::new();
        while let Some(fl) = child(r)? {
            if fl.name().as_ref() != "FL" {
                r.skip_element()?;
                continue;
            }
            let label = attr(&fl, "val")?.unwrap_or_default();
            let text = r.read_text()?;
            if label == "Id" {
                id = Some(text.parse().map_err(|_| DecodeError::BadValue {
                    what: "record Id",
                    value: text.into_owned(),
                })?);
            } else {
                fields.push((label.into_owned(), text.into_owned()));
            }
        }
        Ok(RecordDetail { id: id.ok_or_else(|| shape("record detail without an Id"))?, fields })
    }

    fn outcome(r: &mut XmlReader<'_>) -> Result<RowOutcome, ResponseError> {
        let mut found = None;
        while let Some(e) = child(r)? {
            if found.is_some() {
                r.skip_element()?;
                continue;
            }
            let success = match e.name().as_ref() {
                "success" => true,
                "error" => false,
                _ => {
                    r.skip_element()?;
                    continue;
                }
            };
            let (mut code, mut message, mut detail) = (String::new(), None, None);
            while let Some(part) = child(r)? {
                match (part.name().as_ref(), success) {
                    ("code", _) => code = r.read_text()?.into_owned(),
                    ("details", true) => detail = Some(details(r)?),
                    ("details", false) => message = Some(r.read_text()?.into_owned()),
                    ("message", false) if message.is_none() => {
                        message = Some(r.read_text()?.into_owned());
                    }
                    _ => r.skip_element()?,
                }
            }
            found = Some(if success {
                let d = detail.ok_or_else(|| shape("<success> without <details>"))?;
                match code.trim() {
                    "2000" => RowOutcome::Added(d),
                    "2001" => RowOutcome::Updated(d),
                    "2002" => RowOutcome::Duplicate(d),
                    other => {
                        return Err(DecodeError::BadValue {
                            what: "row success code",
                            value: other.to_owned(),
                        }
                        .into());
                    }
                }
            } else {
                RowOutcome::Failed(ApiError::new(
                    ApiCode::parse(&code),
                    message.unwrap_or_default(),
                ))
            });
        }
        found.ok_or_else(|| shape("<row> without <success> or <error>"))
    }

    /// `Some(rows)` when `bytes` is `<response><result><row ...>...`; `None` for any other
    /// shape (the caller decodes those through the tree).
    pub(super) fn rows(bytes: &[u8]) -> Result<Option<Vec<RowResult>>, ResponseError> {
        let mut r = XmlReader::new(bytes);
        let Ok(Ev::Start(root)) = r.next() else { return Ok(None) };
        if root.name().as_ref() != "response" {
            return Ok(None);
        }
        let result = loop {
            match r.next() {
                Ok(Ev::Start(s)) => break s,
                Ok(Ev::Text(t)) if t.trim().is_empty() => {}
                _ => return Ok(None),
            }
        };
        if result.name().as_ref() != "result" {
            return Ok(None);
        }
        let mut rows = Vec::new();
        while let Some(row) = child(&mut r)? {
            if row.name().as_ref() != "row" {
                return Ok(None);
            }
            let no_text = attr(&row, "no")?.unwrap_or_default();
            let no = no_text.trim().parse().map_err(|_| DecodeError::BadValue {
                what: "row no",
                value: no_text.into_owned(),
            })?;
            rows.push(RowResult { no, outcome: outcome(&mut r)? });
        }
        if rows.is_empty() {
            return Ok(None);
        }
        // The rest of <response>, then the end of the document (a cut body is an error).
        while child(&mut r)?.is_some() {
            r.skip_element()?;
        }
        loop {
            match r.next()? {
                Ev::Eof => break,
                Ev::Text(t) if t.trim().is_empty() => {}
                _ => return Err(shape("content after </response>")),
            }
        }
        rows.sort_by_key(|r| r.no);
        Ok(Some(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        std::fs::read(path).unwrap_or_default()
    }

    fn detail(i: u64) -> RecordDetail {
        RecordDetail {
            id: RecordId(900_000_000_000_000 + i),
            fields: vec![
                ("Created Time".into(), "2026-01-02 03:04:05".into()),
                ("Created By".into(), format!("Ann & <Bo> {i}")),
            ],
        }
    }

    #[test]
    fn the_stream_reads_what_the_tree_reads() {
        let mut rows: Vec<RowResult> = (1..=100u32)
            .map(|no| RowResult {
                no,
                outcome: match no % 4 {
                    0 => {
                        RowOutcome::Failed(ApiError::new(ApiCode::WrongValue, "bad <value> & more"))
                    }
                    1 => RowOutcome::Added(detail(u64::from(no))),
                    2 => RowOutcome::Updated(detail(u64::from(no))),
                    _ => RowOutcome::Duplicate(detail(u64::from(no))),
                },
            })
            .collect();
        rows.reverse();
        let body =
            WriteResponse::Rows(rows).encode("/crm/private/xml/Leads/insertRecords").unwrap();
        let bytes = body.as_bytes();
        let streamed = stream::rows(bytes).unwrap().unwrap();
        assert_eq!(WriteResponse::Rows(streamed), WriteResponse::decode_tree(bytes).unwrap());
        for name in ["insert_v4_rows.xml", "update_v4_rows.xml"] {
            let b = fixture(name);
            assert_eq!(WriteResponse::decode(&b).unwrap(), WriteResponse::decode_tree(&b).unwrap());
        }
        // Cut anywhere: both refuse it.
        for cut in (10..bytes.len()).step_by(97) {
            assert!(WriteResponse::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // Other shapes fall through to the tree.
        for name in ["insert_single.xml", "error_4600.xml", "refusal_deprecated.xml"] {
            let b = fixture(name);
            assert!(stream::rows(&b).unwrap().is_none(), "{name}");
        }
    }
}
