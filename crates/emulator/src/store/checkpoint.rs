//! WAL checkpoints off the request path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold, with the
//! store's lock held: it copies the log into the database file and waits for two `fsync`s, and
//! every call queued behind that commit waits too. Here the request connection never
//! checkpoints; a background thread with its own connection does, a moment after commits
//! arrive. A `PASSIVE` checkpoint never blocks the writer, so the copying and the waiting for the
//! disk happen while calls go on. Because a busy writer keeps appending, the log only starts
//! over once a checkpoint has caught up completely at the start of a write; when the log has
//! grown past [`CATCH_UP_FRAMES`], the thread takes the store's lock for one short catch-up
//! checkpoint (the bulk is already copied) so the log restarts and stays bounded.
//!
//! Durability is unchanged: commits reach the log exactly as before (`synchronous` decides how
//! hard); only the copy into the main file moved.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// Log frames (4 KiB pages) past which the thread catches up under the store's lock.
pub const CATCH_UP_FRAMES: i64 = 16_384;

/// The least time between two checkpoints: a burst of commits is copied in one go.
const SPACING: Duration = Duration::from_millis(200);

/// How long an idle thread waits before checking the log anyway.
const IDLE: Duration = Duration::from_secs(2);

/// The background checkpoint thread; stopping it (drop) runs one last checkpoint.
#[derive(Debug)]
pub struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`; `store` is the request connection's
    /// lock, taken only for a catch-up checkpoint.
    /// `catch_up` is the log size, in frames, past which it catches up under the lock
    /// ([`CATCH_UP_FRAMES`] in service).
    pub fn start(path: PathBuf, store: Arc<Mutex<Connection>>, catch_up: i64) -> Option<Self> {
        let (nudge, wake) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("zcrm-emulator-checkpoint".into())
            .spawn(move || run(&path, &store, &wake, catch_up))
            .ok()?;
        Some(Self { nudge: Some(nudge), thread: Some(thread) })
    }

    /// Tells the thread that a transaction committed (never blocks).
    pub fn nudge(&self) {
        if let Some(tx) = &self.nudge {
            // Full: a nudge is already waiting; disconnected: the thread is gone.
            let _ = tx.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudge = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs a passive checkpoint; returns the log's size in frames.
fn passive(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}

fn run(path: &std::path::Path, store: &Mutex<Connection>, wake: &Receiver<()>, catch_up: i64) {
    let conn = match Connection::open(path) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(
                "checkpoint thread: cannot open the store: {e}; the log grows until restart"
            );
            return;
        }
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let mut last = Instant::now();
    loop {
        let stop = match wake.recv_timeout(IDLE) {
            Ok(()) => false,
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        if !stop {
            let since = last.elapsed();
            if since < SPACING {
                std::thread::sleep(SPACING - since);
            }
        }
        match passive(&conn) {
            Ok(log) if log > catch_up => {
                // No writer can commit while this lock is held, so this one completes and the
                // next write starts the log over.
                let _held = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = passive(&conn) {
                    tracing::warn!("checkpoint thread: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("checkpoint thread: {e}"),
        }
        last = Instant::now();
        if stop {
            return;
        }
    }
}
