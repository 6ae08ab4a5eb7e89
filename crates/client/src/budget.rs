//! The call-budget ledger: calls spent per org, per org day, per consumer (pipeline) and per
//! method class, in SQLite under the state dir.
//!
//! Every call is reserved here *before* it is sent, so a crash never under-counts. The
//! reservation is one `BEGIN IMMEDIATE` transaction (check, then increment), so several zcrm
//! processes sharing a state dir never overspend together: the ledger is the lock.
//! The old API cannot report calls other integrations made, so the ledger is conservative:
//! once the server answers 4421 the day is marked spent for everyone using this state dir.
//! Commits use WAL with `synchronous=NORMAL`: a killed process loses nothing; a power cut may
//! forget the last few reservations, and then the server's 4421 is the backstop.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zcrm_protocol::limits::SEARCH_CV_DAILY_CAP;
use zcrm_protocol::{BudgetRule, MethodClass};

use crate::ClientError;

/// The budget is spent: nothing more can be sent until `resets_at`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct BudgetExhausted {
    /// Which limit stopped the call.
    pub what: BudgetLimit,
    /// Calls counted against that limit today.
    pub spent: u32,
    /// The limit.
    pub limit: u32,
    /// The org's day (in its time zone).
    pub day: Date,
    /// When the day turns over (the next midnight in the org's time zone), or, for credits
    /// over a rolling 24 hours, when the oldest charge of the window frees up.
    pub resets_at: ZonedDateTime,
    /// Whether the budget is credits over a rolling 24 hours (the REST API).
    pub rolling: bool,
}

impl BudgetExhausted {
    fn describe(&self) -> String {
        let (spent, limit, resets_at) = (self.spent, self.limit, &self.resets_at);
        if self.rolling {
            let what = match self.what {
                BudgetLimit::Org => "the org's API credits for the last 24 hours are spent",
                BudgetLimit::Share => {
                    "this pipeline's share of the org's API credits for the last 24 hours is spent"
                }
                BudgetLimit::ServerLimit => {
                    "Zoho answered 429 TOO_MANY_REQUESTS (the credits for the last 24 hours are spent)"
                }
                BudgetLimit::SearchCv => "the search cap is reached",
            };
            format!(
                "{what}: {spent} of {limit} credits used in the last 24 hours; credits free up from {resets_at}"
            )
        } else {
            let what = self.what;
            format!(
                "{what}: {spent} of {limit} calls used on {}; the budget resets at {resets_at}",
                self.day
            )
        }
    }
}

/// The seconds of a rolling budget window.
pub const ROLLING_WINDOW_SECS: i64 = 86_400;

/// How long a REST org that answered "credits exhausted" is left alone before zcrm tries again
/// (Zoho says nothing of when credits free up; the ledger's own window may know better).
pub const SERVER_LIMIT_BACKOFF_SECS: i64 = 600;

/// What the counts cover: an org day (calls), or the charges since a time (credits).
enum Period {
    Day(String),
    Since(i64),
}

/// The limit that stopped a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetLimit {
    /// The org's daily budget.
    Org,
    /// This pipeline's share of it (`budget_share`).
    Share,
    /// The 250-a-day cap on getSearchRecords/getCVRecords.
    SearchCv,
    /// The server answered 4421 today.
    ServerLimit,
}

impl std::fmt::Display for BudgetLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Org => "the org's daily API budget is spent",
            Self::Share => "this pipeline's share of the daily API budget is spent",
            Self::SearchCv => "the 250-a-day getSearchRecords/getCVRecords cap is reached",
            Self::ServerLimit => "Zoho answered 4421 (daily API limit exceeded)",
        })
    }
}

