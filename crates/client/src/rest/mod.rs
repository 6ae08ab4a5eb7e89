//! Zoho CRM's REST API (v8, OAuth 2.0): the second implementation of [`crate::CrmApi`].
//!
//! One file per concern: OAuth and its token cache (`oauth`, `token_cache`), names that differ
//! between the dialects (`names`), field metadata (`fields`), the JSON payload (`payload`),
//! write results (`results`), record pages (`records`, `paging`, `reads`), searches (`search`),
//! custom views (`views`), the remaining calls
//! (`other_calls`), the call loop (`client`) and the seam (`api_impl`).

mod api_impl;
mod attachments;
mod bulk;
mod bulk_csv;
pub mod bulk_read;
mod client;
pub mod fields;
pub mod names;
pub mod oauth;
mod other_calls;
pub mod paging;
pub mod payload;
mod reads;
pub mod records;
pub mod results;
mod search;
pub mod token_cache;
mod views;

pub use client::{API_PREFIX, RestClient, RestConfig};
pub use fields::{Schema, decode_fields, field_type};
pub use oauth::{OAuthConfig, OAuthError, TokenGrant, exchange_grant_code, parse_token_response};
pub use token_cache::{AccessToken, REFRESH_MARGIN_SECS, TokenCache};
