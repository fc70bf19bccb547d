//! Running one script together with its history bookkeeping.
//!
//! Transactional scripts: `BEGIN`, the session's safety settings, every statement of the
//! script, the bookkeeping statement and `COMMIT` are sent as pipelined simple queries: the
//! client does not wait for one answer before sending the next, so a migration costs about
//! one network round trip however many statements it has, and the in-flight text is capped
//! at [`WINDOW_BYTES`] so a large script is never copied whole. If a statement fails,
//! PostgreSQL refuses the rest of the transaction and `COMMIT` rolls it back, so a failed
//! migration leaves the database as it was, and so does a killed runner (its transaction
//! never commits). Sending statements one by one is what lets dbtool name the line of an
//! error PostgreSQL gives no position for, and run `COPY … FROM stdin` with its data.
//!
//! No-transaction scripts: each statement alone, waiting for each, then the bookkeeping.
//!
//! Durability: in a run of several migrations, all but the last commit with
//! `synchronous_commit` off, so they do not each wait for a WAL flush; the last one
//! commits normally, and since the WAL is flushed in order, that flush makes every earlier
//! commit of the run durable too. Each migration stays atomic either way: a server crash
//! mid-run can only lose whole migrations together with their history rows, which the
//! next run applies again. [`flush`] covers a run that stops early on an error.
//!
//! After each script the session is reset (`RESET ALL`), so a `SET search_path` or
//! `SET ROLE` in one migration does not leak into the next, as it would not between two
//! `psql -f` runs.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_postgres::error::{ErrorPosition, SqlState};
use tokio_postgres::{Client, SimpleQueryStream};

use crate::error::{Error, MigrationFailure};
use crate::source::{Script, IGNORED_META_COMMANDS};
use crate::statements::{self, Kind, Statement};

/// Most script text in flight at once: large enough to keep the pipeline full, small
/// enough that memory does not follow the size of the script.
pub const WINDOW_BYTES: usize = 1 << 20;
/// COPY data is sent in pieces of this size.
const COPY_CHUNK: usize = 64 << 10;

/// Whether a commit waits for its WAL flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// The last script of a run: waits, and so makes the run's earlier commits durable.
    Durable,
    /// A script with more to come in the same run.
    Deferred,
}

/// PostgreSQL settings for the transaction of each transactional script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Safety {
    /// PostgreSQL's `lock_timeout` (`--pg-lock-timeout`).
    pub lock_timeout: String,
    /// PostgreSQL's `statement_timeout` (`--pg-statement-timeout`).
    pub statement_timeout: String,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            lock_timeout: "5s".into(),
            statement_timeout: "0".into(),
        }
    }
}

impl Safety {
    /// Checks the values with PostgreSQL before anything runs, so a typo in a timeout is a
    /// usage error rather than the failure of a migration.
    pub async fn check(&self, client: &Client) -> Result<(), Error> {
        let sql = format!("BEGIN; {}; ROLLBACK", self.set_local(Commit::Durable));
        match client.batch_execute(&sql).await {
            Ok(()) => Ok(()),
            Err(err) => {
                let _ = client.batch_execute("ROLLBACK").await;
                match err.as_db_error() {
                    Some(db) => Err(Error::InvalidArgument(format!(
                        "--pg-lock-timeout {:?} or --pg-statement-timeout {:?}: {}",
                        self.lock_timeout,
                        self.statement_timeout,
                        db.message()
                    ))),
                    None => Err(Error::database("checking the session settings", err)),
                }
            }
        }
    }

    fn set_local(&self, commit: Commit) -> String {
        let mut sql = format!(
            "SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}",
            literal(&self.lock_timeout),
            literal(&self.statement_timeout)
        );
        if commit == Commit::Deferred {
            sql.push_str("; SET LOCAL synchronous_commit = off");
        }
        sql
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// How to put the session back as it was after connecting, after each script: `RESET ALL`,
/// then dbtool's own setting where the server has it (PostgreSQL 14 and later). Asked once
/// per run; a query of `pg_settings` after every script would cost a millisecond each.
pub async fn reset_sql(client: &Client) -> Result<&'static str, Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int >= 140000",
            &[],
        )
        .await
        .map_err(|e| Error::database("reading the server version", e))?;
    Ok(if row.get::<_, bool>(0) {
        "RESET ALL; SET client_connection_check_interval = '1s'"
    } else {
        "RESET ALL"
    })
}

