//! echo over loopback: in-process and as the real binary.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use service_common::{Env, HttpConfig, LogFormat};

#[tokio::test]
async fn answers_its_host_name_on_any_path() {
    let config = echo::Config {
        http: HttpConfig::for_tests(),
        log_format: LogFormat::Text,
        hostname: echo::hostname(&Env::from_pairs([("HOSTNAME", "echo-7f9c")])).unwrap(),
    };
    let app = echo::build(&config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    for path in ["/", "/anything/else"] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "echo-7f9c");
    }
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn the_binary_listens_on_the_port_argument_and_stops_on_sigterm() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let child = Command::new(env!("CARGO_BIN_EXE_echo"))
        .args(["--port", &port.to_string()])
        .env("HOSTNAME", "replica-b")
        .env("METRICS_PORT", "0")
        .env_remove("PORT")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut stream) => {
                use std::io::{Read, Write};
                stream
                    .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut answer = String::new();
                stream.read_to_string(&mut answer).unwrap();
                break answer;
            }
            Err(_) => {
                assert!(Instant::now() < deadline, "echo did not start listening");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nreplica-b"), "{answer}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "exit: {:?}", output.status);
}

#[test]
fn the_binary_refuses_a_bad_port_with_usage_exit_code() {
    let output = Command::new(env!("CARGO_BIN_EXE_echo"))
        .args(["--port", "99999"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid value '99999' for '--port <PORT>'"),
        "{stderr}"
    );
}

#[tokio::test]
async fn metrics_count_the_requests_on_their_own_port() {
    let config = echo::Config {
        http: HttpConfig::for_tests(),
        log_format: LogFormat::Text,
        hostname: "echo-1".into(),
    };
    let app = echo::build(&config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}/metrics", app.metrics_port());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let response = client.post(format!("{base}/x")).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "echo-1");
    }
    let response = reqwest::get(&metrics).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let line = r#"http_requests_total{route="unmatched",method="POST",status="200"} 2"#;
    assert!(text.contains(line), "{line} missing from\n{text}");
}
