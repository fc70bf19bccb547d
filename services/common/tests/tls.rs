//! The pool and the Redis client over TLS, against servers of the tests' own: a PostgreSQL 15
//! with `ssl = on` (dbtool's test server, shared by path) and a `redis-server` on a TLS port,
//! both presenting certificates of a CA made by the test.

#[path = "../../../dbtool/tests/cli/tls/server.rs"]
mod server;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use server::{free_port, role, watchdog, KeyForm, Pki, Server, ServerTls};
use service_common::postgres::{self, PoolSettings, PostgresError};
use service_common::redis::{is_unreachable, Redis, RedisSettings};

fn settings() -> PoolSettings {
    PoolSettings {
        max_size: 2,
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn a_pool_connects_with_verify_full_and_the_test_ca() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(
        role::TLS_ONLY,
        "postgres",
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            server.pki.ca().display()
        ),
    );
    let pool = postgres::pool(&url, settings()).expect("pool");
    postgres::ping(&pool).await.expect("ping over TLS");
    let client = pool.get().await.expect("connection");
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl");
    assert!(row.get::<_, bool>(0), "the pool's session is not over TLS");
}

#[tokio::test]
async fn a_pool_reports_a_server_certificate_from_another_ca_as_unavailable() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(
        role::TLS_ONLY,
        "postgres",
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            server.pki.other_ca().display()
        ),
    );
    let pool = postgres::pool(&url, settings()).expect("pool");
    let err = postgres::ping(&pool).await.unwrap_err();
    assert!(postgres::is_unavailable(&err), "{err:?}");
}

#[test]
fn a_pool_is_not_built_when_a_certificate_file_is_missing() {
    let url = "postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt";
    let err = postgres::pool(url, settings()).unwrap_err();
    assert!(matches!(err, PostgresError::InvalidUrl(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot read the root certificate file /nonexistent/ca.crt (sslrootcert): \
         No such file or directory (os error 2)"
    );
}

/// A `redis-server` listening only on a TLS port, with a certificate of the test CA for
/// `127.0.0.1`; killed on drop.
struct TlsRedis {
    port: u16,
    pki: Pki,
    server: Child,
    watchdog: Child,
    _dir: tempfile::TempDir,
}

impl TlsRedis {
    fn start() -> TlsRedis {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = Pki::new(&dir.path().join("pki"));
        let (cert, key) = pki.issue("redis", "redis", "IP:127.0.0.1", KeyForm::Pkcs8);
        let port = free_port();
        let program = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
        let server = Command::new(program)
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--tls-port",
                &port.to_string(),
            ])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(pki.ca())
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (apt-get install redis-server)");
        let watchdog = watchdog(server.id(), "KILL");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsRedis {
            port,
            pki,
            server,
            watchdog,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.watchdog] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn redis_works_over_rediss_with_the_ca_given() {
    let server = TlsRedis::start();
    let redis = Redis::with_ca_cert(
        &server.url(),
        RedisSettings::default(),
        Some(&server.pki.ca()),
    )
    .expect("client");
    redis.ping().await.expect("PING over TLS");
    let mut conn = redis.connection().expect("not backing off");
    let () = redis::cmd("SET")
        .arg("tls-test")
        .arg("yes")
        .query_async(&mut conn)
        .await
        .expect("SET");
    let value: String = redis::cmd("GET")
        .arg("tls-test")
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(value, "yes");
}

#[tokio::test]
async fn redis_over_rediss_refuses_a_certificate_its_roots_did_not_sign() {
    let server = TlsRedis::start();
    for ca in [Some(server.pki.other_ca()), None] {
        // None: the system's roots, which do not hold the test CA.
        let redis = Redis::with_ca_cert(&server.url(), RedisSettings::default(), ca.as_deref())
            .expect("client");
        let err = redis.ping().await.unwrap_err();
        assert!(is_unreachable(&err), "{ca:?}: {err:?}");
        assert!(err.to_string().contains("UnknownIssuer"), "{ca:?}: {err}");
    }
}

#[test]
fn a_missing_redis_ca_file_is_refused() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let err = Redis::with_ca_cert(
        "rediss://127.0.0.1:1",
        RedisSettings::default(),
        Some(std::path::Path::new("/nonexistent/ca.crt")),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("REDIS_CA_CERT=/nonexistent/ca.crt"),
        "{err}"
    );
}
