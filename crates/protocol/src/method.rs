//! The API methods, their URL paths and how the daily quota counts them.

use std::fmt;
use std::str::FromStr;

/// Response format, chosen by the URL path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `/crm/private/xml/...`
    Xml,
    /// `/crm/private/json/...` (the XML→JSON conversion of docs/protocol.md §3.6).
    Json,
}

impl Format {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }

    /// The `Content-Type` the real service sent for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xml => "text/xml;charset=utf-8",
            Self::Json => "application/jsonp;charset=utf-8",
        }
    }
}

/// Which daily counter a call draws on, besides the org's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodClass {
    /// Counts only against the org's daily budget.
    General,
    /// getSearchRecords and getCVRecords: also capped at 250 a day.
    SearchCv,
}

macro_rules! methods {
    ($($variant:ident => $name:literal : $doc:literal),* $(,)?) => {
        /// An API method (the last URL path segment).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Method {
            $(#[doc = $doc] $variant,)*
        }

        impl Method {
            /// Every current method.
            pub const ALL: &'static [Method] = &[$(Method::$variant,)*];

            /// The method name as it appears in the URL.
            pub fn name(self) -> &'static str {
                match self { $(Method::$variant => $name,)* }
            }
        }

        impl FromStr for Method {
            type Err = UnknownMethod;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Method::$variant),)*
                    other => Err(if DEPRECATED_METHODS.contains(&other) {
                        UnknownMethod::Deprecated(other.to_owned())
                    } else {
                        UnknownMethod::Unknown(other.to_owned())
                    }),
                }
            }
        }
    };
}

methods! {
    GetFields => "getFields": "Field metadata of a module.",
    GetRecords => "getRecords": "All users' records, paged.",
    GetMyRecords => "getMyRecords": "The token owner's records, paged.",
    GetRecordById => "getRecordById": "Records by `id` or `idlist`.",
    GetDeletedRecordIds => "getDeletedRecordIds": "Ids of deleted records.",
    SearchRecords => "searchRecords": "Search by `criteria` (indexed).",
    GetSearchRecords => "getSearchRecords": "Search by `searchCondition` (250 a day).",
    GetSearchRecordsByPdc => "getSearchRecordsByPDC": "Search a predefined column.",
    GetCvRecords => "getCVRecords": "Records of a custom view (250 a day).",
    GetRelatedRecords => "getRelatedRecords": "Records related to a parent record.",
    UpdateRelatedRecords => "updateRelatedRecords": "Relate records to a parent record.",
    InsertRecords => "insertRecords": "Create records.",
    UpdateRecords => "updateRecords": "Update records.",
    DeleteRecords => "deleteRecords": "Delete a record.",
    ConvertLead => "convertLead": "Convert a lead to contact, account and potential.",
    UploadFile => "uploadFile": "Attach a file to a record.",
    DownloadFile => "downloadFile": "Download an attachment.",
    DeleteFile => "deleteFile": "Delete an attachment.",
    UploadPhoto => "uploadPhoto": "Set a record's photo.",
    DownloadPhoto => "downloadPhoto": "Download a record's photo.",
    DeletePhoto => "deletePhoto": "Delete a record's photo.",
    GetUsers => "getUsers": "The org's users (path module `Users`).",
    GetModules => "getModules": "The org's modules (path module `Info`).",
}

/// Method names removed in January 2010; the server answers them with a bare refusal.
pub const DEPRECATED_METHODS: [&str; 4] =
    ["getAllRecords", "getEntityRecord", "getAllSearchRecords", "getMySearchRecords"];

/// The text of the seed notes' refusal for removed methods.
pub const DEPRECATED_REFUSAL: &str = "Unable to process your request. Please verify whether you have entered proper method name, parameter and parameter values";

/// A method name the API does not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownMethod {
    /// One of the names removed in 2010.
    #[error("method {0:?} was removed in January 2010")]
    Deprecated(String),
    /// Never a method.
    #[error("unknown method {0:?}")]
    Unknown(String),
}

impl Method {
    /// Which daily counter the call draws on.
    pub fn class(self) -> MethodClass {
        match self {
            Self::GetSearchRecords | Self::GetCvRecords => MethodClass::SearchCv,
            _ => MethodClass::General,
        }
    }

    /// Whether the call changes data (never retried blindly when its outcome is unknown).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Self::InsertRecords
                | Self::UpdateRecords
                | Self::DeleteRecords
                | Self::UpdateRelatedRecords
                | Self::ConvertLead
                | Self::UploadFile
                | Self::DeleteFile
                | Self::UploadPhoto
                | Self::DeletePhoto
        )
    }

    /// The fixed path module for methods that are not about a CRM module.
    pub fn fixed_module(self) -> Option<&'static str> {
        match self {
            Self::GetUsers => Some("Users"),
            Self::GetModules => Some("Info"),
            _ => None,
        }
    }

    /// The URL path: `/crm/private/{format}/{module}/{method}`.
    pub fn path(self, format: Format, module: &str) -> String {
        let module = self.fixed_module().unwrap_or(module);
        format!("/crm/private/{}/{}/{}", format.as_str(), module, self.name())
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
