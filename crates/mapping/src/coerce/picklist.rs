//! Picklist options and how a value is matched against them (exact, another case, or by the
//! step's picklist mode).

use std::borrow::Cow;

use rustc_hash::{FxHashMap as FastMap, FxHashSet as FastSet};

use super::value::Fail;
use crate::PicklistMode;

/// Picklist options: exact, and by lower case for the case-insensitive fallback.
#[derive(Debug)]
pub(crate) struct Picklist {
    exact: FastSet<String>,
    /// The options when there are few: a scan comparing lengths first beats hashing.
    few: Option<Vec<String>>,
    lower: FastMap<String, String>,
}

impl Picklist {
    pub(crate) fn new(options: &[String]) -> Self {
        Self {
            exact: options.iter().cloned().collect(),
            few: (options.len() <= 24).then(|| options.to_vec()),
            lower: options.iter().map(|o| (o.to_lowercase(), o.clone())).collect(),
        }
    }

    /// Whether `v` is one of the options, exactly.
    fn contains(&self, v: &str) -> bool {
        match &self.few {
            Some(few) => few.iter().any(|o| o.len() == v.len() && o == v),
            None => self.exact.contains(v),
        }
    }

    /// `v` checked against the options: kept when it is one, replaced by the option it
    /// matches in another case (with a warning), else as the step's picklist mode says.
    pub(super) fn pick<'a>(
        &self,
        v: Cow<'a, str>,
        mode: PicklistMode,
        warn: &mut Vec<Fail>,
    ) -> Result<Cow<'a, str>, Fail> {
        if self.exact.is_empty() || self.contains(v.as_ref()) {
            return Ok(v);
        }
        if let Some(canon) = self.lower.get(&v.to_lowercase()) {
            warn.push(("picklist value in another case", format!("{v:?} taken as {canon:?}")));
            return Ok(Cow::Owned(canon.clone()));
        }
        match mode {
            PicklistMode::Allow => Ok(v),
            PicklistMode::Warn => {
                warn.push((
                    "value not in the picklist",
                    format!("{v:?} is not in the picklist (kept)"),
                ));
                Ok(v)
            }
            PicklistMode::Strict => {
                let mut opts: Vec<&str> = self.exact.iter().map(String::as_str).collect();
                opts.sort_unstable();
                let hint = crate::did_you_mean(&v, opts.iter().copied())
                    .map_or_else(String::new, |s| format!("; did you mean {s:?}?"));
                Err((
                    "value not in the picklist",
                    format!(
                        "{v:?} is not in the picklist{hint} (choices: {}; or set picklist = \"warn\")",
                        opts.join(", ")
                    ),
                ))
            }
        }
    }
}
