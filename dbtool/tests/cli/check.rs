//! `dbtool check`: round trips in a scratch database against the real PostgreSQL; what a
//! down script fails to restore is named, the scratch database always goes away, and the
//! `DATABASE_URL` database is never changed.

use std::process::Output;

use crate::support::*;

/// The scratch database `check` announced on stderr.
fn scratch_name(out: &Output) -> String {
    let text = stderr(out);
    let start = text
        .find("scratch database dbtool_check_")
        .unwrap_or_else(|| panic!("no scratch database named in:\n{text}"))
        + "scratch database ".len();
    text[start..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .expect("name")
        .to_owned()
}

async fn database_exists(name: &str) -> bool {
    let admin = connect(&admin_url()).await;
    admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .expect("pg_database")
        .get::<_, i64>(0)
        == 1
}

/// The test's own database holds nothing: no table, no function, no history.
async fn assert_untouched(db: &TestDb) {
    let objects = db
        .count(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))
                  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))",
        )
        .await;
    assert_eq!(objects, 0, "check changed the DATABASE_URL database");
    assert_eq!(db.history().await, Vec::<i32>::new());
}

#[track_caller]
fn assert_stdout_has(out: &Output, expected: &str) {
    assert!(
        stdout(out).contains(expected),
        "expected {expected:?} in stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

#[tokio::test]
async fn check_passes_a_good_round_trip_and_leaves_no_trace() {
    let db = TestDb::new().await;
    write_three(&db);
    db.write(
        "V4__function_and_view.sql",
        "CREATE TYPE mood AS ENUM ('ok', 'meh');\n\
         CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT upper(t) $$;\n\
         CREATE VIEW loud AS SELECT shout(name) AS name FROM info;\n\
         CREATE INDEX info_description ON info (description);",
    );
    db.write(
        "V4__function_and_view.down.sql",
        "DROP INDEX info_description; DROP VIEW loud; DROP FUNCTION shout(text); DROP TYPE mood;",
    );
    db.write(
        "V5__concurrent_index.sql",
        "-- dbtool:no-transaction\nCREATE INDEX CONCURRENTLY info_lower ON info (lower(name));",
    );
    db.write(
        "V5__concurrent_index.down.sql",
        "-- dbtool:no-transaction\nDROP INDEX CONCURRENTLY info_lower;",
    );
    db.write(
        "V6__trigger.sql",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE TRIGGER info_touch BEFORE UPDATE ON info FOR EACH ROW EXECUTE FUNCTION touch();\n\
         ALTER TABLE info ENABLE ROW LEVEL SECURITY;\n\
         CREATE POLICY everyone ON info USING (true);",
    );
    db.write(
        "V6__trigger.down.sql",
        "DROP POLICY everyone ON info; ALTER TABLE info DISABLE ROW LEVEL SECURITY;\n\
         DROP TRIGGER info_touch ON info; DROP FUNCTION touch();",
    );
    let out = db.run(&["check"]);
    assert_exit(&out, 0);
    for label in [
        "V1__create_info",
        "V2__seed",
        "V3__add_column",
        "V4__function_and_view",
        "V5__concurrent_index",
        "V6__trigger",
    ] {
        assert_stdout_has(&out, &format!("{label}: round trip ok"));
    }
    assert!(!database_exists(&scratch_name(&out)).await);
    assert_untouched(&db).await;
}

#[tokio::test]
async fn check_names_an_index_the_down_script_leaves_behind_and_the_failed_reapply() {
    let db = TestDb::new().await;
    db.write("V1__entries.sql", "CREATE TABLE entries (name text);");
    db.write("V1__entries.down.sql", "DROP TABLE entries;");
    db.write(
        "V2__add_index.sql",
        "CREATE INDEX entries_name_idx ON entries (name);",
    );
    db.write("V2__add_index.down.sql", "SELECT 1;");
    db.write("V3__later.sql", "CREATE TABLE later (a int);");
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(&out, "V1__entries: round trip ok");
    assert_stdout_has(
        &out,
        "V2__add_index.down.sql leaves index public.entries_name_idx behind",
    );
    // The down script leaves the index, so the up script cannot run again.
    assert_stdout_has(
        &out,
        "V2__add_index.sql fails when applied again after its down script: ",
    );
    assert_stdout_has(&out, "relation \"entries_name_idx\" already exists");
    assert_stdout_has(&out, "V3__later: not checked (an earlier migration failed)");
    assert!(
        stderr(&out).contains("round trip failed for V2__add_index"),
        "{}",
        stderr(&out)
    );
    assert!(!database_exists(&scratch_name(&out)).await);
    assert_untouched(&db).await;
}

#[tokio::test]
async fn check_names_a_column_the_down_script_does_not_restore() {
    let db = TestDb::new().await;
    db.write("V1__info.sql", "CREATE TABLE info (name text, note text);");
    db.write("V1__info.down.sql", "DROP TABLE info;");
    db.write(
        "V2__drop_note.sql",
        "ALTER TABLE info DROP COLUMN IF EXISTS note;",
    );
    db.write("V2__drop_note.down.sql", "SELECT 1;");
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(
        &out,
        "V2__drop_note.down.sql does not restore column public.info.note (text)",
    );
    // Applying it again works and gives the same schema: nothing else to report.
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    assert!(!database_exists(&scratch_name(&out)).await);
}

#[tokio::test]
async fn check_names_a_column_the_down_script_restores_differently() {
    let db = TestDb::new().await;
    db.write("V1__info.sql", "CREATE TABLE info (name text, note text);");
    db.write("V1__info.down.sql", "DROP TABLE info;");
    db.write("V2__drop_note.sql", "ALTER TABLE info DROP COLUMN note;");
    db.write(
        "V2__drop_note.down.sql",
        "ALTER TABLE info ADD COLUMN note varchar(10) NOT NULL DEFAULT '';",
    );
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(
        &out,
        "V2__drop_note.down.sql changes the definition of column public.info.note \
         (was `text`, now `character varying(10) not null default ''::character varying`)",
    );
}

#[tokio::test]
async fn check_names_a_constraint_the_down_script_leaves_behind() {
    let db = TestDb::new().await;
    db.write("V1__info.sql", "CREATE TABLE info (name text);");
    db.write("V1__info.down.sql", "DROP TABLE info;");
    db.write(
        "V2__short_names.sql",
        "ALTER TABLE info DROP CONSTRAINT IF EXISTS info_name_short;\n\
         ALTER TABLE info ADD CONSTRAINT info_name_short CHECK (length(name) < 64);",
    );
    db.write("V2__short_names.down.sql", "SELECT 1;");
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(
        &out,
        "V2__short_names.down.sql leaves constraint public.info.info_name_short behind",
    );
}

#[tokio::test]
async fn check_names_a_function_whose_old_definition_the_down_script_does_not_restore() {
    let db = TestDb::new().await;
    db.write(
        "V1__f.sql",
        "CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 41 $$;",
    );
    db.write("V1__f.down.sql", "DROP FUNCTION answer();");
    db.write(
        "V2__fix_answer.sql",
        "CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;",
    );
    db.write("V2__fix_answer.down.sql", "SELECT 1;");
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(
        &out,
        "V2__fix_answer.down.sql changes the definition of function public.answer() \
         (line 4 was `AS $function$ SELECT 41 $function$`, now `AS $function$ SELECT 42 $function$`)",
    );
}

#[tokio::test]
async fn check_reports_an_up_script_that_cannot_run_again_after_its_down_script() {
    let db = TestDb::new().await;
    db.write(
        "V1__moods.sql",
        "CREATE TYPE mood AS ENUM ('ok', 'meh');\nCREATE TABLE feelings (m mood);",
    );
    // Forgets the type: the table goes, the type stays, and CREATE TYPE fails next time.
    db.write("V1__moods.down.sql", "DROP TABLE feelings;");
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(
        &out,
        "V1__moods.down.sql leaves type public.mood (enum) behind",
    );
    assert_stdout_has(
        &out,
        "V1__moods.sql fails when applied again after its down script: ",
    );
    assert_stdout_has(&out, "type \"mood\" already exists");
    assert!(!database_exists(&scratch_name(&out)).await);
}

#[tokio::test]
async fn check_drops_the_scratch_database_when_a_migration_fails() {
    let db = TestDb::new().await;
    write_three(&db);
    db.write(
        "V2__seed.sql",
        "INSERT INTO info VALUES ('a', 'first'); SELEC 1;",
    );
    let out = db.run(&["check"]);
    assert_exit(&out, 16);
    assert_stdout_has(&out, "V1__create_info: round trip ok");
    assert_stdout_has(&out, "migration V2__seed failed");
    assert_stdout_has(&out, "V3__add_column: not checked");
    assert!(
        stderr(&out).contains("dropped scratch database"),
        "{}",
        stderr(&out)
    );
    assert!(!database_exists(&scratch_name(&out)).await);
    assert_untouched(&db).await;
}

#[tokio::test]
async fn check_reports_a_migration_without_down_script_and_require_down_fails_it() {
    let db = TestDb::new().await;
    write_three(&db);
    std::fs::remove_file(db.migrations().join("V2__seed.down.sql")).expect("remove");
    let out = db.run(&["check"]);
    assert_exit(&out, 0);
    assert_stdout_has(&out, "V2__seed: not reversible (no down script)");
    assert_stdout_has(&out, "V3__add_column: round trip ok");

    let out = db.run(&["check", "--require-down"]);
    assert_exit(&out, 16);
    assert_stdout_has(&out, "V2__seed: not reversible (no down script)");
    assert!(
        stderr(&out).contains("round trip failed for V2__seed"),
        "{}",
        stderr(&out)
    );
    assert!(!database_exists(&scratch_name(&out)).await);
}

#[tokio::test]
async fn check_keep_leaves_the_scratch_database_to_look_into() {
    let db = TestDb::new().await;
    write_three(&db);
    let out = db.run(&["check", "--keep"]);
    assert_exit(&out, 0);
    let name = scratch_name(&out);
    assert!(stderr(&out).contains(&format!("kept scratch database {name}")));
    let scratch = connect(&with_database(&admin_url(), &name)).await;
    let tables: i64 = scratch
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'info'",
            &[],
        )
        .await
        .expect("query")
        .get(0);
    assert_eq!(tables, 1);
    drop(scratch);
    connect(&admin_url())
        .await
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop kept database");
}

/// `postgres://user@…` for another role, from the admin URL.
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL");
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{rest}")
}

