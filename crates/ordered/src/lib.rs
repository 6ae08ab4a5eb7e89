//! CPU work on rayon's pool with results handed back in submission order, a bounded number of
//! jobs at a time (memory stays flat: at most `window` results are held or being made).
//!
//! [`scope`] opens a rayon scope and gives its closure an [`Ordered`]: [`Ordered::submit`]
//! starts a job (which may borrow anything that outlives the [`scope`] call) and, when the
//! window is full, first waits for the oldest job and returns its result; [`Ordered::oldest`]
//! drains what is left. A job that panics comes back as [`JobFailed`] in its place, so the
//! caller stops there: a result is never skipped and the caller never waits for a result that
//! will not come. [`scope`] returns once every job it started has finished.
//!
//! The mapping stage (`zcrm_mapping::map_blocks`) and exports (`zcrm_writers::export`) both
//! run their parallel work through it.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, sync_channel};

/// A job that panicked, with the panic's message (its result is lost, so the caller must stop
/// rather than skip it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a worker thread failed: {0}")]
pub struct JobFailed(pub String);

impl JobFailed {
    /// The message of a caught panic's payload (`"panic"` when it is not text).
    fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        Self(msg)
    }
}

/// A window that keeps every rayon thread busy with one job waiting behind it.
pub fn pool_window() -> usize {
    rayon::current_num_threads().max(1) * 2
}

/// Runs `f` with an [`Ordered`] of at most `window` jobs outstanding (at least one) on rayon's
/// pool, and returns what `f` returns once every job it submitted has finished (a job whose
/// result was not collected still runs to its end; nothing is left running).
pub fn scope<'scope, T, R>(
    window: usize,
    f: impl for<'a> FnOnce(&mut Ordered<'a, 'scope, T>) -> R,
) -> R
where
    T: Send + 'scope,
{
    rayon::in_place_scope(|s| {
        f(&mut Ordered { scope: s, pending: VecDeque::new(), window: window.max(1) })
    })
}

/// Jobs in flight, oldest first (see [`scope`]).
pub struct Ordered<'a, 'scope, T> {
    scope: &'a rayon::Scope<'scope>,
    pending: VecDeque<Receiver<Result<T, JobFailed>>>,
    window: usize,
}

impl<'scope, T: Send + 'scope> Ordered<'_, 'scope, T> {
    /// Submits `job`. When the window is full, first waits for the oldest job and returns its
    /// result.
    pub fn submit(
        &mut self,
        job: impl FnOnce() -> T + Send + 'scope,
    ) -> Option<Result<T, JobFailed>> {
        let oldest = if self.pending.len() >= self.window { self.oldest() } else { None };
        let (tx, rx) = sync_channel(1);
        self.scope.spawn(move |_| {
            let result =
                catch_unwind(AssertUnwindSafe(job)).map_err(|p| JobFailed::from_panic(&*p));
            let _ = tx.send(result);
        });
        self.pending.push_back(rx);
        oldest
    }

    /// Waits for the oldest outstanding job (`None` when nothing is outstanding).
    pub fn oldest(&mut self) -> Option<Result<T, JobFailed>> {
        let rx = self.pending.pop_front()?;
        Some(rx.recv().unwrap_or_else(|_| Err(JobFailed("the job was dropped".into()))))
    }

    /// Jobs outstanding.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no job is outstanding.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_submission_order_with_a_bounded_window() {
        let out = scope(3, |o| {
            let mut out = Vec::new();
            for i in 0..50u64 {
                // Later jobs finish sooner; the order must not change.
                let job = move || {
                    std::thread::sleep(std::time::Duration::from_micros((50 - i) * 20));
                    i
                };
                if let Some(r) = o.submit(job) {
                    out.push(r.unwrap());
                }
                assert!(o.len() <= 3);
            }
            while let Some(r) = o.oldest() {
                out.push(r.unwrap());
            }
            out
        });
        assert_eq!(out, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_job_is_reported_not_skipped() {
        scope(2, |o| {
            assert!(o.submit(|| 1).is_none());
            assert!(o.submit(|| -> i32 { panic!("boom") }).is_none());
            assert_eq!(o.submit(|| 3), Some(Ok(1)));
            assert_eq!(o.oldest(), Some(Err(JobFailed("boom".into()))));
            assert_eq!(o.oldest(), Some(Ok(3)));
            assert_eq!(o.oldest(), None);
        });
    }

    /// Jobs borrow from the caller, and leaving with jobs outstanding neither hangs nor loses
    /// one: the scope ends when the last has run.
    #[test]
    fn jobs_borrow_and_leaving_early_waits_for_the_rest() {
        let input: Vec<u64> = (0..20).collect();
        let ran = std::sync::atomic::AtomicUsize::new(0);
        let first = scope(4, |o| {
            for x in &input {
                let ran = &ran;
                o.submit(move || {
                    ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    x * 2
                });
            }
            o.oldest()
        });
        assert_eq!(first, Some(Ok(32)));
        assert_eq!(ran.into_inner(), 20);
    }
}
