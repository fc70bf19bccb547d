//! `dbtool check`: the round trip of every migration, in a scratch database.
//!
//! For each migration in version order: snapshot the schema, apply it, snapshot, roll it
//! back with its down script, snapshot and compare with the first snapshot, apply it again
//! and compare with the second. Each difference names the object a down script fails to
//! restore ("V3__add_index.down.sql leaves index public.entries_name_idx behind"). A failure
//! that leaves the scratch database in an unknown state (an up script that fails, a down
//! script that fails, an up script that cannot run again) ends the check there.
//!
//! The scratch database is `dbtool_check_<random>`, made on the server of `DATABASE_URL`
//! (the role needs CREATEDB) and dropped at the end, failure or not; the `DATABASE_URL`
//! database itself is only connected to, never changed. `--scratch-url` names an empty
//! database to use instead, which is left as the check leaves it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::time::Instant;

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::context::Context;
use crate::error::Error;
use crate::plan::RollbackTarget;
use crate::progress::{millis, Progress};
use crate::schema::{self, describe_change, Difference, Exclude, Snapshot};
use crate::source::LocalMigration;

/// The command line's choices for `dbtool check`.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// An empty database to use instead of making one (`--scratch-url`).
    pub scratch_url: Option<String>,
    /// Keep the scratch database that `check` made (`--keep`).
    pub keep: bool,
    /// Count a migration without a down script as a failure (`--require-down`).
    pub require_down: bool,
}

/// What the round trip found for one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationCheck {
    pub version: i32,
    /// `V3__add_index`.
    pub label: String,
    /// Whether it has a down script (without one, only the up script was applied).
    pub reversible: bool,
    /// One sentence per problem, naming the file and the object.
    pub problems: Vec<String>,
}

/// The whole check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The scratch database's name.
    pub scratch_database: String,
    /// Migrations checked, in order; the check stops after one that left the scratch
    /// database in an unknown state.
    pub checked: Vec<MigrationCheck>,
    /// Migrations not reached because of that.
    pub not_checked: Vec<String>,
    pub require_down: bool,
}

impl CheckReport {
    /// Labels of the migrations whose round trip failed.
    pub fn failures(&self) -> Vec<String> {
        self.checked
            .iter()
            .filter(|c| !c.problems.is_empty() || (self.require_down && !c.reversible))
            .map(|c| c.label.clone())
            .collect()
    }

    /// The report as lines for stdout: one per migration that passed, one per problem.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for check in &self.checked {
            if !check.reversible {
                lines.push(format!(
                    "{}: not reversible (no down script){}",
                    check.label,
                    if self.require_down {
                        "; --require-down makes that a failure"
                    } else {
                        ""
                    }
                ));
            } else if check.problems.is_empty() {
                lines.push(format!("{}: round trip ok", check.label));
            }
            lines.extend(check.problems.iter().cloned());
        }
        for label in &self.not_checked {
            lines.push(format!(
                "{label}: not checked (an earlier migration failed)"
            ));
        }
        lines
    }
}

/// Runs the round trip of every local migration; see the module documentation.
/// `database_url` is the URL `ctx` was made from: the scratch database's URL is the same
/// with another database name.
pub async fn check(
    ctx: &Context,
    database_url: &str,
    options: &CheckOptions,
) -> Result<CheckReport, Error> {
    let local = ctx.local()?;
    if let Some(url) = &options.scratch_url {
        let scratch = scratch_context(ctx, url)?;
        let client = scratch.connect().await?;
        let found = schema::snapshot(&client, &Exclude::default()).await?;
        if !found.is_empty_database() {
            let first = found
                .objects
                .values()
                .find(|o| !matches!(o.kind, schema::Kind::Schema | schema::Kind::Extension))
                .or_else(|| found.objects.values().next())
                .map_or_else(String::new, |o| format!(" (it has {o})"));
            return Err(Error::InvalidArgument(format!(
                "--scratch-url must name an empty database{first}: the check applies every \
                 migration to it"
            )));
        }
        let name = database_name(&client).await?;
        drop(client);
        return round_trips(ctx, &scratch, &local, options, name).await;
    }

    let admin = ctx.connect().await?;
    let name = format!("dbtool_check_{}", random_suffix());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|err| create_error(&name, err))?;
    ctx.progress
        .line(&format!("created scratch database {name}"));
    let result = match scratch_context(ctx, &with_database(database_url, &name)) {
        Ok(scratch) => round_trips(ctx, &scratch, &local, options, name.clone()).await,
        Err(err) => Err(err),
    };
    if options.keep {
        ctx.progress.line(&format!("kept scratch database {name}"));
        return result;
    }
    match drop_database(ctx, admin, &name).await {
        Ok(()) => {
            ctx.progress
                .line(&format!("dropped scratch database {name}"));
            result
        }
        Err(drop_err) => match result {
            Ok(_) => Err(drop_err),
            Err(err) => {
                ctx.progress.line(&format!(
                    "could not drop scratch database {name}: {drop_err}"
                ));
                Err(err)
            }
        },
    }
}