#[tokio::test]
async fn check_without_createdb_says_so_and_works_with_scratch_url() {
    let db = TestDb::new().await;
    write_three(&db);
    let role = format!("dbtool_nocreatedb_{}", random_suffix());
    let scratch = format!("dbtool_scratch_{}", random_suffix());
    let admin = connect(&admin_url()).await;
    // One statement per call: CREATE DATABASE refuses an implicit transaction.
    for sql in [
        format!("CREATE ROLE {role} LOGIN NOCREATEDB"),
        format!("CREATE DATABASE {scratch} OWNER {role}"),
    ] {
        admin.batch_execute(&sql).await.expect(&sql);
    }

    let url = with_user(&db.url, &role);
    let out = db
        .dbtool()
        .env("DATABASE_URL", &url)
        .arg("check")
        .output()
        .expect("run");
    assert_exit(&out, 13);
    assert!(stderr(&out).contains("CREATEDB"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--scratch-url"), "{}", stderr(&out));

    let scratch_url = with_user(&with_database(&admin_url(), &scratch), &role);
    let out = db
        .dbtool()
        .env("DATABASE_URL", &url)
        .args(["check", "--scratch-url", &scratch_url])
        .output()
        .expect("run");
    assert_exit(&out, 0);
    assert_stdout_has(&out, "V3__add_column: round trip ok");
    // The given database is the user's: used, not dropped; and not empty any more.
    assert!(database_exists(&scratch).await);
    let out = db
        .dbtool()
        .env("DATABASE_URL", &url)
        .args(["check", "--scratch-url", &scratch_url])
        .output()
        .expect("run");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--scratch-url must name an empty database"),
        "{}",
        stderr(&out)
    );
    assert_untouched(&db).await;

    for sql in [
        format!("DROP DATABASE {scratch} WITH (FORCE)"),
        format!("DROP OWNED BY {role}"),
        format!("DROP ROLE {role}"),
    ] {
        admin.batch_execute(&sql).await.expect(&sql);
    }
}

#[tokio::test]
async fn check_works_with_a_history_table_in_its_own_schema() {
    let db = TestDb::new().await;
    write_three(&db);
    let out = db.run(&["--history-table", "tooling.history", "check"]);
    assert_exit(&out, 0);
    assert_stdout_has(&out, "V3__add_column: round trip ok");
    // Neither the history table nor its schema counts as left behind.
    assert!(!stdout(&out).contains("tooling"), "{}", stdout(&out));
    assert_untouched(&db).await;
}
