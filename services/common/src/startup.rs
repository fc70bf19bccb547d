//! The server life cycle: bind first (so tests can ask for port 0 and read the real port),
//! serve until a shutdown signal, then finish the requests already in flight. `/metrics` is
//! served beside, on the metrics port, until the service stops.

use std::fmt::Display;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::process::ExitCode;

use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::HttpConfig;
use crate::connections::{Connections, FIRST_REQUEST_GRACE};
use crate::layers;
use crate::metrics::Metrics;
use crate::running::Running;
use crate::stopping::{Stopping, UnreadyWhileStoppingLayer};

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

/// A bound, not yet serving, HTTP server with the shared layers around its routes, and its
/// metrics server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
    metrics_listener: TcpListener,
    metrics_router: Router,
    metrics_address: SocketAddr,
    /// Bounds the time to send a head, and how long a shutdown waits for connections.
    request_timeout: Duration,
    /// How long to go on serving after the shutdown signal, with `/readyz` unready.
    shutdown_delay: Duration,
    stopping: Stopping,
}

impl Application {
    /// Binds `config.host:config.port` and wraps `routes` (which should already hold the
    /// health routes) with the shared layers of [`layers::apply`]; binds
    /// `config.host:config.metrics_port` for `/metrics`. A service without metrics of its own.
    pub async fn build(config: &HttpConfig, routes: Router) -> Result<Self, StartError> {
        Self::build_with_metrics(config, routes, Metrics::new()).await
    }

