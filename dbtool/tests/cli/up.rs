//! `dbtool up`: applying, targets, dry runs, real-world SQL and failures.

use crate::support::*;

#[tokio::test]
async fn up_applies_every_pending_migration_once_with_a_line_each() {
    let db = TestDb::new().await;
    write_three(&db);
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    for label in ["V1__create_info", "V2__seed", "V3__add_column"] {
        assert!(err.contains(&format!("applied {label} (")), "{err}");
    }
    assert_eq!(db.history().await, [1, 2, 3]);
    assert_eq!(db.count("SELECT count(*) FROM info").await, 1);

    let again = db.run(&["up"]);
    assert_exit(&again, 0);
    assert!(
        stderr(&again).contains("up to date (version 3)"),
        "{}",
        stderr(&again)
    );
    assert_eq!(db.count("SELECT count(*) FROM info").await, 1);
}

#[tokio::test]
async fn up_to_stops_at_the_given_version() {
    let db = TestDb::new().await;
    write_three(&db);
    assert_exit(&db.run(&["up", "--to", "2"]), 0);
    assert_eq!(db.history().await, [1, 2]);
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1, 2, 3]);
}

#[tokio::test]
async fn dry_run_prints_the_sql_in_order_and_changes_nothing() {
    let db = TestDb::new().await;
    write_three(&db);
    let out = db.run(&["up", "--dry-run"]);
    assert_exit(&out, 0);
    let sql = stdout(&out);
    let first = sql.find("CREATE TABLE info").expect("V1 printed");
    let second = sql.find("INSERT INTO info").expect("V2 printed");
    let third = sql.find("ALTER TABLE info").expect("V3 printed");
    assert!(first < second && second < third, "{sql}");
    assert!(
        sql.contains("INSERT INTO \"public\".\"refinery_schema_history\""),
        "{sql}"
    );
    assert!(!db.table_exists("refinery_schema_history").await);
    assert!(!db.table_exists("info").await);

    // With some applied, only the rest is printed.
    assert_exit(&db.run(&["up", "--to", "1"]), 0);
    let rest = stdout(&db.run(&["up", "--dry-run"]));
    assert!(
        !rest.contains("CREATE TABLE info") && rest.contains("ALTER TABLE info"),
        "{rest}"
    );
    assert_eq!(db.history().await, [1]);
}

#[tokio::test]
async fn real_world_sql_applies_as_written() {
    let db = TestDb::new().await;
    db.write(
        "V1__functions_and_triggers.sql",
        r#"
-- Comments; with semicolons; everywhere.
/* block comment; /* nested; */ still comment; */
CREATE TABLE account (id serial PRIMARY KEY, note text NOT NULL, touched timestamptz);
INSERT INTO account (note) VALUES ('semi;colon'), ('it''s; quoted'), (E'back\\slash;');

CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.touched := now(); -- a semicolon; in a comment
    IF NEW.note = '$$;' THEN RAISE NOTICE 'odd; note'; END IF;
    RETURN NEW;
END;
$body$;

CREATE TRIGGER account_touch BEFORE INSERT OR UPDATE ON account
    FOR EACH ROW EXECUTE FUNCTION touch();

DO $$
BEGIN
    INSERT INTO account (note) VALUES ('from a DO block;');
END
$$;

CREATE VIEW account_notes AS SELECT note FROM account WHERE note LIKE '%;%';
"#,
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    assert_eq!(db.count("SELECT count(*) FROM account_notes").await, 4);
    assert_eq!(
        db.count("SELECT count(*) FROM account WHERE touched IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn no_transaction_migration_runs_outside_a_transaction_and_is_recorded() {
    let db = TestDb::new().await;
    db.write(
        "V1__table.sql",
        "CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 1000);",
    );
    db.write(
        "V2__index.sql",
        "-- dbtool:no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_a2 ON t ((a * 2));\n",
    );
    db.write("V3__after.sql", "ALTER TABLE t ADD COLUMN b int;");
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    assert_eq!(db.history().await, [1, 2, 3]);
    let valid = db
        .count("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('t_a', 't_a2') AND i.indisvalid")
        .await;
    assert_eq!(valid, 2);
    // The same file without the marker fails: PostgreSQL refuses it in a transaction.
    let plain = TestDb::new().await;
    plain.write("V1__table.sql", "CREATE TABLE t (a int);");
    plain.write("V2__index.sql", "CREATE INDEX CONCURRENTLY t_a ON t (a);");
    let out = plain.run(&["up"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("V2__index"), "{}", stderr(&out));
    assert_eq!(plain.history().await, [1]);
}

#[tokio::test]
async fn a_failed_migration_names_the_file_message_and_line_and_changes_nothing() {
    let db = TestDb::new().await;
    db.write("V1__ok.sql", "CREATE TABLE kept (a int);");
    let bad = db.write(
        "V2__broken.sql",
        "CREATE TABLE half_done (a int);\nINSERT INTO half_done VALUES (1);\nSELECT * FROM no_such_table;\n",
    );
    db.write("V3__later.sql", "CREATE TABLE later (a int);");
    let out = db.run(&["up"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(
        err.contains("relation \"no_such_table\" does not exist"),
        "{err}"
    );
    assert!(err.contains("line 3, column 15"), "{err}");
    assert!(err.contains("42P01"), "{err}");
    // V1 committed before V2 failed; nothing of V2 or after.
    assert_eq!(db.history().await, [1]);
    assert!(db.table_exists("kept").await);
    assert!(!db.table_exists("half_done").await);
    assert!(!db.table_exists("later").await);

    // Fixing the file lets the next run continue.
    db.write("V2__broken.sql", "CREATE TABLE half_done (a int);");
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1, 2, 3]);
}

#[tokio::test]
async fn an_error_inside_a_function_body_reports_postgresql_context() {
    let db = TestDb::new().await;
    db.write(
        "V1__do_block.sql",
        "DO $$\nBEGIN\n  PERFORM 1 / 0;\nEND\n$$;\n",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("division by zero")
            && err.contains("PL/pgSQL function inline_code_block line 3 at PERFORM"),
        "{err}"
    );
    assert_eq!(db.history().await, Vec::<i32>::new());
}

#[tokio::test]
async fn the_library_applies_pending_migrations_like_the_cli() {
    let db = TestDb::new().await;
    write_three(&db);
    let applied = dbtool::migrate_up(&db.url, db.migrations())
        .await
        .expect("migrate");
    assert_eq!(applied, [1, 2, 3]);
    let again = dbtool::migrate_up(&db.url, db.migrations())
        .await
        .expect("no-op");
    assert!(again.is_empty());
    assert_exit(&db.run(&["verify"]), 0);
}
