//! The smaller response shapes: deleteRecords, getDeletedRecordIds, convertLead, uploadFile,
//! the 4800 status of file/photo calls, updateRelatedRecords, getUsers and getModules.

use super::{envelope_error, is_nodata, parse_checked, shape};
use crate::error::{DecodeError, EncodeError, ResponseError};
use crate::response::write::RecordDetail;
use crate::value::RecordId;
use crate::xml::tree::Element;
use crate::xml::writer::XmlWriter;

/// A `<code>` + `<message>` answer: deleteRecords (5000), file and photo calls (4800).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResult {
    /// The success code (`5000`, `4800`).
    pub code: String,
    /// The message.
    pub message: String,
}

/// deleteRecords' success code.
pub const CODE_DELETED: &str = "5000";
/// File, photo and relation success code.
pub const CODE_FILE_OK: &str = "4800";

impl StatusResult {
    /// Decodes `<response><result|success><code/><message/></..></response>` or a bare `<success>`.
    pub fn decode(bytes: &[u8]) -> Result<Self, ResponseError> {
        let root = parse_checked(bytes)?;
        let body = if root.name == "success" || root.name == "result" {
            &root
        } else {
            root.child("result")
                .or_else(|| root.child("success"))
                .ok_or_else(|| shape("no <result> or <success>"))?
        };
        Ok(Self {
            code: body.child_text("code").unwrap_or_default(),
            message: body.child_text("message").unwrap_or_default(),
        })
    }

    /// Encodes `<response uri><{wrapper}><code/><message/></{wrapper}></response>`;
    /// `wrapper` is `result` for deleteRecords and `success` for file and photo calls.
    pub fn encode(&self, uri: &str, wrapper: &str) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open("response", &[("uri", uri)])?;
        w.open(wrapper, &[])?;
        w.leaf("code", &[], &self.code)?;
        w.leaf("message", &[], &self.message)?;
        w.close(wrapper);
        w.close("response");
        Ok(w.finish())
    }
}

/// The deleteRecords message: `Record Id(s) : 123,Record(s) deleted successfully`.
pub fn delete_message(id: RecordId) -> String {
    format!("Record Id(s) : {id},Record(s) deleted successfully")
}

/// getDeletedRecordIds: `<response uri><result><DeletedIDs>1,2,3</DeletedIDs></result></response>`.
/// Past the end the element is empty (never nodata).
pub fn decode_deleted_ids(bytes: &[u8]) -> Result<Vec<RecordId>, ResponseError> {
    let root = parse_checked(bytes)?;
    if is_nodata(&root) {
        return Ok(Vec::new());
    }
    let ids = root
        .child("result")
        .and_then(|r| r.child("DeletedIDs"))
        .ok_or_else(|| shape("no <DeletedIDs>"))?
        .text();
    ids.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| {
                DecodeError::BadValue { what: "deleted id", value: s.to_owned() }.into()
            })
        })
        .collect()
}

/// Encodes a getDeletedRecordIds page.
pub fn encode_deleted_ids(uri: &str, ids: &[RecordId]) -> Result<String, EncodeError> {
    let mut w = XmlWriter::document();
    w.open("response", &[("uri", uri)])?;
    w.open("result", &[])?;
    let text = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    w.leaf("DeletedIDs", &[], &text)?;
    w.close("result");
    w.close("response");
    Ok(w.finish())
}

/// convertLead: `<success><Contact param="id">..</Contact><Potential ..>..<Account ..>..</success>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertResult {
    /// The contact created from the lead.
    pub contact: RecordId,
    /// The account created or attached.
    pub account: RecordId,
    /// The potential, when one was created.
    pub potential: Option<RecordId>,
}

fn id_of(e: Option<&Element>, what: &'static str) -> Result<Option<RecordId>, ResponseError> {
    e.map(|e| {
        let t = e.text();
        t.parse().map_err(|_| DecodeError::BadValue { what, value: t }.into())
    })
    .transpose()
}

