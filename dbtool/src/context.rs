//! What every command needs: where the database and the files are, and how long to wait.

use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::{Client, Config};

use crate::error::Error;
use crate::progress::Progress;
use crate::source::{self, LocalMigration};

#[derive(Debug, Clone)]
pub struct Context {
    pub database: Config,
    pub migrations: PathBuf,
    /// How long to retry the first connection (`--wait`, default 30 s).
    pub wait: Duration,
    /// How long to wait for another run's lock (`--lock-timeout`, default 120 s).
    pub lock_timeout: Duration,
    pub progress: Progress,
}

impl Context {
    /// A context with the defaults of the command line.
    pub fn new(database_url: &str, migrations: impl Into<PathBuf>) -> Result<Context, Error> {
        Ok(Context {
            database: crate::connect::parse_url(database_url)?,
            migrations: migrations.into(),
            wait: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(120),
            progress: Progress::stderr(),
        })
    }

    pub fn local(&self) -> Result<Vec<LocalMigration>, Error> {
        source::discover(&self.migrations)
    }

    pub async fn connect(&self) -> Result<Client, Error> {
        crate::connect::connect(&self.database, self.wait, &self.progress).await
    }

    /// Connects and takes the migration lock, held until the client is dropped.
    pub async fn connect_locked(&self) -> Result<Client, Error> {
        let client = self.connect().await?;
        crate::lock::acquire(&client, self.lock_timeout, &self.progress).await?;
        Ok(client)
    }
}
