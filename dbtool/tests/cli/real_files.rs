//! Migration files as real projects have them: their own transaction control, COPY, a
//! `pg_dump` used as a baseline, identical scripts, a ConfigMap mount, a byte order mark,
//! an interrupted `CREATE INDEX CONCURRENTLY`. Each test is a defect that dbtool once had.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn pg_bin(program: &str) -> PathBuf {
    let dir = std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    PathBuf::from(dir).join(program)
}

#[tokio::test]
async fn a_file_with_its_own_commit_is_refused_before_anything_runs() {
    let db = TestDb::new().await;
    db.write(
        "V1__own_tx.sql",
        "BEGIN;\nCREATE TABLE tx_a(a int);\nCOMMIT;\nCREATE TABLE tx_b(a int);\nINSERT INTO tx_b VALUES (1/0);\n",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 14);
    let err = stderr(&out);
    assert!(
        err.contains("V1__own_tx.sql") && err.contains("line 1") && err.contains("BEGIN"),
        "{err}"
    );
    assert!(err.contains("-- dbtool:no-transaction"), "{err}");
    assert!(!db.table_exists("tx_a").await, "nothing ran");
    assert_eq!(db.history().await, Vec::<i32>::new());

    // Fixed, it applies; nothing was recorded, so no drift either.
    db.write(
        "V1__own_tx.sql",
        "CREATE TABLE tx_a(a int);\nCREATE TABLE tx_b(a int);\n",
    );
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1]);
}

#[tokio::test]
async fn a_file_that_rolls_itself_back_is_refused_not_recorded() {
    let db = TestDb::new().await;
    db.write(
        "V1__rolls_back.sql",
        "BEGIN;\nCREATE TABLE never(a int);\nROLLBACK;\n",
    );
    assert_exit(&db.run(&["up"]), 14);
    assert_eq!(db.history().await, Vec::<i32>::new());
    assert!(!db.table_exists("never").await);
}

