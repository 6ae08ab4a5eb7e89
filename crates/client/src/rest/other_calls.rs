//! The smaller calls, mapped per the legacy→REST table: users, modules, delete, related-list
//! updates, lead conversion and attachments. Their answers are the XML dialect's shapes.

use serde_json::Value as Json;
use zcrm_protocol::params::UserType;
use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, UploadResult, User,
};
use zcrm_protocol::{ApiCode, ApiError, Method, RecordDetail, RecordId};

use crate::ClientError;
use crate::api::CallKind;
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::names;
use crate::rest::results::{Problem, status_error};
use crate::transport::{Answer, FilePart};

/// One `{"code","status","message","details"}` item of an action answer.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Item {
    code: Option<String>,
    status: Option<String>,
    #[serde(default)]
    message: String,
    details: Option<Json>,
}

impl Item {
    fn ok(&self) -> bool {
        self.status.as_deref() == Some("success") || self.code.as_deref() == Some("SUCCESS")
    }

    fn error(&self) -> ApiError {
        let code = self.code.clone().unwrap_or_else(|| "ERROR".into());
        ApiError::new(ApiCode::parse(&code), self.message.clone())
    }

    fn id(&self, key: Option<&str>) -> Option<RecordId> {
        let d = self.details.as_ref()?;
        let d = match key {
            Some(k) => d.get(k)?,
            None => d,
        };
        match d.get("id")? {
            Json::String(s) => s.parse().ok(),
            Json::Number(n) => n.to_string().parse().ok(),
            _ => None,
        }
    }
}

/// The `data` items of an action answer (200, 201, 202, 207, or 400 with per-item errors).
fn items(a: &Answer) -> Result<Vec<Item>, Problem> {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        data: Option<Vec<Item>>,
    }
    match serde_json::from_slice::<Wrapper>(&a.body) {
        Ok(Wrapper { data: Some(items) }) => Ok(items),
        _ if (200..300).contains(&a.status) => {
            Err(Problem::Undecodable(format!("HTTP {} without a data array", a.status)))
        }
        _ => Err(Problem::Api(status_error(a.status, &a.body))),
    }
}

/// An answer that is one item itself, not a `data` array (the photo calls), or a `data` array.
fn single_ok(a: &Answer) -> Result<Item, Problem> {
    match serde_json::from_slice::<Item>(&a.body) {
        Ok(item) if item.code.is_some() && item.ok() => Ok(item),
        Ok(item) if item.code.is_some() && !(200..300).contains(&a.status) => {
            Err(Problem::Api(item.error()))
        }
        _ => first_ok(a),
    }
}

/// The first item, which must have succeeded.
fn first_ok(a: &Answer) -> Result<Item, Problem> {
    let item = items(a)?
        .into_iter()
        .next()
        .ok_or_else(|| Problem::Undecodable("an empty data array".into()))?;
    if item.ok() { Ok(item) } else { Err(Problem::Api(item.error())) }
}

#[derive(serde::Deserialize)]
struct RawUser {
    id: Json,
    full_name: Option<String>,
    email: Option<String>,
    status: Option<String>,
    confirm: Option<bool>,
    zuid: Option<Json>,
    role: Option<Named>,
    profile: Option<Named>,
}

#[derive(serde::Deserialize)]
struct Named {
    name: Option<String>,
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A call without `If-Modified-Since` carrying one record.
fn simple<'a>(
    method: Method,
    http: reqwest::Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Body<'a>,
    kind: CallKind,
    module: &'a str,
) -> Call<'a> {
    Call {
        method,
        http,
        path,
        query,
        if_modified_since: None,
        body,
        kind,
        module,
        rows: 1,
        host: Host::Api,
    }
}

