//! The server life cycle: bind first (so tests can ask for port 0 and read the real port),
//! serve until a shutdown signal, then finish the requests already in flight.

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::config::HttpConfig;
use crate::layers;

/// Failure to start serving.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

/// A bound, not yet serving, HTTP server with the shared layers around its routes.
pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
    /// Bounds the time to send a head, and how long a shutdown waits for connections.
    request_timeout: Duration,
}

impl Application {
    /// Binds `config.host:config.port` and wraps `routes` (which should already hold the
    /// health routes) with the shared layers of [`layers::apply`].
    pub async fn build(config: &HttpConfig, routes: Router) -> Result<Self, StartError> {
        let address = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| StartError::Bind {
                address: address.clone(),
                source,
            })?;
        let address = listener
            .local_addr()
            .map_err(|source| StartError::Bind { address, source })?;
        Ok(Self {
            listener,
            router: layers::apply(routes, config),
            address,
            request_timeout: config.request_timeout,
        })
    }

    /// The port actually bound (the chosen one when the configuration said 0).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The address actually bound.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting and waits for in-flight
    /// requests (each bounded by the request timeout).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(crate::shutdown::signal()).await
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests: what
    /// [`run_until_stopped`](Self::run_until_stopped) does, with the trigger given by the caller
    /// (tests, or a service that stops for its own reasons).
    ///
    /// The accept loop is hyper's own rather than `axum::serve`, for two HTTP/1 settings that
    /// `axum::serve` does not expose: answers to pipelined requests leave in one write
    /// (`pipeline_flush`), and a client gets the request timeout (at most
    /// [`HEADER_READ_TIMEOUT`]) to send its headers.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tracing::info!(address = %self.address, "listening");
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(err) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            // Small answers leave at once instead of waiting behind Nagle's algorithm.
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.request_timeout.min(HEADER_READ_TIMEOUT))
                .pipeline_flush(true)
                .serve_connection(
                    TokioIo::new(stream),
                    TowerToHyperService::new(self.router.clone()),
                );
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(err) = connection.await {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        // Idle keep-alive connections close now; busy ones after their answer, each bounded
        // by the request timeout. A connection still trickling its head has nothing in
        // flight but counts as busy to hyper: stop waiting for it after the request timeout
        // (and the head's own), so one slow client cannot hold a stopping service.
        let patience = self.request_timeout * 2 + SHUTDOWN_GRACE;
        if tokio::time::timeout(patience, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                ?patience,
                "connections still open after the shutdown grace; closing them"
            );
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The longest a client has to send a request's headers (less when the request timeout is).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Added to the request timeouts a shutdown waits, for answers already being written.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// What a service binary's `main` returns for the outcome of its run: success, or 1 after
/// printing the error with its causes (the `{:#}` form, as anyhow writes a chain) on stderr.
pub fn exit_code<E: Display>(outcome: Result<(), E>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use crate::config::ErrorBody;
    use crate::health::{self, Readiness};

    async fn raw_request(port: u16, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    /// A server on a free port until the returned sender is used or dropped; its task
    /// ends with the server's result.
    async fn serve(
        config: &HttpConfig,
        routes: Router,
    ) -> (
        u16,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let app = Application::build(config, routes).await.unwrap();
        let port = app.port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        (port, stop, server)
    }

    fn slow_routes() -> Router {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "finished"
                }),
            )
            .merge(health::router(Readiness::always()))
    }

    #[tokio::test]
    async fn port_zero_binds_a_free_port_that_answers() {
        let app = Application::build(&HttpConfig::for_tests(), slow_routes())
            .await
            .unwrap();
        let port = app.port();
        assert_ne!(port, 0);
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let response = raw_request(
            port,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            response.to_ascii_lowercase().contains("x-request-id: "),
            "{response}"
        );
    }

    #[tokio::test]
    async fn a_request_id_sent_by_the_caller_is_returned() {
        let (port, _stop, _server) = serve(&HttpConfig::for_tests(), slow_routes()).await;
        let response = raw_request(
            port,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nx-request-id: abc-123\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(response.contains("x-request-id: abc-123"), "{response}");
    }

    #[tokio::test]
    async fn shutdown_finishes_the_request_in_flight_then_refuses_new_ones() {
        let (port, stop, server) = serve(&HttpConfig::for_tests(), slow_routes()).await;
        let in_flight = tokio::spawn(raw_request(
            port,
            "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ));
        // Let the request reach the handler before asking the server to stop.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.send(()).unwrap();
        let response = in_flight.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("finished"), "{response}");
        server.await.unwrap().unwrap();
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_request_over_the_timeout_gets_408() {
        let config = HttpConfig {
            request_timeout: Duration::from_millis(50),
            ..HttpConfig::for_tests()
        };
        let (port, _stop, _server) = serve(&config, slow_routes()).await;
        let response = raw_request(
            port,
            "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 408"), "{response}");
        assert!(
            response.contains("content-type: text/plain")
                && response.ends_with("the request took longer than the limit of 50 ms"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn a_json_service_words_the_limits_errors_in_json() {
        let config = HttpConfig {
            request_timeout: Duration::from_millis(50),
            body_limit: 16,
            error_body: ErrorBody::Json,
            ..HttpConfig::for_tests()
        };
        let routes =
            slow_routes().route("/echo", axum::routing::post(|body: String| async { body }));
        let (port, _stop, _server) = serve(&config, routes).await;
        let response = raw_request(
            port,
            "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 408"), "{response}");
        assert!(
            response.contains("content-type: application/json")
                && response
                    .ends_with(r#"{"error":"the request took longer than the limit of 50 ms"}"#),
            "{response}"
        );
        // Declared too long, and too long without a declared length: the same answer.
        for request in [
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{}", "x".repeat(17)),
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n11\r\n{}\r\n0\r\n\r\n", "x".repeat(17)),
        ] {
            let response = raw_request(port, &request).await;
            assert!(response.starts_with("HTTP/1.1 413"), "{response}");
            assert!(
                response.contains("content-type: application/json")
                    && response.ends_with(
                        r#"{"error":"the request body is larger than the limit of 16 bytes"}"#
                    ),
                "{response}"
            );
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_gets_413() {
        let config = HttpConfig {
            body_limit: 16,
            ..HttpConfig::for_tests()
        };
        let routes =
            Router::new().route("/echo", axum::routing::post(|body: String| async { body }));
        let (port, _stop, _server) = serve(&config, routes).await;
        let body = "x".repeat(17);
        let response = raw_request(
            port,
            &format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{body}"),
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
        assert!(
            response.ends_with("the request body is larger than the limit of 16 bytes"),
            "{response}"
        );
        let response = raw_request(
            port,
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        )
        .await;
        assert!(
            response.starts_with("HTTP/1.1 200") && response.ends_with("hello"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn binding_a_taken_port_names_the_address() {
        let first = Application::build(&HttpConfig::for_tests(), Router::new())
            .await
            .unwrap();
        let config = HttpConfig {
            port: first.port(),
            ..HttpConfig::for_tests()
        };
        let err = Application::build(&config, Router::new())
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!("cannot listen on 127.0.0.1:{}", first.port())
        );
    }
}
