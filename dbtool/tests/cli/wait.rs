//! `dbtool wait` and `--wait`: waiting for the database and for migrations.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn wait_returns_once_nothing_is_pending() {
    let db = TestDb::new().await;
    write_three(&db);
    let out = db.run(&["wait", "--timeout", "1"]);
    assert_exit(&out, 12);
    assert!(
        stderr(&out).contains("3 migration(s) still pending"),
        "{}",
        stderr(&out)
    );

    // A waiter started before the migrations returns when another process applies them.
    let waiter = db
        .dbtool()
        .args(["wait", "--timeout", "30"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wait");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_exit(&db.run(&["up"]), 0);
    let out = waiter.wait_with_output().expect("wait");
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("up to date"), "{}", stderr(&out));
}

/// A PostgreSQL server of our own, started on demand and stopped on drop.
struct LateServer {
    dir: tempfile::TempDir,
    port: u16,
    server: Option<Child>,
}

fn pg_bin(tool: &str) -> PathBuf {
    Path::new(&std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()))
        .join(tool)
}

/// initdb and postgres refuse to run as root; the harness runs as root on CI.
fn as_postgres(program: PathBuf) -> Command {
    if std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0) {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl LateServer {
    fn prepare() -> LateServer {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .expect("chmod");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let status = as_postgres(pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb");
        assert!(status.success(), "initdb failed");
        LateServer {
            dir,
            port,
            server: None,
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn start(&mut self) {
        let child = as_postgres(pg_bin("postgres"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        self.server = Some(child);
    }
}

impl Drop for LateServer {
    fn drop(&mut self) {
        if self.server.is_some() {
            let _ = as_postgres(pg_bin("pg_ctl"))
                .args(["stop", "-m", "immediate", "-D"])
                .arg(self.dir.path().join("data"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mut child) = self.server.take() {
            let _ = child.wait();
        }
    }
}

#[test]
fn up_waits_for_a_database_that_starts_a_few_seconds_later() {
    let mut server = LateServer::prepare();
    let migrations = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        migrations.path().join("V1__t.sql"),
        "CREATE TABLE t (a int);",
    )
    .expect("write");
    let dbtool = assert_cmd::cargo::cargo_bin("dbtool");
    let mut child = Command::new(dbtool)
        .env_clear()
        .env("DATABASE_URL", server.url())
        .env("DBTOOL_MIGRATIONS", migrations.path())
        .env("DBTOOL_WAIT", "60")
        .arg("up")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dbtool");
    std::thread::sleep(Duration::from_secs(3));
    // Still waiting, not given up: the database comes up after dbtool started.
    assert!(
        child.try_wait().expect("poll dbtool").is_none(),
        "dbtool exited before the database started"
    );
    server.start();
    let out = child.wait_with_output().expect("wait for dbtool");
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("waiting up to 60 s for the database"), "{err}");
    assert!(err.contains("applied V1__t"), "{err}");
}
