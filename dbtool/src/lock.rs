//! The run-wide migration lock: a session-level advisory lock, taken by polling.
//!
//! Polling `pg_try_advisory_lock` instead of blocking in `pg_advisory_lock`: a blocked
//! backend waits inside a transaction-less lock queue that `CREATE INDEX CONCURRENTLY` in
//! the holder would wait on in turn (a deadlock). A lock row in a table, as Liquibase keeps,
//! outlives a killed runner; a session lock dies with its connection.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::error::Error;
use crate::progress::Progress;

/// The lock key: "dbtoolmg" as a big-endian integer, the same for every dbtool version.
pub const KEY: i64 = i64::from_be_bytes(*b"dbtoolmg");

/// Takes the lock, polling until `timeout`; it is released when the connection closes.
pub async fn acquire(client: &Client, timeout: Duration, progress: &Progress) -> Result<(), Error> {
    let started = Instant::now();
    let mut backoff = Duration::from_millis(10);
    let mut announced = false;
    loop {
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&KEY])
            .await
            .map_err(|e| Error::database("taking the migration lock", e))?;
        if row.get::<_, bool>(0) {
            watch_for_dead_client(client).await?;
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout { waited });
        }
        if !announced {
            progress.line("waiting for another dbtool run to finish (migration lock is held)");
            announced = true;
        }
        tokio::time::sleep(backoff.min(timeout - waited)).await;
        backoff = (backoff * 2).min(Duration::from_millis(250));
    }
}

/// Asks the server to notice within a second when this client dies mid-migration, so a
/// killed runner's transaction is rolled back and its lock released without waiting for
/// a long statement to end. PostgreSQL before 14 lacks the setting; that is fine.
async fn watch_for_dead_client(client: &Client) -> Result<(), Error> {
    match client
        .batch_execute("SET client_connection_check_interval = '1s'")
        .await
    {
        Ok(()) => Ok(()),
        Err(err) if err.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_OBJECT) => {
            Ok(())
        }
        Err(err) => Err(Error::database("configuring the session", err)),
    }
}
