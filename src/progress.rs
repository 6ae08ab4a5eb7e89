//! The progress of a run on stderr: on a terminal, one bar per step (indicatif) drawn below
//! the log lines, which are routed through [`Progress::log_writer`] so the two never
//! interleave; without a terminal (or with `--log-format json`), a plain `info` log line with
//! the same figures every few seconds (`ZCRM_PROGRESS_SECS`, default 5) and one when a step
//! ends. stdout is never touched.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use zcrm_batcher::StepReport;
use zcrm_client::budget::{BudgetStatus, Ledger};

/// The log target of the plain progress lines (on by default; `ZCRM_LOG` can turn it off).
pub const TARGET: &str = "zcrm::progress";

/// The variable that sets the seconds between plain progress lines.
pub const EVERY_ENV: &str = "ZCRM_PROGRESS_SECS";

/// How often the ledger is read for the "calls of today's budget" figure.
const LEDGER_EVERY: Duration = Duration::from_millis(250);

/// Unknown total rows (the source is still being counted, or could not be).
const UNKNOWN: u64 = u64::MAX;

/// Where progress goes: bars on a terminal, log lines otherwise.
#[derive(Debug)]
pub struct Progress {
    bars: Option<MultiProgress>,
    json: bool,
    every: Duration,
}

impl Progress {
    /// Bars when stderr is a terminal and logs are text; plain lines every
    /// `ZCRM_PROGRESS_SECS` (default 5) seconds otherwise.
    pub fn from_env(json_logs: bool) -> Self {
        let every = std::env::var(EVERY_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(Duration::from_secs(5), Duration::from_secs_f64);
        let bars = !json_logs && std::io::stderr().is_terminal();
        Self::new(bars, json_logs, every)
    }

    /// Bars (`bars`), or plain lines every `every`, as JSON fields too when `json`.
    pub fn new(bars: bool, json: bool, every: Duration) -> Self {
        let bars = bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { bars, json, every }
    }

    /// The writer for tracing's log lines: above the bars, never through them.
    pub fn log_writer(&self) -> LogWriter {
        LogWriter { bars: self.bars.clone() }
    }

    /// Prints `text` on stderr (above the bars).
    pub fn note(&self, text: &str) {
        let print = || eprintln!("{text}");
        match &self.bars {
            Some(m) => m.suspend(print),
            None => print(),
        }
    }

    /// The progress of import step `step`; `total` holds the source's row count once a
    /// counting pass knows it (`u64::MAX` until then: the bar is a spinner without ETA).
    pub fn import<'a>(
        &'a self,
        step: &str,
        ledger: &'a Ledger,
        total: Arc<AtomicU64>,
    ) -> ImportProgress<'a> {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(import_style(false));
            bar.set_prefix(step.to_owned());
            bar.set_message("starting");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ImportProgress {
            out: self,
            ledger: Figures::new(ledger),
            name: step.to_owned(),
            bar,
            total,
            bar_has_total: Cell::new(false),
            read: Cell::new(0),
            payloads: Cell::new(0),
            pace: Pace::new(),
            finished: Cell::new(false),
        }
    }

    /// The progress of an export of `name` (a step, or the module of `zcrm export`).
    pub fn export<'a>(&'a self, name: &str, ledger: &'a Ledger) -> ExportProgress<'a> {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(export_style());
            bar.set_prefix(name.to_owned());
            bar.set_message("starting");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ExportProgress {
            out: self,
            ledger: Figures::new(ledger),
            name: name.to_owned(),
            bar,
            pages: Cell::new(0),
            records: Cell::new(0),
            pace: Pace::new(),
            finished: Cell::new(false),
        }
    }

    fn due(&self, last: Instant, now: Instant) -> bool {
        now.duration_since(last) >= self.every
    }

    /// Shows a step's line: in place of its bar on a terminal (the last figures stay above the
    /// bars still running), through `json` with `--log-format json`, else as a plain log line.
    fn show(&self, bar: Option<&ProgressBar>, text: &str, json: impl FnOnce()) {
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.note(text);
        } else if self.json {
            json();
        } else {
            tracing::info!(target: TARGET, "{text}");
        }
    }
}

