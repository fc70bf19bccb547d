//! dbtool: versioned PostgreSQL migrations with rollback, locking, waiting and drift checks.
//!
//! refinery applies the migrations and owns the history table; dbtool adds what refinery
//! lacks. Each command is a module; `main.rs` only parses the command line and maps
//! errors to exit codes.

pub mod cli;
pub mod connect;
pub mod context;
pub mod driver;
pub mod error;
pub mod execute;
pub mod history;
pub mod lock;
pub mod new;
pub mod plan;
pub mod progress;
pub mod repair;
pub mod rollback;
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
