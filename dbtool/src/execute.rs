//! Running one script together with its history bookkeeping.
//!
//! Transactional scripts: `BEGIN`, the script, the bookkeeping statement and `COMMIT` are
//! sent as four pipelined simple queries, one network round trip in all. If the script
//! fails, PostgreSQL refuses the rest of the transaction and `COMMIT` rolls it back, so a
//! failed migration leaves the database as it was, and so does a killed runner (its
//! transaction never commits).
//!
//! No-transaction scripts: each statement alone (see [`crate::statements`]), then the
//! bookkeeping statement.
//!
//! Durability: in a run of several migrations, all but the last commit with
//! `synchronous_commit` off, so they do not each wait for a WAL flush; the last one
//! commits normally, and since the WAL is flushed in order, that flush makes every earlier
//! commit of the run durable too. Each migration stays atomic either way: a server crash
//! mid-run can only lose whole migrations together with their history rows, which the
//! next run applies again. [`flush`] covers a run that stops early on an error.

use futures_util::future::join_all;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

use crate::error::{Error, MigrationFailure};
use crate::source::Script;
use crate::statements;

/// Whether a commit waits for its WAL flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// The last script of a run: waits, and so makes the run's earlier commits durable.
    Durable,
    /// A script with more to come in the same run.
    Deferred,
}

/// Runs `script` and then `bookkeeping` (the history insert or delete) as one unit.
pub async fn run(
    client: &Client,
    label: &str,
    script: &Script,
    bookkeeping: &str,
    commit: Commit,
) -> Result<(), Error> {
    if script.no_transaction {
        run_statements(client, label, script, bookkeeping).await
    } else {
        run_in_transaction(client, label, script, bookkeeping, commit).await
    }
}

/// Makes every earlier commit of this session durable: a transaction that writes a commit
/// record with `synchronous_commit` on waits for the WAL to be flushed up to it.
pub async fn flush(client: &Client) -> Result<(), Error> {
    client
        .batch_execute("BEGIN; SELECT txid_current(); COMMIT")
        .await
        .map_err(|e| Error::database("flushing the write-ahead log", e))
}

async fn run_in_transaction(
    client: &Client,
    label: &str,
    script: &Script,
    bookkeeping: &str,
    commit: Commit,
) -> Result<(), Error> {
    let mut queries = vec!["BEGIN"];
    if commit == Commit::Deferred {
        queries.push("SET LOCAL synchronous_commit TO OFF");
    }
    let script_index = queries.len();
    queries.extend([script.sql.as_str(), bookkeeping, "COMMIT"]);
    // join_all polls in order, so the queries are written in order without waiting.
    let results = join_all(queries.iter().map(|q| client.batch_execute(q))).await;
    // The first error is the cause; the ones after it only say the transaction aborted.
    let Some((index, err)) = results
        .into_iter()
        .enumerate()
        .find_map(|(i, r)| r.err().map(|e| (i, e)))
    else {
        return Ok(());
    };
    let in_script = index == script_index;
    Err(failure(label, script, err, in_script.then_some(0), false))
}

async fn run_statements(
    client: &Client,
    label: &str,
    script: &Script,
    bookkeeping: &str,
) -> Result<(), Error> {
    let parts = statements::split(&script.sql);
    for (n, statement) in parts.iter().enumerate() {
        if let Err(err) = client.batch_execute(statement.sql).await {
            return Err(failure(label, script, err, Some(statement.offset), n > 0));
        }
    }
    client
        .batch_execute(bookkeeping)
        .await
        .map_err(|err| failure(label, script, err, None, !parts.is_empty()))
}

/// Describes a failed script: which file, PostgreSQL's words, and the line they point at.
/// `offset` is where the failing text starts in the file, when the error is in the script.
fn failure(
    label: &str,
    script: &Script,
    err: tokio_postgres::Error,
    offset: Option<usize>,
    partially_applied: bool,
) -> Error {
    let Some(db) = err.as_db_error() else {
        return Error::ConnectionLost {
            context: format!("while running {label}"),
            source: err,
        };
    };
    let mut message = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if let Some(detail) = db.detail() {
        message.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = db.hint() {
        message.push_str(&format!("; hint: {hint}"));
    }
    if partially_applied {
        message.push_str(
            "; this no-transaction migration's earlier statements were applied and it was not recorded",
        );
    }
    let line_column =
        match (offset, db.position()) {
            (Some(offset), Some(ErrorPosition::Original(position))) => Some(
                statements::line_column(&script.sql, offset, *position as usize),
            ),
            _ => None,
        };
    Error::MigrationFailed(Box::new(MigrationFailure {
        migration: label.to_owned(),
        file: script.path.clone(),
        message,
        line_column,
        context: db.where_().map(|w| w.replace('\n', "; ")),
        partially_applied,
    }))
}