/// The common end of a line: `, calls 42/5000 today (4958 left), 850 rows/s`, and on a step's
/// last line (`secs` given) ` average, 2m 03s`.
fn push_tail(
    t: &mut String,
    calls: Option<&BudgetStatus>,
    rate: f64,
    unit: &str,
    secs: Option<f64>,
) {
    if let Some(c) = calls {
        let _ = write!(t, ", {}", calls_text(c));
    }
    let _ = write!(t, ", {}", rate_text(rate, unit));
    if let Some(secs) = secs {
        let _ = write!(t, " average, {}", human_duration(secs));
    }
}

/// When a step started and when its last plain line was written (with the count then), for
/// the rate since the previous line or, on the last line, over the whole step.
struct Pace {
    started: Instant,
    last: Cell<(Instant, u64)>,
}

impl Pace {
    fn new() -> Self {
        let now = Instant::now();
        Self { started: now, last: Cell::new((now, 0)) }
    }

    /// Per second since the previous line (`last`: since the start), and the line is noted.
    fn rate(&self, count: u64, last: bool) -> f64 {
        let now = Instant::now();
        let (since, then) = if last { (self.started, 0) } else { self.last.get() };
        self.last.set((now, count));
        per_sec(count.saturating_sub(then), now.duration_since(since).as_secs_f64())
    }

    /// Seconds since the step started.
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Calls spent today from the ledger, read at most every [`LEDGER_EVERY`].
struct Figures<'a> {
    ledger: &'a Ledger,
    status: RefCell<Option<(Instant, BudgetStatus)>>,
}

impl<'a> Figures<'a> {
    fn new(ledger: &'a Ledger) -> Self {
        Self { ledger, status: RefCell::new(None) }
    }

    /// Today's calls (fresh when `force`), or none when the ledger cannot be read.
    fn calls(&self, force: bool) -> Option<BudgetStatus> {
        let mut cached = self.status.borrow_mut();
        let stale = cached.as_ref().is_none_or(|(at, _)| at.elapsed() >= LEDGER_EVERY);
        if (force || stale)
            && let Ok(s) = self.ledger.status()
        {
            *cached = Some((Instant::now(), s));
        }
        cached.as_ref().map(|(_, s)| s.clone())
    }
}

impl zcrm_engine::Observer for Progress {
    fn note(&self, text: &str) {
        Progress::note(self, text);
    }

    fn import<'a>(
        &'a self,
        step: &str,
        ledger: &'a Ledger,
        total: Arc<AtomicU64>,
    ) -> Box<dyn zcrm_engine::ImportObserver + 'a> {
        Box::new(Progress::import(self, step, ledger, total))
    }

    fn export<'a>(
        &'a self,
        name: &str,
        ledger: &'a Ledger,
    ) -> Box<dyn zcrm_engine::ExportObserver + 'a> {
        Box::new(Progress::export(self, name, ledger))
    }
}

impl zcrm_engine::ImportObserver for ImportProgress<'_> {
    fn rows_read(&self, n: u64) {
        ImportProgress::rows_read(self, n);
    }
    fn written(&self, report: &StepReport) {
        ImportProgress::written(self, report);
    }
    fn finish(&self) {
        ImportProgress::finish(self);
    }
    fn stop(&self) {
        ImportProgress::stop(self);
    }
}

impl zcrm_engine::ExportObserver for ExportProgress<'_> {
    fn page(&self, pages: u64, records: u64) {
        ExportProgress::page(self, pages, records);
    }
    fn finish(&self) {
        ExportProgress::finish(self);
    }
}

/// An import step's bar or lines: rows read, payloads sent, calls of today's budget, rate, ETA.
pub struct ImportProgress<'a> {
    out: &'a Progress,
    ledger: Figures<'a>,
    name: String,
    bar: Option<ProgressBar>,
    total: Arc<AtomicU64>,
    bar_has_total: Cell<bool>,
    read: Cell<u64>,
    payloads: Cell<u64>,
    pace: Pace,
    finished: Cell<bool>,
}