impl RestClient {
    /// `GET /crm/v8/users?type=`, every page.
    pub(crate) fn get_users(&self, kind: UserType) -> Result<Vec<User>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            users: Vec<RawUser>,
            #[serde(default)]
            info: crate::rest::records::Info,
        }
        let mut out = Vec::new();
        for page in 1.. {
            let call = simple(
                Method::GetUsers,
                reqwest::Method::GET,
                format!("{API_PREFIX}/users"),
                vec![
                    ("type", kind.as_str().to_owned()),
                    ("page", page.to_string()),
                    ("per_page", "200".to_owned()),
                ],
                Body::None,
                CallKind::Settings,
                "Users",
            );
            let (users, more) = self.call(&call, |a| match a.status {
                204 | 304 => Ok((Vec::new(), false)),
                200 => {
                    let p: Page = serde_json::from_slice(&a.body)
                        .map_err(|e| Problem::Undecodable(format!("users: {e}")))?;
                    Ok((p.users, p.info.more_records))
                }
                s => Err(Problem::Api(status_error(s, &a.body))),
            })?;
            for u in users {
                let id_text = text(&u.id);
                let id = id_text.parse().map_err(|_| ClientError::Decode {
                    method: Method::GetUsers,
                    source: zcrm_protocol::DecodeError::BadValue {
                        what: "user id",
                        value: id_text,
                    },
                })?;
                let mut attributes = Vec::new();
                let mut attr = |k: &str, v: Option<String>| {
                    if let Some(v) = v {
                        attributes.push((k.to_owned(), v));
                    }
                };
                attr("role", u.role.and_then(|r| r.name));
                attr("profile", u.profile.and_then(|p| p.name));
                attr("status", u.status);
                attr("confirm", u.confirm.map(|c| c.to_string()));
                attr("zuid", u.zuid.as_ref().map(text));
                out.push(User {
                    id,
                    name: u.full_name.unwrap_or_default(),
                    email: u.email.unwrap_or_default(),
                    attributes,
                });
            }
            if !more {
                break;
            }
        }
        Ok(out)
    }

    /// `GET /crm/v8/settings/modules`: the modules the API supports, by their XML API names.
    pub(crate) fn get_modules(&self) -> Result<Vec<ModuleInfo>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Modules {
            #[serde(default)]
            modules: Vec<RawModule>,
        }
        #[derive(serde::Deserialize)]
        struct RawModule {
            id: Json,
            api_name: String,
            singular_label: Option<String>,
            plural_label: Option<String>,
            generated_type: Option<String>,
            api_supported: Option<bool>,
        }
        let call = simple(
            Method::GetModules,
            reqwest::Method::GET,
            format!("{API_PREFIX}/settings/modules"),
            Vec::new(),
            Body::None,
            CallKind::Settings,
            "Info",
        );
        self.call(&call, |a| match a.status {
            204 => Ok(Vec::new()),
            200 => {
                let m: Modules = serde_json::from_slice(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("modules: {e}")))?;
                m.modules
                    .into_iter()
                    .filter(|m| m.api_supported != Some(false))
                    .map(|m| {
                        let id_text = text(&m.id);
                        Ok(ModuleInfo {
                            id: id_text.parse().map_err(|_| {
                                Problem::Undecodable(format!("module id {id_text:?}"))
                            })?,
                            api_name: names::legacy_module(&m.api_name).to_owned(),
                            plural: m.plural_label.unwrap_or_default(),
                            singular: m.singular_label.unwrap_or_default(),
                            kind: if m.generated_type.as_deref() == Some("custom") { 4 } else { 1 },
                        })
                    })
                    .collect()
            }
            s => Err(Problem::Api(status_error(s, &a.body))),
        })
    }

    /// `DELETE /crm/v8/{module}?ids=`: an unknown or already deleted id is the server's
    /// `INVALID_DATA` "record not deleted" (CD-14), an error here.
    pub(crate) fn delete_record(
        &self,
        module: &str,
        id: RecordId,
    ) -> Result<StatusResult, ClientError> {
        let call = simple(
            Method::DeleteRecords,
            reqwest::Method::DELETE,
            format!("{API_PREFIX}/{}", names::v8_module(module)),
            vec![("ids", id.to_string())],
            Body::None,
            CallKind::Delete,
            module,
        );
        self.call(&call, |a| {
            let item = first_ok(a)?;
            Ok(StatusResult {
                code: item.code.unwrap_or_else(|| "SUCCESS".into()),
                message: item.message,
            })
        })
    }

    /// `PUT /crm/v8/{module}/{id}/{related list}` with the v8 JSON body `payload`
    /// (`{"data":[{"id":"...", ...}]}`).
    pub(crate) fn update_related(
        &self,
        module: &str,
        id: RecordId,
        related_module: &str,
        payload: &str,
    ) -> Result<RelatedUpdateResult, ClientError> {
        let call = simple(
            Method::UpdateRelatedRecords,
            reqwest::Method::PUT,
            format!(
                "{API_PREFIX}/{}/{id}/{}",
                names::v8_module(module),
                names::v8_module(related_module)
            ),
            Vec::new(),
            Body::Json(payload),
            CallKind::Related,
            module,
        );
        self.call(&call, |a| {
            let items = items(a)?;
            if let Some(bad) = items.iter().find(|i| !i.ok()) {
                return Err(Problem::Api(bad.error()));
            }
            Ok(RelatedUpdateResult {
                message: items.first().map(|i| i.message.clone()).unwrap_or_default(),
                added: items.iter().filter_map(|i| i.id(None)).collect(),
                updated: Vec::new(),
            })
        })
    }

    /// `POST /crm/v8/Leads/{id}/actions/convert` with the v8 JSON body `payload`.
    pub(crate) fn convert(
        &self,
        lead: RecordId,
        payload: &str,
    ) -> Result<ConvertResult, ClientError> {
        let call = simple(
            Method::ConvertLead,
            reqwest::Method::POST,
            format!("{API_PREFIX}/Leads/{lead}/actions/convert"),
            Vec::new(),
            Body::Json(payload),
            CallKind::Convert,
            "Leads",
        );
        self.call(&call, |a| {
            let item = first_ok(a)?;
            let missing = |what: &str| Problem::Undecodable(format!("a conversion without {what}"));
            Ok(ConvertResult {
                contact: item.id(Some("Contacts")).ok_or_else(|| missing("Contacts.id"))?,
                account: item.id(Some("Accounts")).ok_or_else(|| missing("Accounts.id"))?,
                potential: item.id(Some("Deals")),
            })
        })
    }

    /// `POST /crm/v8/{module}/{id}/Attachments` (multipart `file`).
    pub(crate) fn upload(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<UploadResult, ClientError> {
        let call = simple(
            Method::UploadFile,
            reqwest::Method::POST,
            format!("{API_PREFIX}/{}/{id}/Attachments", names::v8_module(module)),
            Vec::new(),
            Body::File(file),
            CallKind::File,
            module,
        );
        self.call(&call, |a| {
            let item = first_ok(a)?;
            let id = item
                .id(None)
                .ok_or_else(|| Problem::Undecodable("an attachment without details.id".into()))?;
            Ok(UploadResult {
                message: item.message,
                detail: RecordDetail { id, fields: Vec::new() },
            })
        })
    }

    /// `POST /crm/v8/{module}/{id}/photo` (multipart `file`).
    pub(crate) fn upload_photo(
        &self,
        module: &str,
        id: RecordId,
        file: &FilePart<'_>,
    ) -> Result<StatusResult, ClientError> {
        let call = simple(
            Method::UploadPhoto,
            reqwest::Method::POST,
            format!("{API_PREFIX}/{}/{id}/photo", names::v8_module(module)),
            Vec::new(),
            Body::File(file),
            CallKind::File,
            module,
        );
        self.call(&call, |a| {
            let item = single_ok(a)?;
            Ok(StatusResult {
                code: item.code.unwrap_or_else(|| "SUCCESS".into()),
                message: item.message,
            })
        })
    }

    /// `GET /crm/v8/{module}/{id}?fields=Created_Time`: `None` for 204 (no such record).
    pub(crate) fn created_time(
        &self,
        module: &str,
        id: RecordId,
    ) -> Result<Option<jiff::Timestamp>, ClientError> {
        let call = simple(
            Method::GetRecordById,
            reqwest::Method::GET,
            format!("{API_PREFIX}/{}/{id}", names::v8_module(module)),
            vec![("fields", "Created_Time".to_owned())],
            Body::None,
            CallKind::Read,
            module,
        );
        self.call(&call, |a| {
            if a.status == 204 || a.body.is_empty() {
                return Ok(None);
            }
            #[derive(serde::Deserialize)]
            struct One {
                data: Vec<Json>,
            }
            let one: One = serde_json::from_slice(&a.body)
                .map_err(|e| Problem::Undecodable(format!("a record: {e}")))?;
            let text = one
                .data
                .first()
                .and_then(|r| r.get("Created_Time"))
                .and_then(Json::as_str)
                .ok_or_else(|| Problem::Undecodable("a record without Created_Time".into()))?;
            text.parse::<jiff::Timestamp>()
                .map(Some)
                .map_err(|e| Problem::Undecodable(format!("Created_Time {text:?}: {e}")))
        })
    }

    /// `GET /crm/v8/Leads/{id}` of a converted lead: its `$converted_detail` (`None` when the
    /// lead is not converted, unknown, or the answer names no contact).
    pub(crate) fn converted_detail(
        &self,
        lead: RecordId,
    ) -> Result<Option<ConvertResult>, ClientError> {
        let call = simple(
            Method::GetRecordById,
            reqwest::Method::GET,
            format!("{API_PREFIX}/Leads/{lead}"),
            vec![("fields", "Last_Name".to_owned())],
            Body::None,
            CallKind::Read,
            "Leads",
        );
        self.call(&call, |a| {
            if a.status == 204 || a.body.is_empty() {
                return Ok(None);
            }
            let v: Json = serde_json::from_slice(&a.body)
                .map_err(|e| Problem::Undecodable(format!("a lead: {e}")))?;
            let d = &v["data"][0]["$converted_detail"];
            let id = |k: &str| match &d[k] {
                Json::String(s) => s.parse::<RecordId>().ok(),
                Json::Number(n) => n.to_string().parse().ok(),
                _ => None,
            };
            Ok(match (id("contact"), id("account")) {
                (Some(contact), Some(account)) => {
                    Some(ConvertResult { contact, account, potential: id("deal") })
                }
                _ => None,
            })
        })
    }

    /// `GET /crm/v8/{module}/{id}/Attachments`, every page: `(id, File_Name, Created_Time)`.
    pub(crate) fn list_attachments(
        &self,
        module: &str,
        id: RecordId,
    ) -> Result<Vec<(RecordId, String, jiff::Timestamp)>, ClientError> {
        let mut out = Vec::new();
        for page in 1..=100u32 {
            let call = simple(
                Method::GetRelatedRecords,
                reqwest::Method::GET,
                format!("{API_PREFIX}/{}/{id}/Attachments", names::v8_module(module)),
                vec![("page", page.to_string()), ("per_page", "200".to_owned())],
                Body::None,
                CallKind::Related,
                module,
            );
            let more = self.call(&call, |a| {
                if a.status == 204 || a.body.is_empty() {
                    return Ok(false);
                }
                let v: Json = serde_json::from_slice(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("attachments: {e}")))?;
                for item in v["data"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    let att = item["id"].as_str().and_then(|s| s.parse::<RecordId>().ok());
                    let name = item["File_Name"].as_str().unwrap_or_default().to_owned();
                    let at = item["Created_Time"].as_str().and_then(|t| t.parse().ok());
                    if let (Some(att), Some(at)) = (att, at) {
                        out.push((att, name, at));
                    }
                }
                Ok(v["info"]["more_records"].as_bool().unwrap_or(false))
            })?;
            if !more {
                break;
            }
        }
        Ok(out)
    }
}
