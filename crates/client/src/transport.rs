//! One HTTP exchange, classified: what happened tells the caller whether a retry is safe.
//! Every method is sent as a POST form (the API reads query and form alike), so the token is
//! never part of a URL that an error message or a proxy log could repeat.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client as Http, multipart};

use crate::ClientError;
use crate::endpoint::Endpoint;
use crate::secret::AuthToken;
use crate::server_clock::ServerClock;

/// How an exchange failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The request never left (connect or DNS failure): safe to retry, even a write.
    NotSent(String),
    /// The request may have reached the server: reads may retry, writes are in doubt.
    Unknown(String),
    /// The server refused the request outright (HTTP 4xx): nothing was applied.
    Refused(String),
    /// The server answered with a redirect (3xx), which the API never does: nothing is sent to
    /// the location, and the call is not repeated.
    Redirect(String),
}

impl Failure {
    /// What a call does after this failure of its `attempt`: `Ok(reason)` to back off and send
    /// again (a read, or anything that never left, while `retry_ok`), else the error: a write
    /// that may have reached the server is in doubt (`in_doubt`), never repeated.
    pub(crate) fn settle(
        self,
        method: zcrm_protocol::Method,
        is_write: bool,
        retry_ok: bool,
        attempt: u32,
        in_doubt: impl FnOnce(String) -> crate::ClientError,
    ) -> Result<String, crate::ClientError> {
        use crate::ClientError;
        let (reason, maybe_sent) = match self {
            Failure::NotSent(r) => (r, false),
            Failure::Unknown(r) => (r, true),
            Failure::Refused(r) => {
                return Err(ClientError::Transport { method, attempts: attempt, reason: r });
            }
            Failure::Redirect(location) => {
                return Err(ClientError::Redirected { method, location });
            }
        };
        if is_write && maybe_sent {
            return Err(in_doubt(reason));
        }
        if retry_ok {
            return Ok(reason);
        }
        Err(ClientError::Transport { method, attempts: attempt, reason })
    }
}

/// A file part for uploadFile/uploadPhoto.
pub struct FilePart<'a> {
    /// The file name sent with the part.
    pub file_name: &'a str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An answer of any status, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The body (empty for 204 and 304).
    pub(crate) body: Vec<u8>,
    /// `X-API-CREDITS-REMAINING` (the REST API sends it once half the credits are used).
    pub(crate) credits_remaining: Option<u64>,
}

pub(crate) struct Transport {
    http: Http,
    endpoint: Endpoint,
    token: AuthToken,
    timeout: Duration,
    max_body_bytes: u64,
    server_clock: ServerClock,
}

/// The default cap of a response body: 64 MiB. A 200-record page is a few hundred KB and
/// Zoho's attachments are at most 20 MB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 << 20;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole exchange, the response body included: a call still unanswered after it
    /// fails like a network error.
    pub timeout: Duration,
    /// The largest response body accepted ([`DEFAULT_MAX_BODY_BYTES`]); a longer one fails the
    /// call like a network error, in bounded memory.
    pub max_body_bytes: u64,
    /// A PEM CA certificate to trust in addition to the system roots (the emulator's `--tls`).
    pub ca_cert_pem: Option<Vec<u8>>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ca_cert_pem: None,
        }
    }
}

