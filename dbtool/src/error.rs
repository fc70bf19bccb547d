//! Every way a dbtool run can fail, and the exit code each one maps to.

use std::path::PathBuf;

/// Exit codes, documented in `dbtool --help` and the README.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const MIGRATION_FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONFIG: u8 = 3;
    pub const UNREACHABLE: u8 = 4;
    pub const DRIFT: u8 = 5;
    pub const UNREADABLE_FILE: u8 = 6;
    pub const BAD_FILE_NAME: u8 = 7;
    pub const DUPLICATE_VERSION: u8 = 8;
    pub const OUT_OF_ORDER: u8 = 9;
    pub const NO_DOWN_SCRIPT: u8 = 10;
    pub const LOCK_TIMEOUT: u8 = 11;
    pub const STILL_PENDING: u8 = 12;
    pub const DATABASE: u8 = 13;
    pub const CANNOT_RUN: u8 = 14;
    pub const LINT_FINDINGS: u8 = 15;
    pub const ROUND_TRIP_FAILED: u8 = 16;
}

/// One applied migration whose file no longer matches what was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file exists but its content or name changed since it was applied.
    Changed { version: i32, name: String },
    /// The file of an applied migration is gone.
    Missing { version: i32, name: String },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Changed { version, name } => write!(
                f,
                "migration V{version}__{name} was applied but its file has changed"
            ),
            Drift::Missing { version, name } => write!(
                f,
                "migration V{version}__{name} was applied but its file is missing"
            ),
        }
    }
}

/// Where and why PostgreSQL refused a migration or down script.
#[derive(Debug)]
pub struct MigrationFailure {
    /// `V3__name` (up) or `V3__name.down` (rollback).
    pub migration: String,
    pub file: PathBuf,
    /// PostgreSQL's message, with SQLSTATE, detail and hint when present.
    pub message: String,
    /// 1-based line in the file: where PostgreSQL's position points, or else where the
    /// failing statement starts.
    pub line: Option<usize>,
    /// 1-based column, when PostgreSQL gave a position.
    pub column: Option<usize>,
    /// PostgreSQL's context line (inside a function body, for instance).
    pub context: Option<String>,
    /// A no-transaction script failed after some of its statements had run.
    pub partially_applied: bool,
}

impl std::fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migration {} failed in {}",
            self.migration,
            self.file.display()
        )?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, " at line {line}, column {column}")?,
            (Some(line), None) => write!(f, " at line {line}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)?;
        if let Some(context) = &self.context {
            write!(f, " (context: {context})")?;
        }
        if !self.partially_applied {
            write!(f, "; nothing of it was applied")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("migrations folder {} does not exist", .0.display())]
    NoMigrationsFolder(PathBuf),
    #[error("{0}")]
    InvalidArgument(String),
    /// A TLS setting that cannot be used (an unreadable certificate file) or a TLS failure
    /// (certificate refused, no TLS on the server under `require`): waiting will not help.
    #[error("{0}")]
    Tls(String),
    /// PostgreSQL's `database "x" does not exist` (SQLSTATE 3D000) at connection time.
    #[error("{0}: create it first, or fix the database name in the URL")]
    NoSuchDatabase(String),
    #[error("database unreachable after waiting {waited_secs} s: {last_error}")]
    Unreachable {
        waited_secs: u64,
        last_error: String,
    },
    #[error("lost the database connection {context}: {source}")]
    ConnectionLost {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("{}; after a harmless edit run `dbtool repair --version V` (or `--all`); otherwise restore the file", join_drift(.0))]
    Drift(Vec<Drift>),
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Unwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    BadFileName { path: PathBuf, reason: String },
    #[error("two migrations have version {version}: {} and {}", first.display(), second.display())]
    DuplicateVersion {
        version: i32,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("migration {migration} is pending but version {newest_applied} is already applied; give it a version above {newest_applied}")]
    OutOfOrder {
        migration: String,
        newest_applied: i32,
    },
    #[error("migration {migration} has no down script ({}); nothing was rolled back", expected.display())]
    NoDownScript {
        migration: String,
        expected: PathBuf,
    },
    #[error("another dbtool run held the migration lock for {:.1} s, the --wait-for-lock limit; giving up", waited.as_secs_f64())]
    LockTimeout { waited: std::time::Duration },
    #[error("{} cannot run as written: {reason}; nothing was applied", path.display())]
    CannotRun { path: PathBuf, reason: String },
    #[error("{}; nothing was applied", describe_invalid_indexes(.0))]
    InvalidIndexes(Vec<String>),
    #[error("{count} migration(s) still pending after {waited_secs} s (first: {first})")]
    StillPending {
        count: usize,
        first: String,
        waited_secs: u64,
    },
    #[error("{0}")]
    MigrationFailed(Box<MigrationFailure>),
    #[error("database error while {context}: {message}")]
    Database { context: String, message: String },
    #[error("lint found {errors} problem(s) and {warnings} warning(s); fix them, or silence a reviewed one with `-- dbtool:lint-ignore-next RULE` before its statement")]
    LintFindings { errors: usize, warnings: usize },
    #[error("round trip failed for {}", .0.join(", "))]
    RoundTripFailed(Vec<String>),
}

fn describe_invalid_indexes(indexes: &[String]) -> String {
    let drops: Vec<String> = indexes
        .iter()
        .map(|i| format!("DROP INDEX CONCURRENTLY {i};"))
        .collect();
    format!(
        "invalid index(es) {} left by an interrupted CREATE INDEX CONCURRENTLY (or REINDEX): \
         a migration that creates it with IF NOT EXISTS would skip it and leave it unused. \
         Drop it ({}) and run again",
        indexes.join(", "),
        drops.join(" ")
    )
}

fn join_drift(drift: &[Drift]) -> String {
    drift
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The process exit code for this error; see [`exit`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::MigrationFailed(_) => exit::MIGRATION_FAILED,
            Error::InvalidArgument(_) => exit::USAGE,
            Error::BadUrl(_)
            | Error::NoMigrationsFolder(_)
            | Error::Tls(_)
            | Error::NoSuchDatabase(_) => exit::CONFIG,
            Error::Unreachable { .. } | Error::ConnectionLost { .. } => exit::UNREACHABLE,
            Error::Drift(_) => exit::DRIFT,
            Error::Unreadable { .. } | Error::Unwritable { .. } => exit::UNREADABLE_FILE,
            Error::BadFileName { .. } => exit::BAD_FILE_NAME,
            Error::DuplicateVersion { .. } => exit::DUPLICATE_VERSION,
            Error::OutOfOrder { .. } => exit::OUT_OF_ORDER,
            Error::NoDownScript { .. } => exit::NO_DOWN_SCRIPT,
            Error::LockTimeout { .. } => exit::LOCK_TIMEOUT,
            Error::StillPending { .. } => exit::STILL_PENDING,
            Error::Database { .. } | Error::InvalidIndexes(_) => exit::DATABASE,
            Error::CannotRun { .. } => exit::CANNOT_RUN,
            Error::LintFindings { .. } => exit::LINT_FINDINGS,
            Error::RoundTripFailed(_) => exit::ROUND_TRIP_FAILED,
        }
    }

    /// Wraps a tokio-postgres error from outside a migration: a closed connection is
    /// "unreachable", anything PostgreSQL answered is a database error.
    pub(crate) fn database(context: &str, err: tokio_postgres::Error) -> Error {
        match err.as_db_error() {
            Some(db) => Error::Database {
                context: context.to_owned(),
                message: format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            },
            None => Error::ConnectionLost {
                context: format!("while {context}"),
                source: err,
            },
        }
    }
}
