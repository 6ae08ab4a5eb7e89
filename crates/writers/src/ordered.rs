//! CPU work on rayon's pool with results handed back in submission order, a bounded number of
//! jobs at a time (memory stays flat: at most `window` pages are held).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, sync_channel};

/// A job that panicked (its result is lost, so the caller must stop rather than skip it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a worker thread failed: {0}")]
pub struct JobFailed(pub String);

/// Jobs in flight, oldest first.
pub struct Ordered<T> {
    pending: VecDeque<Receiver<Result<T, JobFailed>>>,
    window: usize,
}

impl<T: Send + 'static> Ordered<T> {
    /// At most `window` jobs outstanding (at least one).
    pub fn new(window: usize) -> Self {
        Self { pending: VecDeque::new(), window: window.max(1) }
    }

    /// A window that keeps every rayon thread busy with one job waiting behind it.
    pub fn for_pool() -> Self {
        Self::new(rayon::current_num_threads() * 2)
    }

    /// Submits `job`. When the window is full, first waits for the oldest job and returns its
    /// result.
    pub fn submit(
        &mut self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Option<Result<T, JobFailed>> {
        let oldest = if self.pending.len() >= self.window { self.oldest() } else { None };
        let (tx, rx) = sync_channel(1);
        rayon::spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(job)).map_err(|p| {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_owned());
                JobFailed(msg)
            });
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
        let mut o = Ordered::new(3);
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
        assert_eq!(out, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_job_is_reported_not_skipped() {
        let mut o = Ordered::new(2);
        assert!(o.submit(|| 1).is_none());
        assert!(o.submit(|| -> i32 { panic!("boom") }).is_none());
        assert_eq!(o.oldest(), Some(Ok(1)));
        assert_eq!(o.oldest(), Some(Err(JobFailed("boom".into()))));
        assert_eq!(o.oldest(), None);
    }
}
