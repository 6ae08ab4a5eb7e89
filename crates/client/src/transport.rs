//! One HTTP exchange, classified: what happened tells the caller whether a retry is safe.
//! Every method is sent as a POST form (the API reads query and form alike), so the token is
//! never part of a URL that an error message or a proxy log could repeat.

use std::time::Duration;

use reqwest::blocking::{Client as Http, multipart};

use crate::ClientError;
use crate::endpoint::Endpoint;
use crate::secret::AuthToken;

/// How an exchange failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The request never left (connect or DNS failure): safe to retry, even a write.
    NotSent(String),
    /// The request may have reached the server: reads may retry, writes are in doubt.
    Unknown(String),
    /// The server refused the request outright (HTTP 4xx): nothing was applied.
    Refused(String),
}

/// A file part for uploadFile/uploadPhoto.
pub struct FilePart<'a> {
    /// The file name sent with the part.
    pub file_name: &'a str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

pub(crate) struct Transport {
    http: Http,
    endpoint: Endpoint,
    token: AuthToken,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole exchange.
    pub timeout: Duration,
    /// A PEM CA certificate to trust in addition to the system roots (the emulator's `--tls`).
    pub ca_cert_pem: Option<Vec<u8>>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
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
            .user_agent(concat!("zcrm/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(8);
        if let Some(pem) = &cfg.ca_cert_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| {
                ClientError::Config(format!("the CA certificate is not valid PEM: {e}"))
            })?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?;
        Ok(Self { http, endpoint, token })
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
        let resp = req.send().map_err(|e| self.classify(&e))?;
        let status = resp.status();
        let body = resp.bytes().map_err(|e| Failure::Unknown(self.describe(&e)))?;
        if status.is_success() {
            Ok(body.to_vec())
        } else if status.is_server_error() {
            Err(Failure::Unknown(format!("HTTP {status} from {}", self.endpoint.base())))
        } else {
            Err(Failure::Refused(format!("HTTP {status} from {}", self.endpoint.base())))
        }
    }
}
