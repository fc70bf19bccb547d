//! `dbtool up`: lock, check the history against the files, apply what is pending.

use std::time::Instant;

use crate::context::Context;
use crate::driver::Driver;
use crate::error::Error;
use crate::history;
use crate::plan;
use crate::progress::millis;
use crate::source::LocalMigration;

/// What `up` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpReport {
    /// Versions applied by this run, in order (planned ones, for a dry run).
    pub applied: Vec<i32>,
}

pub async fn up(ctx: &Context, target: Option<i32>, dry_run: bool) -> Result<UpReport, Error> {
    let started = Instant::now();
    let local = ctx.local()?;
    let client = if dry_run {
        ctx.connect().await?
    } else {
        ctx.connect_locked().await?
    };
    let applied = history::read(&client).await?;
    plan::check_drift(&applied, &local)?;
    let pending = plan::pending(&applied, &local, target)?;
    let newest = applied.iter().map(|a| a.version).max();

    if pending.is_empty() {
        let at = newest.map_or("empty".to_owned(), |v| format!("version {v}"));
        ctx.progress.line(&format!("database is up to date ({at})"));
        return Ok(UpReport { applied: vec![] });
    }
    if dry_run {
        print_dry_run(&pending);
        return Ok(UpReport {
            applied: pending.iter().map(|m| m.version).collect(),
        });
    }

    let migrations: Vec<refinery::Migration> = local
        .iter()
        .map(|m| refinery::Migration::unapplied(&m.label(), &m.up.sql))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::InvalidArgument(format!("refinery refused a migration: {e}")))?;
    let target = match target {
        Some(version) => refinery::Target::Version(version),
        None => refinery::Target::Latest,
    };
    let runner = refinery::Runner::new(&migrations).set_target(target);
    let mut driver = Driver::new(&client, &pending, ctx.progress);
    let result = runner.run_async(&mut driver).await;
    let applied_now = std::mem::take(&mut driver.applied);
    if result.is_err() && !applied_now.is_empty() {
        // What was applied before the failure must outlive a server crash too.
        crate::execute::flush(&client).await?;
    }
    match (result, driver.failure.take()) {
        (Ok(_), _) => {
            ctx.progress.line(&format!(
                "{} migration(s) applied in {}; now at version {}",
                applied_now.len(),
                millis(started.elapsed()),
                applied_now.last().copied().or(newest).unwrap_or_default()
            ));
            Ok(UpReport {
                applied: applied_now,
            })
        }
        (Err(_), Some(failure)) => Err(failure),
        (Err(err), None) => Err(Error::Database {
            context: "applying migrations".into(),
            message: err.to_string(),
        }),
    }
}

/// The SQL `up` would run, in order, as a script one could read or run by hand.
fn print_dry_run(pending: &[&LocalMigration]) {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    println!(
        "-- dbtool up --dry-run: {} pending migration(s); nothing was changed",
        pending.len()
    );
    for m in pending {
        println!("\n-- {} ({})", m.label(), m.up.path.display());
        if !m.up.no_transaction {
            println!("BEGIN;");
        }
        println!("{}", m.up.sql.trim_end());
        println!(
            "INSERT INTO {} (version, name, applied_on, checksum) VALUES ({}, '{}', '{now}', '{}');",
            history::TABLE,
            m.version,
            m.name,
            m.checksum
        );
        if !m.up.no_transaction {
            println!("COMMIT;");
        }
    }
}
