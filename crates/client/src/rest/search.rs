//! Filtered reads on v8: `GET /crm/v8/{module}/search?criteria=` a page at a time (the XML
//! criteria grammar translated: labels to api names, `value*` to `starts_with`), within the
//! search's 2,000-record ceiling; custom views go to `views`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use zcrm_protocol::params::{Criteria, ReadParams};
use zcrm_protocol::rest_limits::MAX_PAGE_RECORDS;

use crate::ClientError;
use crate::api::CallKind;
use crate::filtered::RecordFilter;
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::fields::{Resolved, Schema};
use crate::rest::names;
use crate::rest::paging::{self, PageRef};
use crate::rest::payload::format_v8_datetime;
use crate::rest::reads::field_chunks;
use crate::rest::records::{self, probe};
use crate::rest::results::{Problem, status_error};

/// A criteria value with `\`, `(`, `)` and `,` escaped (CD-18).
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '(' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The v8 form of an XML criteria: `(Lead Source:Web)` → `(Lead_Source:equals:Web)`,
/// `(Last Name:Sm*)` → `(Last_Name:starts_with:Sm)`, groups joined by `and`/`or`. A field the
/// module does not have is named in the error.
pub(crate) fn v8_criteria(schema: &Schema, c: &Criteria) -> Result<String, ClientError> {
    Ok(match c {
        Criteria::Atom { field, value } => {
            let api = match schema.resolve(field) {
                Some(Resolved::Field(t) | Resolved::IdColumn(t)) => t.api_name.clone(),
                Some(Resolved::RecordId) => "id".to_owned(),
                None => {
                    return Err(ClientError::Unsupported {
                        dialect: "v8",
                        what: format!(
                            "a criteria on {field:?}, which is not a field of the module"
                        ),
                    });
                }
            };
            match value.strip_suffix('*') {
                Some(prefix) => format!("({api}:starts_with:{})", escaped(prefix)),
                None => format!("({api}:equals:{})", escaped(value)),
            }
        }
        Criteria::And(parts) | Criteria::Or(parts) => {
            let op = if matches!(c, Criteria::And(_)) { "and" } else { "or" };
            let inner = parts
                .iter()
                .map(|p| v8_criteria(schema, p))
                .collect::<Result<Vec<_>, _>>()?
                .join(op);
            format!("({inner})")
        }
    })
}

impl RestClient {
    /// One window of the records `filter` selects, as [`crate::CrmApi::read_body`] answers (a
    /// custom view: `crate::rest::views`). For a criteria, `params.last_modified` becomes a `Modified_Time:greater_equal` criteria (search has no
    /// `If-Modified-Since`); a window past record 2,000 is empty when the search ends there,
    /// else [`ClientError::SearchLimit`].
    pub(crate) fn filtered_body(
        &self,
        module: &str,
        filter: &RecordFilter,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let criteria = match filter {
            RecordFilter::Criteria(c) => c,
            RecordFilter::View(name) => return self.view_body(module, name, params),
        };
        let schema = self.schema(module)?;
        let mut text = v8_criteria(&schema, criteria)?;
        if let Some(t) = params.last_modified {
            text = format!(
                "({text}and(Modified_Time:greater_equal:{}))",
                format_v8_datetime(t, &self.tz)
            );
        }
        let (page, per_page) = match paging::discrete(params.window) {
            Ok(Some(PageRef::Page { page, per_page })) => (page, per_page),
            Ok(_) => return self.past_the_ceiling(module, &schema, &text, params.window.len()),
            Err(_) => {
                return Err(ClientError::Unsupported {
                    dialect: "v8",
                    what: format!(
                        "a search window of records {}..{}",
                        params.window.from, params.window.to
                    ),
                });
            }
        };
        let mut parts = Vec::new();
        let mut rows = 0;
        for (i, chunk) in field_chunks(&schema, &params.select).iter().enumerate() {
            let (body, n) = self.search_page(module, &text, chunk, page, per_page)?;
            if i == 0 {
                rows = n;
                if page * per_page == MAX_PAGE_RECORDS
                    && let Some(id) = last_id(&body)
                {
                    self.search_edges.remember(&edge_key(module, &text), id);
                }
            }
            parts.push(body);
        }
        Ok((records::envelope(&schema.fields.module, &parts), rows))
    }

