//! Where calls go: Zoho's data centres or any URL, and the HTTPS policy that guards the token.

use std::net::IpAddr;

use crate::ClientError;

/// Zoho CRM data centres (PROTOCOL.md §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataCentre {
    /// `https://crm.zoho.com` (US, the default).
    Com,
    /// `https://crm.zoho.eu`.
    Eu,
    /// `https://crm.zoho.com.cn`.
    China,
    /// `https://crm.zoho.in`.
    India,
    /// `https://crm.zoho.com.au`.
    Australia,
}

impl DataCentre {
    /// The base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Com => "https://crm.zoho.com",
            Self::Eu => "https://crm.zoho.eu",
            Self::China => "https://crm.zoho.com.cn",
            Self::India => "https://crm.zoho.in",
            Self::Australia => "https://crm.zoho.com.au",
        }
    }

    /// Parses `com`, `eu`, `cn`, `in` or `au`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "com" | "us" => Some(Self::Com),
            "eu" => Some(Self::Eu),
            "cn" | "com.cn" => Some(Self::China),
            "in" => Some(Self::India),
            "au" | "com.au" => Some(Self::Australia),
            _ => None,
        }
    }
}

/// A checked base URL: `https://...`, or `http://` to a loopback address only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: String,
    host: String,
    https: bool,
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Endpoint {
    /// Checks `url` against the HTTPS policy: the token travels only over HTTPS, except to
    /// loopback addresses (the emulator). Anything else is refused before a byte is sent.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let url = url.trim().trim_end_matches('/');
        if let Some(dc) = DataCentre::parse(url) {
            return Self::parse(dc.base_url());
        }
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            ClientError::Config(format!("{url:?} is not a URL (expected https://host)"))
        })?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if authority.starts_with('[') {
            authority.split_once(']').map_or(authority.to_owned(), |(h, _)| format!("{h}]"))
        } else {
            authority.split(':').next().unwrap_or_default().to_owned()
        };
        if host.is_empty() {
            return Err(ClientError::Config(format!("{url:?} has no host")));
        }
        match scheme.to_ascii_lowercase().as_str() {
            "https" => Ok(Self { base: url.to_owned(), host, https: true }),
            "http" if is_loopback(&host) => Ok(Self { base: url.to_owned(), host, https: false }),
            "http" => Err(ClientError::InsecureUrl { url: url.to_owned() }),
            other => {
                Err(ClientError::Config(format!("unsupported URL scheme {other:?} in {url:?}")))
            }
        }
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The host (used as the org's key in the budget ledger unless an org name is set).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether calls go over HTTPS.
    pub fn is_https(&self) -> bool {
        self.https
    }
}
