//! `dbtool repair --version V`: accept the current file of an applied migration.

use crate::context::Context;
use crate::error::Error;
use crate::history;

/// Rewrites the recorded checksum (and name) of `version`; returns whether it changed.
pub async fn repair(ctx: &Context, version: i32) -> Result<bool, Error> {
    let local = ctx.local()?;
    let file = local.iter().find(|m| m.version == version).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "no migration file with version {version} in {}",
            ctx.migrations.display()
        ))
    })?;
    let client = ctx.connect_locked().await?;
    let applied = history::read(&client).await?;
    let row = applied
        .iter()
        .find(|a| a.version == version)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "migration {} is not applied; nothing to repair",
                file.label()
            ))
        })?;
    if row.checksum == file.checksum && row.name == file.name {
        ctx.progress
            .line(&format!("{} already matches its file", file.label()));
        return Ok(false);
    }
    history::update_checksum(&client, version, &file.name, file.checksum).await?;
    ctx.progress.line(&format!(
        "repaired {}: recorded checksum {} is now {}",
        file.label(),
        row.checksum,
        file.checksum
    ));
    Ok(true)
}
