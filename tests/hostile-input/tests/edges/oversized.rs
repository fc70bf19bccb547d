//! Oversized request lines, headers and bodies at every axum service: refused with a 4xx
//! before they cost memory, and the service serves the next request.

use std::time::Duration;

use hostile_input::raw::request;
use hostile_input::{exchange, services, Running};
use service_common::HttpConfig;

const LIMIT: Duration = Duration::from_secs(20);

async fn all_services() -> Vec<(&'static str, Running)> {
    let catalog = services::catalog(HttpConfig::for_tests()).await;
    let activity = services::activity(HttpConfig::for_tests(), &catalog.prefix).await;
    let web = services::web(HttpConfig::for_tests(), &catalog.base, &activity.base).await;
    let hello = services::hello(HttpConfig::for_tests()).await;
    let echo = services::echo(HttpConfig::for_tests()).await;
    vec![
        ("catalog", catalog),
        ("activity", activity),
        ("web", web),
        ("hello", hello),
        ("echo", echo),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_and_bodies_get_a_4xx_and_the_service_carries_on() {
    let long_value = vec![b'a'; 1024 * 1024];
    let many: Vec<(Vec<u8>, Vec<u8>)> = (0..500)
        .map(|i| (format!("X-Header-{i}").into_bytes(), b"v".to_vec()))
        .collect();
    let many: Vec<(&[u8], &[u8])> = many
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let long_path = format!("/{}", "a".repeat(1024 * 1024));
    let big_body = vec![b'x'; 2 * 1024 * 1024];
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        ("a 1 MB header", request("GET", b"/", &[(b"X-Big", &long_value)], b""), &[431, 400]),
        ("500 headers", request("GET", b"/", &many, b""), &[431, 400]),
        ("a 1 MB path", request("GET", long_path.as_bytes(), &[], b""), &[414, 431, 400]),
        ("a 2 MB body", request("POST", b"/", &[(b"Content-Type", b"application/json")], &big_body), &[413]),
        (
            "a 2 MB declared body, not sent",
            b"PUT /info/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n{".to_vec(),
            &[413],
        ),
    ];
    for (service, app) in all_services().await {
        for (what, bytes, statuses) in &cases {
            let answer = exchange(app.port, bytes, LIMIT).await;
            // hello and echo answer any path with 200 and read no body, so a large body
            // they never read is not refused: they must still answer and close.
            let status = answer.status();
            let ignores_bodies = matches!(service, "hello" | "echo") && what.contains("body");
            if ignores_bodies {
                assert!(
                    status.is_some_and(|s| s == 200 || s == 413),
                    "{service}, {what}: {}",
                    answer.head()
                );
            } else if status.is_none() && !what.contains("body") {
                // The server answers before it reads the rest of the head and closes; the
                // unread bytes make the close a reset, which can discard the answer before
                // the client reads it. Closing is the refusal that counts.
                assert!(answer.closed, "{service}, {what}: no answer and still open");
            } else {
                assert!(
                    status.is_some_and(|s| statuses.contains(&s)),
                    "{service}, {what}: wanted one of {statuses:?}, got {}",
                    answer.head()
                );
            }
            assert!(
                answer.closed,
                "{service}, {what}: the connection stayed open"
            );
            let check = exchange(app.port, &request("GET", b"/healthz", &[], b""), LIMIT).await;
            assert_eq!(check.status(), Some(200), "{service} after {what}");
        }
    }
}
