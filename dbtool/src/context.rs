//! What every command needs: where the database and the files are, and how long to wait.

use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::Client;

use crate::connect::ConnectOptions;
use crate::error::Error;
use crate::execute::Safety;
use crate::history::{Table, TableName};
use crate::progress::Progress;
use crate::source::{self, LocalMigration};

#[derive(Debug, Clone)]
pub struct Context {
    /// Where the database is and how to connect (TLS included).
    pub database: ConnectOptions,
    pub migrations: PathBuf,
    /// How long to retry the first connection (`--wait`, default 30 s).
    pub wait: Duration,
    /// How long to wait for another run's migration lock (`--wait-for-lock`, default 120 s).
    pub wait_for_lock: Duration,
    /// Where the history table is (`--history-table`, default refinery's).
    pub history: TableName,
    /// PostgreSQL timeouts for each migration's transaction.
    pub safety: Safety,
    pub progress: Progress,
}

impl Context {
    /// A context with the defaults of the command line.
    pub fn new(database_url: &str, migrations: impl Into<PathBuf>) -> Result<Context, Error> {
        Ok(Context {
            database: crate::connect::parse_url(database_url)?,
            migrations: migrations.into(),
            wait: Duration::from_secs(30),
            wait_for_lock: Duration::from_secs(120),
            history: TableName::default(),
            safety: Safety::default(),
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
        crate::lock::acquire(&client, self.wait_for_lock, &self.progress).await?;
        Ok(client)
    }

    /// The history table for this session, with its schema.
    pub async fn history_table(&self, client: &Client) -> Result<Table, Error> {
        Table::resolve(client, &self.history).await
    }
}
