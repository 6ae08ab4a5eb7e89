//! Where parameters are read from and the shared readers of required values.

use std::collections::{BTreeMap, HashMap};

use crate::error::ParamError;
use crate::value::RecordId;

/// Where request parameters are read from (query string and form body merged).
pub trait ParamSource {
    /// The value of `name`, if present.
    fn param(&self, name: &str) -> Option<&str>;
}

impl ParamSource for HashMap<String, String> {
    fn param(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl ParamSource for BTreeMap<String, String> {
    fn param(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl ParamSource for [(&'static str, String)] {
    fn param(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// Parameter pairs in the order they are sent.
pub type Pairs = Vec<(&'static str, String)>;

pub(super) fn opt_u32(
    src: &(impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<Option<u32>, ParamError> {
    src.param(name)
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ParamError::invalid(name, v, "expected a positive integer"))
        })
        .transpose()
}

pub(super) fn opt_bool(
    src: &(impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<bool, ParamError> {
    match src.param(name).map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ParamError::invalid(name, v, "expected true or false")),
    }
}

/// Reads a required parameter.
pub fn required<'a>(
    src: &'a (impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<&'a str, ParamError> {
    src.param(name).filter(|v| !v.trim().is_empty()).ok_or(ParamError::Missing(name))
}

/// Reads a required record id parameter (`id`, `leadId`).
pub fn required_id(
    src: &(impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<RecordId, ParamError> {
    let v = required(src, name)?;
    v.parse().map_err(|_| {
        ParamError::invalid(
            name,
            v,
            format!(
                "Please verify if the name and value is appropriate for the \"{name}\" parameter."
            ),
        )
    })
}