/// Where the budget stands today.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BudgetStatus {
    /// The org key.
    pub org: String,
    /// The org's day.
    pub day: String,
    /// Calls spent today by every consumer of this ledger.
    pub spent: u32,
    /// Of which by this consumer.
    pub spent_by_consumer: u32,
    /// getSearchRecords/getCVRecords calls today.
    pub search_cv_spent: u32,
    /// The org's daily budget.
    pub budget: u32,
    /// This consumer's limit (`budget_share` of the budget).
    pub share_limit: u32,
    /// Calls this consumer may still make today.
    pub remaining: u32,
    /// Whether the server reported the limit today.
    pub server_limit_hit: bool,
    /// When the day turns over, RFC 3339 with the zone (for credits: when the oldest charge
    /// of the rolling window frees up).
    pub resets_at: String,
    /// Whether the figures are REST API credits over a rolling 24 hours (else XML calls today).
    pub credits: bool,
}

/// Settings of a ledger.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The org key (defaults to the API host).
    pub org: String,
    /// Who is spending (a pipeline name, or `cli`).
    pub consumer: String,
    /// The org's time zone (the budget day turns at its midnight).
    pub timezone: TimeZone,
    /// The daily budget rule.
    pub rule: BudgetRule,
    /// The share of the budget this consumer may spend, in (0, 1].
    pub share: f64,
}

type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The persistent ledger.
pub struct Ledger {
    conn: Mutex<Connection>,
    path: PathBuf,
    cfg: LedgerConfig,
    clock: Clock,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

/// Maps SQLite's errors on the ledger `path`.
fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> ClientError + '_ {
    |source| ClientError::Ledger { path: path.to_owned(), source }
}

/// The rehearsal knob: `ZCRM_CLOCK_OFFSET_SECS` shifts zcrm's clock (and so the budget day)
/// by that many seconds, to rehearse a multi-day import against an emulator whose clock was
/// advanced through its admin surface. Unset in normal use.
pub const CLOCK_OFFSET_ENV: &str = "ZCRM_CLOCK_OFFSET_SECS";

fn clock_offset() -> Result<Option<jiff::SignedDuration>, ClientError> {
    match std::env::var(CLOCK_OFFSET_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_clock_offset(&v).map(Some),
        _ => Ok(None),
    }
}

/// The value of [`CLOCK_OFFSET_ENV`]: a whole number of seconds.
fn parse_clock_offset(v: &str) -> Result<jiff::SignedDuration, ClientError> {
    v.trim()
        .parse::<i64>()
        .map(jiff::SignedDuration::from_secs)
        .map_err(|source| ClientError::ClockOffset { value: v.to_owned(), source })
}

/// Parses a time zone name (`America/Los_Angeles`).
pub fn timezone(name: &str) -> Result<TimeZone, ClientError> {
    TimeZone::get(name)
        .map_err(|source| ClientError::UnknownTimeZone { name: name.to_owned(), source })
}

impl Ledger {
    /// Opens (or creates) the ledger file `path`.
    pub fn open(path: &Path, cfg: LedgerConfig) -> Result<Self, ClientError> {
        if !(cfg.share > 0.0 && cfg.share <= 1.0) {
            return Err(ClientError::BudgetShare { share: cfg.share });
        }
        // Owner-only, the -wal and -shm files SQLite adds included.
        crate::owner_only::prepare_sqlite(path).map_err(ClientError::LedgerFile)?;
        let conn = Connection::open(path).map_err(sql(path))?;
        conn.busy_timeout(Duration::from_secs(60)).map_err(sql(path))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS calls (
                 org TEXT NOT NULL, day TEXT NOT NULL, consumer TEXT NOT NULL, class TEXT NOT NULL,
                 n INTEGER NOT NULL, PRIMARY KEY (org, day, consumer, class));
             CREATE TABLE IF NOT EXISTS server_limit (
                 org TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (org, day));
             CREATE TABLE IF NOT EXISTS charges (
                 org TEXT NOT NULL, consumer TEXT NOT NULL, class TEXT NOT NULL,
                 at INTEGER NOT NULL, n INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS charges_by_org ON charges (org, at);",
        )
        .map_err(sql(path))?;
        let ledger = Self {
            conn: Mutex::new(conn),
            path: path.to_owned(),
            cfg,
            clock: Arc::new(Timestamp::now),
        };
        Ok(match clock_offset()? {
            Some(offset) => ledger.with_clock(move || {
                Timestamp::now().saturating_add(offset).unwrap_or_else(|_| Timestamp::now())
            }),
            None => ledger,
        })
    }

