//! `POST /oauth/v2/token` (CD-1): `grant_type=refresh_token` and `authorization_code`, form
//! body and query parameters merged, always HTTP 200. Access tokens live in memory and expire
//! [`ACCESS_TOKEN_SECS`] after minting on the org clock; at most [`MAX_ACTIVE`] per refresh
//! token are active (a 16th invalidates the oldest). Grant codes come from the admin surface
//! (`POST /__emulator/grant-code?client_id=`), are single-use and live [`GRANT_CODE_SECS`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Form;
use axum::extract::{FromRequest, Query, Request, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use zcrm_protocol::rest_limits::ACCESS_TOKEN_SECS;

use crate::config::OAuthClient;
use crate::state::State;

/// Access tokens active per refresh token (§2.5).
pub const MAX_ACTIVE: usize = 15;
/// Seconds a grant code lives.
pub const GRANT_CODE_SECS: i64 = 180;

/// One minted access token.
#[derive(Debug, Clone)]
struct Minted {
    refresh_token: String,
    expires_at: i64,
}

/// The token registry of the v8 face.
#[derive(Default)]
pub struct Tokens {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { .. }")
    }
}

#[derive(Default)]
struct Inner {
    access: HashMap<String, Minted>,
    by_refresh: HashMap<String, VecDeque<String>>,
    codes: HashMap<String, (String, i64)>,
    minted: u64,
}

impl Tokens {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `token` is a live access token at `now`.
    pub fn valid(&self, token: &str, now: i64) -> bool {
        self.lock().access.get(token).is_some_and(|m| m.expires_at > now)
    }

    /// Expires every access token now.
    pub fn expire_all(&self) {
        let mut inner = self.lock();
        inner.access.clear();
        inner.by_refresh.clear();
    }

    /// Mints an access token for `refresh_token`, valid until `now` + an hour.
    fn mint(&self, st: &State, refresh_token: &str, now: i64) -> String {
        let mut inner = self.lock();
        inner.minted += 1;
        let token = format!("1000.{}.{}", crate::admin::fresh_token(st), inner.minted);
        let expires_at = now + i64::try_from(ACCESS_TOKEN_SECS).unwrap_or(3600);
        inner
            .access
            .insert(token.clone(), Minted { refresh_token: refresh_token.to_owned(), expires_at });
        let queue = inner.by_refresh.entry(refresh_token.to_owned()).or_default();
        queue.push_back(token.clone());
        let oldest = if queue.len() > MAX_ACTIVE { queue.pop_front() } else { None };
        if let Some(old) = oldest {
            inner.access.remove(&old);
        }
        inner.access.retain(|_, m| m.expires_at > now || m.refresh_token.is_empty());
        token
    }

    /// A fresh single-use grant code of `client_id`.
    pub fn new_code(&self, st: &State, client_id: &str, now: i64) -> String {
        let code = format!("1000.{}", crate::admin::fresh_token(st));
        self.lock().codes.insert(code.clone(), (client_id.to_owned(), now + GRANT_CODE_SECS));
        code
    }

    /// Takes a grant code: whether it belonged to `client_id` and was still valid.
    fn take_code(&self, code: &str, client_id: &str, now: i64) -> bool {
        match self.lock().codes.remove(code) {
            Some((owner, until)) => owner == client_id && until > now,
            None => false,
        }
    }
}

fn err(code: &str) -> Value {
    json!({"error": code})
}

/// The token endpoint's answer for the merged parameters.
pub fn exchange(st: &State, origin: &str, p: &HashMap<String, String>) -> Value {
    let get = |k: &str| p.get(k).map(|v| v.trim()).unwrap_or_default();
    let now = st.clock.now().as_second();
    let grant = get("grant_type");
    if grant != "refresh_token" && grant != "authorization_code" {
        return err("unsupported_grant_type");
    }
    let (id, secret) = (get("client_id"), get("client_secret"));
    let clients: Vec<&OAuthClient> =
        st.cfg.oauth_clients.iter().filter(|c| c.client_id == id).collect();
    if clients.is_empty() || !clients.iter().any(|c| c.client_secret == secret) {
        return err("invalid_client");
    }
    let refresh = if grant == "refresh_token" {
        let given = get("refresh_token");
        match clients.iter().find(|c| c.client_secret == secret && c.refresh_token == given) {
            Some(c) => c.refresh_token.clone(),
            None => return err("invalid_code"),
        }
    } else {
        if !st.rest.tokens.take_code(get("code"), id, now) {
            return err("invalid_code");
        }
        match clients.iter().find(|c| c.client_secret == secret) {
            Some(c) => c.refresh_token.clone(),
            None => return err("invalid_client"),
        }
    };
    let access = st.rest.tokens.mint(st, &refresh, now);
    let mut answer = json!({
        "access_token": access,
        "api_domain": origin,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECS,
    });
    if grant == "authorization_code"
        && let Some(o) = answer.as_object_mut()
    {
        o.insert("refresh_token".to_owned(), Value::String(refresh));
    }
    answer
}

/// `POST /oauth/v2/token`.
pub async fn token(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    let mut params: HashMap<String, String> = HashMap::new();
    if let Ok(Query(q)) = Query::<Vec<(String, String)>>::try_from_uri(req.uri()) {
        params.extend(q);
    }
    let is_form =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
        });
    if is_form && let Ok(Form(body)) = Form::<Vec<(String, String)>>::from_request(req, &st).await {
        params.extend(body);
    }
    let origin = st.origin();
    axum::Json(exchange(&st, &origin, &params)).into_response()
}
