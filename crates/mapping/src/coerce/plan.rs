//! A field mapping compiled: where its text comes from, its transforms and its target type.

use std::sync::Arc;

use rustc_hash::FxHashMap as FastMap;

use super::Picklist;
use crate::Case;

/// Where a field's raw text comes from, compiled.
#[derive(Debug)]
pub(crate) enum Input {
    Column(usize),
    Template(Vec<TemplatePiece>),
    Const(String),
}

/// A compiled template piece.
#[derive(Debug)]
pub(crate) enum TemplatePiece {
    Text(String),
    Column(usize),
}

/// What a field's value must be.
#[derive(Debug)]
pub(crate) enum Target {
    Text,
    Email,
    Phone,
    Url,
    Integer {
        min: i64,
        max: i64,
    },
    /// A plain decimal; with the places the field keeps (v8 `decimal_place`): more are
    /// rounded half away from zero, as the CRM rounds them, with a warning.
    Decimal(Option<u8>),
    Date(Option<String>),
    DateTime(Option<String>),
    Boolean,
    Pick(Picklist),
    Multi(Picklist),
    Id,
}

/// One compiled field mapping.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) label: Arc<str>,
    pub(crate) column: Option<Arc<str>>,
    pub(crate) input: Input,
    pub(crate) trim: bool,
    pub(crate) case: Option<Case>,
    pub(crate) values: FastMap<String, String>,
    pub(crate) default: Option<String>,
    pub(crate) target: Target,
    pub(crate) required: bool,
    pub(crate) max_length: Option<u32>,
    pub(crate) lookup: Option<String>,
    /// `owner`: the text names a user (resolved to the user's Id before sending).
    pub(crate) owner: bool,
    /// The column, when the text is that cell as it is (no trim, values, case or default).
    pub(crate) plain: Option<usize>,
}

impl Plan {
    /// Sets [`Plan::plain`] from the rest (call once compiled).
    pub(crate) fn with_plain(mut self) -> Self {
        self.plain = match self.input {
            Input::Column(i)
                if !self.trim
                    && self.values.is_empty()
                    && self.case.is_none()
                    && self.default.is_none() =>
            {
                Some(i)
            }
            _ => None,
        };
        self
    }
}