    /// Replaces the clock (tests, and rehearsals against an emulator whose clock was advanced).
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &LedgerConfig {
        &self.cfg
    }

    /// The ledger's connection.
    fn conn(&self) -> Result<MutexGuard<'_, Connection>, ClientError> {
        self.conn.lock().map_err(|_| ClientError::LedgerPoisoned { path: self.path.clone() })
    }

    /// Now, in the org's time zone, by the ledger's clock (shifted by the rehearsal offset).
    pub fn now(&self) -> ZonedDateTime {
        (self.clock)().to_zoned_datetime(self.cfg.timezone.clone())
    }

    /// The org's current day and when it ends.
    pub fn day(&self) -> (Date, ZonedDateTime) {
        let now = self.now();
        let resets = now.tomorrow().and_then(|t| t.start_of_day()).unwrap_or_else(|_| now.clone());
        (now.date(), resets)
    }

    /// What the budget counts now: today's calls, or the credits of the last 24 hours.
    fn period(&self) -> Period {
        if self.cfg.rule.rolling() {
            Period::Since((self.clock)().as_second() - ROLLING_WINDOW_SECS)
        } else {
            Period::Day(self.day().0.to_string())
        }
    }

    /// When the budget next grows: the next org day, or when the oldest charge of the
    /// rolling window frees up (now when there is none).
    fn resets_at(&self, conn: &Connection, period: &Period) -> Result<ZonedDateTime, ClientError> {
        let Period::Since(since) = period else { return Ok(self.day().1) };
        let oldest: Option<i64> = conn
            .prepare_cached("SELECT MIN(at) FROM charges WHERE org = ?1 AND at > ?2")
            .and_then(|mut st| st.query_row(params![self.cfg.org, since], |r| r.get(0)))
            .map_err(sql(&self.path))?;
        let at = oldest.map_or_else(
            || (self.clock)(),
            |t| Timestamp::from_second(t + ROLLING_WINDOW_SECS).unwrap_or_else(|_| (self.clock)()),
        );
        Ok(at.to_zoned_datetime(self.cfg.timezone.clone()))
    }

    /// This consumer's daily limit.
    pub fn share_limit(&self) -> u32 {
        let budget = self.cfg.rule.daily_budget();
        ((f64::from(budget) * self.cfg.share).floor() as u32).min(budget)
    }

    /// Reserves one call of `class` costing `units` of the budget (its dialect says how many:
    /// one per call on the XML API); fails, counting nothing, if it would pass any limit. A
    /// free call (`units` 0: v8 Bulk Write uploads, status polls, downloads) counts nothing and
    /// is never refused.
    pub fn reserve(&self, class: MethodClass, units: u32) -> Result<(), ClientError> {
        if units == 0 {
            return Ok(());
        }
        let day = self.day().0;
        let day_s = day.to_string();
        let period = self.period();
        let rolling = self.cfg.rule.rolling();
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(&self.path))?;
        let counts = Counts::read(&tx, &self.cfg.org, &period, &self.cfg.consumer)
            .map_err(sql(&self.path))?;
        let budget = self.cfg.rule.daily_budget();
        let stop = |what, spent, limit| {
            Err(ClientError::Budget(BudgetExhausted {
                what,
                spent,
                limit,
                day,
                resets_at: self.resets_at(&tx, &period)?,
                rolling,
            }))
        };
        if counts.server_limit {
            return stop(BudgetLimit::ServerLimit, counts.org, budget);
        }
        if counts.org.saturating_add(units) > budget {
            return stop(BudgetLimit::Org, counts.org, budget);
        }
        if counts.consumer.saturating_add(units) > self.share_limit() {
            return stop(BudgetLimit::Share, counts.consumer, self.share_limit());
        }
        if !rolling && class == MethodClass::SearchCv && counts.search_cv >= SEARCH_CV_DAILY_CAP {
            return stop(BudgetLimit::SearchCv, counts.search_cv, SEARCH_CV_DAILY_CAP);
        }
        if let Period::Since(since) = period {
            let now = (self.clock)().as_second();
            tx.prepare_cached(
                "INSERT INTO charges (org, consumer, class, at, n) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![self.cfg.org, self.cfg.consumer, class_name(class), now, units])
            })
            .and_then(|_| {
                tx.prepare_cached("DELETE FROM charges WHERE org = ?1 AND at <= ?2")?
                    .execute(params![self.cfg.org, since])
            })
            .map_err(sql(&self.path))?;
            tx.commit().map_err(sql(&self.path))?;
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT INTO calls (org, day, consumer, class, n) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (org, day, consumer, class) DO UPDATE SET n = n + ?5",
        )
        .and_then(|mut st| {
            st.execute(params![self.cfg.org, day_s, self.cfg.consumer, class_name(class), units])
        })
        .map_err(sql(&self.path))?;
        tx.commit().map_err(sql(&self.path))?;
        Ok(())
    }

    /// Gives back a reservation the server did not charge (a call it refused before doing
    /// anything: a 401, or a 429 on the REST API, which charges refused calls nothing).
    pub fn refund(&self, class: MethodClass, units: u32) -> Result<(), ClientError> {
        if units == 0 {
            return Ok(());
        }
        let units = i64::from(units);
        let conn = self.conn()?;
        if self.cfg.rule.rolling() {
            let now = (self.clock)().as_second();
            conn.prepare_cached(
                "INSERT INTO charges (org, consumer, class, at, n) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![self.cfg.org, self.cfg.consumer, class_name(class), now, -units])
            })
            .map_err(sql(&self.path))?;
        } else {
            let day = self.day().0.to_string();
            conn.prepare_cached(
                "UPDATE calls SET n = MAX(n - ?5, 0) WHERE org = ?1 AND day = ?2 AND consumer = ?3 AND class = ?4",
            )
            .and_then(|mut st| {
                st.execute(params![self.cfg.org, day, self.cfg.consumer, class_name(class), units])
            })
            .map_err(sql(&self.path))?;
        }
        Ok(())
    }

    /// Records that the server answered 4421 today: every consumer stops until the day turns.
    ///
    /// On a rolling budget (the REST API, whose 429 does not say when credits free up) nothing
    /// is recorded: the error says to try again in [`SERVER_LIMIT_BACKOFF_SECS`].
    pub fn mark_server_limit(&self) -> Result<BudgetExhausted, ClientError> {
        let (day, resets_at) = self.day();
        if self.cfg.rule.rolling() {
            let period = self.period();
            let conn = self.conn()?;
            let counts = Counts::read(&conn, &self.cfg.org, &period, &self.cfg.consumer)
                .map_err(sql(&self.path))?;
            let later = (self.clock)()
                .checked_add(jiff::SignedDuration::from_secs(SERVER_LIMIT_BACKOFF_SECS))
                .unwrap_or_else(|_| (self.clock)());
            return Ok(BudgetExhausted {
                what: BudgetLimit::ServerLimit,
                spent: counts.org,
                limit: self.cfg.rule.daily_budget(),
                day,
                resets_at: later.to_zoned_datetime(self.cfg.timezone.clone()),
                rolling: true,
            });
        }
        let conn = self.conn()?;
        conn.execute(
            "INSERT OR IGNORE INTO server_limit (org, day, at) VALUES (?1, ?2, ?3)",
            params![self.cfg.org, day.to_string(), self.now().to_string()],
        )
        .map_err(sql(&self.path))?;
        let counts =
            Counts::read(&conn, &self.cfg.org, &Period::Day(day.to_string()), &self.cfg.consumer)
                .map_err(sql(&self.path))?;
        Ok(BudgetExhausted {
            what: BudgetLimit::ServerLimit,
            spent: counts.org,
            limit: self.cfg.rule.daily_budget(),
            day,
            resets_at,
            rolling: false,
        })
    }

    /// Where the budget stands today.
    pub fn status(&self) -> Result<BudgetStatus, ClientError> {
        let day = self.day().0;
        let period = self.period();
        let conn = self.conn()?;
        let c = Counts::read(&conn, &self.cfg.org, &period, &self.cfg.consumer)
            .map_err(sql(&self.path))?;
        let resets_at = self.resets_at(&conn, &period)?;
        let budget = self.cfg.rule.daily_budget();
        let share = self.share_limit();
        let remaining = if c.server_limit {
            0
        } else {
            budget.saturating_sub(c.org).min(share.saturating_sub(c.consumer))
        };
        Ok(BudgetStatus {
            org: self.cfg.org.clone(),
            day: day.to_string(),
            spent: c.org,
            spent_by_consumer: c.consumer,
            search_cv_spent: c.search_cv,
            budget,
            share_limit: share,
            remaining,
            server_limit_hit: c.server_limit,
            resets_at: resets_at.to_string(),
            credits: self.cfg.rule.rolling(),
        })
    }
}

