//! The progress of a run on stderr: on a terminal, one bar per step, drawn by
//! `tracing-indicatif` for the step's span ([`bars_layer`]), with log lines printed above the
//! bars by its writer; without a terminal (or with `--log-format json`), a plain `info` log line
//! with the same figures every few seconds (`ZCRM_PROGRESS_SECS`, default 5) and one when a step
//! ends. Imports and exports share one [`StepProgress`]; only their [`Kind`] differs. stdout is
//! never touched.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressState, ProgressStyle};
use tracing::Span;
use tracing_indicatif::span_ext::IndicatifSpanExt as _;
use tracing_indicatif::{IndicatifLayer, TickSettings};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::registry::LookupSpan;
use zcrm_batcher::StepReport;
use zcrm_client::budget::{BudgetStatus, Ledger};

/// The log target of the plain progress lines (on by default; `ZCRM_LOG` can turn it off).
pub const TARGET: &str = "zcrm::progress";

/// The variable that sets the seconds between plain progress lines.
pub const EVERY_ENV: &str = "ZCRM_PROGRESS_SECS";

/// The target of the spans that carry a step's bar: only [`bars_layer`] listens to it (outside
/// `zcrm::progress`, which `ZCRM_LOG` may silence without hiding the bars).
const BAR_TARGET: &str = "zcrm::bar";

/// How often the spinners turn.
const TICK: Duration = Duration::from_millis(120);

/// How often a bar takes the rows read (it is redrawn at 20 Hz anyway); payloads and pages
/// update it at once.
const BAR_EVERY: Duration = Duration::from_millis(50);

/// How often the ledger is read for the "calls of today's budget" figure.
const LEDGER_EVERY: Duration = Duration::from_millis(250);

/// Unknown total rows (the source is still being counted, or could not be).
const UNKNOWN: u64 = u64::MAX;

/// Where progress goes: bars on a terminal, log lines otherwise.
#[derive(Debug)]
pub struct Progress {
    bars: bool,
    json: bool,
    every: Duration,
}

/// The tracing layer that draws a bar for each step's span, filtered to those spans (a static
/// filter: other log lines cost nothing more). Pass `.inner().get_stderr_writer()` to the log
/// lines' layer so that they print above the bars.
pub fn bars_layer<S>() -> Filtered<IndicatifLayer<S>, Targets, S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    IndicatifLayer::new()
        .with_tick_settings(TickSettings {
            default_tick_interval: Some(TICK),
            ..Default::default()
        })
        .with_filter(Targets::new().with_target(BAR_TARGET, tracing::Level::INFO))
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

    /// Bars (`bars`: drawn by [`bars_layer`], which the log setup installs), or plain lines
    /// every `every`, as JSON fields too when `json`.
    pub fn new(bars: bool, json: bool, every: Duration) -> Self {
        Self { bars, json, every }
    }

    /// Whether steps show bars (and the log setup must install [`bars_layer`]).
    pub fn bars(&self) -> bool {
        self.bars
    }

    /// Prints `text` on stderr (above the bars).
    pub fn note(&self, text: &str) {
        let line = format!("{text}\n");
        let _ = match tracing_indicatif::writer::get_indicatif_stderr_writer() {
            Some(mut above_bars) => above_bars.write_all(line.as_bytes()),
            None => std::io::stderr().write_all(line.as_bytes()),
        };
    }

    /// The progress of a step of `kind` named `name`; `total` holds the count to reach once it
    /// is known (`u64::MAX` until then), none when there is no total.
    fn step<'a>(
        &'a self,
        kind: Kind,
        name: &str,
        ledger: &'a Ledger,
        total: Option<Arc<AtomicU64>>,
    ) -> StepProgress<'a> {
        let bar = self.bars.then(|| {
            let span = tracing::info_span!(target: BAR_TARGET, "step");
            span.pb_set_style(&kind.style(name, false));
            span.pb_set_message("starting");
            span.pb_start();
            Bar { span, has_total: false, drawn: Instant::now() }
        });
        StepProgress {
            out: self,
            kind,
            name: name.to_owned(),
            spend: Spend::new(ledger),
            total,
            items: Cell::new(0),
            batches: Cell::new(0),
            bar: RefCell::new(bar),
            pace: Pace::new(),
            finished: Cell::new(false),
        }
    }
}

