//! Bad input: each error has its own exit code and changes nothing in the database.

use crate::support::*;

/// Runs `up` against a folder broken by `break_it`, after V1 was applied from a good one.
async fn up_refuses(break_it: impl FnOnce(&TestDb), code: i32, message: &str) {
    let db = TestDb::new().await;
    db.write("V1__first.sql", "CREATE TABLE first (a int);");
    assert_exit(&db.run(&["up"]), 0);
    break_it(&db);
    let out = db.run(&["up"]);
    assert_exit(&out, code);
    assert!(
        stderr(&out).contains(message),
        "expected {message:?} in:\n{}",
        stderr(&out)
    );
    assert_eq!(db.history().await, [1], "nothing may change");
}

#[tokio::test]
async fn two_files_with_one_version_are_refused() {
    up_refuses(
        |db| {
            db.write("V2__one.sql", "CREATE TABLE one (a int);");
            db.write("V02__other.sql", "CREATE TABLE other (a int);");
        },
        8,
        "two migrations have version 2",
    )
    .await;
}

#[tokio::test]
async fn a_sql_file_that_fits_no_pattern_is_refused() {
    up_refuses(
        |db| {
            db.write("V2__good.sql", "CREATE TABLE good (a int);");
            db.write("V3-typo.sql", "CREATE TABLE typo (a int);");
        },
        7,
        "V3-typo.sql: expected V{version}__{name}.sql",
    )
    .await;
}

#[tokio::test]
async fn an_unreadable_file_is_refused() {
    up_refuses(
        |db| {
            // A dangling link cannot be read, even by root.
            std::os::unix::fs::symlink(
                "/nonexistent/file.sql",
                db.migrations().join("V2__gone.sql"),
            )
            .expect("symlink");
        },
        6,
        "cannot read",
    )
    .await;
}

#[tokio::test]
async fn a_file_that_is_not_utf8_is_refused() {
    up_refuses(
        |db| {
            std::fs::write(db.migrations().join("V2__binary.sql"), [0xc3, 0x28, b';'])
                .expect("write");
        },
        6,
        "V2__binary.sql",
    )
    .await;
}

#[tokio::test]
async fn a_new_file_below_the_newest_applied_version_is_refused() {
    let db = TestDb::new().await;
    db.write("V1__first.sql", "CREATE TABLE first (a int);");
    db.write("V3__third.sql", "CREATE TABLE third (a int);");
    assert_exit(&db.run(&["up"]), 0);
    db.write("V2__late.sql", "CREATE TABLE late (a int);");
    let out = db.run(&["up"]);
    assert_exit(&out, 9);
    assert!(
        stderr(&out).contains("V2__late is pending but version 3 is already applied"),
        "{}",
        stderr(&out)
    );
    assert!(!db.table_exists("late").await);
    assert_eq!(db.history().await, [1, 3]);
}

#[tokio::test]
async fn an_edited_or_deleted_applied_file_is_drift() {
    up_refuses(
        |db| {
            db.write("V1__first.sql", "CREATE TABLE first (a bigint);");
        },
        5,
        "V1__first was applied but its file has changed",
    )
    .await;
    up_refuses(
        |db| std::fs::remove_file(db.migrations().join("V1__first.sql")).expect("remove"),
        5,
        "V1__first was applied but its file is missing",
    )
    .await;
}

#[test]
fn an_unreachable_database_fails_after_the_wait() {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = std::time::Instant::now();
    let out = assert_cmd::Command::cargo_bin("dbtool")
        .expect("binary")
        .env_clear()
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "--wait",
            "1",
        ])
        .args(["--migrations", dir.path().to_str().expect("utf-8"), "up"])
        .output()
        .expect("run");
    assert_exit(&out, 4);
    assert!(
        stderr(&out).contains("database unreachable after waiting"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

#[test]
fn bad_urls_and_missing_configuration_are_configuration_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().to_str().expect("utf-8");
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("dbtool")
            .expect("binary")
            .env_clear()
            .args(args)
            .output()
            .expect("run")
    };
    for (case, args, message) in [
        (
            "not a URL",
            vec!["--database-url", "not a url", "--migrations", folder, "up"],
            "invalid database URL",
        ),
        (
            "wrong scheme",
            vec![
                "--database-url",
                "mysql://x@h/db",
                "--migrations",
                folder,
                "up",
            ],
            "invalid database URL",
        ),
        (
            "no URL",
            vec!["--migrations", folder, "status"],
            "no database given",
        ),
        (
            "unknown sslmode",
            vec![
                "--database-url",
                "postgres://x@127.0.0.1/db?sslmode=required",
                "--migrations",
                folder,
                "up",
            ],
            "sslmode=\"required\" is not one of",
        ),
        (
            "no folder",
            vec![
                "--database-url",
                "postgres://x@127.0.0.1/db",
                "--migrations",
                "/nonexistent/m",
                "up",
            ],
            "does not exist",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(3), "case {case}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "case {case}: {}",
            stderr(&out)
        );
    }
    let usage = run(&["up", "--bogus"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
}

#[tokio::test]
async fn sslmode_disable_and_prefer_are_accepted() {
    let db = TestDb::new().await;
    write_three(&db);
    for mode in ["disable", "prefer"] {
        let url = format!("{}?sslmode={mode}", db.url);
        let out = db
            .dbtool()
            .env("DATABASE_URL", &url)
            .arg("status")
            .output()
            .expect("run");
        assert_exit(&out, 0);
    }
}

#[tokio::test]
async fn a_refused_login_fails_at_once_instead_of_waiting() {
    let db = TestDb::new().await;
    // The harness's server trusts loopback, so refuse by naming a role that does not exist.
    let url = db.url.replacen("postgres@", "no_such_role_xyz@", 1);
    let started = std::time::Instant::now();
    let out = db
        .dbtool()
        .env("DATABASE_URL", &url)
        .env("DBTOOL_WAIT", "20")
        .arg("status")
        .output()
        .expect("run");
    assert_exit(&out, 13);
    assert!(
        stderr(&out).contains("no_such_role_xyz"),
        "{}",
        stderr(&out)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a refused login must not be retried"
    );
}

#[test]
fn help_documents_the_file_names_and_every_exit_code() {
    let out = assert_cmd::Command::cargo_bin("dbtool")
        .expect("binary")
        .arg("--help")
        .output()
        .expect("run");
    assert_exit(&out, 0);
    let help = stdout(&out);
    assert!(
        help.contains("V<n>__<name>.sql") && help.contains("V<n>__<name>.down.sql"),
        "{help}"
    );
    for code in 0..=13 {
        assert!(
            help.contains(&format!("\n  {code:>2}  ")),
            "exit code {code} missing:\n{help}"
        );
    }
}
