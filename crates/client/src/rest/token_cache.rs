//! The access token, shared by every zcrm process of one org: kept in memory and in an
//! owner-only file of the state dir (`STATE/oauth/<client id>-<refresh token fingerprint>.json`),
//! refreshed under a file lock when less than [`REFRESH_MARGIN_SECS`] remain, so parallel runs
//! mint one token between them instead of exhausting Zoho's 10 per refresh token in 10 minutes.
//! The refresh token itself is never written.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::ClientError;
use crate::rest::oauth::TokenGrant;
use crate::secret::Secret;

/// A token with less than this many seconds left is refreshed before use.
pub const REFRESH_MARGIN_SECS: i64 = 60;

/// The context of the refresh token's fingerprint in cache file names.
const FINGERPRINT_CONTEXT: &str = "zcrm 2026-12 org key of a Zoho OAuth refresh token";

/// An access token and where to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// The `api_domain` the token endpoint named (empty: the configured one).
    pub api_domain: String,
    /// When it expires.
    pub expires_at: Timestamp,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    access_token: String,
    api_domain: String,
    /// Seconds since the Unix epoch.
    expires_at: i64,
}

type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The shared access-token cache of one OAuth client and refresh token.
pub struct TokenCache {
    path: PathBuf,
    lock_path: PathBuf,
    clock: Clock,
    mem: Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("path", &self.path).finish_non_exhaustive()
    }
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect()
}

