//! Pages fetched several at a time on plain threads and handed on in page order.
//!
//! Page `k` is asked for only once every page before `k - in_flight + 1` was handed on, so at
//! most `in_flight` answers are in flight or waiting to be handed on (memory stays flat
//! whatever the module's size). The first round asks for `first_round` pages (at most
//! `in_flight`): one when the export's size is unknown, so that an export that fits in one page
//! costs one call, as it always did; more when the caller expects that many pages (the previous
//! run of the same export wrote that many records). Pages from `chained_from` on need the answer of the
//! page before them (v8 `page_token`s), so each is asked for only once the one before it was
//! handed on. Answers are handed on in page order whatever order they arrive in; an error is
//! handed on in its page's place, so a failure past the last page (a page asked for before the
//! short one answered) is never seen.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, PoisonError};

/// How the pages are fetched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Pages asked for at once (at least 1).
    pub in_flight: u32,
    /// The first page.
    pub first: u32,
    /// Pages asked for before the first is handed on (1..=`in_flight`).
    pub first_round: u32,
    /// Pages from this one on are fetched one at a time (each needs the answer before it).
    pub chained_from: Option<u32>,
}

/// What the consumer says after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Hand on the next page.
    More,
    /// That was the last page.
    Stop,
}

/// The shared schedule: the next page to ask for, the next page to hand on, and whether the
/// consumer is done.
struct Gate {
    next: u32,
    taken: u32,
    done: bool,
}

/// A page's answer, or `None` when fetching it panicked.
type Answer<T, E> = (u32, Option<Result<T, E>>);

