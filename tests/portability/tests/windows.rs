//! dbtool as a Windows program: `dbtool.exe`, cross-built for x86_64-pc-windows-gnu, run
//! under Wine against the test PostgreSQL, with its migrations folder given as a Windows path
//! (`Z:\…`) and files with CRLF line endings, as a Windows user's editor writes them.
//!
//! Needs `DBTOOL_WINDOWS_EXE` and `WINEPREFIX` (`eval "$(scripts/windows-dbtool.sh)"`, which
//! `scripts/test.sh` runs) and `TEST_DATABASE_URL` (a superuser URL, from
//! `scripts/local-servers.sh`).

use std::path::Path;
use std::process::{Command, Output};

const WINE: &str = "/usr/lib/wine/wine64";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run eval \"$(scripts/windows-dbtool.sh)\" (scripts/test.sh does)"
        )
    })
}

/// psql of the machine's test server (`PG_BIN` from scripts/local-servers.sh).
fn psql_program() -> String {
    std::env::var("PG_BIN")
        .map(|bin| format!("{bin}/psql"))
        .unwrap_or_else(|_| "psql".into())
}

fn psql(url: &str, sql: &str) -> String {
    let output = Command::new(psql_program())
        .args([url, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A database of its own, dropped when the test ends.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn new() -> Self {
        let admin = env("TEST_DATABASE_URL");
        let name = format!("windows_{}", std::process::id());
        psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let (server, _) = admin.rsplit_once('/').expect("a URL ending in /database");
        let url = format!("{server}/{name}");
        Self { admin, name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new(psql_program())
            .args([
                &self.admin,
                "-c",
                &format!("DROP DATABASE IF EXISTS {}", self.name),
            ])
            .output();
    }
}

/// The Windows spelling of a Linux path under Wine's `Z:` drive.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.to_str().unwrap().replace('/', "\\"))
}

/// `dbtool.exe ARGS` under Wine, with the database and the migrations folder as options.
fn dbtool(database: &Database, migrations: &str, args: &[&str]) -> Output {
    Command::new(WINE)
        .arg(env("DBTOOL_WINDOWS_EXE"))
        .args(["--database-url", &database.url, "--migrations", migrations])
        .args(args)
        .env("WINEPREFIX", env("WINEPREFIX"))
        .env("WINEDEBUG", "-all")
        .env_remove("DATABASE_URL")
        .output()
        .expect("wine runs dbtool.exe")
}

fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "dbtool.exe {what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn dbtool_exe_under_wine_creates_applies_reports_verifies_and_rolls_back_crlf_migrations() {
    let database = Database::new();
    let folder = tempfile_dir();
    let migrations = windows_path(&folder);

    // `new` writes the pair of files; a Windows editor then saves them with CRLF endings.
    let written = ok(
        dbtool(&database, &migrations, &["new", "create_note"]),
        "new",
    );
    assert!(written.contains("V1__create_note.sql"), "{written}");
    let up = folder.join("V1__create_note.sql");
    let down = folder.join("V1__create_note.down.sql");
    assert!(up.is_file() && down.is_file(), "new wrote {written}");
    std::fs::write(
        &up,
        "CREATE TABLE note (id int PRIMARY KEY,\r\n  body text);\r\n",
    )
    .unwrap();
    std::fs::write(&down, "DROP TABLE note;\r\n").unwrap();
    ok(dbtool(&database, &migrations, &["new", "seed"]), "new");
    std::fs::write(
        folder.join("V2__seed.sql"),
        "-- a comment; with a semicolon\r\nINSERT INTO note VALUES (1, 'from Windows');\r\n",
    )
    .unwrap();
    std::fs::write(folder.join("V2__seed.down.sql"), "DELETE FROM note;\r\n").unwrap();

    ok(dbtool(&database, &migrations, &["up"]), "up");
    assert_eq!(psql(&database.url, "SELECT body FROM note"), "from Windows");

    let status = ok(
        dbtool(&database, &migrations, &["status", "--json"]),
        "status --json",
    );
    assert_eq!(
        status.matches(r#""state":"applied""#).count(),
        2,
        "{status}"
    );
    assert!(!status.contains(r#""state":"pending""#), "{status}");
    ok(dbtool(&database, &migrations, &["verify"]), "verify");

    ok(dbtool(&database, &migrations, &["rollback"]), "rollback");
    assert_eq!(psql(&database.url, "SELECT count(*) FROM note"), "0");
    let status = ok(
        dbtool(&database, &migrations, &["status", "--json"]),
        "status --json",
    );
    assert_eq!(
        status.matches(r#""state":"applied""#).count(),
        1,
        "{status}"
    );
    assert_eq!(
        status.matches(r#""state":"pending""#).count(),
        1,
        "{status}"
    );

    // Drift: a changed applied file fails verify with the drift exit code.
    std::fs::write(
        &up,
        "CREATE TABLE note (id bigint PRIMARY KEY, body text);\r\n",
    )
    .unwrap();
    let drift = dbtool(&database, &migrations, &["verify"]);
    assert_eq!(
        drift.status.code(),
        Some(5),
        "verify after a change: {drift:?}"
    );
}

/// A fresh folder under the system's temporary directory, removed by the OS later.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dbtool-windows-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