/// The round trips themselves, in the scratch database `scratch` points at.
async fn round_trips(
    ctx: &Context,
    scratch: &Context,
    local: &[LocalMigration],
    options: &CheckOptions,
    scratch_database: String,
) -> Result<CheckReport, Error> {
    let mut report = CheckReport {
        scratch_database,
        checked: Vec::new(),
        not_checked: Vec::new(),
        require_down: options.require_down,
    };
    let exclude = Exclude {
        relations: vec![(ctx.history.schema.clone(), ctx.history.name.clone())],
    };
    let client = scratch.connect().await?;
    if let Some(history_schema) = &ctx.history.schema {
        // The history table's own schema must exist before the first migration; made
        // here, it is part of every snapshot.
        let quoted = format!("\"{}\"", history_schema.replace('"', "\"\""));
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
            .await
            .map_err(|e| Error::database("creating the history table's schema", e))?;
    }
    let mut before = schema::snapshot(&client, &exclude).await?;
    let mut stopped = false;
    for migration in local {
        if stopped {
            report.not_checked.push(migration.label());
            continue;
        }
        let mut check = MigrationCheck {
            version: migration.version,
            label: migration.label(),
            reversible: migration.down.is_some(),
            problems: Vec::new(),
        };
        let started = Instant::now();
        let up_file = file_name(&migration.up.path);
        if let Err(err) = crate::up::up(scratch, Some(migration.version), false).await {
            check.problems.push(problem(err)?);
            report.checked.push(check);
            stopped = true;
            continue;
        }
        let after = schema::snapshot(&client, &exclude).await?;
        let Some(down) = &migration.down else {
            ctx.progress.line(&format!(
                "applied {} ({}; no down script)",
                migration.label(),
                millis(started.elapsed())
            ));
            before = after;
            report.checked.push(check);
            continue;
        };
        let down_file = file_name(&down.path);
        if let Err(err) = crate::rollback::rollback(scratch, RollbackTarget::Count(1), false).await
        {
            check.problems.push(problem(err)?);
            report.checked.push(check);
            stopped = true;
            continue;
        }
        let restored = schema::snapshot(&client, &exclude).await?;
        check
            .problems
            .extend(down_differences(&down_file, &before, &restored));
        if let Err(err) = crate::up::up(scratch, Some(migration.version), false).await {
            let text = problem(err)?;
            check.problems.push(format!(
                "{up_file} fails when applied again after its down script: {text}"
            ));
            report.checked.push(check);
            stopped = true;
            continue;
        }
        let reapplied = schema::snapshot(&client, &exclude).await?;
        check
            .problems
            .extend(reapply_differences(&up_file, &after, &reapplied));
        ctx.progress.line(&format!(
            "checked {} ({})",
            migration.label(),
            millis(started.elapsed())
        ));
        before = reapplied;
        report.checked.push(check);
    }
    Ok(report)
}

/// An error of a migration's own making becomes a problem in the report; one of the
/// connection or the lock ends the check.
fn problem(err: Error) -> Result<String, Error> {
    match err {
        Error::Unreachable { .. }
        | Error::ConnectionLost { .. }
        | Error::LockTimeout { .. }
        | Error::BadUrl(_) => Err(err),
        err => Ok(err.to_string()),
    }
}

