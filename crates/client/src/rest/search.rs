//! Filtered reads on v8: `GET /crm/v8/{module}/search?criteria=` a page at a time (the XML
//! criteria grammar translated: labels to api names, `value*` to `starts_with`), within the
//! search's 2,000-record ceiling.

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
    /// One window of the records `filter` selects, as [`crate::CrmApi::read_body`] answers.
    /// `params.last_modified` becomes a `Modified_Time:greater_equal` criteria (search has no
    /// `If-Modified-Since`); a window past record 2,000 is [`ClientError::ReadLimit`].
    pub(crate) fn filtered_body(
        &self,
        module: &str,
        filter: &RecordFilter,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let criteria = match filter {
            RecordFilter::Criteria(c) => c,
            RecordFilter::View(_) => {
                return Err(ClientError::Unsupported {
                    dialect: "v8",
                    what: "exports of a custom view (`view`): use `criteria`".to_owned(),
                });
            }
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
            Ok(_) => {
                return Err(ClientError::ReadLimit {
                    module: module.to_owned(),
                    limit: MAX_PAGE_RECORDS,
                });
            }
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
            let call = Call {
                method: zcrm_protocol::Method::SearchRecords,
                http: reqwest::Method::GET,
                path: format!("{API_PREFIX}/{}/search", names::v8_module(module)),
                query: vec![
                    ("criteria", text.clone()),
                    ("fields", chunk.join(",")),
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
            let (body, n) = self.call(&call, |a| match a.status {
                204 | 304 => Ok((Vec::new(), 0)),
                200 => {
                    let (n, _) =
                        probe(&a.body).map_err(|e| Problem::Undecodable(format!("search: {e}")))?;
                    Ok((a.body.clone(), n))
                }
                s => Err(Problem::Api(status_error(s, &a.body))),
            })?;
            if i == 0 {
                rows = n;
            }
            parts.push(body);
        }
        Ok((records::envelope(&schema.fields.module, &parts), rows))
    }
}
