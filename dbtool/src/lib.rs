//! dbtool: versioned PostgreSQL migrations with rollback, locking, waiting and drift checks.
//!
//! dbtool applies migrations itself, one pipelined transaction per migration with its
//! history row, in refinery's history table and formats, so refinery reads every database
//! dbtool migrated and dbtool continues one refinery migrated. Each command is a module;
//! `main.rs` only parses the command line and maps errors to exit codes.

pub mod baseline;
pub mod check;
pub mod checksum;
pub mod cli;
pub mod connect;
pub mod context;
pub mod error;
pub mod execute;
pub mod history;
pub mod lint;
pub mod lock;
pub mod new;
pub mod plan;
pub mod progress;
pub mod repair;
pub mod rollback;
pub mod schema;
pub mod source;
pub mod statements;
pub mod status;
pub mod up;
pub mod wait;

use std::path::Path;

pub use context::Context;
pub use error::Error;

/// Applies every pending migration in `migrations` to the database at `database_url`,
/// under the same lock and checks as `dbtool up`, without printing. For services' tests
/// and programs that migrate at start-up.
pub async fn migrate_up(database_url: &str, migrations: &Path) -> Result<Vec<i32>, Error> {
    let ctx = Context {
        progress: progress::Progress::quiet(),
        ..Context::new(database_url, migrations)?
    };
    Ok(up::up(&ctx, None, false).await?.applied)
}
