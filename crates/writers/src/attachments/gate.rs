//! The two waits of an export with attachments: [`Slots`], the calls one export makes at once
//! (pages of records and attachment calls share them), and [`Queue`], the exported records
//! waiting for their attachments (bounded: the export waits when the downloads lag).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// A counting semaphore: at most `n` holders at once.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

/// A slot held until dropped.
pub(crate) struct Slot<'a>(&'a Slots);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.freed.notify_one();
    }
}

impl Slots {
    /// `n` slots (at least 1).
    pub(crate) fn new(n: u32) -> Self {
        Self { free: Mutex::new(n.max(1)), freed: Condvar::new() }
    }

    /// Waits for a free slot.
    pub(crate) fn acquire(&self) -> Slot<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot(self)
    }
}

/// What the queue holds and whether it is still fed.
#[derive(Debug, Default)]
struct State {
    ids: VecDeque<u64>,
    /// Records taken by a worker and not done yet.
    busy: u32,
    /// No more records will come.
    closed: bool,
    /// A worker failed: everything stops.
    failed: bool,
}

/// A bounded queue of record ids between the export (one producer) and the download workers.
#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    changed: Condvar,
    cap: usize,
}

impl Queue {
    /// A queue of at most `cap` waiting ids.
    pub(crate) fn new(cap: usize) -> Self {
        Self { state: Mutex::new(State::default()), changed: Condvar::new(), cap: cap.max(1) }
    }

    /// Adds `id`, waiting while the queue is full; `false` when a worker failed.
    pub(crate) fn push(&self, id: u64) -> bool {
        let mut s = lock(&self.state);
        while s.ids.len() >= self.cap && !s.failed {
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        if s.failed {
            return false;
        }
        s.ids.push_back(id);
        drop(s);
        self.changed.notify_all();
        true
    }

    /// The next id for a worker (counted busy until [`Queue::done`]); `None` once the queue is
    /// closed and empty, or failed.
    pub(crate) fn pop(&self) -> Option<u64> {
        let mut s = lock(&self.state);
        loop {
            if s.failed {
                return None;
            }
            if let Some(id) = s.ids.pop_front() {
                s.busy += 1;
                drop(s);
                self.changed.notify_all();
                return Some(id);
            }
            if s.closed {
                return None;
            }
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A worker is done with the id it popped; `failed` stops everything.
    pub(crate) fn done(&self, failed: bool) {
        let mut s = lock(&self.state);
        s.busy = s.busy.saturating_sub(1);
        s.failed |= failed;
        drop(s);
        self.changed.notify_all();
    }

    /// No more ids: workers finish what is queued and stop. `abort` drops what is queued.
    pub(crate) fn close(&self, abort: bool) {
        let mut s = lock(&self.state);
        s.closed = true;
        if abort {
            s.ids.clear();
        }
        drop(s);
        self.changed.notify_all();
    }

    /// Closes the queue and waits until every queued id is done (or a worker failed).
    pub(crate) fn drain(&self) {
        let mut s = lock(&self.state);
        s.closed = true;
        self.changed.notify_all();
        while !s.failed && (s.busy > 0 || !s.ids.is_empty()) {
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn slots_bound_the_holders_and_the_queue_drains_every_id() {
        let slots = Slots::new(2);
        let queue = Queue::new(3);
        let (busy, most, seen) = (AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0));
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    while let Some(_id) = queue.pop() {
                        {
                            let _slot = slots.acquire();
                            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::yield_now();
                            busy.fetch_sub(1, Ordering::SeqCst);
                        }
                        seen.fetch_add(1, Ordering::SeqCst);
                        queue.done(false);
                    }
                });
            }
            for id in 0..50 {
                assert!(queue.push(id));
            }
            queue.drain();
            assert_eq!(seen.load(Ordering::SeqCst), 50);
        });
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn a_failure_stops_the_producer_instead_of_blocking_it() {
        let queue = Queue::new(1);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _ = queue.pop();
                queue.done(true);
            });
            // The producer fills the queue and then learns of the failure.
            let mut pushed = 0;
            while queue.push(pushed) {
                pushed += 1;
            }
            assert!(pushed <= 3);
            queue.drain();
        });
    }
}
