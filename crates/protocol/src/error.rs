//! Errors of the wire format: API error codes from the server, and local encode/decode failures.

use std::fmt;

/// Whether repeating a failed call can help, as the error table of docs/protocol.md §6 reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retry {
    /// The same call will fail the same way: fix the request or the data.
    Never,
    /// A transient condition (rate limit, internal error): retry after a back-off.
    AfterBackoff,
    /// A daily quota is spent: nothing succeeds until the org's day turns over.
    NextDay,
}

/// Every error code the XML API documents (docs/protocol.md §6), plus the undocumented ones seen in
/// recorded responses. Codes not in the table are kept verbatim in [`ApiCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiCode {
    /// 4000: use the authtoken instead of an API ticket and API key.
    UseAuthtoken,
    /// 4001: the user has no API permission.
    NoApiPermission,
    /// 401: no permission on the module.
    NoModulePermission,
    /// 401.1: no permission to create a record.
    NoCreatePermission,
    /// 401.2: no permission to edit the record (or its id is invalid).
    NoEditPermission,
    /// 401.3: no permission to delete the record.
    NoDeletePermission,
    /// 4101: Zoho CRM is disabled for the org.
    CrmDisabled,
    /// 4102: no CRM account.
    NoCrmAccount,
    /// 4103: no record with the given id.
    RecordNotFound,
    /// 4401: a mandatory field is missing (whole call, v1/v2 writes).
    MandatoryFieldMissing,
    /// 4420: wrong search parameter or value.
    WrongSearchParameter,
    /// 4421: the org's daily API call quota (or a 250-a-day method cap) is spent.
    ApiLimitExceeded,
    /// 4422: no records (always inside `<nodata>`; not an error for reads).
    NoData,
    /// 4423: the record search limit is exceeded.
    SearchLimitExceeded,
    /// 4424: invalid file type.
    InvalidFileType,
    /// 4425: per-row "valid record Id" error (update rows without a usable `Id`).
    InvalidRecordId,
    /// 4487: no permission to convert the lead.
    NoConvertPermission,
    /// 4500: internal server error while processing the request.
    InternalError,
    /// 4501: the API key is inactive.
    ApiKeyInactive,
    /// 4502: the module is not supported in the org's edition.
    ModuleNotSupported,
    /// 4600: incorrect API parameter or value, or an unknown method or module.
    InvalidParameter,
    /// 4807: the file is larger than the limit.
    FileSizeExceeded,
    /// 4809: the org's storage is full.
    StorageExceeded,
    /// 4820: a per-minute rate limit was hit.
    RateLimited,
    /// 4831: a required parameter is missing.
    MissingParameters,
    /// 4832: a value has the wrong type or format for its field.
    WrongValue,
    /// 4834: invalid or expired ticket / authtoken.
    InvalidTicket,
    /// 4835: the xmlData could not be parsed.
    XmlParseError,
    /// 4890: wrong API key.
    WrongApiKey,
    /// 4891: per-row "Mandatory Field Missing : <label>" (version=4 writes).
    MandatoryFieldMissingRow,
    /// No code: the bare `<response>Unable to process your request...</response>` that removed
    /// method names get.
    Refused,
    /// A code outside the documented table, kept verbatim.
    Other(String),
}

