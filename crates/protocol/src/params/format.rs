//! `newFormat` and `version`: how a response is shaped, shared by reads and writes.

use super::ParamSource;
use crate::error::ParamError;

/// `newFormat`: whether responses list fields whose value is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewFormat {
    /// `1` (default): null fields are omitted.
    #[default]
    OmitNulls,
    /// `2`: null fields appear with the literal text `null`.
    WithNulls,
}

impl NewFormat {
    /// Reads `newFormat` as the server does: absent or `1` omits nulls, `2` writes them, anything
    /// else is refused.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        match src.param("newFormat").map(str::trim) {
            None | Some("") | Some("1") => Ok(Self::OmitNulls),
            Some("2") => Ok(Self::WithNulls),
            Some(v) => Err(ParamError::invalid("newFormat", v, "expected 1 or 2")),
        }
    }

    /// The parameter value (`1` or `2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OmitNulls => "1",
            Self::WithNulls => "2",
        }
    }
}

/// `version`: 1 (legacy, with "Campaign Source"), 2 (current), 4 (multi-row writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum ApiVersion {
    /// `1`: the default; Leads and Contacts still carry "Campaign Source".
    #[default]
    V1,
    /// `2`: the post-2011 behaviour.
    V2,
    /// `4`: multi-record insert/update with per-row results.
    V4,
}

impl ApiVersion {
    /// Reads `version` as the server does: absent or `1`, `2`, `4`; anything else (`3` too) is
    /// refused.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        match src.param("version").map(str::trim) {
            None | Some("") | Some("1") => Ok(Self::V1),
            Some("2") => Ok(Self::V2),
            Some("4") => Ok(Self::V4),
            Some(v) => Err(ParamError::invalid("version", v, "expected 1, 2 or 4")),
        }
    }

    /// The parameter value (`1`, `2` or `4`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
            Self::V4 => "4",
        }
    }
}
