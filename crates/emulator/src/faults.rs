//! `--faults "latency=50ms,error_rate=0.05,drop_after_commit=0.02,truncate=0.01,seed=7"`:
//! injected latency, HTTP 500s (nothing committed, not counted), responses dropped after the
//! write committed (the connection closes with no response), and truncated bodies;
//! `only=writes` limits every fault to the write methods (a server that fails only inserts). Each call
//! draws from a splitmix64 sequence keyed by the seed and the call's sequence number, so a
//! given seed and call order always injects the same faults. The bulk APIs add
//! `bulk_fail=RATE` (a bulk job ends FAILED before writing or reading anything) and
//! `bulk_cut=RATE` (a bulk result download's body ends early), drawn from a sequence of their own.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A parsed fault specification.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct FaultSpec {
    /// Added to every API call.
    #[serde(serialize_with = "ser_ms")]
    pub latency: Duration,
    /// Probability of an HTTP 500 before anything is done.
    pub error_rate: f64,
    /// Probability that the response is dropped after the call committed.
    pub drop_after_commit: f64,
    /// Probability that the response body is cut short (after the call committed).
    pub truncate: f64,
    /// The seed of the draws.
    pub seed: u64,
    /// Faults hit only write methods (`only=writes`); reads are answered normally.
    pub writes_only: bool,
    /// Probability that a bulk job fails (state FAILED / FAILURE) before doing anything.
    pub bulk_fail: f64,
    /// Probability that a bulk result download's body ends early.
    pub bulk_cut: f64,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl FaultSpec {
    /// Parses `key=value` pairs separated by commas; an empty text means no faults.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut spec = Self::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("fault {part:?}: expected key=value"))?;
            let (k, v) = (k.trim(), v.trim());
            let prob = |v: &str| -> Result<f64, String> {
                let p: f64 = v.parse().map_err(|_| format!("fault {k}: {v:?} is not a number"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(format!("fault {k}: {p} is not between 0 and 1"))
                }
            };
            match k {
                "latency" => spec.latency = parse_duration(v)?,
                "error_rate" => spec.error_rate = prob(v)?,
                "drop_after_commit" => spec.drop_after_commit = prob(v)?,
                "truncate" => spec.truncate = prob(v)?,
                "bulk_fail" => spec.bulk_fail = prob(v)?,
                "bulk_cut" => spec.bulk_cut = prob(v)?,
                "only" if v == "writes" => spec.writes_only = true,
                "only" => return Err(format!("fault only: {v:?} (expected only=writes)")),
                "seed" => {
                    spec.seed =
                        v.parse().map_err(|_| format!("fault seed: {v:?} is not an integer"))?
                }
                other => {
                    return Err(format!(
                        "unknown fault {other:?} (expected latency, error_rate, drop_after_commit, truncate, bulk_fail, bulk_cut, only, seed)"
                    ));
                }
            }
        }
        Ok(spec)
    }

    /// Whether any fault is active.
    pub fn is_active(&self) -> bool {
        !self.latency.is_zero()
            || self.error_rate > 0.0
            || self.drop_after_commit > 0.0
            || self.truncate > 0.0
    }
}

fn parse_duration(v: &str) -> Result<Duration, String> {
    let bad = || format!("latency {v:?}: expected e.g. 50ms or 1s");
    if let Some(ms) = v.strip_suffix("ms") {
        return ms.trim().parse().map(Duration::from_millis).map_err(|_| bad());
    }
    if let Some(s) = v.strip_suffix('s') {
        return s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(bad);
    }
    v.parse().map(Duration::from_millis).map_err(|_| bad())
}

/// What happens to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Draw {
    /// Sleep this long first.
    pub latency: Duration,
    /// Answer HTTP 500 without doing anything.
    pub error: bool,
    /// Do the call, then close the connection without answering.
    pub drop: bool,
    /// Do the call, then send only part of the body.
    pub truncate: bool,
}

/// How many faults were injected since the emulator started (kept across [`Faults::set`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct FaultCounts {
    /// Calls delayed by `latency`.
    pub delayed: u64,
    /// HTTP 500s answered (`error_rate`).
    pub errors: u64,
    /// Answers dropped after the call committed (`drop_after_commit`).
    pub drops: u64,
    /// Bodies cut short (`truncate`).
    pub truncations: u64,
    /// Bulk jobs failed (`bulk_fail`).
    pub bulk_failures: u64,
    /// Bulk result downloads cut short (`bulk_cut`).
    pub bulk_cuts: u64,
}

impl FaultCounts {
    /// Errors, drops and truncations (delays are not failures).
    pub fn failures(&self) -> u64 {
        self.errors + self.drops + self.truncations
    }
}

impl std::ops::AddAssign for FaultCounts {
    fn add_assign(&mut self, o: Self) {
        self.delayed += o.delayed;
        self.errors += o.errors;
        self.drops += o.drops;
        self.truncations += o.truncations;
        self.bulk_failures += o.bulk_failures;
        self.bulk_cuts += o.bulk_cuts;
    }
}

