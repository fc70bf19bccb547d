//! A minimal HTTP/1.x server on the standard library alone: every well-formed request gets
//! `200 hello world`, whatever its method and path; a malformed one gets a 4xx and the
//! server carries on.
//!
//! Each connection carries one request and is then closed (`Connection: close`), which keeps
//! the parser small: no keep-alive, no pipelining, no chunked bodies to frame.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The default port.
pub const DEFAULT_PORT: u16 = 1400;
/// Threads accepting and answering connections.
pub const WORKERS: usize = 8;
/// The most bytes of request line plus headers accepted before answering 431.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its whole request (a deadline, not a per-read
/// timeout: a client trickling a byte a second cannot hold a worker for longer either).
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The most body bytes read (and discarded) so the client sees the answer rather than a
/// connection reset; larger bodies get 413.
pub const MAX_BODY: u64 = 64 * 1024;

/// `PORT` when set (a clear message when it is not a port number), else 1400.
pub fn port_from_env() -> Result<u16, String> {
    match std::env::var("PORT") {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_PORT),
        Err(std::env::VarError::NotUnicode(_)) => Err("PORT is not valid UTF-8".into()),
        Ok(v) if v.trim().is_empty() => Ok(DEFAULT_PORT),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|e| format!("PORT={v:?} is invalid: {e}")),
    }
}

/// Serves forever on `listener` with `workers` threads, each accepting in turn. Errors of
/// one connection are logged and never stop the server.
pub fn serve(listener: TcpListener, workers: usize) -> io::Result<()> {
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers.max(1) {
        let listener = listener.try_clone()?;
        handles.push(thread::spawn(move || accept_loop(&listener)));
    }
    for handle in handles {
        // A worker only returns if it panicked; the others keep serving meanwhile.
        let _ = handle.join();
    }
    Ok(())
}

