//! refinery's async runner, driven over dbtool's connection.
//!
//! refinery decides what to apply and writes each history row itself; this driver is the
//! connection it talks through (refinery's extension point for database drivers). It runs
//! each migration with its history row through [`crate::execute`], one round trip and one
//! transaction per migration, prints a line per migration, and keeps the full failure so
//! the caller can report the file, PostgreSQL's message and the line.

use std::time::Instant;

use refinery::{AsyncMigrate, Migration};
use tokio_postgres::Client;

use crate::error::Error;
use crate::execute::Commit;
use crate::history;
use crate::progress::{millis, Progress};
use crate::source::LocalMigration;

/// What refinery sees of a failure; the detailed one stays in [`Driver::failure`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(String);

pub struct Driver<'a> {
    client: &'a Client,
    /// The migrations this run expects refinery to apply, in order.
    expected: &'a [&'a LocalMigration],
    progress: Progress,
    pub applied: Vec<i32>,
    pub failure: Option<Error>,
}

impl<'a> Driver<'a> {
    pub fn new(client: &'a Client, expected: &'a [&'a LocalMigration], progress: Progress) -> Self {
        Driver {
            client,
            expected,
            progress,
            applied: Vec::new(),
            failure: None,
        }
    }

    fn fail(&mut self, err: Error) -> DriverError {
        let message = err.to_string();
        self.failure = Some(err);
        DriverError(message)
    }
}

impl refinery_core::traits::r#async::AsyncTransaction for Driver<'_> {
    type Error = DriverError;

    async fn execute<'b, T: Iterator<Item = &'b str> + Send + 'b>(
        &mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let queries: Vec<&str> = queries.collect();
        match queries.as_slice() {
            // refinery's "create the history table if missing", alone in its transaction.
            [single] => match self.client.batch_execute(single).await {
                Ok(()) => Ok(1),
                Err(err) => Err(self.fail(Error::database("creating the history table", err))),
            },
            // One migration: its SQL and refinery's history insert.
            [sql, insert] => {
                let Some(migration) = self.expected.iter().find(|m| m.up.sql == *sql).copied()
                else {
                    return Err(self.fail(Error::Database {
                        context: "applying migrations".into(),
                        message: "refinery chose a migration dbtool did not plan".into(),
                    }));
                };
                let started = Instant::now();
                let label = migration.label();
                let last = self
                    .expected
                    .last()
                    .is_some_and(|m| m.version == migration.version);
                let commit = if last {
                    Commit::Durable
                } else {
                    Commit::Deferred
                };
                if let Err(err) =
                    crate::execute::run(self.client, &label, &migration.up, insert, commit).await
                {
                    return Err(self.fail(err));
                }
                self.applied.push(migration.version);
                self.progress
                    .line(&format!("applied {label} ({})", millis(started.elapsed())));
                Ok(2)
            }
            _ => Err(self.fail(Error::Database {
                context: "applying migrations".into(),
                message: format!(
                    "unexpected batch of {} queries from refinery",
                    queries.len()
                ),
            })),
        }
    }
}

impl refinery_core::traits::r#async::AsyncQuery<Vec<Migration>> for Driver<'_> {
    async fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let rows = match self.client.simple_query(query).await {
            Ok(messages) => history::parse_rows(&messages),
            Err(err) => Err(Error::database("reading the history table", err)),
        };
        match rows.and_then(|rows| {
            rows.iter()
                .map(history::AppliedMigration::to_refinery)
                .collect()
        }) {
            Ok(migrations) => Ok(migrations),
            Err(err) => Err(self.fail(err)),
        }
    }
}

impl AsyncMigrate for Driver<'_> {}