impl ConvertResult {
    /// Decodes a convertLead response (no `<response>` wrapper on success).
    pub fn decode(bytes: &[u8]) -> Result<Self, ResponseError> {
        let root = parse_checked(bytes)?;
        let body = if root.name == "success" {
            &root
        } else {
            root.child("success").ok_or_else(|| shape("no <success>"))?
        };
        Ok(Self {
            contact: id_of(body.child("Contact"), "contact id")?
                .ok_or_else(|| shape("no <Contact>"))?,
            account: id_of(body.child("Account"), "account id")?
                .ok_or_else(|| shape("no <Account>"))?,
            potential: id_of(body.child("Potential"), "potential id")?,
        })
    }

    /// Encodes the convertLead response.
    pub fn encode(&self) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open("success", &[])?;
        w.leaf("Contact", &[("param", "id")], &self.contact.to_string())?;
        if let Some(p) = self.potential {
            w.leaf("Potential", &[("param", "id")], &p.to_string())?;
        }
        w.leaf("Account", &[("param", "id")], &self.account.to_string())?;
        w.close("success");
        Ok(w.finish())
    }
}

/// uploadFile: `<response uri><result><message/><recorddetail><FL val="Id">..</FL>..</recorddetail></result></response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadResult {
    /// `File has been attached successfully`.
    pub message: String,
    /// The attachment's Id and times.
    pub detail: RecordDetail,
}

/// uploadFile's message.
pub const MSG_FILE_ATTACHED: &str = "File has been attached successfully";

impl UploadResult {
    /// Decodes an uploadFile response.
    pub fn decode(bytes: &[u8]) -> Result<Self, ResponseError> {
        match super::write::WriteResponse::decode(bytes)? {
            super::write::WriteResponse::Single { message, mut details } if !details.is_empty() => {
                Ok(Self { message, detail: details.remove(0) })
            }
            _ => Err(shape("uploadFile response without a record detail")),
        }
    }

    /// Encodes an uploadFile response.
    pub fn encode(&self, uri: &str) -> Result<String, EncodeError> {
        super::write::WriteResponse::Single {
            message: self.message.clone(),
            details: vec![self.detail.clone()],
        }
        .encode(uri)
    }
}

/// updateRelatedRecords. The exact XML was not recorded (docs/protocol.md §4.15 [L]); zcrm's choice:
/// `<response uri><status><code>4800</code></status><success><code>4800</code><message/>
/// <added-ids>[1, 2]</added-ids><updated-ids>[]</updated-ids></success></response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedUpdateResult {
    /// The message.
    pub message: String,
    /// Records newly related.
    pub added: Vec<RecordId>,
    /// Relations that existed and were updated.
    pub updated: Vec<RecordId>,
}

fn id_list(text: Option<String>) -> Result<Vec<RecordId>, ResponseError> {
    let text = text.unwrap_or_default();
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| {
                DecodeError::BadValue { what: "related id", value: s.to_owned() }.into()
            })
        })
        .collect()
}

fn fmt_list(ids: &[RecordId]) -> String {
    format!("[{}]", ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

impl RelatedUpdateResult {
    /// Decodes an updateRelatedRecords response.
    pub fn decode(bytes: &[u8]) -> Result<Self, ResponseError> {
        let root = parse_checked(bytes)?;
        let ok = root.child("success").ok_or_else(|| shape("no <success>"))?;
        Ok(Self {
            message: ok.child_text("message").unwrap_or_default(),
            added: id_list(ok.child_text("added-ids"))?,
            updated: id_list(ok.child_text("updated-ids"))?,
        })
    }

    /// Encodes an updateRelatedRecords response.
    pub fn encode(&self, uri: &str) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open("response", &[("uri", uri)])?;
        w.open("status", &[])?;
        w.leaf("code", &[], CODE_FILE_OK)?;
        w.close("status");
        w.open("success", &[])?;
        w.leaf("code", &[], CODE_FILE_OK)?;
        w.leaf("message", &[], &self.message)?;
        w.leaf("added-ids", &[], &fmt_list(&self.added))?;
        w.leaf("updated-ids", &[], &fmt_list(&self.updated))?;
        w.close("success");
        w.close("response");
        Ok(w.finish())
    }
}

/// One user of getUsers: `<user id email role profile status confirm ...>Name</user>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `id`.
    pub id: RecordId,
    /// The display name (element text).
    pub name: String,
    /// `email`.
    pub email: String,
    /// Every attribute other than `id`, in document order (role, profile, status, confirm, zuid, ...).
    pub attributes: Vec<(String, String)>,
}