    /// A window past record 2,000, which no search reaches: an empty page when the search
    /// matches no record after the 2,000th (it ended there), else [`ClientError::SearchLimit`].
    /// Results run newest id first, so a record past the 2,000th has a lower id than it: one
    /// call of one record tells (after one more for the 2,000th's id when that page was not
    /// read through this client yet, as when pages are asked for ahead of their turn).
    fn past_the_ceiling(
        &self,
        module: &str,
        schema: &Schema,
        text: &str,
        per_page: u32,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let ended = || Ok((records::envelope(&schema.fields.module, &[Vec::new()]), 0));
        let key = edge_key(module, text);
        let edge = match self.search_edges.get(&key) {
            Some(id) => id,
            None => {
                let (page, _) = paging::chain_start(per_page);
                if page * per_page != MAX_PAGE_RECORDS {
                    return Err(ClientError::SearchLimit {
                        module: module.to_owned(),
                        limit: MAX_PAGE_RECORDS,
                    });
                }
                let (body, _) =
                    self.search_page(module, text, &["id".to_owned()], page, per_page)?;
                match last_id(&body) {
                    Some(id) => {
                        self.search_edges.remember(&key, id.clone());
                        id
                    }
                    // The search ends before record 2,000.
                    None => return ended(),
                }
            }
        };
        let beyond = format!("({text}and(id:less_than:{edge}))");
        let (_, n) = self.search_page(module, &beyond, &["id".to_owned()], 1, 1)?;
        if n == 0 {
            ended()
        } else {
            Err(ClientError::SearchLimit { module: module.to_owned(), limit: MAX_PAGE_RECORDS })
        }
    }

    /// One page of the search `criteria` with `fields`: its body (empty when nothing matched)
    /// and its records.
    fn search_page(
        &self,
        module: &str,
        criteria: &str,
        fields: &[String],
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let call = Call {
            method: zcrm_protocol::Method::SearchRecords,
            http: reqwest::Method::GET,
            path: format!("{API_PREFIX}/{}/search", names::v8_module(module)),
            query: vec![
                ("criteria", criteria.to_owned()),
                ("fields", fields.join(",")),
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
            ],
            if_modified_since: None,
            body: Body::None,
            kind: CallKind::Read,
            module,
            rows: 0,
            host: Host::Api,
        };
        self.call(&call, |a| match a.status {
            204 | 304 => Ok((Vec::new(), 0)),
            200 => {
                let (n, _) =
                    probe(&a.body).map_err(|e| Problem::Undecodable(format!("search: {e}")))?;
                Ok((a.body.clone(), n))
            }
            s => Err(Problem::Api(status_error(s, &a.body))),
        })
    }
}

/// The key of a search's 2,000th record: the module and the criteria sent.
fn edge_key(module: &str, criteria: &str) -> String {
    format!("{module}|{criteria}")
}

/// The id of the last record of a search page's body.
fn last_id(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Page {
        data: Vec<Id>,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let page: Page = serde_json::from_slice(body).ok()?;
    page.data.last().map(|r| r.id.clone())
}

/// The id of the 2,000th record of each search read so far (by [`edge_key`]), to tell a
/// search that ends there from one that goes on.
#[derive(Debug, Default)]
pub(crate) struct SearchEdges {
    ids: Mutex<HashMap<String, String>>,
}

impl SearchEdges {
    fn remember(&self, key: &str, id: String) {
        let mut m = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        m.insert(key.to_owned(), id);
    }

    fn get(&self, key: &str) -> Option<String> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned()
    }
}