impl ApiCode {
    /// Parses the text of a `<code>` element (accepts surrounding whitespace).
    pub fn parse(code: &str) -> Self {
        match code.trim() {
            "4000" => Self::UseAuthtoken,
            "4001" => Self::NoApiPermission,
            "401" => Self::NoModulePermission,
            "401.1" => Self::NoCreatePermission,
            "401.2" => Self::NoEditPermission,
            "401.3" => Self::NoDeletePermission,
            "4101" => Self::CrmDisabled,
            "4102" => Self::NoCrmAccount,
            "4103" => Self::RecordNotFound,
            "4401" => Self::MandatoryFieldMissing,
            "4420" => Self::WrongSearchParameter,
            "4421" => Self::ApiLimitExceeded,
            "4422" => Self::NoData,
            "4423" => Self::SearchLimitExceeded,
            "4424" => Self::InvalidFileType,
            "4425" => Self::InvalidRecordId,
            "4487" => Self::NoConvertPermission,
            "4500" => Self::InternalError,
            "4501" => Self::ApiKeyInactive,
            "4502" => Self::ModuleNotSupported,
            "4600" => Self::InvalidParameter,
            "4807" => Self::FileSizeExceeded,
            "4809" => Self::StorageExceeded,
            "4820" => Self::RateLimited,
            "4831" => Self::MissingParameters,
            "4832" => Self::WrongValue,
            "4834" => Self::InvalidTicket,
            "4835" => Self::XmlParseError,
            "4890" => Self::WrongApiKey,
            "4891" => Self::MandatoryFieldMissingRow,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as the server writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::UseAuthtoken => "4000",
            Self::NoApiPermission => "4001",
            Self::NoModulePermission => "401",
            Self::NoCreatePermission => "401.1",
            Self::NoEditPermission => "401.2",
            Self::NoDeletePermission => "401.3",
            Self::CrmDisabled => "4101",
            Self::NoCrmAccount => "4102",
            Self::RecordNotFound => "4103",
            Self::MandatoryFieldMissing => "4401",
            Self::WrongSearchParameter => "4420",
            Self::ApiLimitExceeded => "4421",
            Self::NoData => "4422",
            Self::SearchLimitExceeded => "4423",
            Self::InvalidFileType => "4424",
            Self::InvalidRecordId => "4425",
            Self::NoConvertPermission => "4487",
            Self::InternalError => "4500",
            Self::ApiKeyInactive => "4501",
            Self::ModuleNotSupported => "4502",
            Self::InvalidParameter => "4600",
            Self::FileSizeExceeded => "4807",
            Self::StorageExceeded => "4809",
            Self::RateLimited => "4820",
            Self::MissingParameters => "4831",
            Self::WrongValue => "4832",
            Self::InvalidTicket => "4834",
            Self::XmlParseError => "4835",
            Self::WrongApiKey => "4890",
            Self::MandatoryFieldMissingRow => "4891",
            Self::Refused => "",
            Self::Other(code) => code,
        }
    }

    /// Whether repeating the call can succeed, and when.
    pub fn retry(&self) -> Retry {
        match self {
            Self::ApiLimitExceeded | Self::SearchLimitExceeded => Retry::NextDay,
            Self::RateLimited | Self::InternalError => Retry::AfterBackoff,
            _ => Retry::Never,
        }
    }

    /// The documented meaning of the code, for messages a person reads.
    pub fn meaning(&self) -> &'static str {
        match self {
            Self::UseAuthtoken => "use the authtoken instead of an API ticket and API key",
            Self::NoApiPermission => "the user has no API permission",
            Self::NoModulePermission => "no permission on the module",
            Self::NoCreatePermission => "no permission to create a record",
            Self::NoEditPermission => "no permission to edit the record",
            Self::NoDeletePermission => "no permission to delete the record",
            Self::CrmDisabled => "Zoho CRM is disabled",
            Self::NoCrmAccount => "no CRM account",
            Self::RecordNotFound => "no record with the given id",
            Self::MandatoryFieldMissing => "a mandatory field is missing",
            Self::WrongSearchParameter => "wrong search parameter or value",
            Self::ApiLimitExceeded => "the daily API call limit is exceeded",
            Self::NoData => "no records",
            Self::SearchLimitExceeded => "the record search limit is exceeded",
            Self::InvalidFileType => "invalid file type",
            Self::InvalidRecordId => "invalid record id",
            Self::NoConvertPermission => "no permission to convert the lead",
            Self::InternalError => "internal server error",
            Self::ApiKeyInactive => "the API key is inactive",
            Self::ModuleNotSupported => "the module is not supported in this edition",
            Self::InvalidParameter => "incorrect API parameter or value",
            Self::FileSizeExceeded => "the file size limit is exceeded",
            Self::StorageExceeded => "the storage limit is exceeded",
            Self::RateLimited => "the per-minute rate limit is exceeded",
            Self::MissingParameters => "missing parameters",
            Self::WrongValue => "wrong value for a field",
            Self::InvalidTicket => "invalid or expired authtoken",
            Self::XmlParseError => "the xmlData could not be parsed",
            Self::WrongApiKey => "wrong API key",
            Self::MandatoryFieldMissingRow => "a mandatory field is missing",
            Self::Refused => "the request was refused (removed method or bad URL)",
            Self::Other(_) => "undocumented error code",
        }
    }
}

impl fmt::Display for ApiCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error the server answered with: its code and its message, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Zoho API error {code} ({}): {message}", code.meaning())]
pub struct ApiError {
    /// The error code.
    pub code: ApiCode,
    /// The server's message.
    pub message: String,
}

impl ApiError {
    /// Builds an error from a code and message.
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// Whether repeating the call can succeed.
    pub fn retry(&self) -> Retry {
        self.code.retry()
    }
}

