//! hello over loopback: the greeting, the content folder, the upstream role and its
//! failures, and the binary's start-up and shutdown.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use hello::Config;
use service_common::{Application, HttpConfig};

/// Starts `hello` with `config` and returns its base URL.
async fn spawn_hello(config: Config) -> String {
    let app = hello::build(&config).await.expect("hello starts");
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    url
}

/// Starts a stand-in upstream with the given routes and returns its base URL.
async fn spawn_upstream(routes: Router) -> String {
    let app = Application::build(&HttpConfig::for_tests(), routes)
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    url
}

async fn get_text(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request reaches hello");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn answers_hello_world_to_any_path_and_method() {
    let base = spawn_hello(Config::for_tests()).await;
    assert_eq!(get_text(&base).await, (200, "hello world".into()));
    assert_eq!(
        get_text(&format!("{base}/some/path?q=1")).await,
        (200, "hello world".into())
    );
    let response = reqwest::Client::new()
        .delete(format!("{base}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello world");
}

#[tokio::test]
async fn health_routes_answer() {
    let base = spawn_hello(Config::for_tests()).await;
    assert_eq!(
        get_text(&format!("{base}/healthz")).await,
        (200, "ok".into())
    );
    let (status, body) = get_text(&format!("{base}/readyz")).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"ready\":true"), "{body}");
}

#[tokio::test]
async fn the_greeting_comes_from_the_content_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("greeting.txt"),
        "hello from the mounted folder\n",
    )
    .unwrap();
    let config = Config {
        content_dir: Some(dir.path().to_owned()),
        ..Config::for_tests()
    };
    let base = spawn_hello(config.clone()).await;
    assert_eq!(
        get_text(&base).await,
        (200, "hello from the mounted folder".into())
    );
    // Read at start only: a change shows after a restart, as the compose step teaches.
    std::fs::write(dir.path().join("greeting.txt"), "changed\n").unwrap();
    assert_eq!(
        get_text(&base).await,
        (200, "hello from the mounted folder".into())
    );
    let restarted = spawn_hello(config).await;
    assert_eq!(get_text(&restarted).await, (200, "changed".into()));
}

#[tokio::test]
async fn a_missing_greeting_file_stops_start_up_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        content_dir: Some(dir.path().to_owned()),
        ..Config::for_tests()
    };
    let err = hello::build(&config).await.err().expect("start-up fails");
    assert_eq!(
        format!("{err:#}"),
        format!(
            "cannot read the greeting {}: No such file or directory (os error 2)",
            dir.path().join("greeting.txt").display()
        )
    );
}

#[tokio::test]
async fn with_an_upstream_the_answer_is_its_body_and_carries_the_request_id() {
    let upstream = spawn_upstream(Router::new().route(
        "/",
        get(|headers: HeaderMap| async move {
            let id = headers
                .get("x-request-id")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            format!("upstream saw request {id}")
        }),
    ))
    .await;
    let base = spawn_hello(Config {
        upstream_url: Some(upstream),
        ..Config::for_tests()
    })
    .await;
    let response = reqwest::Client::new()
        .get(&base)
        .header("x-request-id", "chain-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "upstream saw request chain-42"
    );
}

#[tokio::test]
async fn a_chain_of_two_hello_services_passes_the_greeting_through() {
    let first = spawn_hello(Config::for_tests()).await;
    let second = spawn_hello(Config {
        upstream_url: Some(first),
        ..Config::for_tests()
    })
    .await;
    assert_eq!(get_text(&second).await, (200, "hello world".into()));
}

#[tokio::test]
async fn an_upstream_that_is_down_gives_502() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let base = spawn_hello(Config {
        upstream_url: Some(url.clone()),
        ..Config::for_tests()
    })
    .await;
    assert_eq!(
        get_text(&base).await,
        (502, format!("bad gateway: upstream {url} is unreachable\n"))
    );
}

#[tokio::test]
async fn an_upstream_slower_than_the_timeout_gives_502() {
    // The stand-in would answer after 30 s; hello's own request timeout is 10 s (408), so
    // only the upstream timeout can produce this 502.
    let upstream = spawn_upstream(Router::new().route(
        "/",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "too late"
        }),
    ))
    .await;
    let base = spawn_hello(Config {
        upstream_url: Some(upstream.clone()),
        upstream_timeout: Duration::from_millis(200),
        ..Config::for_tests()
    })
    .await;
    assert_eq!(
        get_text(&base).await,
        (
            502,
            format!("bad gateway: upstream {upstream} did not answer within 200 ms\n")
        )
    );
}

#[tokio::test]
async fn an_upstream_error_status_gives_502() {
    let upstream = spawn_upstream(Router::new()).await;
    let base = spawn_hello(Config {
        upstream_url: Some(format!("{upstream}/missing")),
        ..Config::for_tests()
    })
    .await;
    assert_eq!(
        get_text(&base).await,
        (
            502,
            format!("bad gateway: upstream {upstream}/missing answered 404 Not Found\n")
        )
    );
}

#[test]
fn the_binary_serves_then_exits_cleanly_on_sigterm() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let child = Command::new(env!("CARGO_BIN_EXE_hello"))
        .env("PORT", port.to_string())
        .env("METRICS_PORT", "0")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "hello did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "exit: {:?}", output.status);
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("SIGTERM received"), "{logs}");
    // JSON lines, as LOG_FORMAT=json asks.
    for line in logs.lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
    }
}

#[test]
fn the_binary_refuses_a_bad_variable_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_hello"))
        .env("UPSTREAM_TIMEOUT_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: bad configuration: UPSTREAM_TIMEOUT_MS=\"soon\" is invalid: invalid digit found in string\n"
    );
}

#[tokio::test]
async fn metrics_count_the_requests_on_their_own_port() {
    let app = hello::build(&Config::for_tests())
        .await
        .expect("hello starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}/metrics", app.metrics_port());
    tokio::spawn(app.run_until(std::future::pending()));
    for path in ["/", "/a/b", "/metrics"] {
        assert_eq!(get_text(&format!("{base}{path}")).await.0, 200);
    }
    get_text(&format!("{base}/healthz")).await;
    let (status, text) = get_text(&metrics).await;
    assert_eq!(status, 200);
    for line in [
        // Every path is hello's answer: one series for them all, whatever the path.
        r#"http_requests_total{route="unmatched",method="GET",status="200"} 3"#,
        r#"http_requests_total{route="/healthz",method="GET",status="200"} 1"#,
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}