/// What a down script failed to restore: `restored` against `before`.
fn down_differences(down_file: &str, before: &Snapshot, restored: &Snapshot) -> Vec<String> {
    schema::diff(before, restored)
        .into_iter()
        .map(|difference| match difference {
            Difference::Extra(object) => format!("{down_file} leaves {object} behind"),
            Difference::Missing(object) => format!("{down_file} does not restore {object}"),
            Difference::Changed { expected, actual } => format!(
                "{down_file} changes the definition of {} {} ({})",
                expected.kind,
                expected.name,
                describe_change(&expected.definition, &actual.definition)
            ),
        })
        .collect()
}

/// How applying again after the down script differs from the first time.
fn reapply_differences(up_file: &str, after: &Snapshot, reapplied: &Snapshot) -> Vec<String> {
    schema::diff(after, reapplied)
        .into_iter()
        .map(|difference| match difference {
            Difference::Extra(object) => {
                format!("{up_file}, applied again after its down script, leaves an extra {object}")
            }
            Difference::Missing(object) => {
                format!("{up_file}, applied again after its down script, does not create {object}")
            }
            Difference::Changed { expected, actual } => format!(
                "{up_file}, applied again after its down script, gives a different definition \
                 of {} {} ({})",
                expected.kind,
                expected.name,
                describe_change(&expected.definition, &actual.definition)
            ),
        })
        .collect()
}

/// `ctx` pointed at another database: same settings, quiet (the check reports itself).
fn scratch_context(ctx: &Context, url: &str) -> Result<Context, Error> {
    Ok(Context {
        database: Context::new(url, &ctx.migrations)?.database,
        progress: Progress::quiet(),
        ..ctx.clone()
    })
}

fn create_error(name: &str, err: tokio_postgres::Error) -> Error {
    match err.as_db_error() {
        Some(db) if db.code() == &SqlState::INSUFFICIENT_PRIVILEGE => Error::Database {
            context: format!("creating the scratch database {name}"),
            message: format!(
                "{} (SQLSTATE {}); the check needs a role with CREATEDB, or pass \
                 --scratch-url with an empty database it may fill",
                db.message(),
                db.code().code()
            ),
        },
        _ => Error::database(&format!("creating the scratch database {name}"), err),
    }
}

/// Drops the scratch database, ending any session still in it; reconnects once when the
/// first connection has gone.
async fn drop_database(ctx: &Context, admin: Client, name: &str) -> Result<(), Error> {
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if admin.batch_execute(&sql).await.is_ok() {
        return Ok(());
    }
    drop(admin);
    let admin = ctx.connect().await?;
    admin
        .batch_execute(&sql)
        .await
        .map_err(|e| Error::database(&format!("dropping the scratch database {name}"), e))
}

