//! getRecordById's `id` or `idlist`.

use super::{ParamSource, required_id};
use crate::error::ParamError;
use crate::value::RecordId;

/// getRecordById: one `id`, or an `idlist` of at most 100 ids joined with `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSelection {
    /// `id=`.
    One(RecordId),
    /// `idlist=`.
    List(Vec<RecordId>),
}

impl IdSelection {
    /// The parameter pair.
    pub fn to_pair(&self) -> Result<(&'static str, String), ParamError> {
        match self {
            Self::One(id) => Ok(("id", id.to_string())),
            Self::List(ids) => {
                let limit = crate::limits::DEFAULT_WRITE_ROWS as usize;
                if ids.is_empty() || ids.len() > limit {
                    return Err(ParamError::invalid(
                        "idlist",
                        ids.len().to_string(),
                        format!("1 to {limit} ids"),
                    ));
                }
                Ok(("idlist", ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(";")))
            }
        }
    }

    /// Reads `id` or `idlist` with the server's rules; `limit` is the server's id cap.
    pub fn read(src: &(impl ParamSource + ?Sized), limit: usize) -> Result<Self, ParamError> {
        if let Some(list) = src.param("idlist").filter(|v| !v.trim().is_empty()) {
            let ids = list
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|_| ParamError::invalid("idlist", s, "not a record id")))
                .collect::<Result<Vec<RecordId>, _>>()?;
            if ids.is_empty() || ids.len() > limit {
                return Err(ParamError::invalid("idlist", list, format!("1 to {limit} ids")));
            }
            return Ok(Self::List(ids));
        }
        required_id(src, "id").map(Self::One)
    }
}
