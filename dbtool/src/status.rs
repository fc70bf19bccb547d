//! `dbtool status` and `dbtool verify`: every migration's state, and drift.

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::context::Context;
use crate::error::Error;
use crate::history::{AppliedMigration, Table, TableName};
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

/// A database's migrations in brief: what a service reports about its own database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The highest applied version; `None` when nothing is applied yet.
    pub version: Option<i32>,
    /// The highest version among the files.
    pub latest: Option<i32>,
    /// How many migrations the history records.
    pub applied: usize,
    /// The files not applied yet, as `V{version}__{name}`.
    pub pending: Vec<String>,
    /// The applied migrations whose file changed since.
    pub drift: Vec<String>,
    /// The applied migrations with no file here: a database ahead of these files (for a
    /// service, one migrated by a newer release, as during a rollout).
    pub ahead: Vec<String>,
}

impl Summary {
    pub fn of(rows: &[MigrationStatus]) -> Summary {
        let label = |row: &MigrationStatus| format!("V{}__{}", row.version, row.name);
        let applied: Vec<&MigrationStatus> =
            rows.iter().filter(|r| r.state == State::Applied).collect();
        Summary {
            version: applied.iter().map(|r| r.version).max(),
            latest: rows
                .iter()
                .filter(|r| r.file != Some(FileState::Missing))
                .map(|r| r.version)
                .max(),
            applied: applied.len(),
            pending: rows
                .iter()
                .filter(|r| r.state == State::Pending)
                .map(label)
                .collect(),
            drift: applied
                .iter()
                .filter(|r| r.file == Some(FileState::Changed))
                .map(|r| label(r))
                .collect(),
            ahead: applied
                .iter()
                .filter(|r| r.file == Some(FileState::Missing))
                .map(|r| label(r))
                .collect(),
        }
    }

    /// The database is exactly these files: each applied, as it was, and nothing else.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.drift.is_empty() && self.ahead.is_empty()
    }
}

/// The [`Summary`] of the database `client` is connected to against `local`, reading the
/// history table only: no lock, nothing written, so a service can ask it of its own
/// database with its own role at any time.
pub async fn summarize(
    client: &Client,
    history: &TableName,
    local: &[crate::source::LocalMigration],
) -> Result<Summary, Error> {
    let applied = Table::resolve(client, history)
        .await?
        .read(client)
        .await?
        .unwrap_or_default();
    Ok(Summary::of(&merge(&applied, local)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(version: i32, file: FileState) -> MigrationStatus {
        MigrationStatus {
            version,
            name: format!("m{version}"),
            state: State::Applied,
            applied_on: Some("2026-01-01T00:00:00Z".into()),
            checksum_ok: Some(file == FileState::Matches),
            file: Some(file),
        }
    }

    fn pending(version: i32) -> MigrationStatus {
        MigrationStatus {
            version,
            name: format!("m{version}"),
            state: State::Pending,
            applied_on: None,
            checksum_ok: None,
            file: None,
        }
    }

    #[test]
    fn a_summary_names_what_is_pending_and_what_drifted() {
        let summary = Summary::of(&[
            applied(1, FileState::Matches),
            applied(2, FileState::Changed),
            applied(3, FileState::Missing),
            pending(4),
            pending(5),
        ]);
        assert_eq!(
            summary,
            Summary {
                version: Some(3),
                latest: Some(5),
                applied: 3,
                pending: vec!["V4__m4".into(), "V5__m5".into()],
                drift: vec!["V2__m2".into()],
                ahead: vec!["V3__m3".into()],
            }
        );
        assert!(!summary.is_current());
    }

    #[test]
    fn a_database_ahead_of_its_files_is_not_current_but_not_drift() {
        let summary = Summary::of(&[
            applied(1, FileState::Matches),
            applied(2, FileState::Missing),
        ]);
        assert_eq!((summary.version, summary.latest), (Some(2), Some(1)));
        assert_eq!(summary.ahead, ["V2__m2"]);
        assert!(summary.drift.is_empty() && !summary.is_current());

        let fresh = Summary::of(&[pending(1)]);
        assert_eq!((fresh.version, fresh.applied), (None, 0));
        let current = Summary::of(&[applied(1, FileState::Matches)]);
        assert!(current.is_current());
    }
}