impl zcrm_engine::Observer for Progress {
    fn note(&self, text: &str) {
        Progress::note(self, text);
    }

    /// An import step: rows read (of the source's rows once `total` knows them), payloads.
    fn import<'a>(
        &'a self,
        step: &str,
        ledger: &'a Ledger,
        total: Arc<AtomicU64>,
    ) -> Box<dyn zcrm_engine::ImportObserver + 'a> {
        Box::new(self.step(Kind::Import, step, ledger, Some(total)))
    }

    /// An export (a step, or the module of `zcrm export`): records, pages; no known total.
    fn export<'a>(
        &'a self,
        name: &str,
        ledger: &'a Ledger,
    ) -> Box<dyn zcrm_engine::ExportObserver + 'a> {
        Box::new(self.step(Kind::Export, name, ledger, None))
    }
}

/// What differs between an import step and an export: what they count and how it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Rows read (of the source's rows once counted), payloads sent.
    Import,
    /// Records written, pages fetched; no known total.
    Export,
}

impl Kind {
    /// What the bar's position and the rate count.
    fn item(self) -> &'static str {
        match self {
            Self::Import => "row",
            Self::Export => "record",
        }
    }

    /// [`Kind::item`], plural.
    fn items(self) -> &'static str {
        match self {
            Self::Import => "rows",
            Self::Export => "records",
        }
    }

    /// What one call moves.
    fn batch(self) -> &'static str {
        match self {
            Self::Import => "payload",
            Self::Export => "page",
        }
    }

    /// A spinner until the total is known, then a bar with an ETA; `name` is the `{step}`.
    fn style(self, name: &str, total_known: bool) -> ProgressStyle {
        let template = if total_known {
            "{step:.bold} [{bar:28.cyan/blue}] {pos}/{len} {items} · {msg} · {rate} · eta {eta_text}"
        } else {
            "{spinner:.cyan} {step:.bold} {pos} {items} · {msg} · {rate}"
        };
        let items = self.items();
        let name = name.to_owned();
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .progress_chars("=> ")
            .with_key("step", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&name);
            })
            .with_key("items", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(items);
            })
            .with_key("rate", move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate_text(s.per_sec(), items));
            })
            .with_key("eta_text", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let eta = s.len().and_then(|total| eta_secs(s.pos(), total, s.per_sec()));
                let _ = w.write_str(&eta.map_or_else(|| "--".to_owned(), human_duration));
            })
    }
}

/// A step's bar: its span (closing it clears the bar), whether it shows the total yet, and
/// when it last took the figures.
struct Bar {
    span: Span,
    has_total: bool,
    drawn: Instant,
}

/// A step's bar or plain lines: items (rows, records) of a total when known, batches
/// (payloads, pages), calls of today's budget, rate, ETA.
pub struct StepProgress<'a> {
    out: &'a Progress,
    kind: Kind,
    name: String,
    spend: Spend<'a>,
    total: Option<Arc<AtomicU64>>,
    items: Cell<u64>,
    batches: Cell<u64>,
    bar: RefCell<Option<Bar>>,
    pace: Pace,
    finished: Cell<bool>,
}

impl zcrm_engine::ImportObserver for StepProgress<'_> {
    fn rows_read(&self, n: u64) {
        self.items.set(self.items.get() + n);
        self.moved(false);
    }

    fn written(&self, report: &StepReport) {
        self.batches.set(report.writes);
        self.moved(true);
    }

    fn finish(&self) {
        self.end(End::Done);
    }

    fn stop(&self) {
        self.end(End::Stopped);
    }
}

impl zcrm_engine::ExportObserver for StepProgress<'_> {
    fn page(&self, pages: u64, records: u64) {
        self.batches.set(pages);
        self.items.set(records);
        self.moved(true);
    }

    fn finish(&self) {
        self.end(End::Done);
    }
}

/// Dropped without `finish`: the step stopped early (the budget, an error).
impl Drop for StepProgress<'_> {
    fn drop(&mut self) {
        self.end(End::Stopped);
    }
}

