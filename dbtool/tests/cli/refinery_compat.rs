//! A dbtool database is a refinery database, and the reverse.

use crate::support::*;

fn refinery_migrations(db: &TestDb) -> Vec<refinery::Migration> {
    refinery::load_sql_migrations(db.migrations()).expect("refinery reads the folder")
}

#[tokio::test]
async fn refinery_reads_what_dbtool_applied_and_finds_nothing_to_do() {
    let db = TestDb::new().await;
    write_three(&db);
    // Including a no-transaction migration, whose row dbtool writes outside refinery's runner.
    db.write(
        "V4__index.sql",
        "-- dbtool:no-transaction\nCREATE INDEX CONCURRENTLY info_desc ON info (description);",
    );
    assert_exit(&db.run(&["up"]), 0);

    let mut client = connect(&db.url).await;
    let runner = refinery::Runner::new(&refinery_migrations(&db));
    let applied = runner
        .get_applied_migrations_async(&mut client)
        .await
        .expect("refinery parses the rows");
    assert_eq!(applied.len(), 4);
    let report = runner
        .run_async(&mut client)
        .await
        .expect("refinery agrees nothing is pending");
    assert!(report.applied_migrations().is_empty());
}

#[tokio::test]
async fn dbtool_continues_a_database_refinery_migrated() {
    let db = TestDb::new().await;
    write_three(&db);
    std::fs::remove_file(db.migrations().join("V3__add_column.sql")).expect("remove");
    let mut client = connect(&db.url).await;
    refinery::Runner::new(&refinery_migrations(&db))
        .run_async(&mut client)
        .await
        .expect("refinery applies V1 and V2");
    write_three(&db);

    let status: serde_json::Value =
        serde_json::from_slice(&db.run(&["status", "--json"]).stdout).expect("JSON");
    let states: Vec<_> = status
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["state"].as_str().map(str::to_owned),
                r["checksum_ok"].as_bool(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (Some("applied".into()), Some(true)),
            (Some("applied".into()), Some(true)),
            (Some("pending".into()), None)
        ]
    );
    assert_exit(&db.run(&["up"]), 0);
    assert_exit(&db.run(&["rollback", "--to", "1"]), 0);
    assert_eq!(db.history().await, [1]);
}
