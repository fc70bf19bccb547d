//! The command line (clap definitions only; `main.rs` dispatches).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
   0  success
   1  a migration or down script failed in PostgreSQL (nothing of it was applied)
   2  usage error (unknown option, bad value, unknown version)
   3  configuration error (bad database URL, migrations folder missing, the database
      does not exist, a TLS failure: certificate file unreadable, server certificate
      refused, no TLS on the server under sslmode=require or stricter)
   4  database unreachable within --wait, or the connection was lost
   5  drift: an applied migration's file changed or is missing
   6  a migration file cannot be read (or, for `new`, written)
   7  a .sql file fits neither V<n>__<name>.sql nor V<n>__<name>.down.sql
   8  two files have the same version
   9  out of order: a pending version is below the newest applied one
  10  rollback of a migration without a down script
  11  another run held the migration lock longer than --wait-for-lock
  12  `wait` timed out with migrations still pending
  13  any other database error (permissions, a broken history table, an invalid index
      left by an interrupted CREATE INDEX CONCURRENTLY)
  14  a file cannot run as written (its own BEGIN/COMMIT in a transactional file, a psql
      meta-command); refused before anything runs
  15  `lint` found DDL that locks or rewrites a live table (warnings alone exit 0)
  16  `check`: a migration's round trip failed (its down script does not restore the
      schema, or its up script fails, also when applied again)";

/// Versioned PostgreSQL migrations with rollback, locking and drift checks.
///
/// Files in the migrations folder: V<n>__<name>.sql (up, refinery's naming) and
/// V<n>__<name>.down.sql (down). History is refinery's refinery_schema_history table,
/// in the schema of the connection's search_path unless --history-table names one.
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
    /// PostgreSQL URL or key=value string, e.g. postgres://user:pass@localhost:5432/db;
    /// TLS as in libpq: ?sslmode=disable|allow|prefer|require|verify-ca|verify-full
    /// (default prefer), sslrootcert=FILE|system, sslcert=FILE, sslkey=FILE
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
        env = "DBTOOL_WAIT_FOR_LOCK",
        default_value_t = 120,
        global = true
    )]
    pub wait_for_lock: u64,

    /// The former name of --wait-for-lock, still read so old settings keep working
    #[arg(long, env = "DBTOOL_LOCK_TIMEOUT", global = true, hide = true)]
    pub lock_timeout: Option<u64>,

    /// PostgreSQL's lock_timeout for each migration's transaction: a migration that waits
    /// longer for a lock fails instead of queueing every query on that table behind it
    /// (0 = wait forever)
    #[arg(
        long,
        env = "DBTOOL_PG_LOCK_TIMEOUT",
        default_value = "5s",
        global = true,
        value_name = "DURATION"
    )]
    pub pg_lock_timeout: String,

    /// PostgreSQL's statement_timeout for each migration's transaction (0 = none)
    #[arg(
        long,
        env = "DBTOOL_PG_STATEMENT_TIMEOUT",
        default_value = "0",
        global = true,
        value_name = "DURATION"
    )]
    pub pg_statement_timeout: String,

    /// The history table, as name or schema.name (default: refinery_schema_history in the
    /// first schema of the search_path, where refinery puts it)
    #[arg(
        long,
        env = "DBTOOL_HISTORY_TABLE",
        global = true,
        value_name = "TABLE"
    )]
    pub history_table: Option<crate::history::TableName>,
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
        /// Apply a pending version below the newest applied one (a branch merged late)
        /// instead of refusing it
        #[arg(long, env = "DBTOOL_OUT_OF_ORDER")]
        out_of_order: bool,
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
        #[arg(long, value_name = "V", required_unless_present = "all")]
        version: Option<i32>,
        /// Every applied migration whose file changed (missing files stay an error)
        #[arg(long, conflicts_with = "version")]
        all: bool,
    },
    /// Adopt an existing database: record every migration up to V as applied without
    /// running it
    Baseline {
        /// The newest version the database already has
        #[arg(long, value_name = "V")]
        version: i32,
    },
    /// Write the next V<n>__NAME.sql and its .down.sql (no database needed)
    New {
        /// Letters, digits and _ only
        name: String,
    },
    /// Flag DDL that locks or rewrites live tables (no database needed)
    ///
    /// Reads every up and down script and prints one line per finding:
    /// `path:line:column: rule-id: message`, the message saying what the statement locks or
    /// rewrites and the safe way to do it. Tables created in the same file are new: no rule
    /// applies to them. `dbtool lint --rules` lists every rule.
    ///
    /// To accept a reviewed exception, name the rule in a comment:
    /// `-- dbtool:lint-ignore rule-id[, rule-id]` anywhere in a file silences it for the whole
    /// file; `-- dbtool:lint-ignore-next rule-id[, rule-id]` on the comment line(s) just before
    /// a statement silences it for that statement. Either may end with `-- reason`.
    ///
    /// Exit 15 when an error-level rule fires; warnings (renames) alone exit 0.
    Lint {
        /// One JSON array on stdout: {path, line, column, rule, severity, message}
        #[arg(long)]
        json: bool,
        /// Print every rule (id, severity, reason, the safe way) and exit
        #[arg(long)]
        rules: bool,
        /// Report only migrations from version V on (the earlier ones are still read for
        /// the tables and checks they establish)
        #[arg(long, value_name = "V")]
        from: Option<i32>,
    },
    /// Round-trip every migration in a scratch database: up, down, compare, up again
    ///
    /// For each migration in order: apply it, roll it back with its down script and compare
    /// the schema with the one before, then apply it again and compare with the first time.
    /// Prints what a down script fails to restore, e.g. "V3__add_index.down.sql leaves index
    /// public.entries_name_idx behind". Compared from the catalogs: schemas, extensions,
    /// tables, columns, constraints, indexes, views, sequences, functions, triggers,
    /// policies, rules and types; not owners or privileges.
    ///
    /// The scratch database dbtool_check_<random> is made on the server of --database-url
    /// (the role needs CREATEDB) and dropped at the end, also on failure; the --database-url
    /// database itself is never changed. Exit 16 when a round trip fails.
    Check {
        /// An empty database to use as the scratch database instead (for a role without
        /// CREATEDB); it is not dropped and keeps every migration applied
        #[arg(
            long,
            value_name = "URL",
            env = "DBTOOL_SCRATCH_URL",
            hide_env_values = true
        )]
        scratch_url: Option<String>,
        /// Keep the scratch database afterwards (its name is printed), to look into it
        #[arg(long)]
        keep: bool,
        /// Count a migration without a down script as a failure (by default it is reported
        /// as not reversible and only applied)
        #[arg(long)]
        require_down: bool,
    },
}
