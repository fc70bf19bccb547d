//! The services that answer any request alike (hello, echo, hello1400): generated methods,
//! paths, headers and bodies get their one answer; hello1400's own parser gets raw bytes.

use hostile_input::raw::{exchange_and_half_close, request};
use hostile_input::{exchange, services};
use proptest::prelude::*;
use service_common::HttpConfig;

use crate::strategies::{self, encode, runtime, LIMIT};

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]).prop_map(str::to_owned),
        1 => "[A-Z]{1,12}",
    ]
}

fn target() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(strategies::path_segment(), 0..4),
        strategies::query(&["q"]),
    )
        .prop_map(|(segments, query)| {
            let path: String = segments.iter().map(|s| format!("/{}", encode(s))).collect();
            format!("{}?{query}", if path.is_empty() { "/" } else { &path })
        })
}

/// Runs the property against a service that must answer 200 and `body` to anything.
fn answers_anything(service: &str, port: u16, rt: &tokio::runtime::Runtime, body_wanted: &str) {
    proptest!(strategies::config(96), |(
        method in method(),
        target in target(),
        headers in strategies::headers(),
        body in prop::collection::vec(any::<u8>(), 0..256),
    )| {
        let headers: Vec<(&[u8], &[u8])> = headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
        let answer = rt.block_on(exchange(port, &request(&method, target.as_bytes(), &headers, &body), LIMIT));
        let case = format!("{service}: {method} {target}");
        // The health routes answer for themselves (405 to other methods, JSON).
        if target.starts_with("/healthz?") || target.starts_with("/readyz?") {
            prop_assert!(matches!(answer.status(), Some(200 | 405)), "{}: {}", case, answer.text());
            return Ok(());
        }
        prop_assert_eq!(answer.status(), Some(200), "{}: {}", case, answer.text());
        if method != "HEAD" {
            let body = answer.body();
            prop_assert_eq!(String::from_utf8_lossy(&body), body_wanted, "{}", case);
        }
    });
}

#[test]
fn hello_answers_its_greeting_to_any_generated_request() {
    let rt = runtime();
    let app = rt.block_on(services::hello(HttpConfig::for_tests()));
    answers_anything("hello", app.port, &rt, "hello world");
}

#[test]
fn echo_answers_its_host_name_to_any_generated_request() {
    let rt = runtime();
    let app = rt.block_on(services::echo(HttpConfig::for_tests()));
    answers_anything("echo", app.port, &rt, "replica-1");
}

#[test]
fn hello1400_answers_any_bytes_with_a_status_and_keeps_serving() {
    let rt = runtime();
    let port = services::hello1400(4);
    let bytes = prop_oneof![
        // Noise.
        prop::collection::vec(any::<u8>(), 0..300),
        // A request line and headers with noise in places.
        (method(), target(), strategies::headers()).prop_map(|(m, t, h)| {
            let headers: Vec<(&[u8], &[u8])> = h
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            request(&m, t.as_bytes(), &headers, b"")
        }),
        // Valid start, then a random tail.
        prop::collection::vec(any::<u8>(), 0..100).prop_map(|tail| {
            let mut r = b"GET / HTTP/1.1\r\n".to_vec();
            r.extend_from_slice(&tail);
            r
        }),
    ];
    proptest!(strategies::config(128), |(bytes in bytes)| {
        let answer = rt.block_on(exchange_and_half_close(port, &bytes, LIMIT));
        let case = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
        // Silence is allowed only when the client sent nothing at all.
        if let Some(status) = answer.status() {
            prop_assert!(matches!(status, 200 | 400 | 411 | 413 | 431 | 505), "{:?}: {}", case, answer.text());
        } else {
            prop_assert!(answer.bytes.is_empty(), "{:?}: not HTTP: {}", case, answer.text());
        }
        let check = rt.block_on(exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", LIMIT));
        prop_assert_eq!(check.status(), Some(200), "after {:?}", case);
    });
}
