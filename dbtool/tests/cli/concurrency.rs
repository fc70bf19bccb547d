//! Many runners at once, and a runner killed mid-migration.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

#[tokio::test]
async fn eight_runners_at_once_apply_each_migration_exactly_once() {
    let db = TestDb::new().await;
    db.write(
        "V1__log.sql",
        "CREATE TABLE applied_log (version int NOT NULL);",
    );
    for v in 2..=30 {
        db.write(
            &format!("V{v}__step.sql"),
            &format!("INSERT INTO applied_log VALUES ({v}); SELECT pg_sleep(0.01);"),
        );
    }
    let children: Vec<_> = (0..8)
        .map(|_| {
            db.dbtool()
                .arg("up")
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn dbtool")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    for out in &outputs {
        assert_exit(out, 0);
    }
    assert_eq!(db.history().await, (1..=30).collect::<Vec<_>>());
    assert_eq!(db.count("SELECT count(*) FROM applied_log").await, 29);
    assert_eq!(
        db.count("SELECT count(DISTINCT version) FROM applied_log")
            .await,
        29
    );
}

#[tokio::test]
async fn a_runner_killed_mid_migration_leaves_nothing_partial_and_the_next_run_completes() {
    let db = TestDb::new().await;
    db.write("V1__quick.sql", "CREATE TABLE quick (a int);");
    db.write(
        "V2__slow.sql",
        "CREATE TABLE slow (a int);\nINSERT INTO slow VALUES (1);\nSELECT pg_sleep(3);\nINSERT INTO slow VALUES (2);\n",
    );
    let mut child = db
        .dbtool()
        .arg("up")
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");

    // Wait until the slow statement is running, then kill the runner outright.
    let database = db.url.rsplit('/').next().expect("db name").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let running = db
            .client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'dbtool' AND query LIKE '%pg_sleep(3)%' AND state = 'active'",
                &[&database],
            )
            .await
            .expect("pg_stat_activity")
            .get::<_, i64>(0);
        if running == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slow migration never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    assert_eq!(db.history().await, [1], "V2 must not be recorded");
    assert!(
        !db.table_exists("slow").await,
        "V2's table must not be visible"
    );

    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    assert_eq!(db.history().await, [1, 2]);
    assert_eq!(db.count("SELECT count(*) FROM slow").await, 2);
}