impl StepProgress<'_> {
    fn total(&self) -> Option<u64> {
        let total = self.total.as_ref()?.load(Ordering::Relaxed);
        (total != UNKNOWN).then_some(total)
    }

    /// The figures moved: the bar takes them (a new batch at once, rows at most every
    /// [`BAR_EVERY`]), or a plain line when one is due.
    fn moved(&self, batch: bool) {
        let mut bar = self.bar.borrow_mut();
        let Some(bar) = bar.as_mut() else {
            if Instant::now().duration_since(self.pace.last.get().0) >= self.out.every {
                self.line(None);
            }
            return;
        };
        let now = Instant::now();
        if !batch && now.duration_since(bar.drawn) < BAR_EVERY {
            return;
        }
        bar.drawn = now;
        if !bar.has_total
            && let Some(total) = self.total()
        {
            bar.span.pb_set_length(total);
            bar.span.pb_set_style(&self.kind.style(&self.name, true));
            bar.has_total = true;
        }
        bar.span.pb_set_position(self.items.get());
        if batch {
            let mut m = count(self.batches.get(), self.kind.batch());
            if let Some(c) = self.spend.calls(false) {
                let _ = write!(m, " · {}", calls_text(&c));
            }
            bar.span.pb_set_message(&m);
        }
    }

    /// The step is over: its bar cleared, then a last line with the totals, the average rate
    /// and the time taken (printed above the other bars on a terminal).
    fn end(&self, how: End) {
        if !self.finished.replace(true) {
            drop(self.bar.borrow_mut().take());
            self.line(Some(how));
        }
    }

    /// One progress line; the rate is that since the previous line (the average over the step
    /// on the last one).
    fn line(&self, end: Option<End>) {
        let rate = self.pace.rate(self.items.get(), end.is_some());
        let f = Line {
            kind: self.kind,
            items: self.items.get(),
            total: self.total(),
            batches: self.batches.get(),
            calls: self.spend.calls(true),
            rate,
            end: end.map(|how| (how, self.pace.elapsed())),
        };
        let text = format!("{}: {}", self.name, f.text());
        if self.out.bars {
            self.out.note(&text);
        } else if !self.out.json {
            tracing::info!(target: TARGET, "{text}");
        } else {
            let calls = f.calls.as_ref();
            let (done, stopped) = (end.is_some(), end == Some(End::Stopped));
            let (calls_today, budget) = (calls.map(|c| c.spent), calls.map(|c| c.budget));
            let calls_left = calls.map(|c| c.remaining);
            match self.kind {
                Kind::Import => tracing::info!(
                    target: TARGET,
                    step = %self.name,
                    kind = "import",
                    done,
                    stopped,
                    rows_read = f.items,
                    rows_total = f.total,
                    payloads = f.batches,
                    calls_today,
                    budget,
                    calls_left,
                    rows_per_sec = round1(rate),
                    eta_secs = f.eta().map(|s| s.round() as u64),
                    "{text}"
                ),
                Kind::Export => tracing::info!(
                    target: TARGET,
                    step = %self.name,
                    kind = "export",
                    done,
                    stopped,
                    pages = f.batches,
                    records = f.items,
                    calls_today,
                    budget,
                    calls_left,
                    records_per_sec = round1(rate),
                    "{text}"
                ),
            }
        }
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
struct Spend<'a> {
    ledger: &'a Ledger,
    status: RefCell<Option<(Instant, BudgetStatus)>>,
}

impl<'a> Spend<'a> {
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

/// The figures of one progress line.
#[derive(Debug, Clone)]
struct Line {
    kind: Kind,
    /// Rows read, records written.
    items: u64,
    /// The rows to read, once known.
    total: Option<u64>,
    /// Payloads sent, pages fetched.
    batches: u64,
    calls: Option<BudgetStatus>,
    /// Items per second.
    rate: f64,
    /// Set on the step's last line: how it ended and its duration in seconds.
    end: Option<(End, f64)>,
}

impl Line {
    fn eta(&self) -> Option<f64> {
        if self.end.is_some() {
            return None;
        }
        eta_secs(self.items, self.total?, self.rate)
    }