    /// [`build`](Self::build) for a service that registered metrics of its own in `metrics`;
    /// the request metrics are added to them.
    pub async fn build_with_metrics(
        config: &HttpConfig,
        routes: Router,
        metrics: Metrics,
    ) -> Result<Self, StartError> {
        let (listener, address) = bind(&config.host, config.port).await?;
        let (metrics_listener, metrics_address) = bind(&config.host, config.metrics_port).await?;
        let stopping = Stopping::default();
        let routes = routes.layer(UnreadyWhileStoppingLayer(stopping.clone()));
        Ok(Self {
            listener,
            router: layers::apply(routes, config, &metrics),
            address,
            metrics_listener,
            metrics_router: metrics.router(),
            metrics_address,
            request_timeout: config.request_timeout,
            shutdown_delay: config.shutdown_delay,
            stopping,
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

    /// The metrics port actually bound.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_address.port()
    }

    /// Serves on a task of its own until the returned handle stops it or is dropped.
    pub fn spawn(self) -> Running {
        let (port, metrics_port) = (self.port(), self.metrics_port());
        Running::spawn(port, metrics_port, |stop| async move {
            Ok(self.run_until(stop.wait()).await?)
        })
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
        tracing::info!(address = %self.address, metrics = %self.metrics_address, "listening");
        let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics_serve = axum::serve(self.metrics_listener, self.metrics_router)
            .with_graceful_shutdown(async {
                let _ = metrics_stopped.await;
            });
        let mut metrics_server = tokio::spawn(metrics_serve.into_future());
        let connections =
            Connections::new(self.router, self.request_timeout.min(HEADER_READ_TIMEOUT));
        let mut shutdown = std::pin::pin!(shutdown);
        // The shutdown delay starts when the signal comes; until then it never ends.
        let delay_over = tokio::time::sleep(Duration::MAX);
        let mut delay_over = std::pin::pin!(delay_over);
        let mut signalled = false;
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
                () = &mut shutdown, if !signalled => {
                    signalled = true;
                    if self.shutdown_delay.is_zero() {
                        break;
                    }
                    self.stopping.start();
                    tracing::info!(
                        delay = ?self.shutdown_delay,
                        "stopping: serving on, unready, until the delay is over"
                    );
                    delay_over
                        .as_mut()
                        .reset(tokio::time::Instant::now() + self.shutdown_delay);
                    continue;
                }
                () = &mut delay_over => break,
            };
            connections.serve(stream);
        }
        self.stopping.start();
        // Connections the kernel has completed but the loop has not accepted yet would be
        // reset when the listener closes, although their clients already sent a request:
        // accept every one that is queued (asking the socket itself, not the readiness the
        // runtime last saw), then close.
        match self.listener.into_std() {
            Ok(listener) => {
                while let Ok((stream, _peer)) = listener.accept() {
                    match stream
                        .set_nonblocking(true)
                        .and_then(|()| tokio::net::TcpStream::from_std(stream))
                    {
                        Ok(stream) => connections.serve(stream),
                        Err(err) => {
                            tracing::debug!(error = %err, "cannot serve a queued connection")
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot accept the queued connections"),
        }
        // Idle keep-alive connections close now; new ones after their first request; busy
        // ones after their answer, each bounded by the request timeout. A connection still
        // trickling its head has nothing in flight but counts as busy to hyper: stop waiting
        // for it after the request timeout (and the head's own), so one slow client cannot
        // hold a stopping service.
        let patience = self.request_timeout * 2 + FIRST_REQUEST_GRACE + SHUTDOWN_GRACE;
        if tokio::time::timeout(patience, connections.close())
            .await
            .is_err()
        {
            tracing::warn!(
                ?patience,
                "connections still open after the shutdown grace; closing them"
            );
        }
        // Metrics are served until the requests above are done, so a scrape during the
        // shutdown still sees them.
        // A scraper's idle keep-alive connection must not hold the stop: it gets a grace,
        // then is cut.
        let _ = metrics_stop.send(());
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut metrics_server).await {
            Ok(Ok(Err(err))) => tracing::warn!(error = %err, "metrics server failed"),
            Ok(Err(err)) => tracing::warn!(error = %err, "metrics server panicked"),
            Ok(Ok(Ok(()))) => {}
            Err(_) => metrics_server.abort(),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

async fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), StartError> {
    let address = format!("{host}:{port}");
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|source| StartError::Bind {
            address: address.clone(),
            source,
        })?;
    let address = listener
        .local_addr()
        .map_err(|source| StartError::Bind { address, source })?;
    Ok((listener, address))
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
    async fn connections_queued_when_the_signal_comes_are_answered_not_reset() {
        let app = Application::build(&HttpConfig::for_tests(), slow_routes())
            .await
            .unwrap();
        let port = app.port();
        // The listener is bound: the kernel completes these handshakes and queues them
        // before the server has accepted any, as happens when SIGTERM meets a busy loop.
        let mut queued = Vec::new();
        for _ in 0..20 {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            queued.push(stream);
        }
        // The signal has already come when the server starts.
        app.run_until(async {}).await.unwrap();
        for (i, mut stream) in queued.into_iter().enumerate() {
            let mut response = String::new();
            let read = stream.read_to_string(&mut response).await;
            assert!(
                read.is_ok() && response.starts_with("HTTP/1.1 200"),
                "queued connection {i}: {read:?} {response:?}"
            );
        }
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_connection_that_never_sends_a_request_does_not_hold_the_stop() {
        let (port, stop, server) = serve(&HttpConfig::for_tests(), slow_routes()).await;
        let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        // Accepted and served, but it never sends anything.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.send(()).unwrap();
        // The request timeout (30 s) would be the bound otherwise; the first request's grace
        // is half a second.
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the silent connection held the stop")
            .unwrap()
            .unwrap();
        let mut rest = Vec::new();
        assert_eq!(silent.read_to_end(&mut rest).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_shutdown_delay_serves_on_with_readyz_unready_then_stops() {
        let config = HttpConfig {
            shutdown_delay: Duration::from_millis(700),
            ..HttpConfig::for_tests()
        };
        let (port, stop, server) = serve(&config, slow_routes()).await;
        let ready = raw_request(
            port,
            "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
        stop.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stopping = raw_request(
            port,
            "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(stopping.starts_with("HTTP/1.1 503"), "{stopping}");
        assert!(stopping.contains(r#""name":"shutdown""#), "{stopping}");
        // Other routes are served as before while the delay lasts.
        let slow = raw_request(
            port,
            "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            slow.starts_with("HTTP/1.1 200") && slow.ends_with("finished"),
            "{slow}"
        );
        assert!(
            !server.is_finished(),
            "the server stopped before its delay was over"
        );
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

    /// `GET /metrics` on the metrics port of a server built by [`serve_with_metrics`].
    async fn scrape(metrics_port: u16) -> String {
        let response = raw_request(
            metrics_port,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    async fn serve_with_metrics(routes: Router) -> (u16, u16, tokio::sync::oneshot::Sender<()>) {
        let app = Application::build(&HttpConfig::for_tests(), routes)
            .await
            .unwrap();
        let (port, metrics_port) = (app.port(), app.metrics_port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        (port, metrics_port, stop)
    }

    #[tokio::test]
    async fn metrics_are_served_on_their_own_port_only() {
        let (port, metrics_port, _stop) = serve_with_metrics(slow_routes()).await;
        assert_ne!(port, metrics_port);
        for _ in 0..3 {
            raw_request(
                port,
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
        }
        let text = scrape(metrics_port).await;
        assert!(
            text.contains(r#"http_requests_total{route="/healthz",method="GET",status="200"} 3"#),
            "{text}"
        );
        let on_the_service_port = raw_request(
            port,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            on_the_service_port.starts_with("HTTP/1.1 404"),
            "{on_the_service_port}"
        );
    }

    /// splitmix64: reproducible random input without a dependency.
    fn next_random(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A random request target (path and maybe a query) of 1 to 40 characters after the `/`,
    /// with percent-escapes, and a marker so the test can look for it.
    fn random_target(state: &mut u64, marker: usize) -> String {
        const CHARS: &[u8] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%?=&{}";
        let len = 1 + (next_random(state) % 40) as usize;
        let mut target = format!("/zq{marker}x");
        for _ in 0..len {
            let c = CHARS[(next_random(state) % CHARS.len() as u64) as usize];
            match c {
                b'%' => target.push_str(&format!("%{:02X}", next_random(state) % 256)),
                b'{' | b'}' => target.push_str(&format!("%{:02X}", c)),
                c => target.push(char::from(c)),
            }
        }
        target
    }

    #[tokio::test]
    async fn random_paths_and_methods_never_reach_the_labels() {
        let routes = slow_routes().route("/info/{name}", get(|| async { "entry" }));
        let (port, metrics_port, _stop) = serve_with_metrics(routes).await;
        let mut state = 0x5EED_u64;
        let methods = ["GET", "POST", "BREW", "PROPFIND", "DELETE", "X-RANDOM"];
        let mut targets = Vec::new();
        for marker in 0..400 {
            let method = methods[(next_random(&mut state) % methods.len() as u64) as usize];
            let target = if marker % 4 == 0 {
                format!("/info/zq{marker}x{}", next_random(&mut state))
            } else {
                random_target(&mut state, marker)
            };
            raw_request(
                port,
                &format!("{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            )
            .await;
            targets.push(target);
        }
        let text = scrape(metrics_port).await;
        let series: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("http_"))
            .collect();
        // Routes (/info/{name}, unmatched) x methods (GET, POST, DELETE, other) x a few
        // statuses, and their histograms: a few hundred lines at most, whatever was sent.
        assert!(series.len() < 300, "{} series:\n{text}", series.len());
        assert!(!text.contains("zq"), "a path reached the metrics:\n{text}");
        for method in ["BREW", "PROPFIND", "X-RANDOM"] {
            assert!(
                !text.contains(method),
                "{method} reached the metrics:\n{text}"
            );
        }
        assert!(text.contains(r#"route="unmatched""#), "{text}");
        assert!(text.contains(r#"route="/info/{name}""#), "{text}");
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
