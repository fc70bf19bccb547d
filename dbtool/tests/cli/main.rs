//! dbtool's command line against a real PostgreSQL: every command and every error; and
//! property tests of the file-name and SQL parsing that feed it.
//!
//! Needs `TEST_DATABASE_URL` (a superuser URL), which `scripts/test.sh` provides; each
//! test makes its own database, so they run in parallel.

mod check;
mod concurrency;
mod durability;
mod errors;
mod lint;
mod options;
mod properties;
mod real_files;
mod refinery_compat;
mod rollback;
mod status;
mod support;
mod tls;
mod up;
mod wait;