impl Transport {
    pub(crate) fn new(
        endpoint: Endpoint,
        token: AuthToken,
        cfg: &TransportConfig,
    ) -> Result<Self, ClientError> {
        let mut b = Http::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            // The API never redirects; following one would carry the form, token included, to
            // whatever host the answer names.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zcrm/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(8);
        if let Some(pem) = &cfg.ca_cert_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|source| ClientError::CaCertificate { source })?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|source| ClientError::HttpClient { source })?;
        Ok(Self {
            http,
            endpoint,
            token,
            timeout: cfg.timeout,
            max_body_bytes: cfg.max_body_bytes,
            server_clock: ServerClock::default(),
        })
    }

    /// The server's clock as its answers show it.
    pub(crate) fn server_clock(&self) -> &ServerClock {
        &self.server_clock
    }

    /// The deadline of one exchange.
    pub(crate) fn deadline(&self) -> Duration {
        self.timeout
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        // reqwest errors may carry the URL; the token is never in it, but redact defensively.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        self.token.redact(&text)
    }

    fn classify(&self, e: &reqwest::Error) -> Failure {
        let text = self.describe(e);
        if e.is_connect() || e.is_builder() {
            Failure::NotSent(text)
        } else {
            Failure::Unknown(text)
        }
    }

    /// Sends `params` (plus authtoken and scope) to `path` and returns the body of a 200 answer.
    pub(crate) fn post(
        &self,
        path: &str,
        params: &[(&'static str, String)],
        file: Option<&FilePart<'_>>,
    ) -> Result<Vec<u8>, Failure> {
        let url = format!("{}{}", self.endpoint.base(), path);
        let req = match file {
            None => {
                let mut form: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 2);
                form.push(("authtoken", self.token.expose()));
                form.push(("scope", "crmapi"));
                form.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
                self.http.post(&url).form(&form)
            }
            Some(f) => {
                let mut form = multipart::Form::new()
                    .text("authtoken", self.token.expose().to_owned())
                    .text("scope", "crmapi");
                for (k, v) in params {
                    form = form.text(*k, v.clone());
                }
                let part =
                    multipart::Part::bytes(f.bytes.clone()).file_name(f.file_name.to_owned());
                self.http.post(&url).multipart(form.part("content", part))
            }
        };
        let answer = self.exchange(req)?;
        let status = answer.status;
        if (200..300).contains(&status) {
            Ok(answer.body)
        } else if status >= 500 {
            Err(Failure::Unknown(format!("HTTP {status} from {}", self.endpoint.base())))
        } else {
            Err(Failure::Refused(format!("HTTP {status} from {}", self.endpoint.base())))
        }
    }

    /// A request of `method` to the absolute `url` on this transport's HTTP client (its
    /// timeouts, CA and no-redirect policy); the caller adds headers and body and sends it
    /// with [`Transport::exchange`].
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::blocking::RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends `req` and reads its answer whatever its status (a redirect excepted), within the
    /// size cap and the call's deadline; the `Date` header sets the server clock.
    pub(crate) fn exchange(
        &self,
        req: reqwest::blocking::RequestBuilder,
    ) -> Result<Answer, Failure> {
        let started = Instant::now();
        let mut resp = req.send().map_err(|e| self.classify(&e))?;
        if let Some(date) = resp.headers().get(reqwest::header::DATE).and_then(|d| d.to_str().ok())
        {
            self.server_clock.observe(date, jiff::Timestamp::now());
        }
        let status = resp.status();
        if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
            let location = resp.headers().get(reqwest::header::LOCATION).map_or_else(
                || "(no Location header)".to_owned(),
                |v| String::from_utf8_lossy(v.as_bytes()).into_owned(),
            );
            return Err(Failure::Redirect(self.token.redact(&location)));
        }
        let credits_remaining = resp
            .headers()
            .get("x-api-credits-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = self.read_body(&mut resp, started)?;
        Ok(Answer { status: status.as_u16(), body, credits_remaining })
    }

    /// Reads the body in chunks, failing once it passes the size cap or the call's deadline
    /// (each read also has the client's timeout, so a silent server cannot stall a chunk).
    fn read_body(
        &self,
        resp: &mut reqwest::blocking::Response,
        started: Instant,
    ) -> Result<Vec<u8>, Failure> {
        let cap = self.max_body_bytes;
        let hint = resp.content_length().unwrap_or(0).min(cap);
        let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match resp.read(&mut chunk) {
                Ok(0) => return Ok(body),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Failure::Unknown(
                        self.token.redact(&format!("reading the response body: {e}")),
                    ));
                }
            };
            if body.len() as u64 + n as u64 > cap {
                return Err(Failure::Unknown(format!(
                    "the response body is larger than {} (the cap of a response); the rest was not read",
                    mib(cap)
                )));
            }
            body.extend_from_slice(&chunk[..n]);
            if started.elapsed() > self.timeout {
                return Err(Failure::Unknown(format!(
                    "the response was still arriving at the call's deadline of {:?} ({} read)",
                    self.timeout,
                    mib(body.len() as u64)
                )));
            }
        }
    }
}

/// `n` bytes in MiB (whole when exact).
fn mib(n: u64) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    }
}
