//! `dbtool status` and `dbtool verify`: every migration's state, and drift.

use serde::Serialize;

use crate::context::Context;
use crate::error::Error;
use crate::history::AppliedMigration;
use crate::plan;
use crate::source::LocalMigration;

/// One line of `status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    pub version: i32,
    pub name: String,
    pub state: State,
    /// RFC 3339 time the migration was applied; null when pending.
    pub applied_on: Option<String>,
    /// Whether the file still matches what was applied; null when pending, false when the
    /// file of an applied migration is missing.
    pub checksum_ok: Option<bool>,
    /// `matches`, `changed` or `missing` for an applied migration's file; null when pending.
    pub file: Option<FileState>,
}

/// What became of an applied migration's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    Matches,
    Changed,
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Applied,
    Pending,
}

/// Merges the history and the files into one list ordered by version.
pub fn merge(applied: &[AppliedMigration], local: &[LocalMigration]) -> Vec<MigrationStatus> {
    let mut out: Vec<MigrationStatus> = applied
        .iter()
        .map(|row| {
            let file = match local.iter().find(|m| m.version == row.version) {
                None => FileState::Missing,
                Some(f) if f.matches(&row.name, row.checksum) => FileState::Matches,
                Some(_) => FileState::Changed,
            };
            MigrationStatus {
                version: row.version,
                name: row.name.clone(),
                state: State::Applied,
                applied_on: Some(row.applied_on.clone()),
                checksum_ok: Some(file == FileState::Matches),
                file: Some(file),
            }
        })
        .collect();
    out.extend(
        local
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .map(|m| MigrationStatus {
                version: m.version,
                name: m.name.clone(),
                state: State::Pending,
                applied_on: None,
                checksum_ok: None,
                file: None,
            }),
    );
    out.sort_by_key(|s| s.version);
    out
}

pub async fn status(ctx: &Context) -> Result<Vec<MigrationStatus>, Error> {
    let local = ctx.local()?;
    let client = ctx.connect().await?;
    let applied = ctx
        .history_table(&client)
        .await?
        .read(&client)
        .await?
        .unwrap_or_default();
    Ok(merge(&applied, &local))
}

/// The status as an aligned table, for people.
pub fn table(rows: &[MigrationStatus]) -> String {
    let mut out = format!(
        "{:<8} {:<32} {:<8} {:<31} {}\n",
        "version", "name", "state", "applied on", "file"
    );
    for row in rows {
        let state = match row.state {
            State::Applied => "applied",
            State::Pending => "pending",
        };
        let file = match row.file {
            Some(FileState::Matches) => "matches",
            Some(FileState::Changed) => "CHANGED",
            Some(FileState::Missing) => "MISSING",
            None => "",
        };
        out.push_str(&format!(
            "{:<8} {:<32} {:<8} {:<31} {}\n",
            row.version,
            row.name,
            state,
            row.applied_on.as_deref().unwrap_or(""),
            file
        ));
    }
    out
}

/// Fails with [`Error::Drift`] when an applied migration's file changed or is missing;
/// returns how many applied migrations were checked.
pub async fn verify(ctx: &Context) -> Result<usize, Error> {
    let local = ctx.local()?;
    let client = ctx.connect().await?;
    let applied = ctx
        .history_table(&client)
        .await?
        .read(&client)
        .await?
        .unwrap_or_default();
    plan::check_drift(&applied, &local)?;
    Ok(applied.len())
}
