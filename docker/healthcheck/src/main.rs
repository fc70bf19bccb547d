//! `healthcheck [PATH]`: the probe every service image runs for its `HEALTHCHECK`.
//!
//! The final images hold no shell and no curl, so the probe is a static binary of its own,
//! on the standard library alone (a few hundred kilobytes). It sends `GET PATH` (default
//! `/healthz`) to `127.0.0.1:$PORT` over HTTP/1.0 and exits 0 when the status is 2xx, 1
//! otherwise (Docker's meaning of healthy and unhealthy), printing why on stdout, which
//! `docker inspect` shows in the container's health log. `HEALTHCHECK_PORT` overrides
//! `PORT` for a service configured another way.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// How long the service has to accept and answer; Docker's own timeout is the outer bound.
const TIMEOUT: Duration = Duration::from_secs(3);
/// The most bytes of the answer read: the status line is all the probe needs.
const MAX_READ: u64 = 1024;

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/healthz".into());
    let port = std::env::var("HEALTHCHECK_PORT").or_else(|_| std::env::var("PORT"));
    let result = port
        .map_err(|_| "neither HEALTHCHECK_PORT nor PORT is set".to_owned())
        .and_then(|port| parse_port(&port))
        .and_then(|port| probe(SocketAddr::from(([127, 0, 0, 1], port)), &path));
    match result {
        Ok(status) => {
            println!("{path}: {status}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("{path}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse_port(raw: &str) -> Result<u16, String> {
    raw.trim()
        .parse()
        .map_err(|e| format!("port {raw:?} is not a port number: {e}"))
}

/// Asks `addr` for `path`; Ok with the status code when it is 2xx.
fn probe(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("socket options: {e}"))?;
    // HTTP/1.0: the server closes the connection after one answer, no framing needed.
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nUser-Agent: healthcheck\r\n\r\n"
    )
    .map_err(|e| format!("send request: {e}"))?;
    let mut head = Vec::new();
    stream
        .take(MAX_READ)
        .read_to_end(&mut head)
        .map_err(|e| format!("read answer: {e}"))?;
    let status = status_code(&head)?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(format!("status {status}"))
    }
}

/// The status code of an HTTP/1.x answer's first line.
fn status_code(answer: &[u8]) -> Result<u16, String> {
    let line = answer.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => code
            .parse()
            .map_err(|_| format!("bad status line {:?}", line.trim_end())),
        _ if answer.is_empty() => Err("connection closed without an answer".into()),
        _ => Err(format!("not an HTTP answer: {:?}", line.trim_end())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn status_lines_parse_or_say_what_is_wrong() {
        let cases: [(&[u8], Result<u16, &str>); 6] = [
            (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", Ok(200)),
            (b"HTTP/1.0 503 Service Unavailable\r\n\r\n", Ok(503)),
            (b"HTTP/1.1 204\r\n\r\n", Ok(204)),
            (b"", Err("connection closed without an answer")),
            (
                b"SSH-2.0-OpenSSH\r\n",
                Err("not an HTTP answer: \"SSH-2.0-OpenSSH\""),
            ),
            (
                b"HTTP/1.1 abc OK\r\n",
                Err("bad status line \"HTTP/1.1 abc OK\""),
            ),
        ];
        for (answer, want) in cases {
            let got = status_code(answer);
            assert_eq!(
                got,
                want.map_err(str::to_owned),
                "answer {:?}",
                String::from_utf8_lossy(answer)
            );
        }
    }

    #[test]
    fn ports_that_are_not_numbers_are_refused_by_name() {
        assert_eq!(parse_port(" 1401 "), Ok(1401));
        assert!(parse_port("http").unwrap_err().contains("\"http\""));
        assert!(parse_port("70000").is_err());
    }

    /// A one-connection server answering `answer`; returns its address and the request line.
    fn serve_once(answer: &'static str) -> (SocketAddr, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
            request_line
        });
        (addr, handle)
    }

    #[test]
    fn a_2xx_answer_is_healthy_and_the_path_is_asked_for() {
        let (addr, server) = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert_eq!(probe(addr, "/readyz"), Ok(200));
        assert_eq!(server.join().unwrap(), "GET /readyz HTTP/1.0\r\n");
    }

    #[test]
    fn a_5xx_answer_is_unhealthy() {
        let (addr, server) = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(probe(addr, "/healthz"), Err("status 503".into()));
        server.join().unwrap();
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is dropped here, so the port refuses connections.
        let err = probe(addr, "/healthz").unwrap_err();
        assert!(err.starts_with(&format!("connect {addr}")), "{err}");
    }
}