    /// `4000 of 20000 rows (20%), 40 payloads, calls 42/5000 today (4958 left), 850 rows/s, eta 19s`;
    /// `3 pages, 520 records, calls 45/5000 today (4955 left), 850 records/s`
    fn text(&self) -> String {
        let mut t = String::new();
        if let Some((how, _)) = self.end {
            t.push_str(how.label());
        }
        let items = match self.total {
            Some(total) if total > 0 && self.end.is_none() => {
                let pct = (self.items.min(total) as f64 / total as f64 * 100.0).floor();
                format!("{} of {total} {} ({pct}%)", self.items, self.kind.items())
            }
            _ => count(self.items, self.kind.item()),
        };
        let batches = count(self.batches, self.kind.batch());
        let _ = match self.kind {
            Kind::Import => write!(t, "{items}, {batches}"),
            Kind::Export => write!(t, "{batches}, {items}"),
        };
        if let Some(c) = &self.calls {
            let _ = write!(t, ", {}", calls_text(c));
        }
        let _ = write!(t, ", {}", rate_text(self.rate, self.kind.items()));
        if let Some((_, secs)) = self.end {
            let _ = write!(t, " average, {}", human_duration(secs));
        }
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
/// and what this pipeline may still spend (its share); on the REST API
/// `credits 420/90000 in 24 h (89580 left)`.
fn calls_text(s: &BudgetStatus) -> String {
    if s.credits {
        format!("credits {}/{} in 24 h ({} left)", s.spent, s.budget, s.remaining)
    } else {
        format!("calls {}/{} today ({} left)", s.spent, s.budget, s.remaining)
    }
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
            credits: false,
        }
    }

    #[test]
    fn import_lines_with_and_without_a_known_total() {
        let mut f = Line {
            kind: Kind::Import,
            items: 4000,
            total: Some(20000),
            batches: 40,
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
    fn export_lines_count_pages_then_records() {
        let mut f = Line {
            kind: Kind::Export,
            items: 520,
            total: None,
            batches: 3,
            calls: Some(budget()),
            rate: 2.46,
            end: None,
        };
        assert_eq!(
            f.text(),
            "3 pages, 520 records, calls 42/5000 today (2460 left), 2.5 records/s"
        );
        (f.batches, f.items, f.calls, f.end) = (1, 1, None, Some((End::Done, 12.0)));
        assert_eq!(f.text(), "done: 1 page, 1 record, 2.5 records/s average, 12s");
        f.end = Some((End::Stopped, 0.5));
        assert_eq!(f.text(), "stopped: 1 page, 1 record, 2.5 records/s average, 0.5s");
    }

    /// What a bar of `kind` shows at `pos` (of `len`), with `msg`.
    fn drawn(kind: Kind, len: Option<u64>, pos: u64, msg: &str) -> String {
        let term = indicatif::InMemoryTerm::new(2, 160);
        let bar = indicatif::ProgressBar::with_draw_target(
            len,
            indicatif::ProgressDrawTarget::term_like(Box::new(term.clone())),
        );
        bar.set_style(kind.style("leads", len.is_some()));
        bar.set_message(msg.to_owned());
        bar.set_position(pos);
        bar.tick();
        term.contents().trim_end().to_owned()
    }

    #[test]
    fn bars_show_the_step_the_counts_and_the_batches() {
        // The rate (and so the ETA) depends on the clock: the parts before it are exact.
        let parts = |s: &str| s.split(" · ").map(str::to_owned).collect::<Vec<_>>();
        let spinner = parts(&drawn(Kind::Import, None, 40, "starting"));
        assert!(spinner[0].ends_with(" leads 40 rows"), "{spinner:?}");
        assert_eq!(spinner[1], "starting");
        assert!(spinner[2].ends_with(" rows/s") && spinner.len() == 3, "{spinner:?}");
        let bar = parts(&drawn(Kind::Import, Some(100), 40, "1 payload"));
        assert_eq!(bar[0], format!("leads [{:<28}] 40/100 rows", "=".repeat(11) + ">"));
        assert_eq!(bar[1], "1 payload");
        assert!(bar[2].ends_with(" rows/s") && bar[3].starts_with("eta "), "{bar:?}");
        let export = parts(&drawn(Kind::Export, None, 520, "3 pages"));
        assert!(export[0].ends_with(" leads 520 records"), "{export:?}");
        assert_eq!(export[1], "3 pages");
        assert!(export[2].ends_with(" records/s") && export.len() == 3, "{export:?}");
    }
}