/// A response body that is not a well-formed document of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The XML is not well-formed (includes invalid UTF-8), at a byte offset.
    #[error("malformed XML at byte {offset}: {reason}")]
    Xml {
        /// Byte offset where the reader stopped.
        offset: u64,
        /// What the XML reader reported.
        reason: String,
    },
    /// The document ended before its root element was closed.
    #[error("truncated XML: the document ends with {depth} element(s) still open")]
    Truncated {
        /// How many elements were still open.
        depth: usize,
    },
    /// A DOCTYPE declaration: refused, so no entity can ever be defined or expanded.
    #[error("a DOCTYPE declaration is not allowed in an API document")]
    DoctypeNotAllowed,
    /// A reference to an entity other than the five predefined ones.
    #[error("reference to the undefined entity &{0};")]
    UnknownEntity(String),
    /// A character that XML 1.0 does not allow (literal or as a character reference).
    #[error("character U+{0:04X} is not allowed in XML 1.0")]
    InvalidChar(u32),
    /// Elements nested deeper than any API document needs.
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// The document is well-formed but not the expected response shape.
    #[error("unexpected response shape: {0}")]
    Shape(String),
    /// A value inside the document does not parse (ids, numbers, codes).
    #[error("bad value {value:?} for {what}")]
    BadValue {
        /// What was being parsed.
        what: &'static str,
        /// The offending text.
        value: String,
    },
}

/// The outcome of decoding a response: either the server said no, or the body is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The server answered with an `<error>` envelope (or a bare refusal).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The body could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// A value that cannot be written into an API document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The text holds a character XML 1.0 cannot carry (e.g. U+0000, U+001B, U+FFFE).
    #[error("field {field:?}: character U+{code:04X} at char {position} cannot be sent in XML")]
    InvalidXmlChar {
        /// The field (FL label) or attribute the text was for.
        field: String,
        /// The code point.
        code: u32,
        /// Character index inside the value.
        position: usize,
    },
    /// More rows than one write call may carry.
    #[error("{rows} rows in one write call; the limit is {limit}")]
    TooManyRows {
        /// Rows given.
        rows: usize,
        /// The limit.
        limit: usize,
    },
    /// A write with no rows.
    #[error("a write call needs at least one row")]
    NoRows,
    /// A line item field that itself holds line items (only one level of `<product>` exists).
    #[error("field {0:?}: line items cannot be nested inside a line item")]
    NestedLineItems(String),
    /// A multi-select picklist item contains the `;` separator or is empty.
    #[error("multi-select item {0:?} is empty or contains ';'")]
    BadMultiSelectItem(String),
    /// A name that is neither a field label, an `api_name` nor an id column of the module (a
    /// dialect that names fields by `api_name` cannot send it: the REST API would drop it).
    #[error("{field:?} is not a field of {module} (neither a label nor an api_name)")]
    UnknownField {
        /// The name given.
        field: String,
        /// The module.
        module: String,
    },
}

/// A request parameter that breaks the documented rules (window sizes, required values).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A required parameter is missing.
    #[error("missing parameter {0:?}")]
    Missing(&'static str),
    /// A parameter has a value the API rejects.
    #[error("invalid value {value:?} for parameter {name:?}: {reason}")]
    Invalid {
        /// The parameter name.
        name: &'static str,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
}

impl ParamError {
    /// An invalid value for parameter `name`, with the reason it is refused. A reason starting
    /// with "Please verify" is taken as the server's own sentence (see [`ParamError::api_error`]).
    pub fn invalid(
        name: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid { name, value: value.into(), reason: reason.into() }
    }

    /// The whole-call API error the server answers for this parameter problem: a missing
    /// parameter is 4831 (`Missing parameter : <name>`), a malformed searchRecords `criteria`
    /// is 4832 (`API call cannot be completed as the Criteria parameter ...`), anything else is
    /// 4600 with the recorded "name and value is appropriate" message.
    pub fn api_error(&self) -> ApiError {
        use crate::messages;
        match self {
            Self::Missing(name) => {
                ApiError::new(ApiCode::MissingParameters, messages::missing_parameter(name))
            }
            Self::Invalid { name: "criteria", reason, .. } => {
                let message = if reason.starts_with("contains") {
                    messages::criteria_error(reason)
                } else {
                    messages::criteria_error(&format!("is invalid: {reason}"))
                };
                ApiError::new(ApiCode::WrongValue, message)
            }
            Self::Invalid { reason, .. } if reason.starts_with("Please verify") => ApiError::new(
                ApiCode::InvalidParameter,
                format!("Unable to process your request. {reason}"),
            ),
            Self::Invalid { name, reason, .. } => {
                let base = messages::invalid_parameter(name);
                let base = base.strip_suffix('.').unwrap_or(&base);
                ApiError::new(ApiCode::InvalidParameter, format!("{base} ({reason})."))
            }
        }
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        e.api_error()
    }
}
