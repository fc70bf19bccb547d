//! `dbtool baseline --version V`: adopt an existing database.
//!
//! A database whose schema was made before dbtool (by hand, by another tool, from a dump)
//! gets history rows for every migration up to V, as if dbtool had applied them, without
//! running them; `up` then applies only what comes after.

use crate::context::Context;
use crate::error::Error;
use crate::history;

/// Records every local migration up to `version` as applied; returns the versions.
pub async fn baseline(ctx: &Context, version: i32) -> Result<Vec<i32>, Error> {
    let local = ctx.local()?;
    if !local.iter().any(|m| m.version == version) {
        return Err(Error::InvalidArgument(format!(
            "no migration file with version {version} in {}: the baseline must be one of them",
            ctx.migrations.display()
        )));
    }
    let client = ctx.connect_locked().await?;
    let table = ctx.history_table(&client).await?;
    let existing = table.read(&client).await?;
    if let Some(rows) = existing.as_ref().filter(|rows| !rows.is_empty()) {
        return Err(Error::InvalidArgument(format!(
            "{} already records {} migration(s) (newest V{}): baseline adopts a database \
             without history; nothing was changed",
            table.qualified(),
            rows.len(),
            rows.iter().map(|r| r.version).max().unwrap_or_default()
        )));
    }
    let chosen: Vec<_> = local.iter().filter(|m| m.version <= version).collect();
    let now = history::now_rfc3339();
    if existing.is_none() {
        table.create(&client).await?;
    }
    let mut script = String::from("BEGIN;\n");
    for m in &chosen {
        script.push_str(&table.insert_sql(m.version, &m.name, &now, m.checksum));
        script.push_str(";\n");
    }
    script.push_str("COMMIT;");
    client
        .batch_execute(&script)
        .await
        .map_err(|e| Error::database(&format!("writing {}", table.qualified()), e))?;
    ctx.progress.line(&format!(
        "baseline: recorded {} migration(s) up to V{version} as applied without running them",
        chosen.len()
    ));
    Ok(chosen.iter().map(|m| m.version).collect())
}
