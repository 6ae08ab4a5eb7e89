//! Where calls go: Zoho's data centres or any URL, and the HTTPS policy that guards the token.

use std::net::IpAddr;

use crate::ClientError;

/// Zoho CRM data centres (docs/protocol.md §1.1; the REST API's hosts per data centre are
/// those of Zoho's official SDK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataCentre {
    /// US (`com`, the default): `https://crm.zoho.com`, `https://www.zohoapis.com`.
    Com,
    /// Europe (`eu`).
    Eu,
    /// China (`com.cn`).
    China,
    /// India (`in`).
    India,
    /// Australia (`com.au`).
    Australia,
    /// Japan (`jp`): REST API only.
    Japan,
    /// Canada (`ca`, accounts on `zohocloud.ca`): REST API only.
    Canada,
    /// Saudi Arabia (`sa`): REST API only.
    SaudiArabia,
}

impl DataCentre {
    /// Every data centre.
    pub const ALL: [DataCentre; 8] = [
        Self::Com,
        Self::Eu,
        Self::China,
        Self::India,
        Self::Australia,
        Self::Japan,
        Self::Canada,
        Self::SaudiArabia,
    ];

    /// The XML API's base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Com => "https://crm.zoho.com",
            Self::Eu => "https://crm.zoho.eu",
            Self::China => "https://crm.zoho.com.cn",
            Self::India => "https://crm.zoho.in",
            Self::Australia => "https://crm.zoho.com.au",
            Self::Japan => "https://crm.zoho.jp",
            Self::Canada => "https://crm.zohocloud.ca",
            Self::SaudiArabia => "https://crm.zoho.sa",
        }
    }

    /// The REST API's domain (`{api}/crm/v8/...`).
    pub fn api_domain(self) -> &'static str {
        match self {
            Self::Com => "https://www.zohoapis.com",
            Self::Eu => "https://www.zohoapis.eu",
            Self::China => "https://www.zohoapis.com.cn",
            Self::India => "https://www.zohoapis.in",
            Self::Australia => "https://www.zohoapis.com.au",
            Self::Japan => "https://www.zohoapis.jp",
            Self::Canada => "https://www.zohoapis.ca",
            Self::SaudiArabia => "https://www.zohoapis.sa",
        }
    }

    /// The accounts server (OAuth: `{accounts}/oauth/v2/token`).
    pub fn accounts_url(self) -> &'static str {
        match self {
            Self::Com => "https://accounts.zoho.com",
            Self::Eu => "https://accounts.zoho.eu",
            Self::China => "https://accounts.zoho.com.cn",
            Self::India => "https://accounts.zoho.in",
            Self::Australia => "https://accounts.zoho.com.au",
            Self::Japan => "https://accounts.zoho.jp",
            Self::Canada => "https://accounts.zohocloud.ca",
            Self::SaudiArabia => "https://accounts.zoho.sa",
        }
    }

    /// Parses `com`/`us`, `eu`, `cn`/`com.cn`, `in`, `au`/`com.au`, `jp`, `ca` or `sa`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "com" | "us" => Some(Self::Com),
            "eu" => Some(Self::Eu),
            "cn" | "com.cn" => Some(Self::China),
            "in" => Some(Self::India),
            "au" | "com.au" => Some(Self::Australia),
            "jp" => Some(Self::Japan),
            "ca" => Some(Self::Canada),
            "sa" => Some(Self::SaudiArabia),
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

/// Where the token belongs, for the messages that refuse one in the URL.
pub(crate) const TOKEN_HOME: &str = "the authtoken goes in the environment variable named by the pipeline's \
`authtoken_env` (ZCRM_AUTHTOKEN unless it says otherwise), never in the URL";

/// Refuses `@` (credentials), `?` (a query string) and `#` (a fragment) anywhere in a base URL,
/// without repeating any of the URL: what follows them is likely a secret, and where the
/// authority ends is ambiguous once they appear.
fn secret_free(url: &str) -> Result<(), ClientError> {
    let what = if url.contains('@') {
        "carries credentials (`user:password@`); the API takes none"
    } else if url.contains('?') {
        "has a query string (`?...`); a base URL is https://host[/path] only"
    } else if url.contains('#') {
        "has a fragment (`#...`); a base URL is https://host[/path] only"
    } else {
        return Ok(());
    };
    Err(ClientError::UrlWithSecret { what })
}

impl Endpoint {
    /// Checks `url` against the HTTPS policy: the token travels only over HTTPS, except to
    /// loopback addresses (the emulator). Anything else is refused before a byte is sent.
    /// A base URL is `scheme://host[:port][/path]`: credentials (`user:password@`), a query
    /// string or a fragment are refused, and the message never repeats them (they are where
    /// people paste tokens).
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let url = url.trim().trim_end_matches('/');
        if let Some(dc) = DataCentre::parse(url) {
            return Self::parse(dc.base_url());
        }
        secret_free(url)?;
        let (scheme, rest) =
            url.split_once("://").ok_or_else(|| ClientError::NotAUrl { url: url.to_owned() })?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if authority.starts_with('[') {
            authority.split_once(']').map_or(authority.to_owned(), |(h, _)| format!("{h}]"))
        } else {
            authority.split(':').next().unwrap_or_default().to_owned()
        };
        if host.is_empty() {
            return Err(ClientError::NoHost { url: url.to_owned() });
        }
        match scheme.to_ascii_lowercase().as_str() {
            "https" => Ok(Self { base: url.to_owned(), host, https: true }),
            "http" if is_loopback(&host) => Ok(Self { base: url.to_owned(), host, https: false }),
            "http" => Err(ClientError::InsecureUrl { url: url.to_owned() }),
            other => Err(ClientError::UnsupportedScheme {
                scheme: other.to_owned(),
                url: url.to_owned(),
            }),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn credentials_query_strings_and_fragments_are_refused_without_echoing_them() {
        for url in [
            "https://user:s3cr3tpw@crm.zoho.com",
            "https://s3cr3tpw@crm.zoho.com/crm",
            "http://user:s3cr3tpw@127.0.0.1:8080",
            "https://crm.zoho.com?authtoken=s3cr3tpw",
            "https://crm.zoho.com/?authtoken=s3cr3tpw",
            "https://crm.zoho.com/crm/private?scope=x&authtoken=s3cr3tpw",
            "https://crm.zoho.com#s3cr3tpw",
            "https://crm.zoho.com/crm#authtoken=s3cr3tpw",
            "crm.zoho.com?authtoken=s3cr3tpw",
            "user:s3cr3tpw@crm.zoho.com",
            "ftp://user:s3cr3tpw@crm.zoho.com",
            "http://user:s3cr3tpw@example.com",
        ] {
            let err = Endpoint::parse(url).map(|e| e.base().to_owned());
            let Err(err) = err else { panic!("{url} was accepted as {err:?}") };
            let text = err.to_string();
            assert!(!text.contains("s3cr3tpw"), "the secret is echoed: {text}");
            assert!(!format!("{err:?}").contains("s3cr3tpw"), "the secret is echoed: {err:?}");
            if !url.starts_with("ftp") && url.contains("://") {
                assert!(
                    text.contains("authtoken_env") && text.contains("ZCRM_AUTHTOKEN"),
                    "says where the token belongs: {text}"
                );
            }
        }
        // What stays allowed: a path, a port, the data-centre names.
        for url in
            ["https://crm.zoho.com/crm", "https://crm.zoho.com:443/", "http://[::1]:9/api", "eu"]
        {
            assert!(Endpoint::parse(url).is_ok(), "{url}");
        }
    }
}
