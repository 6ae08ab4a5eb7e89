//! Bulk Write on the seam: the shapes of a job (its file, operation, columns), its state, and
//! how a dialect renders a row's values as the cells of the job's CSV.
//!
//! The flow is upload (a ZIP holding one CSV) → create the job (`file_id`, `operation`,
//! `find_by`, `field_mappings`) → poll its status → download the result ZIP. Only the REST API
//! (v8) offers it; the XML dialect answers every call with [`crate::ClientError::Unsupported`].

use zcrm_protocol::{EncodeError, Value};

/// Rows one Bulk Write CSV holds at most.
pub const MAX_BULK_ROWS: usize = 25_000;

/// Bytes one uploaded ZIP holds at most (25 MB).
pub const MAX_BULK_ZIP_BYTES: u64 = 25 * 1024 * 1024;

/// Credits one Bulk Write job costs on v8 (§5.2: "500 credits per job", its upload, status
/// polls and result download included: they are free, as the emulator charges them).
pub const BULK_JOB_CREDITS: u32 = 500;

/// Columns one Bulk Write CSV holds at most.
pub const MAX_BULK_COLUMNS: usize = 200;

/// What a Bulk Write job does with its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOperation {
    /// Create every row.
    Insert,
    /// Update the record `find_by` finds; create nothing.
    Update,
    /// Update the record `find_by` finds, create the others.
    Upsert,
}

impl BulkOperation {
    /// The wire word (`insert`, `update`, `upsert`), also what the journal keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Upsert => "upsert",
        }
    }

    /// Parses the wire word.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "insert" => Some(Self::Insert),
            "update" => Some(Self::Update),
            "upsert" => Some(Self::Upsert),
            _ => None,
        }
    }
}

/// One column of a Bulk Write CSV, as its `field_mappings` entry names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkColumn {
    /// The field's REST API name (`Last_Name`, `Account_Name`, `id`).
    pub api_name: String,
    /// The column's date format, for date and date-time fields.
    pub format: Option<&'static str>,
    /// How a lookup column names its record (`id`: the cells hold record ids).
    pub find_by: Option<&'static str>,
}

/// Everything a Bulk Write job is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    /// The module (any name the stages use: `Potentials` or `Deals`).
    pub module: String,
    /// What the job does.
    pub operation: BulkOperation,
    /// The REST API name of the field that finds existing records (update, upsert).
    pub find_by: Option<String>,
    /// The uploaded file.
    pub file_id: String,
    /// The CSV's columns, by index.
    pub columns: Vec<BulkColumn>,
}

/// A Bulk Write job's state, as its status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkState {
    /// Queued (`ADDED`).
    Added,
    /// Running (`IN PROGRESS` / `INPROGRESS`).
    InProgress,
    /// Done: the result ZIP is at `download_url`.
    Completed {
        /// Where the result ZIP is (absolute, or relative to the API domain).
        download_url: String,
    },
    /// The job failed as a whole: the server's words.
    Failed {
        /// Why, as the status says it.
        reason: String,
    },
}

/// Renders rows of one module as the cells of a Bulk Write CSV (the dialect's value forms).
pub trait BulkEncoder: Send + Sync {
    /// The column of field `name` (a label, an API name or an XML id column such as
    /// `ACCOUNTID`; `Id` is the record id), or why the field cannot be written in bulk.
    fn column(&self, name: &str) -> Result<BulkColumn, EncodeError>;
    /// The cell of `value` in field `name`: dates `yyyy-MM-dd`, date-times
    /// `yyyy-MM-ddTHH:mm:ss±HH:mm` in the org's zone, lookups as record ids, multi-select
    /// values joined with `;`, an empty value as an empty cell.
    fn cell(&self, name: &str, value: &Value) -> Result<String, EncodeError>;
}

/// The format the CSV's date columns are declared in (Zoho's pattern letters).
pub const DATE_FORMAT: &str = "yyyy-MM-dd";

/// The format the CSV's date-time columns are declared in (ISO 8601 with the offset).
pub const DATETIME_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ssXXX";

/// The origin Bulk Write uploads go to for an API base `api` (`https://www.zohoapis.eu` →
/// `https://content.zohoapis.eu`; Canada `https://upload.zohocloud.ca`, Saudi Arabia
/// `https://files.zoho.sa`); any other base (the emulator, a proxy) is its own upload host.
pub fn upload_origin(api: &str) -> String {
    let api = api.trim_end_matches('/');
    match api {
        "https://www.zohoapis.ca" => "https://upload.zohocloud.ca".to_owned(),
        "https://www.zohoapis.sa" => "https://files.zoho.sa".to_owned(),
        _ => match api.strip_prefix("https://www.zohoapis.") {
            Some(tld) if !tld.contains('/') => format!("https://content.zohoapis.{tld}"),
            _ => api.to_owned(),
        },
    }
}

/// Whether a result's `download_url` may be given the access token: relative to the API, on
/// the API's own origin, or an HTTPS host of Zoho's (`*.zoho.{tld}`, `*.zohoapis.{tld}`,
/// `*.zohocloud.ca`). Anything else is refused before a request leaves.
pub fn download_allowed(api: &str, url: &str) -> bool {
    if url.starts_with('/') && !url.starts_with("//") {
        return true;
    }
    let api = api.trim_end_matches('/');
    if url.starts_with(&format!("{api}/")) {
        return true;
    }
    let Some(rest) = url.strip_prefix("https://") else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.contains('@') || host.contains(':') {
        return false;
    }
    const TLDS: [&str; 9] = ["com", "eu", "in", "com.au", "jp", "ca", "sa", "com.cn", "uk"];
    let zoho = ["zoho", "zohoapis", "zohocloud"];
    zoho.iter().any(|z| TLDS.iter().any(|t| host.ends_with(&format!(".{z}.{t}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_go_to_the_content_host_of_the_data_centre_or_the_same_origin() {
        assert_eq!(upload_origin("https://www.zohoapis.com"), "https://content.zohoapis.com");
        assert_eq!(upload_origin("https://www.zohoapis.eu/"), "https://content.zohoapis.eu");
        assert_eq!(upload_origin("https://www.zohoapis.com.au"), "https://content.zohoapis.com.au");
        assert_eq!(upload_origin("https://www.zohoapis.ca"), "https://upload.zohocloud.ca");
        assert_eq!(upload_origin("https://www.zohoapis.sa"), "https://files.zoho.sa");
        assert_eq!(upload_origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn the_token_goes_only_to_zoho_or_the_api_origin() {
        let api = "http://127.0.0.1:9000";
        assert!(download_allowed(api, "/crm/bulk/v8/write/1/result"));
        assert!(download_allowed(api, "http://127.0.0.1:9000/x.zip"));
        assert!(download_allowed(api, "https://download-accl.zoho.com/6735/bulk-write/1.zip"));
        assert!(download_allowed(api, "https://download.zoho.eu/1.zip"));
        assert!(!download_allowed(api, "http://download.zoho.com/1.zip"));
        assert!(!download_allowed(api, "https://evil.example/zoho.com/1.zip"));
        assert!(!download_allowed(api, "https://download.zoho.com.evil.example/1.zip"));
        assert!(!download_allowed(api, "https://user@download.zoho.com/1.zip"));
        assert!(!download_allowed(api, "//evil.example/1.zip"));
        assert!(!download_allowed(api, "http://127.0.0.1:9001/x.zip"));
    }
}