impl User {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Decodes a getUsers response; `<users><nodata>` (or `users.nodata`) gives no users.
    pub fn decode_list(bytes: &[u8]) -> Result<Vec<User>, ResponseError> {
        let root = parse_checked(bytes)?;
        if root.name != "users" {
            return Err(shape("getUsers response without <users>"));
        }
        root.elements()
            .filter(|e| e.name == "user")
            .map(|u| {
                let id_text = u.attr("id").unwrap_or_default();
                Ok(User {
                    id: id_text.parse().map_err(|_| DecodeError::BadValue {
                        what: "user id",
                        value: id_text.to_owned(),
                    })?,
                    name: u.text(),
                    email: u.attr("email").unwrap_or_default().to_owned(),
                    attributes: u.attrs.iter().filter(|(k, _)| k != "id").cloned().collect(),
                })
            })
            .collect()
    }

    /// Encodes a getUsers response; no users gives `<users><nodata>..</nodata></users>`.
    pub fn encode_list(users: &[User]) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open("users", &[])?;
        if users.is_empty() {
            w.open("nodata", &[])?;
            w.leaf("code", &[], "4422")?;
            w.leaf("message", &[], super::NODATA_MESSAGE)?;
            w.close("nodata");
        }
        for u in users {
            let id = u.id.to_string();
            let mut attrs: Vec<(&str, &str)> = vec![("id", &id)];
            attrs.extend(u.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            if !u.attributes.iter().any(|(k, _)| k == "email") {
                attrs.push(("email", &u.email));
            }
            w.leaf("user", &attrs, &u.name)?;
        }
        w.close("users");
        Ok(w.finish())
    }
}

/// One module of getModules: `<row no id pl sl gt>ApiName</row>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// `id`.
    pub id: RecordId,
    /// The API name (element text).
    pub api_name: String,
    /// `pl`: the plural label users see.
    pub plural: String,
    /// `sl`: the singular label.
    pub singular: String,
    /// `gt`: 1 standard, 4 custom (our reading).
    pub kind: u32,
}

impl ModuleInfo {
    /// Decodes a getModules response.
    pub fn decode_list(bytes: &[u8]) -> Result<Vec<ModuleInfo>, ResponseError> {
        let root = Element::parse(bytes)?;
        if let Some(e) = envelope_error(&root) {
            return Err(e.into());
        }
        let result =
            root.child("result").ok_or_else(|| shape("getModules response without <result>"))?;
        result
            .elements()
            .filter(|e| e.name == "row")
            .map(|r| {
                let id = r.attr("id").unwrap_or_default();
                let gt = r.attr("gt").unwrap_or("1");
                Ok(ModuleInfo {
                    id: id.parse().map_err(|_| DecodeError::BadValue {
                        what: "module id",
                        value: id.to_owned(),
                    })?,
                    api_name: r.text(),
                    plural: r.attr("pl").unwrap_or_default().to_owned(),
                    singular: r.attr("sl").unwrap_or_default().to_owned(),
                    kind: gt.parse().map_err(|_| DecodeError::BadValue {
                        what: "module gt",
                        value: gt.to_owned(),
                    })?,
                })
            })
            .collect()
    }

    /// Encodes a getModules response.
    pub fn encode_list(uri: &str, modules: &[ModuleInfo]) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open("response", &[("uri", uri)])?;
        w.open("result", &[])?;
        for (i, m) in modules.iter().enumerate() {
            let (no, id, gt) = ((i + 1).to_string(), m.id.to_string(), m.kind.to_string());
            w.leaf(
                "row",
                &[("no", &no), ("id", &id), ("pl", &m.plural), ("sl", &m.singular), ("gt", &gt)],
                &m.api_name,
            )?;
        }
        w.close("result");
        w.close("response");
        Ok(w.finish())
    }
}
