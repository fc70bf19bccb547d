//! `dbtool status`, `verify`, `repair` and `new`.

use crate::support::*;

#[tokio::test]
async fn status_json_lists_applied_and_pending_migrations() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up", "--to", "2"]), 0);
    let out = db.run(&["status", "--json"]);
    assert_exit(&out, 0);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["version"], 1);
    assert_eq!(rows[0]["name"], "create_info");
    assert_eq!(rows[0]["state"], "applied");
    assert_eq!(rows[0]["checksum_ok"], true);
    assert!(time::OffsetDateTime::parse(
        rows[1]["applied_on"].as_str().expect("applied_on"),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    assert_eq!(rows[2]["state"], "pending");
    assert!(rows[2]["applied_on"].is_null() && rows[2]["checksum_ok"].is_null());

    // An edited file shows as checksum_ok = false.
    db.write(
        "V1__create_info.sql",
        "CREATE TABLE info (name text PRIMARY KEY, description text);",
    );
    let rows: serde_json::Value =
        serde_json::from_slice(&db.run(&["status", "--json"]).stdout).expect("JSON");
    assert_eq!(rows[0]["checksum_ok"], false);
    assert_eq!(rows[0]["file"], "changed");
    // The human table goes to stdout too; progress never pollutes the JSON.
    let table = stdout(&db.run(&["status"]));
    assert!(
        table.contains("CHANGED") && table.contains("pending"),
        "{table}"
    );
}

#[tokio::test]
async fn verify_detects_changed_and_missing_files() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up"]), 0);
    assert_exit(&db.run(&["verify"]), 0);

    db.write("V2__seed.sql", "INSERT INTO info VALUES ('a', 'changed');");
    let out = db.run(&["verify"]);
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("V2__seed was applied but its file has changed"),
        "{}",
        stderr(&out)
    );

    std::fs::remove_file(db.migrations().join("V3__add_column.sql")).expect("remove");
    std::fs::remove_file(db.migrations().join("V3__add_column.down.sql")).expect("remove");
    let out = db.run(&["verify"]);
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("V3__add_column was applied but its file is missing"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn drift_stops_up_and_rollback_before_they_change_anything() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up", "--to", "2"]), 0);
    db.write("V1__create_info.sql", "CREATE TABLE info (name text);");
    assert_exit(&db.run(&["up"]), 5);
    assert_exit(&db.run(&["rollback"]), 5);
    assert_eq!(db.history().await, [1, 2]);
}

#[tokio::test]
async fn repair_accepts_a_harmless_edit() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up"]), 0);
    db.write(
        "V1__create_info.sql",
        "-- reformatted\r\nCREATE TABLE info (name text PRIMARY KEY, description text NOT NULL);\r\n",
    );
    assert_exit(&db.run(&["verify"]), 5);
    let out = db.run(&["repair", "--version", "1"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("repaired V1__create_info"),
        "{}",
        stderr(&out)
    );
    assert_exit(&db.run(&["verify"]), 0);
    assert_exit(&db.run(&["up"]), 0);
    let again = db.run(&["repair", "--version", "1"]);
    assert_exit(&again, 0);
    assert!(stderr(&again).contains("already matches"));
    // Unknown or unapplied versions are refused.
    assert_exit(&db.run(&["repair", "--version", "42"]), 2);
    db.write("V4__new.sql", "SELECT 1;");
    assert_exit(&db.run(&["repair", "--version", "4"]), 2);
}

#[test]
fn new_writes_the_next_version_without_a_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("fresh");
    let run = |name: &str| {
        assert_cmd::Command::cargo_bin("dbtool")
            .expect("binary")
            .env_clear()
            .args(["--migrations", folder.to_str().expect("utf-8"), "new", name])
            .output()
            .expect("run")
    };
    let out = run("create_users");
    assert_exit(&out, 0);
    assert!(folder.join("V1__create_users.sql").is_file());
    assert!(folder.join("V1__create_users.down.sql").is_file());
    assert!(stdout(&out).contains("V1__create_users.sql"));
    assert_exit(&run("add_email"), 0);
    assert!(folder.join("V2__add_email.sql").is_file());
    assert_exit(&run("bad-name"), 2);
    assert_exit(&run("bad name"), 2);
}
