//! The documented limits: records per call and the daily call budget by edition
//! (docs/protocol.md contract decisions 1 and 2, the seed notes' 2013 table).

use std::fmt;
use std::str::FromStr;

/// At most this many records come back from one read call (`fromIndex`..`toIndex`).
pub const MAX_READ_ROWS: u32 = 200;
/// Rows per write call that Zoho documents (insert, update, updateRelatedRecords, idlist).
pub const DEFAULT_WRITE_ROWS: u32 = 100;
/// The highest write limit any org was granted; never exceeded.
pub const MAX_WRITE_ROWS: u32 = 200;
/// getSearchRecords and getCVRecords: calls a day, whatever the edition.
pub const SEARCH_CV_DAILY_CAP: u32 = 250;
/// uploadFile: the largest file, in bytes (20 MB).
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// uploadPhoto: the largest photo, in bytes (2 MB).
pub const MAX_PHOTO_BYTES: u64 = 2 * 1024 * 1024;
/// searchRecords: calls a minute (docs/protocol.md §4.9); more → 4820 until the minute has passed.
pub const SEARCH_RECORDS_PER_MINUTE: u32 = 60;
/// uploadFile: calls a minute (the newer of the two docs, docs/protocol.md §4.16); more → 4820.
pub const UPLOAD_FILE_PER_MINUTE: u32 = 60;
/// uploadFile: seconds the method stays blocked (4820) after the per-minute limit is hit.
pub const UPLOAD_FILE_BLOCK_SECS: u64 = 5 * 60;
/// Pages of records one export asks for at once, at most. The XML API documents no
/// concurrency limit; zcrm stops at 8 (as for writes in flight): a polite client that still
/// hides most of each call's latency. The REST API's edition caps may lower it
/// (`rest_limits::reads_in_flight_cap`).
pub const MAX_READS_IN_FLIGHT: u32 = 8;
/// Pages of records an export asks for at once unless the connection says otherwise.
pub const DEFAULT_READS_IN_FLIGHT: u32 = 4;
/// The time zone in which the budget day turns when the org configures none.
pub const DEFAULT_ORG_TIMEZONE: &str = "America/Los_Angeles";

/// A Zoho CRM edition, which sets the daily call budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    /// Free: 250 calls a day per org.
    Free,
    /// Standard: 250 per licence, at least 1,000 and at most 5,000.
    Standard,
    /// Professional: 250 per licence, at least 2,000 and at most 10,000.
    Professional,
    /// Enterprise: 500 per licence, at least 3,000 and at most 25,000.
    Enterprise,
}

impl Edition {
    /// All editions.
    pub const ALL: [Edition; 4] =
        [Self::Free, Self::Standard, Self::Professional, Self::Enterprise];

    /// The seed notes' rule: `(per licence, min, max)`; Free is a flat 250.
    pub fn rule(self) -> (u32, u32, u32) {
        match self {
            Self::Free => (0, 250, 250),
            Self::Standard => (250, 1_000, 5_000),
            Self::Professional => (250, 2_000, 10_000),
            Self::Enterprise => (500, 3_000, 25_000),
        }
    }

    /// The org's daily call budget for `licenses` user licences.
    pub fn daily_budget(self, licenses: u32) -> u32 {
        let (per, min, max) = self.rule();
        per.saturating_mul(licenses).clamp(min, max)
    }

    /// The lower-case name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Standard => "standard",
            Self::Professional => "professional",
            Self::Enterprise => "enterprise",
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an edition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown edition {0:?} (expected free, standard, professional or enterprise)")]
pub struct UnknownEdition(pub String);

impl FromStr for Edition {
    type Err = UnknownEdition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownEdition(s.to_owned()))
    }
}

/// How an org's daily budget is set: the edition rule, or an explicit number of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetRule {
    /// The seed notes' edition rule for this many licences.
    Edition {
        /// The edition.
        edition: Edition,
        /// User licences.
        licenses: u32,
    },
    /// `daily_budget = N`: orgs that bought more calls, or the 2017 table.
    Fixed(u32),
    /// The REST API's credits per rolling 24 hours for the edition and licences
    /// ([`crate::rest_limits::daily_credits`]).
    Credits {
        /// The edition.
        edition: Edition,
        /// User licences.
        licenses: u32,
    },
    /// `daily_credits = N`: a REST org's credits per rolling 24 hours (add-ons bought).
    FixedCredits(u32),
}

impl BudgetRule {
    /// The budget of a day (calls) or of a rolling 24 hours (credits), for all methods together.
    pub fn daily_budget(self) -> u32 {
        match self {
            Self::Edition { edition, licenses } => edition.daily_budget(licenses),
            Self::Fixed(n) | Self::FixedCredits(n) => n,
            Self::Credits { edition, licenses } => {
                u32::try_from(crate::rest_limits::daily_credits(edition, licenses))
                    .unwrap_or(u32::MAX)
            }
        }
    }

    /// Whether the budget is credits over a rolling 24 hours (the REST API) rather than calls
    /// per org day (the XML API).
    pub fn rolling(self) -> bool {
        matches!(self, Self::Credits { .. } | Self::FixedCredits(_))
    }
}

/// A write batch size outside 1..=[`MAX_WRITE_ROWS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "write batch of {0} rows: it must be between 1 and {MAX_WRITE_ROWS} (Zoho documents {DEFAULT_WRITE_ROWS})"
)]
pub struct BadWriteBatch(pub u32);

/// Checks a configured rows-per-write value against the hard cap.
pub fn check_write_batch(rows: u32) -> Result<u32, BadWriteBatch> {
    if (1..=MAX_WRITE_ROWS).contains(&rows) { Ok(rows) } else { Err(BadWriteBatch(rows)) }
}