#[tokio::test]
async fn copy_to_stdout_runs_and_copy_from_stdin_loads_its_inline_data() {
    let db = TestDb::new().await;
    db.write(
        "V1__copy_out.sql",
        "CREATE TABLE c3(a int);\nCOPY (SELECT 1) TO STDOUT;\n",
    );
    db.write(
        "V2__copy_in.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text);\n\
         COPY public.t (id, note) FROM stdin;\n\
         1\tsemi;colon\n\
         2\t\\N\n\
         3\tit's 'quoted'\n\
         \\.\n\
         INSERT INTO t VALUES (4, 'after');\n",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    assert_eq!(db.history().await, [1, 2]);
    assert!(db.table_exists("c3").await);
    assert_eq!(db.count("SELECT count(*) FROM t").await, 4);
    assert_eq!(
        db.count("SELECT count(*) FROM t WHERE id = 2 AND note IS NULL")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM t WHERE note = 'semi;colon'")
            .await,
        1
    );
}

#[tokio::test]
async fn bad_copy_data_fails_the_migration_and_changes_nothing() {
    let db = TestDb::new().await;
    db.write(
        "V1__copy_bad.sql",
        "CREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\nnot a number\n\\.\n",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("V1__copy_bad.sql at line 2") && err.contains("22P02"),
        "{err}"
    );
    assert!(!db.table_exists("t").await);
    assert_eq!(db.history().await, Vec::<i32>::new());
}

/// Makes a database with a realistic schema and data, dumps it with the real `pg_dump`,
/// and returns the dump.
async fn pg_dump_of_a_real_schema(schema_only: bool) -> String {
    let source = TestDb::new().await;
    source
        .client
        .batch_execute(
            "CREATE SCHEMA app;
             CREATE TYPE app.mood AS ENUM ('ok', 'sad');
             CREATE TABLE app.info (
                 id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 name text NOT NULL UNIQUE,
                 mood app.mood DEFAULT 'ok',
                 created timestamptz NOT NULL DEFAULT now()
             );
             CREATE TABLE public.notes (id serial PRIMARY KEY, info_id bigint REFERENCES app.info (id), body text);
             CREATE INDEX notes_body_idx ON public.notes (lower(body));
             CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN NEW.created := now(); RETURN NEW; END $$;
             CREATE TRIGGER touch BEFORE UPDATE ON app.info FOR EACH ROW EXECUTE FUNCTION app.touch();
             CREATE VIEW app.named AS SELECT name FROM app.info;
             INSERT INTO app.info (name) VALUES ('a'), ('b;c'), (E'tab\\there');
             INSERT INTO public.notes (info_id, body) VALUES (1, 'first'), (2, NULL);",
        )
        .await
        .expect("source schema");
    let mut dump = Command::new(pg_bin("pg_dump"));
    dump.arg("--no-owner")
        .arg("--no-privileges")
        .arg(&source.url);
    if schema_only {
        dump.arg("--schema-only");
    }
    let out = dump.output().expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("dump is UTF-8")
}

#[tokio::test]
async fn a_pg_dump_schema_is_a_baseline_migration() {
    let dump = pg_dump_of_a_real_schema(true).await;
    assert!(dump.contains("search_path"), "the dump empties search_path");
    let db = TestDb::new().await;
    db.write("V1__baseline.sql", &dump);
    // The next migration uses unqualified names: the dump's search_path must not leak.
    db.write(
        "V2__after.sql",
        "CREATE TABLE after_baseline (id int); INSERT INTO notes (body) VALUES ('x');",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    assert_eq!(db.history().await, [1, 2]);
    assert!(db.table_exists("app.info").await && db.table_exists("public.after_baseline").await);
    assert_exit(&db.run(&["verify"]), 0);
}

#[tokio::test]
async fn a_pg_dump_with_data_loads_through_copy() {
    let dump = pg_dump_of_a_real_schema(false).await;
    assert!(dump.contains("FROM stdin;"), "a data dump uses COPY");
    let db = TestDb::new().await;
    db.write("V1__restore.sql", &dump);
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.count("SELECT count(*) FROM app.info").await, 3);
    assert_eq!(
        db.count("SELECT count(*) FROM app.info WHERE name = E'tab\\there'")
            .await,
        1
    );
    assert_eq!(db.count("SELECT count(*) FROM public.notes").await, 2);
}

#[tokio::test]
async fn identical_scripts_are_each_applied_and_recorded_under_their_own_name() {
    let db = TestDb::new().await;
    db.write("V1__first.sql", "CREATE TABLE t (a int);");
    db.write("V2__noop_a.sql", "SELECT 1;");
    db.write("V3__noop_b.sql", "SELECT 1;");
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("applied V2__noop_a") && err.contains("applied V3__noop_b"),
        "{err}"
    );
    assert!(err.contains("now at version 3"), "{err}");
    let rows = db
        .client
        .query(
            "SELECT version, name FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .expect("history");
    let names: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        names,
        [
            (1, "first".to_owned()),
            (2, "noop_a".to_owned()),
            (3, "noop_b".to_owned())
        ]
    );
}

#[tokio::test]
#[cfg(unix)]
async fn a_configmap_mounted_folder_is_read_once() {
    let db = TestDb::new().await;
    let dir = db.migrations();
    let data = dir.join("..2026_12_01_10_00_00.1234567");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::write(data.join("V1__first.sql"), "CREATE TABLE first (a int);").expect("write");
    std::os::unix::fs::symlink(data.file_name().expect("name"), dir.join("..data")).expect("link");
    std::os::unix::fs::symlink("..data/V1__first.sql", dir.join("V1__first.sql")).expect("link");
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1]);
}

#[tokio::test]
async fn a_byte_order_mark_is_ignored_and_the_no_transaction_marker_still_seen() {
    let db = TestDb::new().await;
    db.write("V1__table.sql", "\u{feff}CREATE TABLE t (a int);\r\n");
    db.write(
        "V2__index.sql",
        "\u{feff}-- dbtool:no-transaction\r\nCREATE INDEX CONCURRENTLY t_a ON t (a);\r\n",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 0);
    assert_eq!(db.history().await, [1, 2]);
    assert!(db.table_exists("t_a").await);
    assert_exit(&db.run(&["verify"]), 0);
}