impl ImportProgress<'_> {
    fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|&t| t != UNKNOWN)
    }

    /// `n` more source rows read (and handed on to be sent or rejected).
    pub fn rows_read(&self, n: u64) {
        self.read.set(self.read.get() + n);
        if let Some(bar) = &self.bar {
            self.show_total(bar);
            bar.set_position(self.read.get());
        } else {
            self.maybe_line();
        }
    }

    /// The batcher's running totals after a write call.
    pub fn written(&self, report: &StepReport) {
        self.payloads.set(report.writes);
        if let Some(bar) = &self.bar {
            self.show_total(bar);
            bar.set_message(self.message());
        } else {
            self.maybe_line();
        }
    }

    /// The step is over: a last line with the totals, the average rate and the time taken
    /// (in place of the bar, on a terminal).
    pub fn finish(&self) {
        self.end(End::Done);
    }

    /// The step stopped early (the budget, an error): the same last line, saying so.
    pub fn stop(&self) {
        self.end(End::Stopped);
    }

    fn end(&self, how: End) {
        if !self.finished.replace(true) {
            self.line(Some(how));
        }
    }

    /// Switches the spinner to a bar with an ETA once the source's rows are counted.
    fn show_total(&self, bar: &ProgressBar) {
        if !self.bar_has_total.get()
            && let Some(total) = self.total()
        {
            bar.set_length(total);
            bar.set_style(import_style(true));
            self.bar_has_total.set(true);
        }
    }

    fn message(&self) -> String {
        let mut m = count(self.payloads.get(), "payload");
        if let Some(c) = self.ledger.calls(false) {
            let _ = write!(m, " · {}", calls_text(&c));
        }
        m
    }

    fn maybe_line(&self) {
        let now = Instant::now();
        if self.out.due(self.pace.last.get().0, now) {
            self.line(None);
        }
    }

    /// One plain progress line; the rate is that since the previous line (the average over
    /// the step on the last one).
    fn line(&self, end: Option<End>) {
        let rate = self.pace.rate(self.read.get(), end.is_some());
        let f = ImportFigures {
            rows: self.read.get(),
            total: self.total(),
            payloads: self.payloads.get(),
            calls: self.ledger.calls(true),
            rate,
            end: end.map(|how| (how, self.pace.elapsed())),
        };
        let text = format!("{}: {}", self.name, f.text());
        self.out.show(self.bar.as_ref(), &text, || {
            tracing::info!(
                target: TARGET,
                step = %self.name,
                kind = "import",
                done = end.is_some(),
                stopped = end == Some(End::Stopped),
                rows_read = f.rows,
                rows_total = f.total,
                payloads = f.payloads,
                calls_today = f.calls.as_ref().map(|c| c.spent),
                budget = f.calls.as_ref().map(|c| c.budget),
                calls_left = f.calls.as_ref().map(|c| c.remaining),
                rows_per_sec = round1(rate),
                eta_secs = f.eta().map(|s| s.round() as u64),
                "{text}"
            );
        });
    }
}

/// Dropped without [`ImportProgress::finish`]: the step stopped early.
impl Drop for ImportProgress<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An export's spinner or lines: pages fetched, records, calls of today's budget, rate.
pub struct ExportProgress<'a> {
    out: &'a Progress,
    ledger: Figures<'a>,
    name: String,
    bar: Option<ProgressBar>,
    pages: Cell<u64>,
    records: Cell<u64>,
    pace: Pace,
    finished: Cell<bool>,
}

impl ExportProgress<'_> {
    /// A page was fetched and written: the running totals.
    pub fn page(&self, pages: u64, records: u64) {
        self.pages.set(pages);
        self.records.set(records);
        match &self.bar {
            Some(bar) => {
                bar.set_position(records);
                bar.set_message(self.message());
            }
            None => {
                if self.out.due(self.pace.last.get().0, Instant::now()) {
                    self.line(None);
                }
            }
        }
    }

    /// The export is over: a last line with the totals (in place of the spinner).
    pub fn finish(&self) {
        if !self.finished.replace(true) {
            self.line(Some(End::Done));
        }
    }

    fn message(&self) -> String {
        let mut m = count(self.pages.get(), "page");
        if let Some(c) = self.ledger.calls(false) {
            let _ = write!(m, " · {}", calls_text(&c));
        }
        m
    }

    fn line(&self, end: Option<End>) {
        let rate = self.pace.rate(self.records.get(), end.is_some());
        let calls = self.ledger.calls(true);
        let mut text = format!(
            "{}: {}{}, {}",
            self.name,
            end.map_or("", End::label),
            count(self.pages.get(), "page"),
            count(self.records.get(), "record")
        );
        push_tail(&mut text, calls.as_ref(), rate, "records", end.map(|_| self.pace.elapsed()));
        self.out.show(self.bar.as_ref(), &text, || {
            tracing::info!(
                target: TARGET,
                step = %self.name,
                kind = "export",
                done = end.is_some(),
                stopped = end == Some(End::Stopped),
                pages = self.pages.get(),
                records = self.records.get(),
                calls_today = calls.as_ref().map(|c| c.spent),
                budget = calls.as_ref().map(|c| c.budget),
                calls_left = calls.as_ref().map(|c| c.remaining),
                records_per_sec = round1(rate),
                "{text}"
            );
        });
    }
}

