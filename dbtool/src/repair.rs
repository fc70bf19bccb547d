//! `dbtool repair`: accept the current files of applied migrations after harmless edits.

use crate::context::Context;
use crate::error::{Drift, Error};
use crate::plan;

/// Which applied migrations to repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairTarget {
    Version(i32),
    /// Every applied migration whose file changed.
    AllChanged,
}

/// Rewrites the recorded checksum (and name) of the chosen migrations; returns the
/// versions it changed. Missing files are never repaired: there is nothing to accept.
pub async fn repair(ctx: &Context, target: RepairTarget) -> Result<Vec<i32>, Error> {
    let local = ctx.local()?;
    if let RepairTarget::Version(version) = target {
        if !local.iter().any(|m| m.version == version) {
            return Err(Error::InvalidArgument(format!(
                "no migration file with version {version} in {}",
                ctx.migrations.display()
            )));
        }
    }
    let client = ctx.connect_locked().await?;
    let table = ctx.history_table(&client).await?;
    let applied = table.read(&client).await?.unwrap_or_default();
    let drift = plan::drift(&applied, &local);
    let changed: Vec<i32> = drift
        .iter()
        .filter_map(|d| match d {
            Drift::Changed { version, .. } => Some(*version),
            Drift::Missing { .. } => None,
        })
        .filter(|v| match target {
            RepairTarget::Version(wanted) => *v == wanted,
            RepairTarget::AllChanged => true,
        })
        .collect();
    if let RepairTarget::Version(version) = target {
        if !applied.iter().any(|a| a.version == version) {
            let label = local
                .iter()
                .find(|m| m.version == version)
                .map_or(format!("V{version}"), |m| m.label());
            return Err(Error::InvalidArgument(format!(
                "migration {label} is not applied; nothing to repair"
            )));
        }
        if changed.is_empty() {
            ctx.progress
                .line(&format!("version {version} already matches its file"));
        }
    }
    for version in &changed {
        let Some(file) = local.iter().find(|m| m.version == *version) else {
            continue;
        };
        let row = applied.iter().find(|a| a.version == *version);
        table
            .update_checksum(&client, *version, &file.name, file.checksum)
            .await?;
        ctx.progress.line(&format!(
            "repaired {}: recorded checksum {} is now {}",
            file.label(),
            row.map_or(0, |r| r.checksum),
            file.checksum
        ));
    }
    let missing: Vec<Drift> = drift
        .into_iter()
        .filter(|d| matches!(d, Drift::Missing { .. }))
        .collect();
    if target == RepairTarget::AllChanged {
        if changed.is_empty() && missing.is_empty() {
            ctx.progress
                .line("every applied migration matches its file");
        }
        if !missing.is_empty() {
            // Accepting a vanished file is not a repair: restore it.
            return Err(Error::Drift(missing));
        }
    }
    Ok(changed)
}