impl TokenCache {
    /// The cache of `client_id` with `refresh_token` under `state_dir`.
    ///
    /// The accounts server is part of the key: a token minted by one server (an emulator on
    /// another port, another data centre) is never offered to another.
    pub fn new(state_dir: &Path, accounts: &str, client_id: &str, refresh_token: &Secret) -> Self {
        let context = format!("{FINGERPRINT_CONTEXT} {accounts}");
        let name = format!("{}-{}", safe(client_id), refresh_token.fingerprint(&context));
        let dir = state_dir.join("oauth");
        Self {
            path: dir.join(format!("{name}.json")),
            lock_path: dir.join(format!("{name}.lock")),
            clock: Arc::new(Timestamp::now),
            mem: Mutex::new(None),
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fresh(&self, t: &AccessToken) -> bool {
        t.expires_at.as_second() - (self.clock)().as_second() >= REFRESH_MARGIN_SECS
    }

    fn read_file(&self) -> Option<AccessToken> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        Some(AccessToken {
            token: Secret::new(e.access_token),
            api_domain: e.api_domain,
            expires_at: Timestamp::from_second(e.expires_at).ok()?,
        })
    }

    fn write_file(&self, t: &AccessToken) -> Result<(), ClientError> {
        let entry = Entry {
            access_token: t.token.expose().to_owned(),
            api_domain: t.api_domain.clone(),
            expires_at: t.expires_at.as_second(),
        };
        // Serialising three plain fields cannot fail; an empty file is read as "no token".
        let bytes = serde_json::to_vec(&entry).unwrap_or_default();
        crate::owner_only::write_atomic(&self.path, &bytes).map_err(ClientError::TokenCache)
    }

    /// A token with at least [`REFRESH_MARGIN_SECS`] left: this process's, the file's (another
    /// process refreshed), or a new one from `refresh` (under the file lock, so processes that
    /// need one at once mint one between them).
    pub fn get(
        &self,
        refresh: impl FnOnce() -> Result<TokenGrant, ClientError>,
    ) -> Result<AccessToken, ClientError> {
        self.obtain(None, refresh)
    }

    /// A token other than `rejected` (which the server answered 401 to): one another process
    /// refreshed meanwhile, or a new one from `refresh`.
    pub fn replace(
        &self,
        rejected: &Secret,
        refresh: impl FnOnce() -> Result<TokenGrant, ClientError>,
    ) -> Result<AccessToken, ClientError> {
        self.obtain(Some(rejected), refresh)
    }

    fn obtain(
        &self,
        rejected: Option<&Secret>,
        refresh: impl FnOnce() -> Result<TokenGrant, ClientError>,
    ) -> Result<AccessToken, ClientError> {
        let usable = |t: &AccessToken| self.fresh(t) && rejected != Some(&t.token);
        // Threads of this process wait here while one of them refreshes.
        let mut mem = self.mem.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(t) = mem.as_ref().filter(|t| usable(t)) {
            return Ok(t.clone());
        }
        if let Some(t) = self.read_file().filter(usable) {
            *mem = Some(t.clone());
            return Ok(t);
        }
        let lock = crate::owner_only::open(&self.lock_path).map_err(ClientError::TokenCache)?;
        lock.lock().map_err(|source| {
            ClientError::TokenCache(crate::owner_only::StateFileError {
                path: self.lock_path.clone(),
                source,
            })
        })?;
        // Another process may have refreshed while this one waited for the lock.
        if let Some(t) = self.read_file().filter(usable) {
            *mem = Some(t.clone());
            return Ok(t);
        }
        let grant = refresh()?;
        let secs = i64::try_from(grant.expires_in).unwrap_or(i64::MAX / 4);
        let now = (self.clock)();
        let expires_at =
            now.checked_add(jiff::SignedDuration::from_secs(secs)).unwrap_or(Timestamp::MAX);
        let t = AccessToken {
            token: grant.access_token,
            api_domain: grant.api_domain.unwrap_or_default(),
            expires_at,
        };
        self.write_file(&t)?;
        *mem = Some(t.clone());
        // The lock is released when `lock` is dropped.
        drop(lock);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

    use super::*;

    fn grant(token: &str) -> TokenGrant {
        TokenGrant {
            access_token: Secret::new(token),
            api_domain: Some("https://www.zohoapis.eu".into()),
            expires_in: 3600,
            refresh_token: None,
        }
    }

    /// Reused while a minute or more is left, refreshed below that; a second cache (another
    /// process) reads the file instead of refreshing; a rejected token is replaced.
    #[test]
    fn refreshed_a_minute_before_expiry_shared_through_the_file_and_replaced_after_a_401() {
        let dir = tempfile::tempdir().unwrap();
        let now = Arc::new(AtomicI64::new(1_700_000_000));
        let clock = {
            let now = now.clone();
            move || Timestamp::from_second(now.load(Ordering::SeqCst)).unwrap()
        };
        let refresh = Secret::new("1000.refresh-s3cr3t");
        let a = TokenCache::new(dir.path(), "https://accounts.zoho.eu", "1000.CLIENT", &refresh)
            .with_clock(clock.clone());
        let b = TokenCache::new(dir.path(), "https://accounts.zoho.eu", "1000.CLIENT", &refresh)
            .with_clock(clock);
        let minted = AtomicU32::new(0);
        let mint = |name: &str| {
            minted.fetch_add(1, Ordering::SeqCst);
            Ok(grant(name))
        };
        let t1 = a.get(|| mint("t1")).unwrap();
        assert_eq!((t1.token.expose(), t1.api_domain.as_str()), ("t1", "https://www.zohoapis.eu"));
        // Another process finds it in the file.
        assert_eq!(b.get(|| mint("never")).unwrap().token.expose(), "t1");
        now.fetch_add(3600 - 60, Ordering::SeqCst);
        assert_eq!(a.get(|| mint("never")).unwrap().token.expose(), "t1", "60 s left: kept");
        now.fetch_add(1, Ordering::SeqCst);
        assert_eq!(a.get(|| mint("t2")).unwrap().token.expose(), "t2", "59 s left: refreshed");
        assert_eq!(b.get(|| mint("never")).unwrap().token.expose(), "t2");
        // A 401 on t2 in process b: a new token, which a then uses for its own 401 on t2.
        let t3 = b.replace(&Secret::new("t2"), || mint("t3")).unwrap();
        assert_eq!(t3.token.expose(), "t3");
        assert_eq!(a.replace(&Secret::new("t2"), || mint("never")).unwrap().token.expose(), "t3");
        assert_eq!(minted.load(Ordering::SeqCst), 3);
        // The refresh token is never written; the file is the owner's only.
        let text = std::fs::read_to_string(a.path()).unwrap();
        assert!(!text.contains("refresh-s3cr3t"));
        assert!(a.path().file_name().unwrap().to_str().unwrap().starts_with("1000.CLIENT-"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(!format!("{t3:?}").contains("t3\""), "{t3:?}");
    }

    #[test]
    fn another_refresh_token_has_its_own_file_and_a_failed_refresh_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = TokenCache::new(dir.path(), "a", "c", &Secret::new("r1"));
        let b = TokenCache::new(dir.path(), "a", "c", &Secret::new("r2"));
        assert_ne!(a.path(), b.path());
        a.get(|| Ok(grant("x"))).unwrap();
        let err = b.get(|| Err(ClientError::Unsupported { dialect: "v8", what: "test".into() }));
        assert!(err.is_err());
        assert!(!b.path().exists());
    }
}
