//! `dbtool up`: lock, check the history against the files, apply what is pending.
//!
//! The algorithm reads like its spec: lock → resolve the history table → check every
//! applied migration against its file (drift) and every pending one against what can run
//! (order, transaction control, invalid indexes) → create the table when missing → apply
//! each pending migration with its history row in one transaction → the last commit
//! durable. Nothing changes until every check has passed.

use std::time::Instant;

use tokio_postgres::Client;

use crate::context::Context;
use crate::error::Error;
use crate::execute::{self, Commit, Job};
use crate::history::{self, Table};
use crate::plan;
use crate::progress::millis;
use crate::source::LocalMigration;

/// What `up` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpReport {
    /// Versions applied by this run, in order (planned ones, for a dry run).
    pub applied: Vec<i32>,
}

/// How `up` runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpOptions {
    /// Stop after this version.
    pub target: Option<i32>,
    /// Print the SQL instead of running it.
    pub dry_run: bool,
    /// Apply a pending version below the newest applied one instead of refusing.
    pub out_of_order: bool,
}

pub async fn up(ctx: &Context, target: Option<i32>, dry_run: bool) -> Result<UpReport, Error> {
    up_with(
        ctx,
        UpOptions {
            target,
            dry_run,
            ..UpOptions::default()
        },
    )
    .await
}

pub async fn up_with(ctx: &Context, options: UpOptions) -> Result<UpReport, Error> {
    let started = Instant::now();
    let local = ctx.local()?;
    let client = if options.dry_run {
        ctx.connect().await?
    } else {
        ctx.connect_locked().await?
    };
    ctx.safety.check(&client).await?;
    let table = ctx.history_table(&client).await?;
    let existing = table.read(&client).await?;
    let applied = existing.clone().unwrap_or_default();
    plan::check_drift(&applied, &local)?;
    let pending = plan::pending(&applied, &local, options.target, options.out_of_order)?;
    plan::check_runnable(pending.iter().map(|m| &m.up))?;
    let newest = applied.iter().map(|a| a.version).max();

    if pending.is_empty() {
        let at = newest.map_or("empty".to_owned(), |v| format!("version {v}"));
        ctx.progress.line(&format!("database is up to date ({at})"));
        return Ok(UpReport { applied: vec![] });
    }
    if options.dry_run {
        print_dry_run(&pending, &table, existing.is_none())?;
        return Ok(UpReport {
            applied: pending.iter().map(|m| m.version).collect(),
        });
    }
    if pending.iter().any(|m| m.up.no_transaction) {
        refuse_invalid_indexes(&client).await?;
    }
    if existing.is_none() {
        table.create(&client).await?;
    }

    let reset = execute::reset_sql(&client).await?;
    let mut applied_now = Vec::new();
    for (index, migration) in pending.iter().enumerate() {
        let commit = if index + 1 == pending.len() {
            Commit::Durable
        } else {
            Commit::Deferred
        };
        if let Some(newest) = newest.filter(|&n| migration.version < n) {
            ctx.progress.line(&format!(
                "applying {} out of order (version {newest} is already applied)",
                migration.label()
            ));
        }
        let step = Instant::now();
        if let Err(err) = apply_one(&client, &table, migration, commit, ctx, reset).await {
            if !applied_now.is_empty() {
                // What was applied before the failure must outlive a server crash too.
                execute::flush(&client).await?;
            }
            return Err(err);
        }
        applied_now.push(migration.version);
        ctx.progress.line(&format!(
            "applied {} ({})",
            migration.label(),
            millis(step.elapsed())
        ));
    }
    ctx.progress.line(&format!(
        "{} migration(s) applied in {}; now at version {}",
        applied_now.len(),
        millis(started.elapsed()),
        applied_now
            .iter()
            .copied()
            .chain(newest)
            .max()
            .unwrap_or_default()
    ));
    Ok(UpReport {
        applied: applied_now,
    })
}

/// Reads the file again, checks it is still the one planned, and applies it.
async fn apply_one(
    client: &Client,
    table: &Table,
    migration: &LocalMigration,
    commit: Commit,
    ctx: &Context,
    reset: &str,
) -> Result<(), Error> {
    let raw = std::fs::read_to_string(&migration.up.path).map_err(|source| Error::Unreadable {
        path: migration.up.path.clone(),
        source,
    })?;
    let checksum = crate::checksum::refinery(migration.version, &migration.name, &raw);
    if checksum != migration.checksum {
        return Err(Error::InvalidArgument(format!(
            "{} changed while dbtool was running; nothing of it was applied, run again",
            migration.up.path.display()
        )));
    }
    let sql = raw.strip_prefix('\u{feff}').unwrap_or(&raw);
    let insert = table.insert_sql(
        migration.version,
        &migration.name,
        &history::now_rfc3339(),
        checksum,
    );
    let label = migration.label();
    let job = Job {
        label: &label,
        script: &migration.up,
        sql,
        reset,
    };
    execute::run(client, &job, &insert, commit, &ctx.safety).await
}

/// Indexes PostgreSQL marks invalid, outside the system schemas: what an interrupted
/// `CREATE INDEX CONCURRENTLY` leaves behind.
pub async fn invalid_indexes(client: &Client) -> Result<Vec<String>, Error> {
    let rows = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) \
             FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_toast%' \
             ORDER BY 1",
            &[],
        )
        .await
        .map_err(|e| Error::database("looking for invalid indexes", e))?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// A no-transaction migration is about to run: an invalid index from an earlier,
/// interrupted run would be silently skipped by `IF NOT EXISTS`, so stop and say so.
async fn refuse_invalid_indexes(client: &Client) -> Result<(), Error> {
    let invalid = invalid_indexes(client).await?;
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidIndexes(invalid))
    }
}

/// The SQL `up` would run, in order, as a script psql can run (`| psql -v ON_ERROR_STOP=1`).
fn print_dry_run(
    pending: &[&LocalMigration],
    table: &Table,
    create_table: bool,
) -> Result<(), Error> {
    let now = history::now_rfc3339();
    println!(
        "-- dbtool up --dry-run: {} pending migration(s); nothing was changed",
        pending.len()
    );
    if create_table {
        println!(
            "\n-- the history table, as refinery defines it\n{};",
            table.create_sql()
        );
    }
    for m in pending {
        let sql = m.up.read()?;
        println!("\n-- {} ({})", m.label(), m.up.path.display());
        if !m.up.no_transaction {
            println!("BEGIN;");
        }
        print_script(&sql);
        println!(
            "{};",
            table.insert_sql(m.version, &m.name, &now, m.checksum)
        );
        if !m.up.no_transaction {
            println!("COMMIT;");
        }
    }
    Ok(())
}

/// Prints a script so that what follows it starts a new statement.
pub(crate) fn print_script(sql: &str) {
    let text = sql.trim_end();
    println!("{text}");
    if !text.ends_with(';') {
        println!(";");
    }
}
