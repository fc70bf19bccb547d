//! What users of the peers ask for most: baseline, out-of-order, PostgreSQL timeouts, the
//! history table's place, repair of every harmless edit, line endings, the run lock.

use std::time::{Duration, Instant};

use crate::support::*;

#[tokio::test]
async fn baseline_adopts_an_existing_database_and_up_applies_only_what_follows() {
    let db = TestDb::new().await;
    write_three(&db);
    // The schema of V1 and V2 made by hand, before dbtool.
    db.client
        .batch_execute(
            "CREATE TABLE info (name text PRIMARY KEY, description text NOT NULL);
             INSERT INTO info VALUES ('a', 'first');",
        )
        .await
        .expect("existing schema");
    let out = db.run(&["baseline", "--version", "2"]);
    assert_exit(&out, 0);
    assert_eq!(db.history().await, [1, 2]);
    assert_exit(&db.run(&["verify"]), 0);
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1, 2, 3]);
    assert_eq!(db.count("SELECT count(*) FROM info").await, 1);

    // A database with history is not baselined again.
    let again = db.run(&["baseline", "--version", "3"]);
    assert_exit(&again, 2);
    assert!(
        stderr(&again).contains("already records 3"),
        "{}",
        stderr(&again)
    );
    // Nor to a version that has no file.
    let fresh = TestDb::new().await;
    write_three(&fresh);
    assert_exit(
        &fresh
            .dbtool()
            .args(["baseline", "--version", "7"])
            .output()
            .expect("run"),
        2,
    );
}

#[tokio::test]
async fn out_of_order_applies_a_late_version_only_when_asked() {
    let db = TestDb::new().await;
    db.write("V1__a.sql", "CREATE TABLE a (x int);");
    db.write("V3__c.sql", "CREATE TABLE c (x int);");
    assert_exit(&db.run(&["up"]), 0);
    db.write("V2__b.sql", "CREATE TABLE b (x int);");
    assert_exit(&db.run(&["up"]), 9);
    let out = db.run(&["up", "--out-of-order"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("out of order"), "{}", stderr(&out));
    assert_eq!(db.history().await, [1, 2, 3]);
    assert!(db.table_exists("b").await);
    // Nothing pending any more: `wait` agrees.
    assert_exit(&db.run(&["wait", "--timeout", "2"]), 0);
}

#[tokio::test]
async fn a_migration_that_waits_for_a_lock_gives_up_at_the_pg_lock_timeout() {
    let db = TestDb::new().await;
    db.write("V1__t.sql", "CREATE TABLE t (a int);");
    assert_exit(&db.run(&["up"]), 0);
    db.write("V2__alter.sql", "ALTER TABLE t ADD COLUMN b int;");
    let reader = connect(&db.url).await;
    reader
        .batch_execute("BEGIN; SELECT * FROM t")
        .await
        .expect("a long reader");
    let out = db.run(&["up", "--pg-lock-timeout", "300ms"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("55P03") && err.contains("--pg-lock-timeout"),
        "{err}"
    );
    assert_eq!(db.history().await, [1]);
    reader.batch_execute("ROLLBACK").await.expect("end reader");
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1, 2]);
}

#[tokio::test]
async fn a_timeout_postgresql_cannot_read_is_a_usage_error_before_anything_runs() {
    let db = TestDb::new().await;
    db.write("V1__t.sql", "CREATE TABLE t (a int);");
    let out = db.run(&["up", "--pg-lock-timeout", "5 parsecs"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--pg-lock-timeout \"5 parsecs\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.history().await, Vec::<i32>::new());
}

#[tokio::test]
async fn a_statement_timeout_stops_a_runaway_migration() {
    let db = TestDb::new().await;
    db.write("V1__slow.sql", "SELECT pg_sleep(5);");
    let out = db.run(&["up", "--pg-statement-timeout", "200ms"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("57014"), "{}", stderr(&out));
    assert_eq!(db.history().await, Vec::<i32>::new());
}

#[tokio::test]
async fn the_history_table_can_live_in_its_own_schema() {
    let db = TestDb::new().await;
    db.write(
        "V1__first.sql",
        "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.t (a int);",
    );
    db.write("V2__second.sql", "CREATE TABLE u (a int);");
    let out = db.run(&["up", "--history-table", "ops.schema_history"]);
    assert_exit(&out, 0);
    assert!(!db.table_exists("public.refinery_schema_history").await);
    assert_eq!(db.count("SELECT count(*) FROM ops.schema_history").await, 2);
    let status = db
        .dbtool()
        .env("DBTOOL_HISTORY_TABLE", "ops.schema_history")
        .args(["status", "--json"])
        .output()
        .expect("status");
    assert_exit(&status, 0);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(rows[1]["state"], "applied");
}

#[tokio::test]
async fn line_endings_alone_are_not_drift_and_repair_all_accepts_every_edit() {
    let db = TestDb::new().await;
    write_three(&db);
    db.write("V2__seed.sql", "INSERT INTO info\nVALUES ('a', 'first');\n");
    assert_exit(&db.run(&["up"]), 0);
    // Checked out on Windows: CRLF.
    db.write(
        "V2__seed.sql",
        "INSERT INTO info\r\nVALUES ('a', 'first');\r\n",
    );
    db.write(
        "V1__create_info.sql",
        "CREATE TABLE info (name text PRIMARY KEY, description text NOT NULL);",
    );
    assert_exit(&db.run(&["verify"]), 0);
    assert_exit(&db.run(&["up"]), 0);

    // Two real edits (comments), one deleted file.
    db.write(
        "V1__create_info.sql",
        "-- the entries\nCREATE TABLE info (name text PRIMARY KEY, description text NOT NULL);",
    );
    db.write(
        "V2__seed.sql",
        "-- seed\nINSERT INTO info VALUES ('a', 'first');",
    );
    let status = db.run(&["status", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(rows[0]["file"], "changed");
    assert_eq!(rows[2]["file"], "matches");
    let out = db.run(&["repair", "--all"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("repaired V1__create_info")
            && stderr(&out).contains("repaired V2__seed")
    );
    assert_exit(&db.run(&["verify"]), 0);

    std::fs::remove_file(db.migrations().join("V3__add_column.sql")).expect("rm");
    std::fs::remove_file(db.migrations().join("V3__add_column.down.sql")).expect("rm");
    let status = db.run(&["status", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(rows[2]["file"], "missing");
    assert!(stdout(&db.run(&["status"])).contains("MISSING"));
    // A vanished file is not repaired away.
    let out = db.run(&["repair", "--all"]);
    assert_exit(&out, 5);
    assert!(stderr(&out).contains("V3__add_column"), "{}", stderr(&out));
}

#[tokio::test]
async fn waiting_for_the_run_lock_lasts_the_whole_limit_and_says_so() {
    let db = TestDb::new().await;
    write_three(&db);
    let holder = connect(&db.url).await;
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&i64::from_be_bytes(*b"dbtoolmg")],
        )
        .await
        .expect("hold the lock");
    let started = Instant::now();
    let out = db.run(&["up", "--wait-for-lock", "2"]);
    let waited = started.elapsed();
    assert_exit(&out, 11);
    assert!(stderr(&out).contains("2.0 s"), "{}", stderr(&out));
    assert!(waited >= Duration::from_secs(2), "gave up after {waited:?}");
    // The former name still works, so old settings keep their meaning.
    let out = db
        .dbtool()
        .env("DBTOOL_LOCK_TIMEOUT", "1")
        .arg("up")
        .output()
        .expect("run");
    assert_exit(&out, 11);
    assert_eq!(db.history().await, Vec::<i32>::new());
}
