//! A fresh database per test, migration folders written by the test, and the real binary.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Output;

use std::process::Command;
use tokio_postgres::{Client, NoTls};

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests with ./scripts/test.sh, which starts PostgreSQL",
    )
}

pub fn random_suffix() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", hasher.finish())
}

/// Replaces the database name at the end of a `postgres://…/name` URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("URL with a database name");
    format!("{base}/{database}")
}

pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// A fresh, empty database and a migrations folder for one test.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub client: Client,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let name = format!("dbtool_{}", random_suffix());
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let url = with_database(&admin_url(), &name);
        let client = connect(&url).await;
        TestDb {
            url,
            dir: tempfile::tempdir().expect("temp dir"),
            client,
        }
    }

    pub fn migrations(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or overwrites) one file in the migrations folder.
    pub fn write(&self, name: &str, sql: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, sql).expect("write migration");
        path
    }

    /// The dbtool binary, pointed at this database and folder.
    pub fn dbtool(&self) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("dbtool"));
        cmd.env_clear()
            .env("DATABASE_URL", &self.url)
            .env("DBTOOL_MIGRATIONS", self.dir.path())
            .env("DBTOOL_WAIT", "5");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.dbtool().args(args).output().expect("run dbtool")
    }

    /// Versions in refinery's history table, in order (empty when there is no table).
    pub async fn history(&self) -> Vec<i32> {
        match self
            .client
            .query(
                "SELECT version FROM refinery_schema_history ORDER BY version",
                &[],
            )
            .await
        {
            Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => vec![],
            Err(e) => panic!("read history: {e}"),
        }
    }

    pub async fn table_exists(&self, table: &str) -> bool {
        self.client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await
            .expect("to_regclass")
            .get(0)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client.query_one(sql, &[]).await.expect(sql).get(0)
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}; stderr:\n{}\nstdout:\n{}",
        stderr(output),
        stdout(output)
    );
}

/// Three ordinary migrations with down scripts.
pub fn write_three(db: &TestDb) {
    db.write(
        "V1__create_info.sql",
        "CREATE TABLE info (name text PRIMARY KEY, description text NOT NULL);",
    );
    db.write("V1__create_info.down.sql", "DROP TABLE info;");
    db.write("V2__seed.sql", "INSERT INTO info VALUES ('a', 'first');");
    db.write("V2__seed.down.sql", "DELETE FROM info WHERE name = 'a';");
    db.write(
        "V3__add_column.sql",
        "ALTER TABLE info ADD COLUMN created timestamptz DEFAULT now();",
    );
    db.write(
        "V3__add_column.down.sql",
        "ALTER TABLE info DROP COLUMN created;",
    );
}
