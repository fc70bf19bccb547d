//! db-update (compose/app's `catalog-migrate`, dbtool) run twice at once, and killed in the
//! middle of a long migration.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::Duration;

use compose_tests::Project;
use fault_tests::cluster::START;

/// compose/app with only the catalog database up.
fn database_only() -> Project {
    let project = Project::new("app");
    project.make_env();
    project.compose(&["up", "-d", "catalog-db"]);
    project.wait_healthy(&[], START);
    project
}

fn history(project: &Project) -> String {
    project.psql(
        &[],
        "catalog-db",
        "catalog",
        "SELECT version, count(*) FROM refinery_schema_history GROUP BY version ORDER BY version",
    )
}

fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

#[test]
fn two_db_updates_at_once_apply_each_migration_once() {
    let project = database_only();
    let run = || {
        let mut command = project.compose_command(&["run", "--rm", "-T", "catalog-migrate"]);
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command.spawn().expect("docker-compose run starts")
    };
    let (first, second) = (run(), run());
    for child in [first, second] {
        let out = child.wait_with_output().expect("docker-compose run ends");
        assert!(
            out.status.success(),
            "a db-update failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let files = std::fs::read_dir(compose_tests::repo_root().join("migrations/catalog"))
        .expect("migrations/catalog")
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".sql") && !name.ends_with(".down.sql")
        })
        .count();
    let history = history(&project);
    assert_eq!(history.lines().count(), files, "history:\n{history}");
    assert!(
        history.lines().all(|l| l.ends_with("|1")),
        "a migration applied twice:\n{history}"
    );
}

#[test]
fn db_update_killed_during_a_long_migration_changes_nothing_and_the_next_run_completes() {
    let project = database_only();
    // A folder the image's non-root user can read, with a quick migration and a slow one.
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("V1__quick.sql"),
        "CREATE TABLE quick (id int);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("V2__slow.sql"),
        "CREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1);\nSELECT pg_sleep(8);\n",
    )
    .unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::set_permissions(
            entry.unwrap().path(),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mount = format!("{}:/long:ro", dir.path().display());
    let name = format!("{}-long-migrate", project.name());
    let args = [
        "run",
        "-T",
        "--name",
        name.as_str(),
        "-v",
        mount.as_str(),
        "-e",
        "DBTOOL_MIGRATIONS=/long",
        "catalog-migrate",
    ];
    let mut running = project
        .compose_command(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("docker-compose run starts");
    // V1 done, V2 sleeping inside its transaction: kill the container, as a crash would.
    let mut in_v2 = false;
    for _ in 0..60 {
        let sleeping = project.psql(
            &[],
            "catalog-db",
            "catalog",
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(8)%' AND pid <> pg_backend_pid()",
        );
        if sleeping == "1" {
            in_v2 = true;
            break;
        }
        sleep(Duration::from_millis(200));
    }
    assert!(in_v2, "the slow migration never started");
    output(Command::new("docker").args(["kill", "-s", "KILL", &name]));
    let _ = running.wait();
    let _ = output(Command::new("docker").args(["rm", "-f", &name]));
    // The killed connection's transaction is rolled back: V1 applied, V2 left no trace.
    sleep(Duration::from_secs(1));
    assert_eq!(history(&project), "1|1");
    let slow = project.psql(
        &[],
        "catalog-db",
        "catalog",
        "SELECT to_regclass('public.slow') IS NULL",
    );
    assert_eq!(slow, "t", "the killed migration's table exists");
    // The next run takes the lock (the dead one died with its connection) and finishes.
    let args = [
        "run",
        "--rm",
        "-T",
        "-v",
        mount.as_str(),
        "-e",
        "DBTOOL_MIGRATIONS=/long",
        "catalog-migrate",
    ];
    let out = output(&mut project.compose_command(&args));
    assert!(
        out.status.success(),
        "the next run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(history(&project), "1|1\n2|1");
}
