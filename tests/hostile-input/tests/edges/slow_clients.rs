//! Slow clients: connections that send a byte a second must not hold back other requests,
//! must be cut off after a bounded time, and must not hold a graceful shutdown.

use std::time::Duration;

use hostile_input::raw::request;
use hostile_input::{exchange, services, Trickle};
use service_common::HttpConfig;

const LIMIT: Duration = Duration::from_secs(10);
const SECOND: Duration = Duration::from_secs(1);

/// A request head that never ends: a header value that goes on for `len` bytes.
fn endless_head(len: usize) -> Vec<u8> {
    let mut head = b"GET /info HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_vec();
    head.resize(head.len() + len, b'a');
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_sending_a_byte_a_second_do_not_hold_back_other_requests() {
    let catalog = services::catalog(HttpConfig::for_tests()).await;
    let echo = services::echo(HttpConfig::for_tests()).await;
    for (service, port) in [("catalog", catalog.port), ("echo", echo.port)] {
        let mut slow = Vec::new();
        // More slow connections than the machine has threads, workers or pool slots.
        for _ in 0..64 {
            slow.push(Trickle::start(port, endless_head(600), SECOND, Duration::ZERO).await);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for i in 0..20 {
            let answer = exchange(port, &request("GET", b"/healthz", &[], b""), LIMIT).await;
            assert_eq!(
                answer.status(),
                Some(200),
                "{service}: request {i} beside 64 slow clients"
            );
        }
        for trickle in slow {
            trickle.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_gets_408_and_stores_nothing() {
    let catalog = services::catalog(HttpConfig {
        request_timeout: Duration::from_secs(1),
        ..HttpConfig::for_tests()
    })
    .await;
    let body = br#"{"description":"slow but valid"}"#;
    let head = format!(
        "PUT /info/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The head at once, then the body a byte every 200 ms: 6 s in all, over the 1 s limit.
    let outcome = Trickle::after(
        catalog.port,
        head.into_bytes(),
        body.to_vec(),
        Duration::from_millis(200),
        SECOND,
    )
    .await
    .finish()
    .await;
    let answer = String::from_utf8_lossy(&outcome.answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"error":"the request took longer than the limit of 1000 ms"}"#),
        "{answer}"
    );
    assert!(
        outcome.written < body.len(),
        "the server waited for the whole body ({} bytes written)",
        outcome.written
    );
    let count: i64 = catalog
        .db()
        .await
        .query_one("SELECT count(*) FROM info", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 0);
}

/// A client that keeps its headers coming, a byte a second, forever: without a limit on
/// the time to send a head, each such connection is held open as long as the client likes
/// (a few thousand of them exhaust the file descriptors).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off() {
    let echo = services::echo(HttpConfig::for_tests()).await;
    // 40 bytes at one a second, and 5 s more: longer than any head should take.
    let outcome = Trickle::start(echo.port, endless_head(40), SECOND, Duration::from_secs(5))
        .await
        .finish()
        .await;
    let closed = outcome
        .closed_after
        .unwrap_or_else(|| panic!("still open after {} bytes in 45 s", outcome.written));
    let answer = String::from_utf8_lossy(&outcome.answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "closed after {closed:?} with {answer:?}"
    );
}

/// A connection still sending its head counts as busy to hyper's graceful shutdown: one slow
/// client must not keep a stopping service alive until `docker stop` kills it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_client_does_not_hold_a_graceful_shutdown() {
    let echo = services::echo(HttpConfig::for_tests()).await;
    let port = echo.port;
    let slow = Trickle::start(port, endless_head(600), SECOND, Duration::ZERO).await;
    // A request in flight when the stop comes must still complete.
    let healthy = exchange(port, &request("GET", b"/", &[], b""), LIMIT).await;
    assert_eq!(healthy.status(), Some(200));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The request timeout (10 s) bounds how long a shutdown may wait for in-flight work; a
    // connection that never finished its head has nothing in flight.
    assert!(
        echo.stop(Duration::from_secs(12)).await,
        "the server was still running 12 s after the stop"
    );
    slow.abort();
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err());
}

/// A client that sends a byte every second would never trip a per-read timeout and could
/// hold one of hello1400's worker threads as long as it liked: as many such clients as
/// workers and it would answer nobody else. Its deadline covers the whole request.
#[test]
fn hello1400_workers_are_not_held_by_clients_sending_a_byte_a_second() {
    let port = services::hello1400(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let mut slow = Vec::new();
        for _ in 0..2 {
            slow.push(Trickle::start(port, endless_head(600), SECOND, Duration::ZERO).await);
        }
        tokio::time::sleep(SECOND).await;
        // hello1400 promises a client at most READ_TIMEOUT (5 s); allow twice that.
        let answer = exchange(
            port,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            hello1400::READ_TIMEOUT * 2,
        )
        .await;
        assert_eq!(answer.status(), Some(200), "{}", answer.text());
        for trickle in slow {
            trickle.abort();
        }
    });
}
