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
    /// 1-based line and column in the file, when PostgreSQL gave a position.
    pub line_column: Option<(usize, usize)>,
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
        if let Some((line, column)) = self.line_column {
            write!(f, " at line {line}, column {column}")?;
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
    #[error("{}; run `dbtool repair --version V` after a harmless edit, or restore the file", join_drift(.0))]
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
    #[error("another dbtool run held the migration lock for {waited_secs} s; giving up")]
    LockTimeout { waited_secs: u64 },
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
            Error::BadUrl(_) | Error::NoMigrationsFolder(_) => exit::CONFIG,
            Error::Unreachable { .. } | Error::ConnectionLost { .. } => exit::UNREACHABLE,
            Error::Drift(_) => exit::DRIFT,
            Error::Unreadable { .. } | Error::Unwritable { .. } => exit::UNREADABLE_FILE,
            Error::BadFileName { .. } => exit::BAD_FILE_NAME,
            Error::DuplicateVersion { .. } => exit::DUPLICATE_VERSION,
            Error::OutOfOrder { .. } => exit::OUT_OF_ORDER,
            Error::NoDownScript { .. } => exit::NO_DOWN_SCRIPT,
            Error::LockTimeout { .. } => exit::LOCK_TIMEOUT,
            Error::StillPending { .. } => exit::STILL_PENDING,
            Error::Database { .. } => exit::DATABASE,
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
