//! Write calls in flight: a few sender threads that only make the network call, so that the
//! next payload is packed and journalled while the CRM works on the previous ones.
//!
//! Everything that touches the journal stays on the caller's thread; a sender gets a payload
//! that is already recorded as in flight and hands back the call's result.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

use zcrm_client::{ClientError, CrmApi, WriteKind, WriteOptions};
use zcrm_protocol::WriteResponse;

/// The most write calls a step keeps in flight at once.
pub const MAX_IN_FLIGHT: u32 = 8;

/// One write call for a sender.
#[derive(Debug)]
pub(crate) struct Job {
    /// The payload's journal sequence number.
    pub seq: i64,
    /// How the call treats its rows.
    pub kind: WriteKind,
    /// The step's write options.
    pub options: WriteOptions,
    /// The payload, in the dialect's encoding.
    pub payload: String,
}

/// A finished write call: the payload's sequence number and what the CRM answered.
pub(crate) type Done = (i64, Result<WriteResponse, ClientError>);

/// Sender threads of one step.
pub(crate) struct Senders {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    /// How many calls may be in flight at once.
    pub capacity: usize,
}

impl Senders {
    /// Starts `capacity` sender threads in `scope` that call `client` for `module`.
    pub fn start<'scope>(
        scope: &'scope Scope<'scope, '_>,
        client: &'scope dyn CrmApi,
        module: &'scope str,
        capacity: u32,
    ) -> Self {
        let capacity = capacity.clamp(1, MAX_IN_FLIGHT) as usize;
        let (jobs, queue) = channel::<Job>();
        let (report, done) = channel::<Done>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..capacity {
            let queue = Arc::clone(&queue);
            let report = report.clone();
            scope.spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job, never during a call.
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok(Job { seq, kind, options, payload })) = next else { break };
                    let result = client.write(module, kind, payload, &options);
                    if report.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        Self { jobs: Some(jobs), done, capacity }
    }

    /// Hands a payload (already journalled as in flight) to a sender.
    pub fn send(&self, job: Job) -> Result<(), Job> {
        match &self.jobs {
            Some(tx) => tx.send(job).map_err(|e| e.0),
            None => Err(job),
        }
    }

    /// Waits for the next finished call (`None` when every sender has stopped).
    pub fn next_done(&self) -> Option<Done> {
        self.done.recv().ok()
    }

    /// Lets the senders finish once their queue is empty.
    pub fn close(&mut self) {
        self.jobs = None;
    }
}

impl Drop for Senders {
    fn drop(&mut self) {
        self.close();
    }
}
