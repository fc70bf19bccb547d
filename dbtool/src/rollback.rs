//! `dbtool rollback`: undo the newest applied migrations with their down scripts.

use std::time::Instant;

use crate::context::Context;
use crate::error::Error;
use crate::execute::{self, Commit};
use crate::history;
use crate::plan::{self, RollbackTarget};
use crate::progress::millis;

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
    let applied = history::read(&client).await?;
    plan::check_drift(&applied, &local)?;
    let chosen = plan::rollback(&applied, &local, target)?;
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
    let mut undone = Vec::new();
    let last_version = chosen.last().map(|m| m.version);
    for migration in chosen {
        // plan::rollback checked that every chosen migration has a down script.
        let Some(down) = &migration.down else {
            continue;
        };
        let label = format!("{}.down", migration.label());
        let delete = history::delete_sql(migration.version);
        if dry_run {
            println!("\n-- {label} ({})", down.path.display());
            let (begin, commit) = if down.no_transaction {
                ("", "")
            } else {
                ("BEGIN;\n", "\nCOMMIT;")
            };
            println!("{begin}{}\n{delete};{commit}", down.sql.trim_end());
        } else {
            let started = Instant::now();
            let commit = if Some(migration.version) == last_version {
                Commit::Durable
            } else {
                Commit::Deferred
            };
            if let Err(err) = execute::run(&client, &label, down, &delete, commit).await {
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
