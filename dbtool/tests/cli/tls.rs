//! TLS as libpq does it, against PostgreSQL servers of the tests' own with `ssl = on`
//! (`tls/server.rs`): every `sslmode`, `sslrootcert`, client certificates, the key=value
//! form, and the connection errors that must fail at once instead of waiting for --wait.

pub mod server;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use server::{role, KeyForm, Server, ServerTls};

use crate::support::{assert_exit, stderr, stdout};

/// Records, from inside the migration's own session, whether it ran over TLS and as whom.
const SEEN: &str = "CREATE TABLE seen AS \
    SELECT ssl, current_user::text AS who FROM pg_stat_ssl WHERE pid = pg_backend_pid();";

/// A migrations folder with the one migration that records the session.
fn migrations(server: &Server) -> std::path::PathBuf {
    let dir = server.client_dir.join("migrations");
    if !dir.exists() {
        std::fs::create_dir(&dir).expect("migrations dir");
        std::fs::write(dir.join("V1__seen.sql"), SEEN).expect("write migration");
    }
    dir
}

/// dbtool with `DATABASE_URL` (a URL or a key=value string) and a generous --wait: the
/// errors below must not use it.
fn dbtool(database_url: &str, migrations: &Path, args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("dbtool"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("DBTOOL_MIGRATIONS", migrations)
        .env("DBTOOL_WAIT", "30")
        .args(args)
        .output()
        .expect("run dbtool")
}

/// `dbtool up`, which must succeed; then what the migration saw: (ssl, role).
fn up(server: &Server, database: &str, url: &str) -> (bool, String) {
    server.psql(&format!("CREATE DATABASE {database}"));
    let out = dbtool(url, &migrations(server), &["up"]);
    assert_exit(&out, 0);
    let seen = server.psql_in(database, "SELECT ssl, who FROM seen");
    let (ssl, who) = seen.split_once('|').expect("ssl|who");
    (ssl == "t", who.to_owned())
}

/// Fails with exit 3 at once: well before --wait (30 s) would run out, without waiting.
#[track_caller]
fn assert_fails_at_once(url: &str, migrations: &Path, message: &str) -> String {
    let started = Instant::now();
    let out = dbtool(url, migrations, &["up"]);
    assert_exit(&out, 3);
    let err = stderr(&out);
    assert!(err.contains(message), "expected {message:?} in:\n{err}");
    assert!(!err.contains("waiting up to"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn require_runs_up_and_status_over_tls() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(role::TLS_ONLY, "app", "sslmode=require");
    assert_eq!(up(&server, "app", &url), (true, role::TLS_ONLY.to_owned()));

    let out = dbtool(&url, &migrations(&server), &["status", "--json"]);
    assert_exit(&out, 0);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(rows[0]["version"], 1, "{rows}");
    assert_eq!(rows[0]["state"], "applied", "{rows}");
}

#[test]
fn prefer_reaches_a_role_the_server_admits_only_over_tls() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(role::TLS_ONLY, "explicit", "sslmode=prefer");
    assert!(up(&server, "explicit", &url).0, "not over TLS");
    // prefer is the default.
    let url = server.url(role::TLS_ONLY, "implicit", "");
    assert!(up(&server, "implicit", &url).0, "not over TLS");
}

#[test]
fn verify_full_with_the_test_ca_connects_by_address_and_by_name() {
    let server = Server::start(ServerTls::ForLocalhost);
    let ca = server.pki.ca();
    let query = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    let url = server.url(role::TLS_ONLY, "by_ip", &query);
    assert!(up(&server, "by_ip", &url).0, "not over TLS");
    let url = url
        .replace("127.0.0.1", "localhost")
        .replace("/by_ip", "/by_name");
    assert!(up(&server, "by_name", &url).0, "not over TLS");
}

#[test]
fn verify_ca_accepts_a_certificate_for_another_name_that_verify_full_refuses() {
    let server = Server::start(ServerTls::ForAnotherName);
    let ca = server.pki.ca().display().to_string();
    let url = server.url(
        role::TLS_ONLY,
        "app",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    assert!(up(&server, "app", &url).0, "not over TLS");

    let url = server.url(
        role::TLS_ONLY,
        "app",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert_fails_at_once(
        &url,
        &migrations(&server),
        &format!("the server's certificate is not valid for host 127.0.0.1 (sslmode=verify-full, sslrootcert={ca}); it is for db.example.invalid"),
    );
}

#[test]
fn a_server_certificate_from_another_ca_is_refused() {
    let server = Server::start(ServerTls::ForLocalhost);
    let other = server.pki.other_ca().display().to_string();
    for mode in ["verify-full", "verify-ca", "require"] {
        // require verifies the chain when sslrootcert is given, as libpq does.
        let url = server.url(
            role::TLS_ONLY,
            "postgres",
            &format!("sslmode={mode}&sslrootcert={other}"),
        );
        assert_fails_at_once(
            &url,
            &migrations(&server),
            &format!(
                "the server's certificate is not signed by a trusted certificate authority \
                 (sslmode={mode}, sslrootcert={other})"
            ),
        );
    }
    // Without the test CA among the system's roots, verify-full refuses the server too.
    let url = server.url(role::TLS_ONLY, "postgres", "sslmode=verify-full");
    assert_fails_at_once(
        &url,
        &migrations(&server),
        "the server's certificate is not signed by a trusted certificate authority \
         (sslmode=verify-full, the system's root certificates)",
    );
}

#[test]
fn disable_is_refused_by_a_role_admitted_only_over_tls() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(role::TLS_ONLY, "postgres", "sslmode=disable");
    let out = dbtool(&url, &migrations(&server), &["up"]);
    assert_exit(&out, 13);
    let err = stderr(&out);
    assert!(
        err.contains("no pg_hba.conf entry") && err.contains("no encryption"),
        "PostgreSQL's own message: {err}"
    );
}

#[test]
fn a_client_certificate_logs_in_a_cert_role_with_each_key_form() {
    let server = Server::start(ServerTls::ForLocalhost);
    let ca = server.pki.ca().display().to_string();
    for (n, form) in [KeyForm::Pkcs8, KeyForm::Sec1, KeyForm::Pkcs1]
        .into_iter()
        .enumerate()
    {
        let (cert, key) = server
            .pki
            .issue(&format!("client{n}"), role::CERT, "", form);
        let database = format!("app{n}");
        let url = server.url(
            role::CERT,
            &database,
            &format!(
                "sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
                cert.display(),
                key.display()
            ),
        );
        assert_eq!(
            up(&server, &database, &url),
            (true, role::CERT.to_owned()),
            "{form:?}"
        );
    }
    // Without a certificate the server refuses the role: PostgreSQL's word, exit 13.
    let url = server.url(
        role::CERT,
        "postgres",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let out = dbtool(&url, &migrations(&server), &["up"]);
    assert_exit(&out, 13);
    assert!(stderr(&out).contains("certificate"), "{}", stderr(&out));
}

#[test]
fn allow_stays_plain_when_admitted_and_uses_tls_when_plain_is_refused() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(role::POSTGRES, "plain", "sslmode=allow");
    assert!(!up(&server, "plain", &url).0, "over TLS");
    let url = server.url(role::TLS_ONLY, "tls", "sslmode=allow");
    assert!(up(&server, "tls", &url).0, "not over TLS");
}

#[test]
fn key_value_strings_take_the_same_tls_settings() {
    let server = Server::start(ServerTls::ForLocalhost);
    let conninfo = format!(
        "host=127.0.0.1 port={} user={} dbname=app sslmode=verify-full sslrootcert='{}'",
        server.port,
        role::TLS_ONLY,
        server.pki.ca().display()
    );
    assert!(up(&server, "app", &conninfo).0, "not over TLS");
}

#[test]
fn unix_sockets_ignore_sslmode_as_libpq_does() {
    let server = Server::start(ServerTls::ForLocalhost);
    let conninfo = format!(
        "host={} port={} user={} dbname=app sslmode=require",
        server.socket_dir().display(),
        server.port,
        role::POSTGRES,
    );
    assert!(!up(&server, "app", &conninfo).0, "a Unix socket has no TLS");
}

#[test]
fn channel_binding_works_over_tls() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server
        .url(
            role::SCRAM,
            "app",
            "sslmode=require&channel_binding=require",
        )
        .replace(
            &format!("{}@", role::SCRAM),
            &format!("{}:{}@", role::SCRAM, server::SCRAM_PASSWORD),
        );
    assert_eq!(up(&server, "app", &url), (true, role::SCRAM.to_owned()));
}

#[test]
fn require_refuses_a_server_without_tls_at_once() {
    let server = Server::start(ServerTls::Off);
    for mode in ["require", "verify-full"] {
        let url = server.url(
            role::POSTGRES,
            "postgres",
            &format!("sslmode={mode}&sslrootcert={}", server.pki.ca().display()),
        );
        assert_fails_at_once(
            &url,
            &migrations(&server),
            &format!("the server does not support TLS (sslmode={mode})"),
        );
    }
}

#[test]
fn a_database_that_does_not_exist_fails_at_once_with_exit_3() {
    let server = Server::start(ServerTls::ForLocalhost);
    let url = server.url(role::POSTGRES, "no_such_db", "");
    assert_fails_at_once(
        &url,
        &migrations(&server),
        "database \"no_such_db\" does not exist",
    );
}

#[test]
fn unreadable_certificate_files_fail_at_once_naming_the_file() {
    // Read before connecting: no server needed (port 1 has none).
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.crt").display().to_string();
    let not_pem = dir.path().join("not-pem.crt");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    let base = "postgres://u@127.0.0.1:1/db";
    for (query, message) in [
        (
            format!("sslmode=verify-full&sslrootcert={missing}"),
            format!("cannot read the root certificate file {missing} (sslrootcert)"),
        ),
        (
            format!("sslmode=verify-ca&sslrootcert={}", not_pem.display()),
            format!(
                "the root certificate file {} (sslrootcert) holds no PEM certificate",
                not_pem.display()
            ),
        ),
        (
            format!("sslmode=require&sslcert={missing}&sslkey={missing}"),
            format!("cannot read the client certificate {missing} (sslcert)"),
        ),
    ] {
        assert_fails_at_once(&format!("{base}?{query}"), dir.path(), &message);
    }
}