async fn database_name(client: &Client) -> Result<String, Error> {
    client
        .query_one("SELECT current_database()::text", &[])
        .await
        .map(|row| row.get(0))
        .map_err(|e| Error::database("reading the scratch database's name", e))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// 16 hexadecimal digits, different for every run.
fn random_suffix() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// The same connection string with another database: the path of a `postgres://` URL, or
/// a `dbname=` appended to a `key=value` string (the last one wins).
pub fn with_database(url: &str, database: &str) -> String {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"));
    let Some(rest) = rest else {
        return format!("{} dbname={database}", url.trim_end());
    };
    let scheme = &url[..url.len() - rest.len()];
    let query_start = rest.find('?').unwrap_or(rest.len());
    let (before_query, query) = rest.split_at(query_start);
    let host_start = before_query.rfind('@').map_or(0, |at| at + 1);
    let path_start = before_query[host_start..]
        .find('/')
        .map_or(before_query.len(), |slash| host_start + slash);
    format!(
        "{scheme}{}/{database}{}",
        &before_query[..path_start],
        without_dbname(query)
    )
}

/// A URL query without its `dbname=` parameter (which would override the path).
fn without_dbname(query: &str) -> String {
    let Some(params) = query.strip_prefix('?') else {
        return query.to_owned();
    };
    let kept: Vec<&str> = params
        .split('&')
        .filter(|p| !p.starts_with("dbname="))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Kind, Object};

    #[test]
    fn with_database_replaces_only_the_database_name() {
        let cases = [
            ("postgres://u:p@h:5432/app", "postgres://u:p@h:5432/scratch"),
            (
                "postgresql://h/app?sslmode=require",
                "postgresql://h/scratch?sslmode=require",
            ),
            ("postgres://h", "postgres://h/scratch"),
            ("postgres://h:1/", "postgres://h:1/scratch"),
            ("postgres://u:p%2Fq@h/app", "postgres://u:p%2Fq@h/scratch"),
            ("postgres://u:a/b@h/app", "postgres://u:a/b@h/scratch"),
            (
                "postgres://h/app?dbname=app&sslmode=disable",
                "postgres://h/scratch?sslmode=disable",
            ),
            (
                "host=h user=u dbname=app",
                "host=h user=u dbname=app dbname=scratch",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "scratch"), expected, "case {url}");
        }
    }

    #[test]
    fn with_database_gives_urls_the_driver_reads_with_the_new_name() {
        for url in [
            "postgres://u@h:5/app?sslmode=disable",
            "host=h port=5 user=u dbname=app sslmode=disable",
        ] {
            let config: tokio_postgres::Config =
                with_database(url, "scratch").parse().expect("valid");
            assert_eq!(config.get_dbname(), Some("scratch"), "case {url}");
            assert_eq!(config.get_user(), Some("u"), "case {url}");
        }
    }

    fn column(name: &str, type_: &str) -> Object {
        Object {
            kind: Kind::Column,
            name: name.into(),
            summary: Some(type_.into()),
            definition: type_.into(),
        }
    }

    #[test]
    fn differences_read_as_sentences_naming_file_and_object() {
        let before = Snapshot::from_objects([column("public.info.note", "text")]);
        let restored = Snapshot::from_objects([Object {
            kind: Kind::Index,
            name: "public.entries_name_idx".into(),
            summary: None,
            definition: "CREATE INDEX …".into(),
        }]);
        assert_eq!(
            down_differences("V3__x.down.sql", &before, &restored),
            [
                "V3__x.down.sql does not restore column public.info.note (text)",
                "V3__x.down.sql leaves index public.entries_name_idx behind",
            ]
        );
        let changed = Snapshot::from_objects([column("public.info.note", "character varying(10)")]);
        assert_eq!(
            down_differences("V3__x.down.sql", &before, &changed),
            [
                "V3__x.down.sql changes the definition of column public.info.note \
              (was `text`, now `character varying(10)`)"
            ]
        );
        assert_eq!(
            reapply_differences("V3__x.sql", &before, &Snapshot::default()),
            [
                "V3__x.sql, applied again after its down script, does not create column \
              public.info.note (text)"
            ]
        );
    }

    #[test]
    fn report_lines_and_failures() {
        let report = CheckReport {
            scratch_database: "s".into(),
            checked: vec![
                MigrationCheck {
                    version: 1,
                    label: "V1__a".into(),
                    reversible: true,
                    problems: vec![],
                },
                MigrationCheck {
                    version: 2,
                    label: "V2__b".into(),
                    reversible: false,
                    problems: vec![],
                },
                MigrationCheck {
                    version: 3,
                    label: "V3__c".into(),
                    reversible: true,
                    problems: vec!["V3__c.down.sql leaves index public.i behind".into()],
                },
            ],
            not_checked: vec!["V4__d".into()],
            require_down: false,
        };
        assert_eq!(
            report.lines(),
            [
                "V1__a: round trip ok",
                "V2__b: not reversible (no down script)",
                "V3__c.down.sql leaves index public.i behind",
                "V4__d: not checked (an earlier migration failed)",
            ]
        );
        assert_eq!(report.failures(), ["V3__c"]);
        let strict = CheckReport {
            require_down: true,
            ..report
        };
        assert_eq!(strict.failures(), ["V2__b", "V3__c"]);
    }
}