#[tokio::test]
async fn an_index_left_invalid_by_a_killed_run_stops_the_next_run() {
    let db = TestDb::new().await;
    db.write(
        "V1__table.sql",
        "CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 100);",
    );
    assert_exit(&db.run(&["up"]), 0);
    db.write(
        "V2__unique.sql",
        "-- dbtool:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
    );
    // An open writer makes the index build wait after it has created the (invalid) index.
    let holder = connect(&db.url).await;
    holder
        .batch_execute("BEGIN; INSERT INTO t VALUES (1000)")
        .await
        .expect("open writer");
    let mut child = db
        .dbtool()
        .arg("up")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dbtool");
    let started = Instant::now();
    while !db.table_exists("t_a").await {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "index build never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().expect("kill dbtool");
    child.wait().expect("reap dbtool");
    // The server notices the dead client within a second and ends its backend.
    let gone = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dbtool'";
    while db.count(gone).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the killed runner's backend lives on"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    holder.batch_execute("ROLLBACK").await.expect("rollback");
    let invalid =
        "SELECT count(*) FROM pg_index WHERE indexrelid = 't_a'::regclass AND NOT indisvalid";
    assert_eq!(
        db.count(invalid).await,
        1,
        "the killed build left an invalid index"
    );

    // IF NOT EXISTS would skip it: dbtool must not report success over it.
    let out = db.run(&["up", "--wait-for-lock", "30"]);
    assert_exit(&out, 13);
    let err = stderr(&out);
    assert!(
        err.contains("public.t_a") && err.contains("DROP INDEX CONCURRENTLY public.t_a"),
        "{err}"
    );
    assert_eq!(db.history().await, [1]);

    db.client
        .batch_execute("DROP INDEX CONCURRENTLY public.t_a")
        .await
        .expect("drop");
    assert_exit(&db.run(&["up"]), 0);
    assert_eq!(db.history().await, [1, 2]);
    assert_eq!(
        db.count("SELECT count(*) FROM pg_index WHERE indexrelid = 't_a'::regclass AND indisvalid")
            .await,
        1
    );
}

#[tokio::test]
async fn errors_without_a_position_still_name_their_line() {
    let db = TestDb::new().await;
    db.write(
        "V1__dupes.sql",
        "CREATE TABLE t (a int PRIMARY KEY);\n\n-- the second insert collides\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
    );
    let out = db.run(&["up"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("V1__dupes.sql at line 5:"),
        "{}",
        stderr(&out)
    );
    db.write("V1__dupes.sql", "SELECT 1;\n\nSELECT\n  1/0;\n");
    let out = db.run(&["up"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("at line 3:") && err.contains("division by zero"),
        "{err}"
    );
}

#[tokio::test]
async fn an_upper_case_extension_is_refused_not_skipped() {
    let db = TestDb::new().await;
    db.write("V1__a.sql", "SELECT 1;");
    db.write("V2__b.SQL", "SELECT 2;");
    let out = db.run(&["up"]);
    assert_exit(&out, 7);
    assert!(stderr(&out).contains("V2__b.SQL"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_dry_run_on_a_fresh_database_pipes_into_psql() {
    let db = TestDb::new().await;
    write_three(&db);
    db.write(
        "V4__index.sql",
        "-- dbtool:no-transaction\nCREATE INDEX CONCURRENTLY info_desc ON info (description)",
    );
    let out = db.run(&["up", "--dry-run"]);
    assert_exit(&out, 0);
    assert!(!db.table_exists("refinery_schema_history").await);
    let mut psql = Command::new(pg_bin("psql"))
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &db.url,
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql");
    use std::io::Write;
    psql.stdin
        .take()
        .expect("stdin")
        .write_all(&out.stdout)
        .expect("pipe");
    let psql = psql.wait_with_output().expect("psql");
    assert!(
        psql.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&psql.stderr)
    );
    // What psql ran is exactly what dbtool would have recorded.
    assert_eq!(db.history().await, [1, 2, 3, 4]);
    assert_exit(&db.run(&["verify"]), 0);
    let up = db.run(&["up"]);
    assert_exit(&up, 0);
    assert!(stderr(&up).contains("up to date"), "{}", stderr(&up));
}

#[tokio::test]
async fn a_down_script_that_needs_no_transaction_says_how() {
    let db = TestDb::new().await;
    db.write("V1__t.sql", "CREATE TABLE t (a int);");
    db.write(
        "V2__idx.sql",
        "-- dbtool:no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);",
    );
    db.write("V2__idx.down.sql", "DROP INDEX CONCURRENTLY t_a;");
    assert_exit(&db.run(&["up"]), 0);
    let out = db.run(&["rollback"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("V2__idx.down.sql") && err.contains("-- dbtool:no-transaction"),
        "{err}"
    );
    assert_eq!(db.history().await, [1, 2]);
}