/// One script to run: its label for messages, where it is, and its text (without BOM).
pub struct Job<'a> {
    pub label: &'a str,
    pub script: &'a Script,
    pub sql: &'a str,
    /// What puts the session back afterwards ([`reset_sql`]).
    pub reset: &'a str,
}

/// Runs `job` and then `bookkeeping` (the history insert or delete) as one unit.
pub async fn run(
    client: &Client,
    job: &Job<'_>,
    bookkeeping: &str,
    commit: Commit,
    safety: &Safety,
) -> Result<(), Error> {
    if let Some(statement) = statements::iter(job.sql).find(
        |s| matches!(s.kind, Kind::Meta { command } if !IGNORED_META_COMMANDS.contains(&command)),
    ) {
        return Err(Error::CannotRun {
            path: job.script.path.clone(),
            reason: format!("`{}` is a psql meta-command, not SQL", statement.sql),
        });
    }
    if job.script.no_transaction {
        run_statements(client, job, bookkeeping).await?;
        client
            .batch_execute(job.reset)
            .await
            .map_err(|e| Error::database("resetting the session", e))
    } else {
        run_in_transaction(client, job, bookkeeping, commit, safety).await
    }
}

/// Makes every earlier commit of this session durable: a transaction that writes a commit
/// record with `synchronous_commit` on waits for the WAL to be flushed up to it.
pub async fn flush(client: &Client) -> Result<(), Error> {
    client
        .batch_execute("BEGIN; SET LOCAL synchronous_commit TO on; SELECT txid_current(); COMMIT")
        .await
        .map_err(|e| Error::database("flushing the write-ahead log", e))
}

/// What a pipelined query was, to say where an error came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin<'s> {
    Setup,
    Statement(Statement<'s>),
    Bookkeeping,
}