/// Dropped without [`ExportProgress::finish`]: the export failed.
impl Drop for ExportProgress<'_> {
    fn drop(&mut self) {
        if !self.finished.replace(true) {
            self.line(Some(End::Stopped));
        }
    }
}

/// How a step's last line ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// It finished.
    Done,
    /// It stopped early (the budget, an error).
    Stopped,
}

impl End {
    fn label(self) -> &'static str {
        match self {
            Self::Done => "done: ",
            Self::Stopped => "stopped: ",
        }
    }
}

/// The figures of one plain import line.
#[derive(Debug, Clone, Default)]
struct ImportFigures {
    rows: u64,
    total: Option<u64>,
    payloads: u64,
    calls: Option<BudgetStatus>,
    /// Rows per second.
    rate: f64,
    /// Set on the step's last line: how it ended and its duration in seconds.
    end: Option<(End, f64)>,
}

impl ImportFigures {
    fn eta(&self) -> Option<f64> {
        if self.end.is_some() {
            return None;
        }
        eta_secs(self.rows, self.total?, self.rate)
    }

    /// `4000 of 20000 rows (20%), 40 payloads, calls 42/5000 today (4958 left), 850 rows/s, eta 19s`
    fn text(&self) -> String {
        let mut t = String::new();
        if let Some((how, _)) = self.end {
            t.push_str(how.label());
        }
        match self.total {
            Some(total) if total > 0 && self.end.is_none() => {
                let pct = (self.rows.min(total) as f64 / total as f64 * 100.0).floor();
                let _ = write!(t, "{} of {total} rows ({pct}%)", self.rows);
            }
            _ => {
                let _ = write!(t, "{} rows", self.rows);
            }
        }
        let _ = write!(t, ", {}", count(self.payloads, "payload"));
        push_tail(&mut t, self.calls.as_ref(), self.rate, "rows", self.end.map(|(_, secs)| secs));
        if let Some(eta) = self.eta() {
            let _ = write!(t, ", eta {}", human_duration(eta));
        }
        t
    }
}

/// `x` to one decimal (for JSON fields).
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `1 page`, `2 pages`.
fn count(n: u64, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// `n` per second over `secs` (0 when no time has passed).
fn per_sec(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// Seconds left at `rate` per second with `done` of `total` done; none while nothing moves.
fn eta_secs(done: u64, total: u64, rate: f64) -> Option<f64> {
    if done >= total {
        return Some(0.0);
    }
    (rate > 0.0 && rate.is_finite()).then(|| (total - done) as f64 / rate)
}

/// `calls 42/5000 today (4958 left)`: spent by every consumer of the org, the day's budget,
/// and what this pipeline may still spend (its share).
fn calls_text(s: &BudgetStatus) -> String {
    format!("calls {}/{} today ({} left)", s.spent, s.budget, s.remaining)
}

/// `850 rows/s`, `2.5 rows/s`.
fn rate_text(rate: f64, unit: &str) -> String {
    if !rate.is_finite() || rate <= 0.0 {
        format!("0 {unit}/s")
    } else if rate < 10.0 {
        format!("{rate:.1} {unit}/s")
    } else {
        format!("{} {unit}/s", rate.round() as u64)
    }
}

/// `45s`, `3m 20s`, `2h 05m`, `3d 04h`.
fn human_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".to_owned();
    }
    if secs < 10.0 {
        return format!("{secs:.1}s");
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {:02}h", s / 86400, s % 86400 / 3600),
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

fn rate_key(unit: &'static str) -> impl Fn(&ProgressState, &mut dyn std::fmt::Write) + Clone {
    move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = w.write_str(&rate_text(s.per_sec(), unit));
    }
}

fn eta_key(s: &ProgressState, w: &mut dyn std::fmt::Write) {
    let eta = s.len().and_then(|total| eta_secs(s.pos(), total, s.per_sec()));
    let _ = w.write_str(&eta.map_or_else(|| "--".to_owned(), human_duration));
}

/// A spinner until the source's rows are counted, then a bar with an ETA.
fn import_style(total_known: bool) -> ProgressStyle {
    let template = if total_known {
        "{prefix:.bold} [{bar:28.cyan/blue}] {pos}/{len} rows · {msg} · {rate} · eta {eta_text}"
    } else {
        "{spinner:.cyan} {prefix:.bold} {pos} rows · {msg} · {rate}"
    };
    style(template).with_key("rate", rate_key("rows")).with_key("eta_text", eta_key)
}

/// Exports have no known total: a spinner with the counts.
fn export_style() -> ProgressStyle {
    style("{spinner:.cyan} {prefix:.bold} {pos} records · {msg} · {rate}")
        .with_key("rate", rate_key("records"))
}

/// A [`tracing_subscriber::fmt::MakeWriter`] that writes each log line to stderr above the
/// progress bars (suspending them for the write).
#[derive(Debug, Clone)]
pub struct LogWriter {
    bars: Option<MultiProgress>,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine { bars: self.bars.clone(), buf: Vec::new() }
    }
}

