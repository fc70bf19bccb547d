//! hello1400 over loopback: real sockets, well-formed and malformed requests, and the binary.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn start() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || hello1400::serve(listener, 2));
    port
}

fn exchange(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

fn assert_hello(port: u16) {
    let response = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nhello world"), "{response}");
}

#[test]
fn any_method_and_path_gets_hello_world() {
    let port = start();
    for request in [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /some/where?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "PUT /healthz HTTP/1.0\r\n\r\n",
        "BREW /pot HTTP/1.1\r\n\r\n",
    ] {
        let response = exchange(port, request.as_bytes());
        assert!(
            response.starts_with("HTTP/1.1 200 OK"),
            "{request:?}: {response}"
        );
        assert!(response.ends_with("hello world"), "{request:?}: {response}");
    }
    let head = exchange(port, b"HEAD / HTTP/1.1\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200 OK") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
}

#[test]
fn malformed_requests_get_an_error_and_the_server_keeps_serving() {
    let port = start();
    let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let cases: [(&[u8], &str); 6] = [
        (b"\x00\x01\x02\xff\xfe\r\n\r\n", "HTTP/1.1 400"),
        (b"GET\r\n\r\n", "HTTP/1.1 400"),
        (b"GET / HTTP/9.9\r\n\r\n", "HTTP/1.1 505"),
        (b"GET / HTTP/1.1\r\nbroken header\r\n\r\n", "HTTP/1.1 400"),
        (
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 411",
        ),
        (long_header.as_bytes(), "HTTP/1.1 431"),
    ];
    for (request, status) in cases {
        let response = exchange(port, request);
        assert!(
            response.starts_with(status),
            "case {:?}: {response}",
            String::from_utf8_lossy(&request[..request.len().min(40)])
        );
        assert_hello(port);
    }
}

#[test]
fn clients_that_hang_up_or_stay_silent_do_not_stop_the_server() {
    let port = start();
    // Connect and close at once, send half a request and close: no answer is possible.
    drop(TcpStream::connect(("127.0.0.1", port)).unwrap());
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET / HT").unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = half.read_to_end(&mut rest);
    assert!(String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 400"));
    // A silent client holds one of the two workers; the other still answers.
    let _silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_hello(port);
    assert_hello(port);
}

#[test]
fn the_binary_serves_on_port_and_refuses_a_bad_port() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello1400"))
        .env("PORT", port.to_string())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "hello1400 did not start listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_hello(port);
    child.kill().unwrap();
    child.wait().unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_hello1400"))
        .env("PORT", "not-a-port")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: PORT=\"not-a-port\" is invalid: invalid digit found in string\n"
    );
}