fn class_name(class: MethodClass) -> &'static str {
    match class {
        MethodClass::General => "general",
        MethodClass::SearchCv => "search_cv",
    }
}

struct Counts {
    org: u32,
    consumer: u32,
    search_cv: u32,
    server_limit: bool,
}

impl Counts {
    fn read(
        conn: &Connection,
        org: &str,
        period: &Period,
        consumer: &str,
    ) -> rusqlite::Result<Self> {
        let sum = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<u32> {
            conn.prepare_cached(sql)?
                .query_row(p, |r| r.get::<_, Option<u32>>(0))
                .map(Option::unwrap_or_default)
        };
        let day = match period {
            Period::Day(day) => day,
            Period::Since(since) => {
                return Ok(Self {
                    org: sum(
                        "SELECT MAX(SUM(n), 0) FROM charges WHERE org = ?1 AND at > ?2",
                        &[&org, since],
                    )?,
                    consumer: sum(
                        "SELECT MAX(SUM(n), 0) FROM charges WHERE org = ?1 AND at > ?2 AND consumer = ?3",
                        &[&org, since, &consumer],
                    )?,
                    search_cv: 0,
                    server_limit: false,
                });
            }
        };
        Ok(Self {
            org: sum("SELECT SUM(n) FROM calls WHERE org = ?1 AND day = ?2", &[&org, &day])?,
            consumer: sum(
                "SELECT SUM(n) FROM calls WHERE org = ?1 AND day = ?2 AND consumer = ?3",
                &[&org, &day, &consumer],
            )?,
            search_cv: sum(
                "SELECT SUM(n) FROM calls WHERE org = ?1 AND day = ?2 AND class = 'search_cv'",
                &[&org, &day],
            )?,
            server_limit: conn
                .prepare_cached("SELECT 1 FROM server_limit WHERE org = ?1 AND day = ?2")?
                .query_row(params![org, day], |_| Ok(()))
                .optional()?
                .is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_clock_offset_that_is_not_a_number_keeps_the_parse_error() {
        assert_eq!(parse_clock_offset(" 86400 ").unwrap(), jiff::SignedDuration::from_secs(86400));
        let e = parse_clock_offset("1d").unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration: ZCRM_CLOCK_OFFSET_SECS must be a number of seconds, not \"1d\""
        );
        assert!(e.source().is_some_and(|s| s.is::<std::num::ParseIntError>()));
        assert_eq!(e.class(), crate::ErrorClass::Usage);
    }
}