/// One log event, buffered and written when dropped.
#[derive(Debug)]
pub struct LogLine {
    bars: Option<MultiProgress>,
    buf: Vec<u8>,
}

impl std::io::Write for LogLine {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&self.buf).and_then(|()| err.flush());
        };
        match &self.bars {
            Some(m) => m.suspend(write),
            None => write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(human_duration(2.34), "2.3s");
        assert_eq!(human_duration(45.2), "45s");
        assert_eq!(human_duration(200.0), "3m 20s");
        assert_eq!(human_duration(2.0 * 3600.0 + 5.0 * 60.0), "2h 05m");
        assert_eq!(human_duration(3.0 * 86400.0 + 4.0 * 3600.0 + 59.0), "3d 04h");
        assert_eq!(human_duration(f64::INFINITY), "?");
    }

    #[test]
    fn rates_and_etas() {
        assert_eq!(rate_text(0.0, "rows"), "0 rows/s");
        assert_eq!(rate_text(2.46, "rows"), "2.5 rows/s");
        assert_eq!(rate_text(849.6, "records"), "850 records/s");
        assert_eq!(rate_text(f64::NAN, "rows"), "0 rows/s");
        assert_eq!((count(1, "page"), count(0, "page")), ("1 page".into(), "0 pages".into()));
        assert_eq!(per_sec(100, 0.0), 0.0);
        assert_eq!(per_sec(100, 4.0), 25.0);
        assert_eq!(eta_secs(250, 1000, 50.0), Some(15.0));
        assert_eq!(eta_secs(1000, 1000, 0.0), Some(0.0));
        assert_eq!(eta_secs(10, 1000, 0.0), None, "no ETA while nothing moves");
    }

    fn budget() -> BudgetStatus {
        BudgetStatus {
            org: "o".into(),
            day: "2026-01-02".into(),
            spent: 42,
            spent_by_consumer: 40,
            search_cv_spent: 0,
            budget: 5000,
            share_limit: 2500,
            remaining: 2460,
            server_limit_hit: false,
            resets_at: String::new(),
        }
    }

    #[test]
    fn import_lines_with_and_without_a_known_total() {
        let mut f = ImportFigures {
            rows: 4000,
            total: Some(20000),
            payloads: 40,
            calls: Some(budget()),
            rate: 850.0,
            end: None,
        };
        assert_eq!(
            f.text(),
            "4000 of 20000 rows (20%), 40 payloads, calls 42/5000 today (2460 left), 850 rows/s, eta 19s"
        );
        f.total = None;
        assert_eq!(
            f.text(),
            "4000 rows, 40 payloads, calls 42/5000 today (2460 left), 850 rows/s",
            "no fake ETA"
        );
        f.calls = None;
        f.end = Some((End::Done, 4.7));
        assert_eq!(f.text(), "done: 4000 rows, 40 payloads, 850 rows/s average, 4.7s");
        f.end = Some((End::Stopped, 75.0));
        assert_eq!(f.text(), "stopped: 4000 rows, 40 payloads, 850 rows/s average, 1m 15s");
    }

    #[test]
    fn bar_templates_parse() {
        assert!(ProgressStyle::with_template(
            "{prefix:.bold} [{bar:28.cyan/blue}] {pos}/{len} rows · {msg} · {rate} · eta {eta_text}"
        )
        .is_ok());
        assert!(
            ProgressStyle::with_template(
                "{spinner:.cyan} {prefix:.bold} {pos} rows · {msg} · {rate}"
            )
            .is_ok()
        );
    }
}
