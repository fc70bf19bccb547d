//! The PostgreSQL connection pool of a service: built without connecting, so a service starts
//! (and answers `/healthz`) while its database is still coming up, plus the readiness probe.
//!
//! Connections are made by dbtool's connector, so `DATABASE_URL` takes what libpq takes,
//! TLS included: `sslmode` (disable, allow, prefer, require, verify-ca, verify-full),
//! `sslrootcert` (a file, or `system`), `sslcert` and `sslkey`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use dbtool::connect::ConnectOptions;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio::task::JoinHandle;

pub use deadpool_postgres::{Pool as PgPool, PoolError};

/// Why a pool could not be built. Nothing here means the database is down: the pool does not
/// connect until it is first used.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The URL does not parse, or a certificate file it names cannot be read.
    #[error(transparent)]
    InvalidUrl(dbtool::Error),
    #[error("the connection pool could not be built")]
    Build(#[from] deadpool_postgres::BuildError),
}

/// Pool size and time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections held open at once; default 16.
    pub max_size: usize,
    /// How long a request waits for a free connection, for a new connection to be made, and
    /// for a returned connection to be checked; default 5 s. A request therefore fails (and the
    /// service answers 503) instead of hanging while the database is unreachable.
    pub timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 16,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A pool for `database_url` (`postgres://user:password@host:port/database?sslmode=…`, or
/// libpq's `key=value` form). No connection is made here; connections are opened on first use
/// and re-opened after the database restarts. The certificate files the URL names are read
/// here, so a missing one fails the start-up.
pub fn pool(database_url: &str, settings: PoolSettings) -> Result<Pool, PostgresError> {
    let mut options = ConnectOptions::parse(database_url).map_err(PostgresError::InvalidUrl)?;
    if options.postgres().get_connect_timeout().is_none() {
        options.postgres_mut().connect_timeout(settings.timeout);
    }
    let manager = Manager::from_connect(
        options.postgres().clone(),
        Connector(options),
        ManagerConfig {
            // A cheap liveness check on checkout: a connection killed by a database restart is
            // dropped and replaced instead of failing the request that drew it.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(settings.max_size)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(settings.timeout),
            create: Some(settings.timeout),
            recycle: Some(settings.timeout),
        })
        .build()?;
    Ok(pool)
}

/// Opens the pool's connections with dbtool's connector, which follows `sslmode` as libpq
/// does (`allow` and `prefer` may take two attempts: deadpool's own connector cannot).
struct Connector(ConnectOptions);

type Connected = Result<(tokio_postgres::Client, JoinHandle<()>), tokio_postgres::Error>;

impl deadpool_postgres::Connect for Connector {
    fn connect(
        &self,
        _: &tokio_postgres::Config,
    ) -> Pin<Box<dyn Future<Output = Connected> + Send + '_>> {
        Box::pin(async move {
            let (client, connection) = self.0.connect_once().await?;
            let task = tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::warn!(%error, "database connection closed");
                }
            });
            Ok((client, task))
        })
    }
}

/// The one rule for "the database is unavailable" (a service answers 503, not 500): somewhere
/// in `error`'s chain is a pool error that got no connection, or a query error that lost its
/// connection or was refused by a server shutting down or starting up. Anything else, such as
/// a constraint violation or a syntax error on a working connection, is a bug or bad data.
pub fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(pool) = error.downcast_ref::<PoolError>() {
            return pool_unavailable(pool);
        }
        if let Some(query) = error.downcast_ref::<tokio_postgres::Error>() {
            return connection_lost(query);
        }
        current = error.source();
    }
    false
}

fn pool_unavailable(error: &PoolError) -> bool {
    match error {
        PoolError::Timeout(_) | PoolError::Closed => true,
        // Opening a connection failed: refused, unreachable, TLS, or the server refusing
        // logins (starting up, too many clients, a role not yet created).
        PoolError::Backend(_) => true,
        PoolError::PostCreateHook(_) | PoolError::NoRuntimeSpecified => false,
    }
}

fn connection_lost(error: &tokio_postgres::Error) -> bool {
    let transport = error.is_closed()
        || std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>());
    // Class 08: connection exception; 57P: operator intervention (admin shutdown, crash
    // shutdown, cannot connect now).
    let server_going = error.code().is_some_and(|code| {
        let code = code.code();
        code.starts_with("08") || code.starts_with("57P")
    });
    transport || server_going
}

/// Readiness probe: takes a connection and runs `SELECT 1`.
pub async fn ping(pool: &Pool) -> Result<(), PoolError> {
    let client = pool.get().await?;
    client
        .simple_query("SELECT 1")
        .await
        .map_err(PoolError::Backend)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_url_is_refused_before_any_connection() {
        let err = pool("postgres://user@host:notaport/db", PoolSettings::default()).unwrap_err();
        assert!(matches!(err, PostgresError::InvalidUrl(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_pool_for_an_unreachable_database_builds_and_its_probe_reports_unavailable() {
        // Port 1 on loopback: nothing listens there, so connecting is refused at once.
        let settings = PoolSettings {
            max_size: 2,
            timeout: Duration::from_secs(2),
        };
        let pool = pool("postgres://nobody@127.0.0.1:1/nothing", settings).unwrap();
        let err = ping(&pool).await.unwrap_err();
        assert!(is_unavailable(&err), "{err:?}");
    }

    /// A store's error around the database's, as the services' stores have.
    #[derive(Debug, thiserror::Error)]
    #[error("store")]
    struct Wrapped(#[source] PoolError);

    #[test]
    fn a_pool_error_counts_wherever_it_is_in_the_chain() {
        assert!(is_unavailable(&PoolError::Closed));
        assert!(is_unavailable(&Wrapped(PoolError::Closed)));
        let hook = deadpool_postgres::HookError::message("refused by a hook");
        assert!(!is_unavailable(&PoolError::PostCreateHook(hook)));
    }

    #[test]
    fn an_error_with_no_database_error_in_its_chain_is_not_an_outage() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_unavailable(&io));
    }
}
