//! The command line (clap definitions only; `main.rs` dispatches).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
   0  success
   1  a migration or down script failed in PostgreSQL (nothing of it was applied)
   2  usage error (unknown option, bad value, unknown version)
   3  configuration error (bad database URL, migrations folder missing)
   4  database unreachable within --wait, or the connection was lost
   5  drift: an applied migration's file changed or is missing
   6  a migration file cannot be read (or, for `new`, written)
   7  a .sql file fits neither V<n>__<name>.sql nor V<n>__<name>.down.sql
   8  two files have the same version
   9  out of order: a pending version is below the newest applied one
  10  rollback of a migration without a down script
  11  another run held the migration lock longer than --lock-timeout
  12  `wait` timed out with migrations still pending
  13  any other database error (permissions, a broken history table)";

/// Versioned PostgreSQL migrations with rollback, locking and drift checks.
///
/// Files in the migrations folder: V<n>__<name>.sql (up, refinery's naming) and
/// V<n>__<name>.down.sql (down). History is refinery's refinery_schema_history table.
#[derive(Debug, Parser)]
#[command(name = "dbtool", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PostgreSQL URL, e.g. postgres://user:pass@localhost:5432/db (sslmode=disable|prefer)
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder of migration files
    #[arg(
        long,
        env = "DBTOOL_MIGRATIONS",
        default_value = "./migrations",
        global = true
    )]
    pub migrations: PathBuf,

    /// Seconds to keep retrying the first connection while the database is not up
    #[arg(long, env = "DBTOOL_WAIT", default_value_t = 30, global = true)]
    pub wait: u64,

    /// Seconds to wait for another dbtool run to release the migration lock
    #[arg(
        long,
        env = "DBTOOL_LOCK_TIMEOUT",
        default_value_t = 120,
        global = true
    )]
    pub lock_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply every pending migration in order (or up to --to)
    Up {
        /// Stop after this version
        #[arg(long, value_name = "V")]
        to: Option<i32>,
        /// Print the SQL that would run, in order, and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Undo the newest applied migration (or --count N of them, or down to --to V)
    Rollback {
        /// How many of the newest applied migrations to undo
        #[arg(long, value_name = "N", conflicts_with = "to", value_parser = clap::value_parser!(u32).range(1..))]
        count: Option<u32>,
        /// Undo every applied migration above this version
        #[arg(long, value_name = "V")]
        to: Option<i32>,
        /// Print the SQL that would run, in order, and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Show every migration: applied or pending, and whether its file still matches
    Status {
        /// One JSON array on stdout: {version, name, state, applied_on, checksum_ok}
        #[arg(long)]
        json: bool,
    },
    /// Exit non-zero (5) when an applied migration's file changed or is missing
    Verify,
    /// Block until the database is reachable and nothing local is pending
    Wait {
        /// Seconds before giving up (default: --wait)
        #[arg(long, value_name = "S")]
        timeout: Option<u64>,
    },
    /// Accept the current file of an applied migration as its new checksum
    Repair {
        /// The applied version whose file was edited harmlessly
        #[arg(long, value_name = "V")]
        version: i32,
    },
    /// Write the next V<n>__NAME.sql and its .down.sql (no database needed)
    New {
        /// Letters, digits and _ only
        name: String,
    },
}
