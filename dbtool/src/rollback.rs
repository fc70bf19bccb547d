//! `dbtool rollback`: undo the newest applied migrations with their down scripts.

use std::time::Instant;

use crate::context::Context;
use crate::error::Error;
use crate::execute::{self, Commit, Job};
use crate::plan::{self, RollbackTarget};
use crate::progress::millis;
use crate::up::print_script;

/// Rolls back and returns the versions undone, newest first (planned ones for a dry run).
pub async fn rollback(
    ctx: &Context,
    target: RollbackTarget,
    dry_run: bool,
) -> Result<Vec<i32>, Error> {
    let local = ctx.local()?;
    let client = if dry_run {
        ctx.connect().await?
    } else {
        ctx.connect_locked().await?
    };
    ctx.safety.check(&client).await?;
    let table = ctx.history_table(&client).await?;
    let applied = table.read(&client).await?.unwrap_or_default();
    plan::check_drift(&applied, &local)?;
    let chosen = plan::rollback(&applied, &local, target)?;
    plan::check_runnable(chosen.iter().filter_map(|m| m.down.as_ref()))?;
    if chosen.is_empty() {
        ctx.progress.line("nothing to roll back");
        return Ok(vec![]);
    }
    if dry_run {
        println!(
            "-- dbtool rollback --dry-run: {} migration(s); nothing was changed",
            chosen.len()
        );
    }
    let reset = execute::reset_sql(&client).await?;
    let mut undone = Vec::new();
    let last_version = chosen.last().map(|m| m.version);
    for migration in chosen {
        // plan::rollback checked that every chosen migration has a down script.
        let Some(down) = &migration.down else {
            continue;
        };
        let label = format!("{}.down", migration.label());
        let delete = table.delete_sql(migration.version);
        let sql = down.read()?;
        if dry_run {
            println!("\n-- {label} ({})", down.path.display());
            if !down.no_transaction {
                println!("BEGIN;");
            }
            print_script(&sql);
            println!("{delete};");
            if !down.no_transaction {
                println!("COMMIT;");
            }
        } else {
            let started = Instant::now();
            let commit = if Some(migration.version) == last_version {
                Commit::Durable
            } else {
                Commit::Deferred
            };
            let job = Job {
                label: &label,
                script: down,
                sql: &sql,
                reset,
            };
            if let Err(err) = execute::run(&client, &job, &delete, commit, &ctx.safety).await {
                if !undone.is_empty() {
                    execute::flush(&client).await?;
                }
                return Err(err);
            }
            ctx.progress.line(&format!(
                "rolled back {} ({})",
                migration.label(),
                millis(started.elapsed())
            ));
        }
        undone.push(migration.version);
    }
    Ok(undone)
}