/// Fetches pages `plan.first`, `plan.first + 1`, ... with `fetch` (up to `plan.in_flight` at
/// once, each on a thread of its own), handing each answer to `take` in page order until it
/// says [`Next::Stop`] or fails, or a page fails (`panicked` names a page whose fetch
/// panicked). Returns the calls made: pages handed on, plus those asked for past the last one.
pub(crate) fn in_order<T: Send, E: Send>(
    plan: Plan,
    fetch: &(dyn Fn(u32) -> Result<T, E> + Sync),
    take: &mut dyn FnMut(u32, T) -> Result<Next, E>,
    panicked: impl Fn(u32) -> E,
) -> Result<u32, E> {
    let in_flight = plan.in_flight.max(1);
    let gate = Mutex::new(Gate { next: plan.first, taken: plan.first, done: false });
    let turn = Condvar::new();
    let (tx, rx) = mpsc::channel::<Answer<T, E>>();
    std::thread::scope(|s| {
        for _ in 0..in_flight {
            let tx = tx.clone();
            let (gate, turn) = (&gate, &turn);
            s.spawn(move || {
                while let Some(k) = ask(gate, turn, plan, in_flight) {
                    let answer = catch_unwind(AssertUnwindSafe(|| fetch(k))).ok();
                    if tx.send((k, answer)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let outcome = hand_on(plan.first, &rx, &gate, &turn, take, &panicked);
        let mut g = gate.lock().unwrap_or_else(PoisonError::into_inner);
        g.done = true;
        let asked = g.next - plan.first;
        drop(g);
        turn.notify_all();
        outcome.map(|()| asked)
    })
}

/// The next page a fetching thread may ask for, once the schedule allows it; `None` when the
/// consumer is done.
fn ask(gate: &Mutex<Gate>, turn: &Condvar, plan: Plan, in_flight: u32) -> Option<u32> {
    let mut g = gate.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if g.done {
            return None;
        }
        let chained = plan.chained_from.is_some_and(|c| g.next >= c);
        let limit = if chained {
            1
        } else if g.taken == plan.first {
            plan.first_round.clamp(1, in_flight)
        } else {
            in_flight
        };
        if g.next < g.taken + limit {
            g.next += 1;
            return Some(g.next - 1);
        }
        g = turn.wait(g).unwrap_or_else(PoisonError::into_inner);
    }
}

/// Hands the answers to `take` in page order.
fn hand_on<T, E>(
    first: u32,
    rx: &mpsc::Receiver<Answer<T, E>>,
    gate: &Mutex<Gate>,
    turn: &Condvar,
    take: &mut dyn FnMut(u32, T) -> Result<Next, E>,
    panicked: &impl Fn(u32) -> E,
) -> Result<(), E> {
    let mut waiting: BTreeMap<u32, Option<Result<T, E>>> = BTreeMap::new();
    let mut k = first;
    loop {
        let Some(answer) = waiting.remove(&k) else {
            // Every page up to `k` was asked for, so its answer will come.
            match rx.recv() {
                Ok((page, answer)) => {
                    waiting.insert(page, answer);
                }
                Err(_) => return Err(panicked(k)),
            }
            continue;
        };
        let page = answer.ok_or_else(|| panicked(k))??;
        if take(k, page)? == Next::Stop {
            return Ok(());
        }
        k += 1;
        gate.lock().unwrap_or_else(PoisonError::into_inner).taken = k;
        turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::mpsc::{Receiver, Sender};

    use super::*;

    /// A fake server whose answers are released by the test in any order: each fetch tells the
    /// test which page it asks for, then waits for its release.
    struct Server {
        asked: Mutex<Option<Sender<u32>>>,
        release: Mutex<BTreeMap<u32, ()>>,
        released: Condvar,
        last: u32,
    }

    impl Server {
        fn fetch(&self, k: u32) -> Result<u32, String> {
            if let Some(tx) = self.asked.lock().unwrap().as_ref() {
                tx.send(k).unwrap();
            }
            let mut r = self.release.lock().unwrap();
            while r.remove(&k).is_none() {
                r = self.released.wait(r).unwrap();
            }
            if k > self.last { Err(format!("page {k} is past the end")) } else { Ok(k * 10) }
        }

        fn release(&self, k: u32) {
            self.release.lock().unwrap().insert(k, ());
            self.released.notify_all();
        }
    }

    fn server(last: u32) -> (Server, Receiver<u32>) {
        let (tx, rx) = mpsc::channel();
        let s = Server {
            asked: Mutex::new(Some(tx)),
            release: Mutex::new(BTreeMap::new()),
            released: Condvar::new(),
            last,
        };
        (s, rx)
    }

    /// Pages answered in reverse order within each window are still handed on in page order,
    /// never more than `in_flight` are asked for ahead of the consumer, and an error of a page
    /// past the last one is never seen.
    #[test]
    fn pages_come_out_in_order_when_answers_arrive_out_of_order() {
        let (srv, asked) = server(9);
        let plan = Plan { in_flight: 4, first: 0, first_round: 1, chained_from: None };
        let mut got = Vec::new();
        let calls = std::thread::scope(|s| {
            let srv = &srv;
            // The test's side: the first page alone, then each window of four answered last
            // page first.
            s.spawn(move || {
                let mut pending: Vec<u32> = Vec::new();
                while let Ok(k) = asked.recv() {
                    pending.push(k);
                    if k == 0 || pending.len() == 4 {
                        for p in pending.drain(..).rev() {
                            srv.release(p);
                        }
                    }
                }
            });
            let calls = in_order(
                plan,
                &|k| srv.fetch(k),
                &mut |k, v| {
                    got.push((k, v));
                    Ok(if k == 9 { Next::Stop } else { Next::More })
                },
                |k| format!("page {k} panicked"),
            );
            // Ends the test's side.
            srv.asked.lock().unwrap().take();
            calls
        });
        let calls = calls.unwrap();
        assert_eq!(got, (0..10).map(|k| (k, k * 10)).collect::<Vec<_>>());
        assert_eq!(calls, 13, "three pages asked for past the last one: {calls}");
    }

    /// One in flight: each page is asked for after the one before it was handed on, and none
    /// past the last.
    #[test]
    fn one_in_flight_asks_for_each_page_after_the_one_before_it_was_handed_on() {
        let busy = AtomicU32::new(0);
        let most = AtomicU32::new(0);
        let plan = Plan { in_flight: 1, first: 3, first_round: 1, chained_from: None };
        let mut got = Vec::new();
        let calls = in_order(
            plan,
            &|k| -> Result<u32, String> {
                let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                busy.fetch_sub(1, Ordering::SeqCst);
                Ok(k)
            },
            &mut |k, v| {
                got.push(v);
                Ok(if k == 6 { Next::Stop } else { Next::More })
            },
            |k| format!("page {k} panicked"),
        )
        .unwrap();
        assert_eq!(got, vec![3, 4, 5, 6]);
        assert_eq!(calls, 4, "no page past the last one");
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }

    /// Chained pages (v8 tokens) are asked for one at a time, after the page before them.
    #[test]
    fn chained_pages_wait_for_the_page_before_them() {
        let handed = AtomicU32::new(0);
        let plan = Plan { in_flight: 4, first: 0, first_round: 1, chained_from: Some(3) };
        let calls = in_order(
            plan,
            &|k| -> Result<u32, String> {
                if k >= 3 {
                    assert_eq!(handed.load(Ordering::SeqCst), k, "page {k} asked for too early");
                }
                Ok(k)
            },
            &mut |k, _| {
                handed.store(k + 1, Ordering::SeqCst);
                Ok(if k == 7 { Next::Stop } else { Next::More })
            },
            |k| format!("page {k} panicked"),
        )
        .unwrap();
        assert_eq!(calls, 8);
    }

    /// A failing page stops the pages at its place; a panicking fetch is an error, not a hang.
    #[test]
    fn a_failure_is_handed_on_in_its_place() {
        let plan = Plan { in_flight: 3, first: 0, first_round: 1, chained_from: None };
        let mut got = Vec::new();
        let err = in_order(
            plan,
            &|k| if k == 4 { Err(format!("page {k} failed")) } else { Ok(k) },
            &mut |k, _| {
                got.push(k);
                Ok(Next::More)
            },
            |k| format!("page {k} panicked"),
        )
        .unwrap_err();
        assert_eq!(err, "page 4 failed");
        assert_eq!(got, vec![0, 1, 2, 3]);

        let err = in_order(
            plan,
            &|k| -> Result<u32, String> {
                assert!(k != 2, "boom");
                Ok(k)
            },
            &mut |_, _| Ok(Next::More),
            |k| format!("page {k} panicked"),
        )
        .unwrap_err();
        assert_eq!(err, "page 2 panicked");
    }

    /// An export whose size is known asks for its first round all at once: the pages of the
    /// first round are all asked for before the first answer comes; without that hint the
    /// first page is asked for alone.
    #[test]
    fn a_known_size_asks_for_the_whole_first_round_at_once() {
        for (first_round, asked_at_once) in [(4, 4), (3, 3), (9, 4), (1, 1)] {
            let (srv, asked) = server(9);
            let plan = Plan { in_flight: 4, first: 0, first_round, chained_from: None };
            let seen = std::thread::scope(|s| {
                let srv = &srv;
                let side = s.spawn(move || {
                    // Nothing is answered until the first round has been asked for.
                    let mut first: Vec<u32> = Vec::new();
                    while first.len() < asked_at_once {
                        match asked.recv_timeout(std::time::Duration::from_secs(2)) {
                            Ok(k) => first.push(k),
                            // Fewer asked for than expected: the assertion below says so.
                            Err(_) => break,
                        }
                    }
                    let extra = asked.recv_timeout(std::time::Duration::from_millis(50)).ok();
                    for p in &first {
                        srv.release(*p);
                    }
                    let mut rest: Vec<u32> = extra.into_iter().collect();
                    for p in &rest {
                        srv.release(*p);
                    }
                    while let Ok(k) = asked.recv() {
                        rest.push(k);
                        srv.release(k);
                    }
                    first
                });
                in_order(
                    plan,
                    &|k| srv.fetch(k),
                    &mut |k, _| Ok(if k == 9 { Next::Stop } else { Next::More }),
                    |k| format!("page {k} panicked"),
                )
                .unwrap();
                srv.asked.lock().unwrap().take();
                side.join().unwrap()
            });
            let mut seen = seen;
            seen.sort_unstable();
            let want: Vec<u32> = (0..asked_at_once as u32).collect();
            assert_eq!(seen, want, "first_round {first_round}");
        }
    }
}
