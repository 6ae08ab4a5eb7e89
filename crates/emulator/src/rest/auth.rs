//! The `Authorization: Zoho-oauthtoken <token>` check (CD-2), made before routing: no header
//! is `AUTHENTICATION_FAILURE`; any other bad header (another scheme, an unknown, expired or
//! displaced token) is `INVALID_TOKEN`. A refused call costs nothing and takes no slot.

use axum::http::{HeaderMap, header};

use super::errors::RestError;
use crate::state::State;

/// The scheme Zoho's CRM API expects.
pub const SCHEME: &str = "Zoho-oauthtoken";

/// Checks the request's token.
pub fn check(st: &State, headers: &HeaderMap) -> Result<(), RestError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(RestError::authentication_failure());
    };
    let text = value.to_str().map_err(|_| RestError::invalid_token())?.trim();
    let token = text
        .split_once(' ')
        .filter(|(scheme, _)| *scheme == SCHEME)
        .map(|(_, t)| t.trim())
        .ok_or_else(RestError::invalid_token)?;
    if token.is_empty() || !st.rest.tokens.valid(token, st.clock.now().as_second()) {
        return Err(RestError::invalid_token());
    }
    Ok(())
}
