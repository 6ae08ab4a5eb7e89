//! Parameters of insertRecords and updateRecords.

use super::{ApiVersion, NewFormat, Pairs, ParamSource, source::opt_bool};
use crate::error::ParamError;

/// `duplicateCheck`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateCheck {
    /// `1`: a row matching an existing record on the module's duplicate-check field is not created.
    Skip,
    /// `2`: the existing record is updated instead.
    Update,
}

/// Parameters of insertRecords and updateRecords (xmlData aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteParams {
    /// `wfTrigger=true`: fire workflow rules.
    pub wf_trigger: bool,
    /// `duplicateCheck`.
    pub duplicate_check: Option<DuplicateCheck>,
    /// `isApproval=true`: create in approval mode.
    pub is_approval: bool,
    /// `newFormat`.
    pub new_format: NewFormat,
    /// `version`: 4 for multi-row writes with per-row results.
    pub version: ApiVersion,
}

impl WriteParams {
    /// Multi-row (`version=4`) writes with defaults otherwise.
    pub fn multi_row() -> Self {
        Self { version: ApiVersion::V4, ..Self::default() }
    }

    /// The parameter pairs (xmlData not included).
    pub fn to_pairs(&self) -> Pairs {
        let mut out = Pairs::new();
        if self.wf_trigger {
            out.push(("wfTrigger", "true".to_owned()));
        }
        match self.duplicate_check {
            Some(DuplicateCheck::Skip) => out.push(("duplicateCheck", "1".to_owned())),
            Some(DuplicateCheck::Update) => out.push(("duplicateCheck", "2".to_owned())),
            None => {}
        }
        if self.is_approval {
            out.push(("isApproval", "true".to_owned()));
        }
        out.push(("newFormat", self.new_format.as_str().to_owned()));
        out.push(("version", self.version.as_str().to_owned()));
        out
    }

    /// Reads the parameters as the server does.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        let duplicate_check = match src.param("duplicateCheck").map(str::trim) {
            None | Some("") => None,
            Some("1") => Some(DuplicateCheck::Skip),
            Some("2") => Some(DuplicateCheck::Update),
            Some(v) => return Err(ParamError::invalid("duplicateCheck", v, "expected 1 or 2")),
        };
        Ok(Self {
            wf_trigger: opt_bool(src, "wfTrigger")?,
            duplicate_check,
            is_approval: opt_bool(src, "isApproval")?,
            new_format: NewFormat::read(src)?,
            version: ApiVersion::read(src)?,
        })
    }
}
