//! `GET /status` of a data service: its own database's migrations, read through dbtool's
//! library against the files the service was built with, and its worker's figures (the
//! outbox backlog, the consumer group's lag). web's cluster page shows them. Each part is
//! read on its own, so a database outage still leaves the worker's figures to show.

use deadpool_postgres::Pool;
use serde::{Deserialize, Serialize};

pub use dbtool::status::Summary as MigrationSummary;

/// A figure, or why it cannot be read now: `{"ok": …}` or `{"unavailable": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reading<T> {
    Ok(T),
    Unavailable(String),
}

impl<T> From<Result<T, String>> for Reading<T> {
    fn from(result: Result<T, String>) -> Self {
        match result {
            Ok(value) => Reading::Ok(value),
            Err(reason) => Reading::Unavailable(reason),
        }
    }
}

impl<T> Reading<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Reading::Ok(value) => Some(value),
            Reading::Unavailable(_) => None,
        }
    }
}

/// catalog's outbox: events written but not yet on the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxFigures {
    pub backlog: i64,
    /// 0 when nothing waits.
    pub oldest_age_seconds: f64,
}

/// activity's consumer group on the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerFigures {
    /// Entries not yet delivered to the group; `None` when Redis cannot tell (entries
    /// deleted from the middle of the stream).
    pub lag: Option<i64>,
    /// Delivered, not yet acknowledged.
    pub pending: i64,
}

/// The body of `GET /status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataStatus {
    pub migrations: Reading<MigrationSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Reading<OutboxFigures>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<Reading<ConsumerFigures>>,
}

/// The migrations of the database behind `pool` against `files` (`(name, text)` pairs, as
/// `service-migrations` holds them): read-only, with the service's own role.
pub async fn migrations(pool: &Pool, files: &[(&str, &str)]) -> Reading<MigrationSummary> {
    async {
        let local = dbtool::source::embedded(files)
            .map_err(|e| format!("the migration files built in are invalid: {e}"))?;
        let client = pool
            .get()
            .await
            .map_err(|e| format!("the database is unavailable: {e}"))?;
        dbtool::status::summarize(&client, &dbtool::history::TableName::default(), &local)
            .await
            .map_err(|e| e.to_string())
    }
    .await
    .into()
}

/// A count from PostgreSQL or Redis as the figures hold it.
pub fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
