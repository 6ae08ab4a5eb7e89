//! Record lists: `GET /crm/v8/{module}` with `fields` (at most 50 a call: more are fetched in
//! several calls and joined by id), `page`/`per_page` or `page_token`, `sort_by`,
//! `If-Modified-Since`; the deleted list; related records.

use std::sync::Arc;

use zcrm_protocol::params::{ReadParams, SelectColumns, SortOrder, Window};
use zcrm_protocol::rest_limits::MAX_FIELDS;
use zcrm_protocol::{Method, RecordId, RecordsPage};

use crate::ClientError;
use crate::api::CallKind;
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::fields::{Resolved, Schema};
use crate::rest::names;
use crate::rest::paging::{self, PageRef, WindowError};
use crate::rest::payload::format_v8_datetime;
use crate::rest::records::{self, probe};
use crate::rest::results::{Problem, status_error};

/// The fields `select` asks for, as api names in calls of at most 50 (`["id"]` when only the
/// record id is wanted). Names the module does not have are left out.
pub(crate) fn field_chunks(schema: &Schema, select: &SelectColumns) -> Vec<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_owned());
        }
    };
    match select {
        SelectColumns::All => schema.targets().iter().for_each(|t| add(&t.api_name)),
        SelectColumns::Fields { fields, .. } => {
            for f in fields {
                match schema.resolve(f) {
                    Some(Resolved::Field(t) | Resolved::IdColumn(t)) => add(&t.api_name),
                    Some(Resolved::RecordId) | None => {}
                }
            }
        }
    }
    if names.is_empty() {
        return vec![vec!["id".to_owned()]];
    }
    names.chunks(MAX_FIELDS).map(<[String]>::to_vec).collect()
}

/// `sort_by` and `sort_order` of `params` (v8 sorts only by `id`, `Created_Time` and
/// `Modified_Time`; another column is not sent, and the list comes in id order).
fn sort(schema: &Schema, params: &ReadParams) -> Vec<(&'static str, String)> {
    let Some(s) = &params.sort else { return Vec::new() };
    let api = match schema.resolve(&s.column) {
        Some(Resolved::Field(t)) => t.api_name.as_str(),
        Some(Resolved::RecordId) => "id",
        _ => return Vec::new(),
    };
    if !matches!(api, "id" | "Created_Time" | "Modified_Time") {
        return Vec::new();
    }
    let order = match s.order {
        SortOrder::Asc => "asc",
        SortOrder::Desc => "desc",
    };
    vec![("sort_by", api.to_owned()), ("sort_order", order.to_owned())]
}

fn unaligned(w: Window) -> ClientError {
    ClientError::Unsupported {
        dialect: "v8",
        what: format!(
            "a read window of records {}..{} (v8 pages need fromIndex - 1 to be a multiple of the window's size)",
            w.from, w.to
        ),
    }
}

/// The answers of one read: the schema, one body per field chunk, the first one's records.
pub(crate) struct Listed {
    /// The module's schema.
    pub(crate) schema: Arc<Schema>,
    /// One body per field chunk (empty for 204/304).
    pub(crate) parts: Vec<Vec<u8>>,
    /// Records of the first body.
    pub(crate) rows: usize,
}

/// One list call's answer: its body (empty for 204/304), records and paging facts.
struct Part {
    body: Vec<u8>,
    rows: usize,
    info: records::Info,
}

