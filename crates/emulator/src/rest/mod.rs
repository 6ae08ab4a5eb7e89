//! The REST API (v8) face: `/oauth/v2/token` and `/crm/{v2..v8}/...` on the XML face's
//! listener, over the same store (a record written through one face is read through the
//! other). The contract is docs/protocol.md's v8 part; each file holds one concern:
//!
//! | file | what |
//! |---|---|
//! | `oauth` | the token endpoint, access tokens and grant codes |
//! | `auth` | the `Authorization` check, before routing |
//! | `router` | paths to calls, concurrency, credits, faults, one store transaction per call |
//! | `records` | `GET /{module}`, `GET /{module}/{id}` (paging, `page_token`, `If-Modified-Since`, `cvid`) |
//! | `paging` | the `page_token` cursor |
//! | `search` | `GET /{module}/search` |
//! | `criteria` | the search `criteria` grammar and matching |
//! | `filter` | typed values search and COQL compare |
//! | `coql` | `POST /coql`: checking and running a query, its credits |
//! | `coql_parse` | the COQL subset's grammar |
//! | `write` | insert, update, upsert |
//! | `delete` | delete and the deleted list |
//! | `actions` | routes below a record: related lists, convert, attachments, photo |
//! | `related` | `GET/PUT/DELETE /{module}/{id}/{related_list}` |
//! | `convert` | `POST /Leads/{id}/actions/convert`, a converted lead's `GET` |
//! | `files` | attachments, photos, multipart bodies |
//! | `meta` | `settings/fields`, `settings/modules`, `users`, `org` |
//! | `custom_views` | `settings/custom_views` (the views of `crate::views`) |
//! | `credits` | credits and concurrency caps |
//! | `json` | field values between the store's text and JSON |
//! | `errors` | answers and error shapes |
//! | `bulk` | the Bulk Write and Bulk Read APIs, uploads, the bulk worker |

pub mod actions;
pub mod auth;
pub mod bulk;
pub mod convert;
pub mod coql;
pub mod coql_parse;
pub mod credits;
pub mod criteria;
pub mod custom_views;
pub mod delete;
pub mod errors;
pub mod files;
pub mod filter;
pub mod items;
pub mod json;
pub mod meta;
pub mod oauth;
pub mod paging;
pub mod records;
pub mod related;
pub mod router;
pub mod search;
pub mod write;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, post};

use crate::schema::ModuleDef;
use crate::state::State;

/// The v8 face's in-memory state: tokens and in-flight calls.
#[derive(Debug, Default)]
pub struct RestState {
    /// Access tokens and grant codes.
    pub tokens: oauth::Tokens,
    /// In-flight calls.
    pub slots: credits::Slots,
    /// The bulk worker's signal and the download window.
    pub bulk: bulk::BulkState,
}

/// The v8 routes.
pub fn router() -> Router<Arc<State>> {
    let mut r = Router::new().route("/oauth/v2/token", post(oauth::token));
    for v in router::VERSIONS {
        r = r
            .route(&format!("/crm/{v}/{{*rest}}"), any(router::handle))
            .route(&format!("/crm/{v}/upload"), any(bulk::upload::handle))
            .route(&format!("/crm/bulk/{v}/{{*rest}}"), any(bulk::handle));
    }
    r
}

/// A module by its v8 name, any case (CD-23).
pub fn module<'a>(st: &'a State, name: &str) -> Option<&'a ModuleDef> {
    st.schema.modules.values().find(|m| m.api_name.eq_ignore_ascii_case(name))
}
