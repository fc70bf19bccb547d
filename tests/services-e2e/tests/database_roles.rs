//! `services/roles.sql`: each service's role owns its database and cannot reach the other's.

use std::path::PathBuf;
use std::process::Command;

use service_test_support::{database_url_for, test_database_url, unique_name};

use services_e2e::{catalog_on as spawn_catalog_on, migrations};

fn psql() -> PathBuf {
    std::env::var("PG_BIN")
        .map(|bin| PathBuf::from(bin).join("psql"))
        .unwrap_or_else(|_| PathBuf::from("psql"))
}

fn roles_sql() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../services/roles.sql")
}

/// Runs the script as the superuser; returns its exit status and stderr.
fn run_roles_sql(vars: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(psql());
    command.arg(test_database_url()).arg("--quiet");
    for (name, value) in vars {
        command.arg("-v").arg(format!("{name}={value}"));
    }
    let output = command
        .arg("-f")
        .arg(roles_sql())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", psql().display()));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A database and its role, both named `name`, made by the script.
fn service_database(name: &str, password: &str) -> String {
    let (ok, stderr) = run_roles_sql(&[("db", name), ("role", name), ("password", password)]);
    assert!(ok, "roles.sql failed for {name}: {stderr}");
    database_url_for(
        &test_database_url(),
        name,
        Some(&format!("{name}:{password}")),
    )
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

#[tokio::test]
async fn each_service_role_uses_its_own_database_and_cannot_connect_to_the_other() {
    let catalog = unique_name("catalog");
    let activity = unique_name("activity");
    // A password with quotes and a semicolon: the script quotes it as a literal.
    let catalog_url = service_database(&catalog, "it's; secret");
    let activity_url = service_database(&activity, "other \"pw\"");
    // Running it again is harmless (and is how a password is changed).
    let catalog_url_again = service_database(&catalog, "it's; secret");
    assert_eq!(catalog_url, catalog_url_again);

    // Each role migrates its own database and owns the tables.
    dbtool::migrate_up(&catalog_url, &migrations("catalog"))
        .await
        .unwrap();
    dbtool::migrate_up(&activity_url, &migrations("activity"))
        .await
        .unwrap();
    let own = connect(&catalog_url).await.unwrap();
    let owner: String = own
        .query_one(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'info'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, catalog);

    // Neither role may connect to the other's database.
    let cross = [(&catalog, &activity), (&activity, &catalog)];
    for (role, database) in cross {
        let url = database_url_for(&test_database_url(), database, Some(role));
        let err = connect(&url)
            .await
            .err()
            .unwrap_or_else(|| panic!("role {role} connected to database {database}"));
        let code = err.as_db_error().map(|e| e.code().code().to_owned());
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "role {role} on {database}: {err}"
        );
    }

    // Nor create databases or roles.
    for statement in ["CREATE DATABASE x_not_allowed", "CREATE ROLE x_not_allowed"] {
        let err = own.batch_execute(statement).await.unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code().code()),
            Some("42501"),
            "{statement}: {err}"
        );
    }

    // The catalog serves through its own role.
    let service = spawn_catalog_on(
        &catalog_url,
        &service_test_support::test_redis_url(),
        &service_test_support::fresh_prefix(),
    )
    .await;
    assert_eq!(
        service.put("by-role", "stored by the catalog role").await,
        201
    );
}

#[tokio::test]
async fn the_script_refuses_to_run_without_its_variables() {
    for missing in ["db", "role", "password"] {
        let vars: Vec<(&str, &str)> = [("db", "x_db"), ("role", "x_role"), ("password", "pw")]
            .into_iter()
            .filter(|(name, _)| *name != missing)
            .collect();
        let (ok, stderr) = run_roles_sql(&vars);
        assert!(!ok, "ran without {missing}");
        assert!(
            stderr.contains(&format!("-v {missing}=")),
            "missing {missing}: {stderr}"
        );
    }
}
