//! The bulk worker: one thread that runs jobs one at a time, oldest first. A job stays `ADDED`
//! for `bulk_job_delay`, is `IN PROGRESS` while it runs and for another `bulk_job_delay`, then
//! `COMPLETED` (or `FAILED` / `FAILURE`). At start it picks up every job a stopped or killed
//! emulator left `ADDED` or `IN PROGRESS`: a write job resumes after its last committed row, a
//! read job runs again. When a finished job names a callback on loopback (`http://127.0.0.1`,
//! `localhost`, `[::1]`), the status JSON is POSTed there (once, best effort).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::jobs::{self, Job, Kind, states};
use super::{BulkError, read_plan, read_run, write_plan, write_run};
use crate::error::EmulatorError;
use crate::state::State;

/// Creates the bulk tables and folders and starts the worker.
pub fn spawn(st: Arc<State>) -> Result<std::thread::JoinHandle<()>, EmulatorError> {
    st.store.write(|tx| jobs::migrate(tx))?;
    for sub in ["uploads", "results"] {
        let d = jobs::dir(&st).join(sub);
        std::fs::create_dir_all(&d)
            .map_err(|e| EmulatorError::io(format!("creating {}", d.display()), e))?;
    }
    std::thread::Builder::new()
        .name("zcrm-emulator-bulk".to_owned())
        .spawn(move || work(&st))
        .map_err(|e| EmulatorError::io("spawning the bulk worker", e))
}

/// Why a job's run stopped early.
enum Stop {
    /// The emulator is stopping (or halted by the test hook).
    Quit,
}

fn work(st: &State) {
    let bulk = &st.rest.bulk;
    let mut seen = 0u64;
    loop {
        if bulk.stopping() {
            return;
        }
        match st.store.read(jobs::next_pending) {
            Ok(Some(job)) => {
                if let Err(Stop::Quit) = run(st, job) {
                    return;
                }
            }
            _ => {
                if bulk.idle(Duration::from_secs(1), &mut seen) {
                    return;
                }
            }
        }
    }
}

fn run(st: &State, job: Job) -> Result<(), Stop> {
    let bulk = &st.rest.bulk;
    let delay = st.cfg.bulk_job_delay;
    let mut job = job;
    if job.state == states::ADDED {
        if bulk.sleep(delay) {
            return Err(Stop::Quit);
        }
        let _ = st.store.write(|tx| jobs::set_state(tx, job.id, states::IN_PROGRESS));
        job.state = states::IN_PROGRESS.to_owned();
    }
    let stopping = || bulk.stopping();
    let failed_state = if job.kind == Kind::Write { states::FAILED } else { states::FAILURE };
    let internal = || json!({"code": "INTERNAL_ERROR", "message": "the job could not be run"});
    let outcome: Result<(), Value> = match job.kind {
        Kind::Write => match write_run::run(st, &job, &stopping) {
            Ok(write_run::Ended::Done) => {
                if bulk.sleep(delay) {
                    return Err(Stop::Quit);
                }
                let _ = st.store.write(|tx| jobs::set_state(tx, job.id, states::COMPLETED));
                Ok(())
            }
            Ok(write_run::Ended::Failed(e)) => Err(e),
            Ok(write_run::Ended::Halted) | Err(BulkError::Stopped) => return Err(Stop::Quit),
            Err(_) => Err(internal()),
        },
        Kind::Read => match read_run::run(st, &job, &stopping) {
            Ok(read_run::Ended::Done { result, next }) => {
                if bulk.sleep(delay) {
                    return Err(Stop::Quit);
                }
                let now = st.clock.now().as_second();
                let _ =
                    st.store.write(|tx| read_run::complete(tx, &job, &result, next.as_ref(), now));
                Ok(())
            }
            Ok(read_run::Ended::Failed(e)) => Err(e),
            Err(BulkError::Stopped) => return Err(Stop::Quit),
            Err(_) => Err(internal()),
        },
    };
    if let Err(e) = outcome {
        let _ = st.store.write(|tx| jobs::fail(tx, job.id, failed_state, &e));
    }
    callback(st, job.id);
    Ok(())
}

/// POSTs a finished job's status JSON to its loopback callback.
fn callback(st: &State, id: u64) {
    let Ok(Some(job)) = st.store.read(|c| jobs::job(c, id)) else { return };
    let Some(url) = job.request["callback"]["url"].as_str() else { return };
    let version = job.request["version"].as_str().unwrap_or("v8");
    let body = match job.kind {
        Kind::Write => write_plan::status_json(st, &job, version),
        Kind::Read => json!({"data": [read_plan::status_json(st, &job, version)], "info": {}}),
    };
    let _ = post_loopback(url, &body.to_string());
}

fn post_loopback(url: &str, body: &str) -> std::io::Result<()> {
    let rest = url.strip_prefix("http://").ok_or_else(|| std::io::Error::other("not http"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(std::io::Error::other("not loopback"));
    }
    let addr = authority.replace("localhost", "127.0.0.1");
    let addr = if addr.contains(':') && !addr.ends_with(']') { addr } else { format!("{addr}:80") };
    let sock: std::net::SocketAddr =
        addr.parse().map_err(|_| std::io::Error::other("bad callback address"))?;
    let mut s = std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut sink = [0u8; 512];
    let _ = s.read(&mut sink);
    Ok(())
}
