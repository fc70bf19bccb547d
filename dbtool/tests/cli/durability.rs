//! The run's last commit is flushed to the write-ahead log before dbtool reports success,
//! on a private server whose WAL writer waits 10 s, so nothing else flushes it sooner.

use std::process::Command;

use crate::support::{assert_exit, stderr};
use crate::tls::server::{Server, ServerTls};

#[test]
fn a_run_is_durable_when_dbtool_reports_success() {
    let server = Server::start(ServerTls::Off);
    for setting in [
        "ALTER SYSTEM SET wal_writer_delay = '10s'",
        "ALTER SYSTEM SET wal_writer_flush_after = '1GB'",
        "ALTER SYSTEM SET autovacuum = off",
    ] {
        server.psql(setting);
    }
    server.psql("SELECT pg_reload_conf()");
    let dir = tempfile::tempdir().expect("temp dir");
    // Two identical scripts: the last migration must still be known as the last one.
    for (name, sql) in [
        ("V1__table.sql", "CREATE TABLE t (a int);"),
        ("V2__noop_a.sql", "SELECT 1;"),
        ("V3__noop_b.sql", "SELECT 1;"),
    ] {
        std::fs::write(dir.path().join(name), sql).expect("write");
    }
    let out = Command::new(assert_cmd::cargo::cargo_bin("dbtool"))
        .env_clear()
        .env("DATABASE_URL", server.url("postgres", "postgres", ""))
        .env("DBTOOL_MIGRATIONS", dir.path())
        .arg("up")
        .output()
        .expect("run dbtool");
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("now at version 3"),
        "{}",
        stderr(&out)
    );
    // Nothing has written WAL since: all of it must be on disk.
    let flushed = server.psql("SELECT pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn()");
    assert_eq!(
        flushed.trim(),
        "t",
        "the last commit of the run is not flushed: {}",
        server.psql(
            "SELECT pg_current_wal_flush_lsn()::text || ' < ' || pg_current_wal_insert_lsn()::text"
        )
    );
}
