//! refinery's history table, `refinery_schema_history(version, name, applied_on, checksum)`.
//!
//! refinery creates it and writes its rows when it applies a migration. dbtool reads it,
//! deletes rows on rollback and rewrites checksums on repair, always in refinery's exact
//! formats: `applied_on` as RFC 3339 text and `checksum` as decimal text, because refinery
//! unwraps both when it reads them.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::Error;

pub const TABLE: &str = "refinery_schema_history";

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i32,
    pub name: String,
    pub applied_on: String,
    pub checksum: u64,
}

impl AppliedMigration {
    pub fn label(&self) -> String {
        format!("V{}__{}", self.version, self.name)
    }

    /// The row as refinery's own type, for its runner.
    pub fn to_refinery(&self) -> Result<refinery::Migration, Error> {
        let applied_on =
            OffsetDateTime::parse(&self.applied_on, &Rfc3339).map_err(|e| Error::Database {
                context: format!("reading {TABLE}"),
                message: format!(
                    "applied_on of version {} is not RFC 3339 ({e}): {:?}",
                    self.version, self.applied_on
                ),
            })?;
        Ok(refinery::Migration::applied(
            self.version,
            self.name.clone(),
            applied_on,
            self.checksum,
        ))
    }
}

/// The query refinery's runner sends to read the table; dbtool sends the same.
pub const SELECT_APPLIED: &str =
    "SELECT version, name, applied_on, checksum FROM refinery_schema_history ORDER BY version ASC";

/// Reads the table; a database without it has nothing applied.
pub async fn read(client: &Client) -> Result<Vec<AppliedMigration>, Error> {
    match client.simple_query(SELECT_APPLIED).await {
        Ok(messages) => parse_rows(&messages),
        Err(err) if is_undefined_table(&err) => Ok(Vec::new()),
        Err(err) => Err(Error::database(&format!("reading {TABLE}"), err)),
    }
}

pub fn is_undefined_table(err: &tokio_postgres::Error) -> bool {
    err.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
}

/// Turns simple-query rows into history rows, refusing values refinery could not read.
pub fn parse_rows(messages: &[SimpleQueryMessage]) -> Result<Vec<AppliedMigration>, Error> {
    let bad = |what: String| Error::Database {
        context: format!("reading {TABLE}"),
        message: what,
    };
    let mut rows = Vec::new();
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let version = row
            .get(0)
            .and_then(|v| v.parse::<i32>().ok())
            .ok_or_else(|| bad(format!("row with an unreadable version: {:?}", row.get(0))))?;
        let checksum = row
            .get(3)
            .and_then(|c| c.parse::<u64>().ok())
            .ok_or_else(|| bad(format!("version {version} has an unreadable checksum")))?;
        rows.push(AppliedMigration {
            version,
            name: row.get(1).unwrap_or_default().to_owned(),
            applied_on: row.get(2).unwrap_or_default().to_owned(),
            checksum,
        });
    }
    Ok(rows)
}

/// `DELETE` of one version's row, as SQL text (it runs in the rollback's pipeline).
pub fn delete_sql(version: i32) -> String {
    format!("DELETE FROM {TABLE} WHERE version = {version}")
}

/// Rewrites the name and checksum of an applied version (repair).
pub async fn update_checksum(
    client: &Client,
    version: i32,
    name: &str,
    checksum: u64,
) -> Result<u64, Error> {
    client
        .execute(
            "UPDATE refinery_schema_history SET name = $1, checksum = $2 WHERE version = $3",
            &[&name, &checksum.to_string(), &version],
        )
        .await
        .map_err(|e| Error::database(&format!("updating {TABLE}"), e))
}
