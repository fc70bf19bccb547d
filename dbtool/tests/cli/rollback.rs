//! `dbtool rollback`: newest first, counts, targets, dry runs, refusals.

use crate::support::*;

#[tokio::test]
async fn rollback_undoes_the_newest_migration_with_its_down_script() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up"]), 0);
    let out = db.run(&["rollback"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("rolled back V3__add_column ("),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.history().await, [1, 2]);
    let has_column = db
        .count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'info' AND column_name = 'created'")
        .await;
    assert_eq!(has_column, 0);
    // up re-applies it.
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1, 2, 3]);
}

#[tokio::test]
async fn rollback_count_and_to_undo_several() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up"]), 0);
    assert_exit(&db.run(&["rollback", "--count", "2"]), 0);
    assert_eq!(db.history().await, [1]);
    assert_exit(&db.run(&["up"]), 0);
    assert_exit(&db.run(&["rollback", "--to", "0"]), 0);
    assert_eq!(db.history().await, Vec::<i32>::new());
    assert!(!db.table_exists("info").await);
    // Nothing left: a clear no-op.
    let out = db.run(&["rollback"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("nothing to roll back"));
}

#[tokio::test]
async fn rollback_dry_run_prints_down_scripts_newest_first_and_changes_nothing() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up"]), 0);
    let out = db.run(&["rollback", "--count", "2", "--dry-run"]);
    assert_exit(&out, 0);
    let sql = stdout(&out);
    let v3 = sql.find("DROP COLUMN created").expect("V3 down");
    let v2 = sql.find("DELETE FROM info").expect("V2 down");
    assert!(v3 < v2, "{sql}");
    assert!(
        sql.contains("DELETE FROM \"public\".\"refinery_schema_history\" WHERE version = 3"),
        "{sql}"
    );
    assert_eq!(db.history().await, [1, 2, 3]);
}

#[tokio::test]
async fn rollback_without_a_down_script_changes_nothing() {
    let db = TestDb::new().await;
    write_three(&db);
    std::fs::remove_file(db.migrations().join("V2__seed.down.sql")).expect("remove down");
    assert_exit(&db.run(&["up"]), 0);
    // V3 has a down script but V2 does not: refuse before undoing V3.
    let out = db.run(&["rollback", "--count", "2"]);
    assert_exit(&out, 10);
    assert!(
        stderr(&out).contains("V2__seed has no down script"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.history().await, [1, 2, 3]);
}

#[tokio::test]
async fn a_failing_down_script_leaves_the_migration_applied() {
    let db = TestDb::new().await;
    db.write("V1__t.sql", "CREATE TABLE t (a int);");
    db.write("V1__t.down.sql", "DROP TABLE t;\nSELECT * FROM not_there;");
    assert_exit(&db.run(&["up"]), 0);
    let out = db.run(&["rollback"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("V1__t.down.sql at line 2"),
        "{}",
        stderr(&out)
    );
    assert!(db.table_exists("t").await);
    assert_eq!(db.history().await, [1]);
}

#[tokio::test]
async fn rollback_count_must_be_positive() {
    let db = TestDb::new().await;
    assert_exit(&db.run(&["rollback", "--count", "0"]), 2);
    assert_exit(&db.run(&["rollback", "--count", "1", "--to", "1"]), 2);
}
