//! The `type` parameters of the metadata calls: getFields and getUsers.

use super::{Pairs, ParamSource, required};
use crate::error::ParamError;

/// getFields `type`: all fields, the summary view's, or the mandatory ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldsFilter {
    /// No `type`: every field.
    #[default]
    All,
    /// `type=1`: fields of the summary view.
    Summary,
    /// `type=2`: mandatory fields only.
    Mandatory,
}

impl FieldsFilter {
    /// The parameter pairs.
    pub fn to_pairs(self) -> Pairs {
        match self {
            Self::All => vec![],
            Self::Summary => vec![("type", "1".to_owned())],
            Self::Mandatory => vec![("type", "2".to_owned())],
        }
    }

    /// Reads `type`.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        match src.param("type").map(str::trim) {
            None | Some("") => Ok(Self::All),
            Some("1") => Ok(Self::Summary),
            Some("2") => Ok(Self::Mandatory),
            Some(v) => Err(ParamError::invalid("type", v, "expected 1 or 2")),
        }
    }
}

/// getUsers `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    /// `AllUsers`.
    AllUsers,
    /// `ActiveUsers`.
    ActiveUsers,
    /// `DeactiveUsers`.
    DeactiveUsers,
    /// `AdminUsers`.
    AdminUsers,
    /// `ActiveConfirmedAdmins`.
    ActiveConfirmedAdmins,
}

impl UserType {
    /// Every type.
    pub const ALL: [UserType; 5] = [
        Self::AllUsers,
        Self::ActiveUsers,
        Self::DeactiveUsers,
        Self::AdminUsers,
        Self::ActiveConfirmedAdmins,
    ];

    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllUsers => "AllUsers",
            Self::ActiveUsers => "ActiveUsers",
            Self::DeactiveUsers => "DeactiveUsers",
            Self::AdminUsers => "AdminUsers",
            Self::ActiveConfirmedAdmins => "ActiveConfirmedAdmins",
        }
    }

    /// Reads the required `type`.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        let v = required(src, "type")?;
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == v.trim())
            .ok_or_else(|| ParamError::invalid("type", v, "expected AllUsers, ActiveUsers, DeactiveUsers, AdminUsers or ActiveConfirmedAdmins"))
    }
}
