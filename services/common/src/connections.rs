//! The connections a server has accepted, and how they close when it stops.
//!
//! hyper-util's `GracefulShutdown` asks every connection to close at once, and hyper closes a
//! connection that has not read anything yet without reading it. A connection accepted just
//! before the stop usually has its request in the socket buffer already: its client sent it
//! and would see the connection lost. Here a connection that has not brought its first
//! request gets [`FIRST_REQUEST_GRACE`] to do so before it is asked to close; every other one
//! finishes the request in flight (if any) and closes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};

/// How long a connection accepted before the stop may take to send its first request.
pub const FIRST_REQUEST_GRACE: Duration = Duration::from_millis(500);

/// The server's open connections, each on its own task.
pub struct Connections {
    /// Sends `true` when the server stops; every connection task holds a receiver, so the
    /// sender sees all of them gone once the last connection has closed.
    stop: watch::Sender<bool>,
    router: Router,
    header_read_timeout: Duration,
}

impl Connections {
    pub fn new(router: Router, header_read_timeout: Duration) -> Self {
        Self {
            stop: watch::Sender::new(false),
            router,
            header_read_timeout,
        }
    }

    /// Serves `stream` on a task of its own until it closes or the server stops.
    pub fn serve(&self, stream: TcpStream) {
        // Small answers leave at once instead of waiting behind Nagle's algorithm.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        let first_request = Arc::new(Notify::new());
        let seen = first_request.clone();
        // A stored permit: the notice is kept for a wait that starts later.
        let service = tower::util::MapRequest::new(self.router.clone(), move |request| {
            seen.notify_one();
            request
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .pipeline_flush(true)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let grace = tokio::time::sleep(Duration::MAX);
            let mut grace = std::pin::pin!(grace);
            let (mut stopping, mut asked_to_close) = (false, false);
            let ended = loop {
                tokio::select! {
                    ended = connection.as_mut() => break ended,
                    _ = stop.wait_for(|stopping| *stopping), if !stopping => {
                        stopping = true;
                        grace.as_mut().reset(tokio::time::Instant::now() + FIRST_REQUEST_GRACE);
                    }
                    () = first_request.notified(), if stopping && !asked_to_close => {
                        asked_to_close = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    () = &mut grace, if stopping && !asked_to_close => {
                        asked_to_close = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            };
            if let Err(err) = ended {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(stop);
        });
    }

    /// Asks every connection to close (see the module's comment) and waits until all have.
    pub async fn close(self) {
        self.stop.send_replace(true);
        self.stop.closed().await;
    }
}