/// Simple queries sent without waiting, answered in order.
struct Pipeline<'c, 's> {
    client: &'c Client,
    in_flight: VecDeque<(Origin<'s>, usize, Pin<Box<SimpleQueryStream>>)>,
    bytes: usize,
    first_error: Option<(Origin<'s>, tokio_postgres::Error)>,
}

impl<'c, 's> Pipeline<'c, 's> {
    fn new(client: &'c Client) -> Self {
        Pipeline {
            client,
            in_flight: VecDeque::new(),
            bytes: 0,
            first_error: None,
        }
    }

    /// Sends `query`, first reading answers while the window is full.
    async fn send(&mut self, origin: Origin<'s>, query: &str) {
        while self.bytes + query.len() > WINDOW_BYTES && !self.in_flight.is_empty() {
            self.read_one().await;
        }
        match self.client.simple_query_raw(query).await {
            Ok(stream) => {
                self.bytes += query.len();
                self.in_flight
                    .push_back((origin, query.len(), Box::pin(stream)));
            }
            Err(err) => self.note(origin, err),
        }
    }

    fn note(&mut self, origin: Origin<'s>, err: tokio_postgres::Error) {
        if self.first_error.is_none() {
            self.first_error = Some((origin, err));
        }
    }

    async fn read_one(&mut self) {
        let Some((origin, len, mut stream)) = self.in_flight.pop_front() else {
            return;
        };
        self.bytes -= len;
        while let Some(message) = stream.next().await {
            if let Err(err) = message {
                self.note(origin, err);
                break;
            }
        }
    }

    /// Reads every answer; the first error is the cause, later ones only say the
    /// transaction was aborted.
    async fn finish(&mut self) -> Result<(), (Origin<'s>, tokio_postgres::Error)> {
        while !self.in_flight.is_empty() {
            self.read_one().await;
        }
        match self.first_error.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn failed(&self) -> bool {
        self.first_error.is_some()
    }
}

async fn run_in_transaction(
    client: &Client,
    job: &Job<'_>,
    bookkeeping: &str,
    commit: Commit,
    safety: &Safety,
) -> Result<(), Error> {
    let mut pipeline = Pipeline::new(client);
    // Few messages per migration: the server answers each with its own round of work.
    pipeline
        .send(
            Origin::Setup,
            &format!("BEGIN; {}", safety.set_local(commit)),
        )
        .await;
    for statement in statements::iter(job.sql) {
        if pipeline.failed() {
            break;
        }
        match statement.kind {
            Kind::Sql => {
                let sql = statement.sql;
                pipeline.send(Origin::Statement(statement), sql).await;
            }
            Kind::Meta { .. } => {}
            Kind::CopyFromStdin { .. } | Kind::CopyToStdout => {
                // COPY switches the connection into its own sub-protocol: everything sent
                // before it must be answered first.
                match pipeline.finish().await {
                    Ok(()) => {
                        if let Err(err) = copy(client, &statement).await {
                            pipeline.note(Origin::Statement(statement), err);
                        }
                    }
                    Err(earlier) => pipeline.first_error = Some(earlier),
                }
            }
        }
    }
    pipeline.send(Origin::Bookkeeping, bookkeeping).await;
    // COMMIT of a failed transaction answers ROLLBACK: nothing of it stays.
    pipeline
        .send(Origin::Setup, &format!("COMMIT; {}", job.reset))
        .await;
    match pipeline.finish().await {
        Ok(()) => Ok(()),
        Err((origin, err)) => Err(failure(job, origin, err, false)),
    }
}

async fn run_statements(client: &Client, job: &Job<'_>, bookkeeping: &str) -> Result<(), Error> {
    let mut ran = 0;
    for statement in statements::iter(job.sql) {
        let result = match statement.kind {
            Kind::Sql => client.batch_execute(statement.sql).await,
            Kind::Meta { .. } => continue,
            Kind::CopyFromStdin { .. } | Kind::CopyToStdout => copy(client, &statement).await,
        };
        if let Err(err) = result {
            return Err(failure(job, Origin::Statement(statement), err, ran > 0));
        }
        ran += 1;
    }
    client
        .batch_execute(bookkeeping)
        .await
        .map_err(|err| failure(job, Origin::Bookkeeping, err, ran > 0))
}

/// Runs a `COPY … FROM stdin` with the script's data lines, or a `COPY … TO stdout`
/// whose output is read and dropped.
async fn copy(client: &Client, statement: &Statement<'_>) -> Result<(), tokio_postgres::Error> {
    match statement.kind {
        Kind::CopyFromStdin { data } => {
            let sink = client.copy_in::<_, Bytes>(statement.sql).await?;
            futures_util::pin_mut!(sink);
            let mut rest = data.as_bytes();
            while !rest.is_empty() {
                let (piece, after) = rest.split_at(rest.len().min(COPY_CHUNK));
                sink.feed(Bytes::copy_from_slice(piece)).await?;
                rest = after;
            }
            sink.as_mut().finish().await.map(drop)
        }
        _ => {
            let stream = client.copy_out(statement.sql).await?;
            futures_util::pin_mut!(stream);
            while let Some(piece) = stream.next().await {
                piece?;
            }
            Ok(())
        }
    }
}

/// Describes a failed script: which file, PostgreSQL's words, and the line they point at.
fn failure(
    job: &Job<'_>,
    origin: Origin<'_>,
    err: tokio_postgres::Error,
    partially_applied: bool,
) -> Error {
    let Some(db) = err.as_db_error() else {
        return Error::ConnectionLost {
            context: format!("while running {}", job.label),
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
    if *db.code() == SqlState::ACTIVE_SQL_TRANSACTION && !job.script.no_transaction {
        message.push_str(&format!(
            "; this statement cannot run inside a transaction: make `{}` the first line of {} \
             to run it statement by statement",
            crate::source::NO_TRANSACTION_MARKER,
            job.script.path.display()
        ));
    }
    if *db.code() == SqlState::LOCK_NOT_AVAILABLE {
        message.push_str(
            "; the migration waited longer than --pg-lock-timeout for a lock another session \
             holds (see pg_stat_activity), and gave up rather than block that table's traffic; \
             run it again when the other transaction has ended",
        );
    }
    if *db.code() == SqlState::QUERY_CANCELED {
        message.push_str("; a statement ran longer than --pg-statement-timeout");
    }
    if partially_applied {
        message.push_str(
            "; this no-transaction migration's earlier statements were applied and it was not recorded",
        );
    }
    let (line, column) = match origin {
        Origin::Statement(statement) => match db.position() {
            Some(ErrorPosition::Original(position)) => {
                let (line, column) =
                    statements::line_column(job.sql, statement.offset, *position as usize);
                (Some(line), Some(column))
            }
            _ => (Some(statements::first_line(job.sql, &statement)), None),
        },
        Origin::Setup | Origin::Bookkeeping => (None, None),
    };
    Error::MigrationFailed(Box::new(MigrationFailure {
        migration: job.label.to_owned(),
        file: job.script.path.clone(),
        message,
        line,
        column,
        context: db.where_().map(|w| w.replace('\n', "; ")),
        partially_applied,
    }))
}
