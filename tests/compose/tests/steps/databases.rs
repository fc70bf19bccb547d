//! The database steps: persistence, two servers, tool containers, runtime and tool files.

use std::process::Command;
use std::time::Duration;

use compose_tests::images::{base_image, project_image, require};
use compose_tests::project::{inspect, run, Compose};
use compose_tests::{free_port, Project};

const START: Duration = Duration::from_secs(60);

fn require_postgres_and_dbtool() {
    require(&[&base_image("POSTGRES_IMAGE"), &project_image("dbtool")]);
}

/// The migrations of migrations/cluster, as the tests expect them: V1 creates `info`, V2
/// inserts its two rows.
const SEEDED_ROWS: &str = "2";

#[test]
fn cluster_db_1_keeps_rows_across_down_and_up_and_down_v_deletes_the_volume() {
    require_postgres_and_dbtool();
    let port = free_port();
    let project = Project::new("cluster-db-1")
        .with_compose(Compose::V2)
        .with_env("DB_PORT", port.to_string());
    project.make_env();
    // Compose v2's `up --wait`: returns once the database's healthcheck passes.
    project.up_wait(&[], START);

    // Over the published port, with the password make-env.sh generated, as psql on the
    // host connects in this step.
    let password = project.dotenv("POSTGRES_PASSWORD");
    let psql_host = |sql: &str| {
        let psql = std::env::var("PG_BIN")
            .map(|bin| format!("{bin}/psql"))
            .unwrap_or_else(|_| "psql".into());
        let output = run(Command::new(psql)
            .env("PGPASSWORD", &password)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-d",
            ])
            .args(["cluster", "-v", "ON_ERROR_STOP=1", "-tAc", sql]));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    psql_host("CREATE TABLE visit (note text); INSERT INTO visit VALUES ('kept')");

    project.compose(&["down"]);
    assert!(
        project.containers(&[], None).is_empty(),
        "down removes the containers"
    );
    project.compose(&["up", "-d"]);
    project.wait_healthy(&[], START);
    assert_eq!(psql_host("SELECT note FROM visit"), "kept");

    project.compose(&["down", "-v"]);
    let volumes = run(Command::new("docker").args([
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("name={}_", project.name()),
    ]));
    assert_eq!(
        String::from_utf8_lossy(&volumes.stdout).trim(),
        "",
        "down -v deletes the volume"
    );
}

#[test]
fn cluster_db_2_initialises_and_keeps_each_database_separately() {
    require_postgres_and_dbtool();
    let project = Project::new("cluster-db-2").with_compose(Compose::V2);
    project.make_env();
    project.compose(&["up", "-d"]);
    project.wait_healthy(&[], START);

    project.psql(
        &[],
        "db-1",
        "one",
        "CREATE TABLE t (v text); INSERT INTO t VALUES ('in one')",
    );
    project.psql(
        &[],
        "db-2",
        "two",
        "CREATE TABLE t (v text); INSERT INTO t VALUES ('in two')",
    );
    // Each server made only its own database on its first start.
    let databases = "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database \
                     WHERE datname IN ('one', 'two')";
    assert_eq!(project.psql(&[], "db-1", "postgres", databases), "one");
    assert_eq!(project.psql(&[], "db-2", "postgres", databases), "two");

    project.compose(&["down"]);
    project.compose(&["up", "-d"]);
    project.wait_healthy(&[], START);
    assert_eq!(
        project.psql(&[], "db-1", "one", "SELECT v FROM t"),
        "in one"
    );
    assert_eq!(
        project.psql(&[], "db-2", "two", "SELECT v FROM t"),
        "in two"
    );
}

/// What `info` holds and how many migrations the history lists, or "no table".
fn schema_state(psql: impl Fn(&str) -> String) -> (String, String) {
    let has_info = psql("SELECT count(*) FROM pg_tables WHERE tablename = 'info'");
    let rows = if has_info == "1" {
        psql("SELECT count(*) FROM info")
    } else {
        "no table".into()
    };
    let has_history = psql("SELECT to_regclass('refinery_schema_history') IS NOT NULL");
    let history = if has_history == "t" {
        psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM refinery_schema_history")
    } else {
        "none".into()
    };
    (rows, history)
}

// cluster-db-3 and cluster-db-4 run with both implementations: profiles, `run --rm` of a
// profiled service, `.env` beside two `-f` files and one project across two files are
// where docker-compose 1.29 and Compose v2 differ.
#[test]
fn cluster_db_3_db_update_then_db_rollback_change_the_schema() {
    cluster_db_3(Compose::V2);
}

#[test]
fn cluster_db_3_with_docker_compose_1_29() {
    cluster_db_3(Compose::V1);
}

fn cluster_db_3(compose: Compose) {
    require_postgres_and_dbtool();
    let project = Project::new("cluster-db-3").with_compose(compose);
    project.make_env();
    project.compose(&["up", "-d"]);
    project.wait_healthy(&[], START);
    // The tools are in a profile: `up` started the database alone.
    assert_eq!(
        project.containers(&[], None).len(),
        1,
        "up starts only the database"
    );

    // Through exec-psql.sh, the step's own way in.
    let exec_psql = |sql: &str| {
        let output = run(project.command("./exec-psql.sh").args(["-tA", "-c", sql]));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(schema_state(exec_psql), ("no table".into(), "none".into()));

    project.compose(&["run", "--rm", "db-update"]);
    assert_eq!(schema_state(exec_psql), (SEEDED_ROWS.into(), "1,2".into()));

    project.compose(&["run", "--rm", "db-rollback"]);
    // The newest migration (the seed rows) is undone; the table stays.
    assert_eq!(schema_state(exec_psql), ("0".into(), "1".into()));
}

#[test]
fn cluster_db_4_tools_file_updates_and_rolls_back_the_runtime_files_database() {
    cluster_db_4(Compose::V2);
}

#[test]
fn cluster_db_4_with_docker_compose_1_29() {
    cluster_db_4(Compose::V1);
}

fn cluster_db_4(compose: Compose) {
    require_postgres_and_dbtool();
    const FILES: [&str; 2] = ["db.yaml", "db-tools.yaml"];
    let project = Project::new("cluster-db-4")
        .with_compose(compose)
        .with_files(&FILES);
    // .env gives both files the project name; the test's own name (in the environment)
    // wins over it, as the environment always does.
    project.make_env();
    project.compose(&["-f", "db.yaml", "up", "-d"]);
    project.wait_healthy(&["db.yaml"], START);
    let psql = |sql: &str| project.psql(&["db.yaml"], "db", "cluster", sql);

    // Exactly the commands the step documents.
    project.compose(&["-f", "db-tools.yaml", "up", "db-update"]);
    let update = &project.containers(&["db-tools.yaml"], Some("db-update"))[0];
    assert_eq!(inspect(update, "{{.State.ExitCode}}"), "0");
    assert_eq!(schema_state(psql), (SEEDED_ROWS.into(), "1,2".into()));

    project.compose(&["-f", "db-tools.yaml", "up", "db-rollback"]);
    let rollback = &project.containers(&["db-tools.yaml"], Some("db-rollback"))[0];
    assert_eq!(inspect(rollback, "{{.State.ExitCode}}"), "0");
    assert_eq!(schema_state(psql), ("0".into(), "1".into()));
}
