//! Raw HTTP/1.1 over TCP: client libraries normalise paths (`/a/../b`), refuse invalid
//! header bytes and always send whole requests, which is what an attacker does not do.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// What the server sent back on one connection, up to the point it closed it (or the limit).
#[derive(Debug, Clone)]
pub struct Answer {
    pub bytes: Vec<u8>,
    /// Whether the server closed the connection before the limit.
    pub closed: bool,
}

impl Answer {
    /// The status code of the first response, if the server sent a status line.
    pub fn status(&self) -> Option<u16> {
        let text = std::str::from_utf8(self.bytes.get(..12)?).ok()?;
        text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.head();
        head.lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    }

    /// The status line and headers, as lossy text.
    pub fn head(&self) -> String {
        let end = find(&self.bytes, b"\r\n\r\n").unwrap_or(self.bytes.len());
        String::from_utf8_lossy(&self.bytes[..end]).into_owned()
    }

    /// The body, as sent (chunked bodies are de-chunked).
    pub fn body(&self) -> Vec<u8> {
        let Some(end) = find(&self.bytes, b"\r\n\r\n") else {
            return Vec::new();
        };
        let body = &self.bytes[end + 4..];
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        }
    }

    /// The body as JSON, or a panic naming `case` and what came back.
    pub fn json(&self, case: &str) -> serde_json::Value {
        serde_json::from_slice(&self.body()).unwrap_or_else(|e| {
            panic!(
                "case {case}: body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    /// The whole answer as lossy text, for failure messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(body, b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size else { break };
        if size == 0 || body.len() < line_end + 2 + size {
            break;
        }
        out.extend_from_slice(&body[line_end + 2..line_end + 2 + size]);
        body = &body[(line_end + 4 + size).min(body.len())..];
    }
    out
}

/// Sends `request` on a fresh connection to `127.0.0.1:port` and reads until the server
/// closes the connection or `limit` passes (the requests should say `Connection: close`).
/// Writing and reading run at once: a server may answer, and close, before it has read
/// everything, and what it answered is what counts.
pub async fn exchange(port: u16, request: &[u8], limit: Duration) -> Answer {
    exchange_with(port, request, limit, false).await
}

/// [`exchange`], then the client half-closes the connection after its last byte, so a server
/// waiting for the rest of a cut-short request sees the end at once instead of timing out.
/// (hyper servers close on a half-close without answering; use it with hello1400 only.)
pub async fn exchange_and_half_close(port: u16, request: &[u8], limit: Duration) -> Answer {
    exchange_with(port, request, limit, true).await
}

async fn exchange_with(port: u16, request: &[u8], limit: Duration, half_close: bool) -> Answer {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to 127.0.0.1:{port}: {e}"));
    let (mut reader, mut writer) = stream.into_split();
    let request = request.to_vec();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        if half_close {
            let _ = writer.shutdown().await;
        }
        writer
    });
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(limit, reader.read_to_end(&mut bytes))
        .await
        .is_ok();
    drop(writing.await);
    Answer { bytes, closed }
}

/// A request built from parts, with `Content-Length` and `Connection: close` added.
pub fn request(method: &str, target: &[u8], headers: &[(&[u8], &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A slow client: writes its bytes one at a time, `interval` apart, and notes whether and
/// when the server answered or closed the connection.
pub struct Trickle {
    task: JoinHandle<TrickleOutcome>,
}

/// How a trickling connection ended.
#[derive(Debug, Clone)]
pub struct TrickleOutcome {
    /// Bytes written one at a time (after the prefix) before the server closed the
    /// connection or the bytes ran out.
    pub written: usize,
    /// When, after the start, the server closed the connection (or answered and closed);
    /// `None` when it still held it open at the end.
    pub closed_after: Option<Duration>,
    /// What the server sent.
    pub answer: Vec<u8>,
}

impl Trickle {
    /// Connects now and starts writing `bytes` one per `interval`; after the last byte it
    /// waits up to `linger` for the server to answer or close.
    pub async fn start(port: u16, bytes: Vec<u8>, interval: Duration, linger: Duration) -> Self {
        Self::after(port, Vec::new(), bytes, interval, linger).await
    }

    /// [`Trickle::start`], after sending `prefix` at once (a whole head before a slow body).
    pub async fn after(
        port: u16,
        prefix: Vec<u8>,
        bytes: Vec<u8>,
        interval: Duration,
        linger: Duration,
    ) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to 127.0.0.1:{port}: {e}"));
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let (mut reader, mut writer) = stream.into_split();
            let mut answer = Vec::new();
            let mut buffer = [0u8; 4096];
            let mut written = 0;
            let mut closed_after = None;
            if writer.write_all(&prefix).await.is_err() {
                closed_after = Some(started.elapsed());
            }
            let bytes = if closed_after.is_some() {
                &[][..]
            } else {
                &bytes[..]
            };
            'bytes: for byte in bytes {
                if writer.write_all(&[*byte]).await.is_err() {
                    closed_after = Some(started.elapsed());
                    break;
                }
                written += 1;
                // Between two bytes, watch for the server answering or hanging up.
                let pause = tokio::time::sleep(interval);
                tokio::pin!(pause);
                loop {
                    tokio::select! {
                        () = &mut pause => break,
                        read = reader.read(&mut buffer) => match read {
                            Ok(0) | Err(_) => {
                                closed_after = Some(started.elapsed());
                                break 'bytes;
                            }
                            Ok(n) => answer.extend_from_slice(&buffer[..n]),
                        },
                    }
                }
            }
            if closed_after.is_none() {
                let mut rest = Vec::new();
                if tokio::time::timeout(linger, reader.read_to_end(&mut rest))
                    .await
                    .is_ok()
                {
                    closed_after = Some(started.elapsed());
                }
                answer.extend_from_slice(&rest);
            }
            TrickleOutcome {
                written,
                closed_after,
                answer,
            }
        });
        Self { task }
    }

    /// Waits for the connection to end as described in [`Trickle::start`].
    pub async fn finish(self) -> TrickleOutcome {
        self.task.await.expect("the trickling client panicked")
    }

    /// Stops writing and drops the connection.
    pub fn abort(self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_split_into_status_headers_and_body() {
        let answer = Answer {
            bytes: b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\
                transfer-encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"
                .to_vec(),
            closed: true,
        };
        assert_eq!(answer.status(), Some(404));
        assert_eq!(
            answer.header("Content-Type").as_deref(),
            Some("application/json")
        );
        assert_eq!(answer.body(), b"{\"a\":1}");
        assert_eq!(
            Answer {
                bytes: b"garbage".to_vec(),
                closed: true
            }
            .status(),
            None
        );
    }

    #[test]
    fn requests_carry_length_and_close() {
        let bytes = request("PUT", b"/info/x", &[(b"X-A", b"1")], b"{}");
        assert_eq!(
            bytes,
            b"PUT /info/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-A: 1\r\n\
              Content-Length: 2\r\n\r\n{}"
                .to_vec()
        );
    }
}
