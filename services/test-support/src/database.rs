//! A fresh database per test on the harness's PostgreSQL, migrated with dbtool's library.

use std::path::Path;

use tokio_postgres::{Client, NoTls};

/// `TEST_DATABASE_URL`: a superuser URL to the `postgres` database of the harness's server.
pub fn test_database_url() -> String {
    crate::required_env("TEST_DATABASE_URL")
}

/// `base` with its database name replaced by `database` (and `user` when given).
pub fn database_url_for(base: &str, database: &str, user: Option<&str>) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (base, None),
    };
    let (scheme, rest) = without_query
        .split_once("://")
        .expect("TEST_DATABASE_URL has the form postgres://user@host:port/database");
    let (authority, _old_database) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = match (user, authority.split_once('@')) {
        (Some(user), Some((_old_user, host))) => format!("{user}@{host}"),
        (Some(user), None) => format!("{user}@{authority}"),
        (None, _) => authority.to_owned(),
    };
    let mut url = format!("{scheme}://{authority}/{database}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// A client connected as the superuser to `postgres`, for creating databases and roles.
pub async fn superuser_client() -> Client {
    client(&test_database_url()).await
}

/// A client connected to `url` (a test database's, as [`fresh_database`] returns it).
pub async fn client(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// Creates an empty database with a unique name starting with `prefix`, applies the
/// migrations in `migrations` (when given) with `dbtool::migrate_up`, and returns its URL
/// (as the superuser).
pub async fn fresh_database(prefix: &str, migrations: Option<&Path>) -> String {
    let name = crate::unique_name(prefix);
    superuser_client()
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    let url = database_url_for(&test_database_url(), &name, None);
    if let Some(dir) = migrations {
        dbtool::migrate_up(&url, dir)
            .await
            .unwrap_or_else(|e| panic!("cannot migrate {name} from {}: {e}", dir.display()));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::database_url_for;

    #[test]
    fn database_urls_keep_host_and_query_and_swap_database_and_user() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5/postgres",
                "x",
                None,
                "postgres://postgres@127.0.0.1:5/x",
            ),
            (
                "postgres://postgres@h:5/postgres?sslmode=disable",
                "x",
                None,
                "postgres://postgres@h:5/x?sslmode=disable",
            ),
            (
                "postgres://postgres:pw@h:5/postgres",
                "x",
                Some("catalog"),
                "postgres://catalog@h:5/x",
            ),
            (
                "postgres://h:5/postgres",
                "x",
                Some("catalog"),
                "postgres://catalog@h:5/x",
            ),
        ];
        for (base, database, user, want) in cases {
            assert_eq!(database_url_for(base, database, user), want, "case {base}");
        }
    }
}