/// The live fault settings, the draw sequence and the counts of what was injected.
#[derive(Debug, Default)]
pub struct Faults {
    spec: RwLock<FaultSpec>,
    seq: AtomicU64,
    delayed: AtomicU64,
    errors: AtomicU64,
    drops: AtomicU64,
    truncations: AtomicU64,
    bulk_seq: AtomicU64,
    bulk_failures: AtomicU64,
    bulk_cuts: AtomicU64,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

impl Faults {
    /// Faults with `spec`.
    pub fn new(spec: FaultSpec) -> Self {
        Self { spec: RwLock::new(spec), ..Self::default() }
    }

    /// The current specification.
    pub fn spec(&self) -> FaultSpec {
        self.spec.read().map(|s| *s).unwrap_or_default()
    }

    /// Replaces the specification and restarts the draw sequence.
    pub fn set(&self, spec: FaultSpec) {
        if let Ok(mut s) = self.spec.write() {
            *s = spec;
        }
        self.seq.store(0, Ordering::SeqCst);
    }

    /// Draws the faults of the next call (`is_write`: whether it is a write method).
    pub fn draw(&self, is_write: bool) -> Draw {
        let spec = self.spec();
        if !spec.is_active() || (spec.writes_only && !is_write) {
            return Draw::default();
        }
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let base = splitmix(spec.seed ^ splitmix(n));
        let error = unit(splitmix(base ^ 1)) < spec.error_rate;
        let drop = !error && unit(splitmix(base ^ 2)) < spec.drop_after_commit;
        let truncate = !error && !drop && unit(splitmix(base ^ 3)) < spec.truncate;
        let draw = Draw { latency: spec.latency, error, drop, truncate };
        for (hit, counter) in [
            (!draw.latency.is_zero(), &self.delayed),
            (error, &self.errors),
            (drop, &self.drops),
            (truncate, &self.truncations),
        ] {
            if hit {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        draw
    }

    /// Whether the next bulk job fails (`bulk_fail`), drawn when the job is created.
    pub fn draw_bulk_fail(&self) -> bool {
        self.draw_bulk(self.spec().bulk_fail, 1, &self.bulk_failures)
    }

    /// Whether the next bulk result download is cut short (`bulk_cut`).
    pub fn draw_bulk_cut(&self) -> bool {
        self.draw_bulk(self.spec().bulk_cut, 2, &self.bulk_cuts)
    }

    fn draw_bulk(&self, rate: f64, salt: u64, counter: &AtomicU64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        let n = self.bulk_seq.fetch_add(1, Ordering::SeqCst);
        let hit = unit(splitmix(self.spec().seed ^ splitmix(n) ^ salt)) < rate;
        if hit {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// What was injected so far.
    pub fn counts(&self) -> FaultCounts {
        FaultCounts {
            delayed: self.delayed.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            drops: self.drops.load(Ordering::Relaxed),
            truncations: self.truncations.load(Ordering::Relaxed),
            bulk_failures: self.bulk_failures.load(Ordering::Relaxed),
            bulk_cuts: self.bulk_cuts.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_spec() {
        let s = FaultSpec::parse(
            "latency=50ms,error_rate=0.05,drop_after_commit=0.02,truncate=0.01,seed=7",
        )
        .unwrap();
        assert_eq!(s.latency, Duration::from_millis(50));
        assert_eq!(s.seed, 7);
        assert!(FaultSpec::parse("error_rate=2").is_err());
        assert!(FaultSpec::parse("bogus=1").is_err());
        let w = FaultSpec::parse("error_rate=1,only=writes").unwrap();
        assert!(w.writes_only);
        let f = Faults::new(w);
        assert!(!f.draw(false).error && f.draw(true).error);
    }

    #[test]
    fn draws_are_deterministic_and_near_the_rate() {
        let spec = FaultSpec::parse("error_rate=0.1,seed=7").unwrap();
        let a = Faults::new(spec);
        let b = Faults::new(spec);
        let da: Vec<_> = (0..1000).map(|_| a.draw(false)).collect();
        let db: Vec<_> = (0..1000).map(|_| b.draw(false)).collect();
        assert_eq!(da, db);
        let errors = da.iter().filter(|d| d.error).count();
        assert!((60..140).contains(&errors), "{errors}");
    }

    /// Every injected fault is counted, by kind, across a change of the spec.
    #[test]
    fn counts_what_was_injected() {
        let spec = FaultSpec::parse(
            "latency=1ms,error_rate=0.1,drop_after_commit=0.1,truncate=0.1,seed=3",
        )
        .unwrap();
        let f = Faults::new(spec);
        let draws: Vec<_> = (0..500).map(|_| f.draw(true)).collect();
        f.set(FaultSpec::default());
        let _ = f.draw(true);
        let n = |p: fn(&Draw) -> bool| draws.iter().filter(|d| p(d)).count() as u64;
        let c = f.counts();
        assert_eq!(c.delayed, 500);
        assert_eq!(c.errors, n(|d| d.error));
        assert_eq!(c.drops, n(|d| d.drop));
        assert_eq!(c.truncations, n(|d| d.truncate));
        assert!(c.errors > 0 && c.drops > 0 && c.truncations > 0, "{c:?}");
        assert_eq!(c.failures(), c.errors + c.drops + c.truncations);
    }
}
