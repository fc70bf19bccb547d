//! `dbtool rollback`: undo the newest applied migrations with their down scripts.

use std::time::Instant;

use crate::context::Context;
use crate::error::Error;
use crate::plan::{self, RollbackTarget};
use crate::progress::millis;
use crate::{execute, history};

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
            execute::run(&client, &label, down, &delete).await?;
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