impl RestClient {
    fn list_call(
        &self,
        module: &str,
        fields: &[String],
        extra: &[(&'static str, String)],
        ims: Option<&str>,
        page: &PageRef,
        kind: CallKind,
    ) -> Result<Part, ClientError> {
        let mut query = vec![("fields", fields.join(","))];
        match page {
            PageRef::Page { page, per_page } => {
                query.push(("page", page.to_string()));
                query.push(("per_page", per_page.to_string()));
            }
            PageRef::Token { token, per_page } => {
                query.push(("page_token", token.clone()));
                query.push(("per_page", per_page.to_string()));
            }
        }
        query.extend(extra.iter().cloned());
        let call = Call {
            method: if kind == CallKind::ViewRead {
                Method::GetCvRecords
            } else {
                Method::GetRecords
            },
            http: reqwest::Method::GET,
            path: format!("{API_PREFIX}/{}", names::v8_module(module)),
            query,
            if_modified_since: ims.map(str::to_owned),
            body: Body::None,
            kind,
            module,
            rows: 0,
            host: Host::Api,
        };
        self.call(&call, |a| match a.status {
            204 | 304 => Ok(Part { body: Vec::new(), rows: 0, info: records::Info::default() }),
            200 => {
                let (rows, info) = probe(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("record list: {e}")))?;
                Ok(Part { body: a.body.clone(), rows, info })
            }
            s => Err(Problem::Api(status_error(s, &a.body))),
        })
    }

    /// One window of one field chunk, walking the token chain past record 2,000.
    fn window_part(
        &self,
        module: &str,
        fields: &[String],
        extra: &[(&'static str, String)],
        ims: Option<&str>,
        w: Window,
        kind: CallKind,
    ) -> Result<Part, ClientError> {
        let query = format!("{module}|{}|{extra:?}|{}", fields.join(","), ims.unwrap_or_default());
        let per_page = w.len();
        let fetch = |page: &PageRef, from: u32| -> Result<Part, ClientError> {
            let part = self.list_call(module, fields, extra, ims, page, kind)?;
            if part.info.more_records
                && let Some(t) = &part.info.next_page_token
            {
                self.pages.remember(&query, from + per_page, t.clone());
            }
            Ok(part)
        };
        match paging::discrete(w) {
            Err(WindowError::Unaligned) => Err(unaligned(w)),
            Ok(Some(page)) => fetch(&page, w.from),
            Ok(None) => {
                let (mut at, mut token) = match self.pages.nearest(&query, w.from) {
                    Some(found) => found,
                    None => {
                        let (page, next) = paging::chain_start(per_page);
                        let first = fetch(&PageRef::Page { page, per_page }, next - per_page)?;
                        if !first.info.more_records {
                            return Ok(Part { body: Vec::new(), rows: 0, info: first.info });
                        }
                        match self.pages.nearest(&query, w.from) {
                            Some(found) => found,
                            None => {
                                return Ok(Part { body: Vec::new(), rows: 0, info: first.info });
                            }
                        }
                    }
                };
                while at < w.from {
                    let step = fetch(&PageRef::Token { token, per_page }, at)?;
                    at += per_page;
                    match self.pages.nearest(&query, at) {
                        Some((k, t)) if k == at && step.info.more_records => token = t,
                        _ => return Ok(Part { body: Vec::new(), rows: 0, info: step.info }),
                    }
                }
                if at != w.from {
                    return Err(unaligned(w));
                }
                fetch(&PageRef::Token { token, per_page }, at)
            }
        }
    }

    /// The bodies of one read (one per field chunk) and its records.
    pub(crate) fn list(&self, module: &str, params: &ReadParams) -> Result<Listed, ClientError> {
        let schema = self.schema(module)?;
        let extra = sort(&schema, params);
        self.list_with(module, schema, params, &extra, CallKind::Read)
    }

    /// The bodies of one read of custom view `cvid` (one per field chunk) and its records: the
    /// list of [`RestClient::list`] with `cvid` and no `sort_by` (v8 refuses both together; the
    /// view's own order holds), paged alike (`page_token` past record 2,000).
    pub(crate) fn list_view(
        &self,
        module: &str,
        cvid: &str,
        params: &ReadParams,
    ) -> Result<Listed, ClientError> {
        let schema = self.schema(module)?;
        self.list_with(module, schema, params, &[("cvid", cvid.to_owned())], CallKind::ViewRead)
    }

    fn list_with(
        &self,
        module: &str,
        schema: Arc<Schema>,
        params: &ReadParams,
        extra: &[(&'static str, String)],
        kind: CallKind,
    ) -> Result<Listed, ClientError> {
        let ims = params.last_modified.map(|t| format_v8_datetime(t, &self.tz));
        let mut parts = Vec::new();
        let mut rows = 0;
        for (i, chunk) in field_chunks(&schema, &params.select).iter().enumerate() {
            let part =
                self.window_part(module, chunk, extra, ims.as_deref(), params.window, kind)?;
            if i == 0 {
                rows = part.rows;
            }
            parts.push(part.body);
        }
        // `page_token` stops at record 100,000: a full page that reaches it may not be the
        // module's last, and a read that ended there would pass for a whole one.
        let last = params.window.from.saturating_sub(1).saturating_add(rows as u32);
        if last >= zcrm_protocol::rest_limits::MAX_TOKEN_RECORDS
            && rows as u32 >= params.window.len()
        {
            return Err(ClientError::ReadLimit {
                module: module.to_owned(),
                limit: zcrm_protocol::rest_limits::MAX_TOKEN_RECORDS,
            });
        }
        Ok(Listed { schema, parts, rows })
    }

    /// The page of a read as the stages see it.
    pub(crate) fn read_page<'a>(
        &self,
        schema: &Schema,
        parts: &'a [Vec<u8>],
    ) -> Result<RecordsPage<'a>, ClientError> {
        let slices: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        records::decode_parts(schema, &self.tz, &slices)
            .map_err(|source| ClientError::Decode { method: Method::GetRecords, source })
    }

    /// `GET /crm/v8/{module}/deleted?type=all` for a window, `If-Modified-Since` `since`.
    pub(crate) fn deleted(
        &self,
        module: &str,
        w: Window,
        since: Option<jiff::civil::DateTime>,
    ) -> Result<Vec<RecordId>, ClientError> {
        let per_page = w.len().max(1);
        if !(w.from - 1).is_multiple_of(per_page) {
            return Err(unaligned(w));
        }
        let call = Call {
            method: Method::GetDeletedRecordIds,
            http: reqwest::Method::GET,
            path: format!("{API_PREFIX}/{}/deleted", names::v8_module(module)),
            query: vec![
                ("type", "all".to_owned()),
                ("page", ((w.from - 1) / per_page + 1).to_string()),
                ("per_page", per_page.to_string()),
            ],
            if_modified_since: since.map(|t| format_v8_datetime(t, &self.tz)),
            body: Body::None,
            kind: CallKind::DeletedIds,
            module,
            rows: 0,
            host: Host::Api,
        };
        #[derive(serde::Deserialize)]
        struct Deleted {
            #[serde(default)]
            data: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            id: serde_json::Value,
        }
        self.call(&call, |a| match a.status {
            204 | 304 => Ok(Vec::new()),
            200 => {
                let d: Deleted = serde_json::from_slice(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("deleted list: {e}")))?;
                d.data
                    .into_iter()
                    .map(|i| {
                        let text = match &i.id {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        text.parse::<RecordId>()
                            .map_err(|_| Problem::Undecodable(format!("deleted id {text:?}")))
                    })
                    .collect()
            }
            s => Err(Problem::Api(status_error(s, &a.body))),
        })
    }

    /// `GET /crm/v8/{parent}/{id}/{related list}`: records of `module` related to a record
    /// (within the first 2,000: related lists are not walked by token).
    pub(crate) fn related_records(
        &self,
        module: &str,
        parent_module: &str,
        id: RecordId,
        params: &ReadParams,
    ) -> Result<RecordsPage<'static>, ClientError> {
        let schema = self.schema(module)?;
        let Ok(Some(PageRef::Page { page, per_page })) = paging::discrete(params.window) else {
            return Err(unaligned(params.window));
        };
        let mut query = vec![
            ("fields", field_chunks(&schema, &params.select).concat().join(",")),
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ];
        query.extend(sort(&schema, params));
        let call = Call {
            method: Method::GetRelatedRecords,
            http: reqwest::Method::GET,
            path: format!(
                "{API_PREFIX}/{}/{id}/{}",
                names::v8_module(parent_module),
                names::v8_module(module)
            ),
            query,
            if_modified_since: None,
            body: Body::None,
            kind: CallKind::Related,
            module,
            rows: 0,
            host: Host::Api,
        };
        let body = self.call(&call, |a| match a.status {
            204 | 304 => Ok(Vec::new()),
            200 => {
                probe(&a.body).map_err(|e| Problem::Undecodable(format!("related list: {e}")))?;
                Ok(a.body.clone())
            }
            s => Err(Problem::Api(status_error(s, &a.body))),
        })?;
        let parts = [body];
        Ok(self.read_page(&schema, &parts)?.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::fields::tests::leads;

    #[test]
    fn selected_labels_become_api_names_in_chunks_of_fifty() {
        let s = leads();
        let sel = SelectColumns::fields(
            "Leads",
            ["Last Name", "ACCOUNTID", "LEADID", "Email", "Nope", "Last_Name"],
        );
        assert_eq!(field_chunks(&s, &sel), [vec!["Last_Name", "Account_Name", "Email"]]);
        assert_eq!(field_chunks(&s, &SelectColumns::fields("Leads", ["LEADID"])), [vec!["id"]]);
        let all = field_chunks(&s, &SelectColumns::All);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].len(), s.targets().len());
        // 120 fields: three calls.
        let many: Vec<String> = (0..120)
            .map(|i| format!(r#"{{"api_name":"F{i}","field_label":"F {i}","data_type":"text"}}"#))
            .collect();
        let json = format!(r#"{{"fields":[{}]}}"#, many.join(","));
        let big = Schema::new(
            crate::rest::fields::decode_fields("Leads", json.as_bytes())
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let chunks = field_chunks(&big, &SelectColumns::All);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    }

    #[test]
    fn only_id_and_the_time_columns_sort() {
        let s = leads();
        let p = |col: &str| ReadParams {
            sort: Some(zcrm_protocol::params::Sort::asc(col)),
            ..ReadParams::default()
        };
        assert_eq!(
            sort(&s, &p("Created Time")),
            [("sort_by", "Created_Time".to_owned()), ("sort_order", "asc".to_owned())]
        );
        assert!(sort(&s, &p("Last Name")).is_empty());
    }
}
