//! The accept loop: one hyper HTTP/1.1 connection per socket, optionally inside TLS. Each
//! request carries a [`Conn`] so a handler can close its connection without answering (the
//! `drop_after_commit` fault) and the admin surface can check the peer is on loopback.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, oneshot};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The connection a request came on.
#[derive(Debug, Clone)]
pub struct Conn {
    /// The peer address.
    pub peer: SocketAddr,
    kill: Arc<Notify>,
}

impl Conn {
    /// Closes the connection without sending (the rest of) a response.
    pub fn kill(&self) {
        self.kill.notify_one();
    }
}

/// Serves `router` on `listener` until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve_conn(s, peer, router).await;
                            }
                        }
                        None => serve_conn(stream, peer, router).await,
                    }
                });
            }
        }
    }
}

async fn serve_conn<I>(io: I, peer: SocketAddr, router: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let conn = Conn { peer, kill: kill.clone() };
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(conn.clone());
        let router = router.clone();
        async move { router.oneshot(req).await }
    });
    let http = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = http => {}
        _ = kill.notified() => {}
    }
}

#[cfg(test)]
impl Conn {
    /// A connection of no socket, and the signal its [`Conn::kill`] gives (tests).
    pub(crate) fn detached() -> (Self, Arc<Notify>) {
        let kill = Arc::new(Notify::new());
        (Self { peer: SocketAddr::from(([127, 0, 0, 1], 9)), kill: kill.clone() }, kill)
    }
}
