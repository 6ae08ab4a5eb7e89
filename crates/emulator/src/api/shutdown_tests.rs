//! A call that arrives while the emulator stops: it never runs, and it is answered as a server
//! going away answers, by a closed connection (not by a 4500 "internal error").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use crate::state::State;
use crate::{EmulatorConfig, clock, faults, ratelimit, reqlog, schema, server, store};

fn state(dir: &std::path::Path) -> Arc<State> {
    let cfg = EmulatorConfig::new(dir).token("t0k3n");
    Arc::new(State {
        clock: clock::Clock::new(jiff::tz::TimeZone::UTC, 0),
        faults: faults::Faults::default(),
        log: reqlog::RequestLog::new(100),
        tokens: RwLock::new(HashSet::from(["t0k3n".to_owned()])),
        rate: ratelimit::RateLimiter::default(),
        schema: schema::Schema::standard().unwrap(),
        store: store::Store::open(dir, store::Durability::Normal).unwrap(),
        cfg,
        rest: crate::rest::RestState::default(),
        origin: std::sync::OnceLock::new(),
    })
}

/// The runtime's blocking pool is shut down when the call would run (the emulator is being
/// stopped): the connection is closed without an answer and nothing is written.
#[test]
fn a_call_caught_by_the_shutdown_closes_its_connection_instead_of_answering_4500() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let router = super::router(st.clone());
    let (conn, killed) = server::Conn::detached();
    let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">Ann</FL><FL val=\"Company\">Co</FL></row></Leads>";
    let body = format!(
        "authtoken=t0k3n&scope=crmapi&version=4&xmlData={}",
        xml.replace('<', "%3C").replace('>', "%3E").replace('"', "%22").replace(' ', "+")
    );
    let mut req = Request::post("/crm/private/xml/Leads/insertRecords")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    req.extensions_mut().insert(conn);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let handle = rt.handle().clone();
    rt.shutdown_background();
    let _inside = handle.enter();
    let mut call = std::pin::pin!(router.oneshot(req));
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100 {
        if let Poll::Ready(answer) = call.as_mut().poll(&mut cx) {
            let body = axum::body::to_bytes(answer.unwrap().into_body(), 1 << 20);
            let mut body = std::pin::pin!(body);
            let Poll::Ready(Ok(text)) = body.as_mut().poll(&mut cx) else { panic!("a body") };
            panic!(
                "answered instead of closing the connection: {}",
                String::from_utf8_lossy(&text)
            );
        }
    }
    let mut notified = std::pin::pin!(killed.notified());
    assert!(notified.as_mut().poll(&mut cx).is_ready(), "the connection was closed");
    assert_eq!(st.store.read(store::records::counts).unwrap_or_default().len(), 0);
}