fn accept_loop(listener: &TcpListener) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Err(err) = handle(stream) {
                    eprintln!("connection from {peer}: {err}");
                }
            }
            // Running out of file descriptors and the like: wait a little instead of spinning.
            Err(err) => {
                eprintln!("accept failed: {err}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// What a request turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Well-formed: answer `hello world`. `body` is the declared body length.
    Hello { head_only: bool, body: u64 },
    /// Malformed: answer this status and a short reason.
    Reject(u16, &'static str),
}

fn handle(stream: TcpStream) -> io::Result<()> {
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(Deadline::new(stream.try_clone()?, READ_TIMEOUT));
    let verdict = match read_head(&mut reader) {
        Ok(head) => judge(&head),
        Err(err) if err.kind() == io::ErrorKind::InvalidData => {
            Verdict::Reject(431, "request header fields too large")
        }
        // The client went away or stayed silent: nobody to answer.
        Err(err) if is_gone(&err) => return Ok(()),
        Err(err) => return Err(err),
    };
    let mut stream = stream;
    match verdict {
        Verdict::Hello { head_only, body } => {
            // Read the body out so closing does not reset the connection under the answer.
            io::copy(&mut reader.by_ref().take(body), &mut io::sink())?;
            let response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world";
            let end = if head_only {
                response.len() - "hello world".len()
            } else {
                response.len()
            };
            stream.write_all(&response[..end])?;
        }
        Verdict::Reject(status, reason) => {
            let text = format!("{reason}\n");
            let response = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            stream.write_all(response.as_bytes())?;
        }
    }
    stream.flush()?;
    // Tell the client we are done, then give its last bytes a moment so close() does not
    // turn unread input into a reset that could swallow the answer.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = io::copy(&mut reader.take(MAX_BODY), &mut io::sink());
    Ok(())
}

/// A stream whose reads all end by one deadline: before each read, the socket's timeout is
/// set to the time left.
struct Deadline {
    stream: TcpStream,
    deadline: Instant,
}

impl Deadline {
    fn new(stream: TcpStream, limit: Duration) -> Self {
        Deadline {
            stream,
            deadline: Instant::now() + limit,
        }
    }
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

fn is_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
    )
}

/// Reads the request line and headers, up to the blank line. More than [`MAX_HEAD`] bytes
/// is `InvalidData`; end of input before the blank line is `UnexpectedEof` unless something
/// was read (then the partial head is judged, and found malformed).
fn read_head(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader
            .by_ref()
            .take((MAX_HEAD + 1 - head.len()) as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if head.is_empty() {
                Err(io::ErrorKind::UnexpectedEof.into())
            } else {
                Ok(head)
            };
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD {
            return Err(io::ErrorKind::InvalidData.into());
        }
        if line == b"\r\n" || line == b"\n" {
            // A blank line before any request line is tolerated (RFC 9112, 2.2).
            if head.len() == line.len() {
                head.clear();
                continue;
            }
            return Ok(head);
        }
        if !line.ends_with(b"\n") {
            // End of input in the middle of a line.
            return Ok(head);
        }
    }
}

/// Decides on a request head (request line and headers, with the blank line).
pub fn judge(head: &[u8]) -> Verdict {
    let Ok(text) = std::str::from_utf8(head) else {
        return Verdict::Reject(400, "bad request");
    };
    if !text.ends_with("\n\r\n") && !text.ends_with("\n\n") {
        return Verdict::Reject(400, "bad request");
    }
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Verdict::Reject(400, "bad request");
    };
    let method_ok = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !method_ok || target.is_empty() || target.contains(char::is_control) {
        return Verdict::Reject(400, "bad request");
    }
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Verdict::Reject(505, "http version not supported");
    }
    let mut body = 0;
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Verdict::Reject(400, "bad request");
        };
        if name.is_empty() || name.ends_with(' ') || name.contains(char::is_whitespace) {
            return Verdict::Reject(400, "bad request");
        }
        if name.eq_ignore_ascii_case("content-length") {
            match value.trim().parse::<u64>() {
                Ok(n) if n <= MAX_BODY => body = n,
                Ok(_) => return Verdict::Reject(413, "content too large"),
                Err(_) => return Verdict::Reject(400, "bad request"),
            }
        }
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // Framing a chunked body is more parser than this step wants to show.
            return Verdict::Reject(411, "length required");
        }
    }
    Verdict::Hello {
        head_only: method == "HEAD",
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_port_is_the_declared_one() {
        assert_eq!(DEFAULT_PORT, service_spec::HELLO1400.port());
    }

    #[test]
    fn well_formed_requests_get_hello() {
        let cases: [(&str, Verdict); 4] = [
            (
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                Verdict::Hello {
                    head_only: false,
                    body: 0,
                },
            ),
            (
                "DELETE /any/path?q=1 HTTP/1.0\r\n\r\n",
                Verdict::Hello {
                    head_only: false,
                    body: 0,
                },
            ),
            (
                "HEAD / HTTP/1.1\r\n\r\n",
                Verdict::Hello {
                    head_only: true,
                    body: 0,
                },
            ),
            (
                "POST /x HTTP/1.1\nContent-Length: 5\n\n",
                Verdict::Hello {
                    head_only: false,
                    body: 5,
                },
            ),
        ];
        for (head, want) in cases {
            assert_eq!(judge(head.as_bytes()), want, "case {head:?}");
        }
    }

    #[test]
    fn malformed_requests_are_rejected_with_the_right_status() {
        let cases: [(&[u8], u16); 10] = [
            (b"\r\n\r\n", 400),
            (b"GET /\r\n\r\n", 400),
            (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
            (b"G\x01T / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
            (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
            (b"GET / HTTP/1.1\r\nHost: \xff\r\n\r\n", 400),
        ];
        for (head, status) in cases {
            match judge(head) {
                Verdict::Reject(got, _) => assert_eq!(got, status, "case {head:?}"),
                other => panic!("case {head:?}: accepted as {other:?}"),
            }
        }
    }

    #[test]
    fn a_head_cut_short_is_malformed() {
        assert_eq!(
            judge(b"GET / HTTP/1.1\r\nHost: x"),
            Verdict::Reject(400, "bad request")
        );
    }
}
