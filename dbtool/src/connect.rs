//! Connecting to PostgreSQL as libpq does: a URL or `key=value` connection string with
//! libpq's TLS settings (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`), TLS by rustls; and
//! dbtool's first connection, retried with backoff while the server is not up yet.
//!
//! The services' connection pools use the same [`ConnectOptions`], so every program of the
//! cluster reads a database URL the same way.

mod conninfo;
mod tls;

use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Config, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Error;
use crate::progress::Progress;

pub use tls::SslMode;

/// The connection of a [`Client`] made by [`ConnectOptions::connect_once`]: plain or TLS.
pub type Connection =
    tokio_postgres::Connection<Socket, <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream>;

/// Where and how to connect: tokio-postgres's settings, plus libpq's TLS settings, which
/// tokio-postgres does not know (`allow`, `verify-ca`, `verify-full`, the certificate files).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    postgres: Config,
    tls: tls::Tls,
}

impl ConnectOptions {
    /// Parses a `postgres://` URL or a `key=value` connection string and reads the
    /// certificate files it names. A bad file is an error here, before any connection.
    pub fn parse(s: &str) -> Result<ConnectOptions, Error> {
        let (rest, settings) = conninfo::split(s).map_err(Error::BadUrl)?;
        let mut postgres: Config = rest
            .parse()
            .map_err(|e: tokio_postgres::Error| Error::BadUrl(describe(&e)))?;
        let tls = tls::Tls::new(&settings)?;
        postgres.ssl_mode(tls.first_attempt());
        Ok(ConnectOptions { postgres, tls })
    }

    /// tokio-postgres's settings (host, user, database, timeouts, …).
    pub fn postgres(&self) -> &Config {
        &self.postgres
    }

    /// tokio-postgres's settings, to change one (another database name, a timeout). Its
    /// `ssl_mode` is managed here: leave it alone.
    pub fn postgres_mut(&mut self) -> &mut Config {
        &mut self.postgres
    }

    /// libpq's `sslmode` as given (default `prefer`).
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.mode
    }

    /// One connection attempt, following `sslmode`: `allow` tries TLS when the server
    /// refuses a plain connection, `prefer` falls back to plain when the TLS handshake
    /// fails, as libpq does. Spawn the returned connection.
    pub async fn connect_once(&self) -> Result<(Client, Connection), tokio_postgres::Error> {
        use tokio_postgres::config::SslMode as Pg;
        let connector = self.tls.connector.clone();
        if self.unix_sockets_only() {
            // libpq ignores sslmode on Unix sockets; PostgreSQL offers no TLS there.
            let mut plain = self.postgres.clone();
            plain.ssl_mode(Pg::Disable);
            return plain.connect(connector).await;
        }
        let first = self.postgres.connect(connector.clone()).await;
        let fallback = match (&first, self.tls.mode) {
            // The server refused the plain session (pg_hba.conf `hostssl`, for one).
            (Err(err), SslMode::Allow) if is_refusal(err) => Pg::Require,
            (Err(err), SslMode::Prefer) if tls::rustls_error(err).is_some() => Pg::Disable,
            _ => return first,
        };
        let mut again = self.postgres.clone();
        again.ssl_mode(fallback);
        again.connect(connector).await
    }

    fn unix_sockets_only(&self) -> bool {
        let hosts = self.postgres.get_hosts();
        #[cfg(unix)]
        let unix = |host: &tokio_postgres::config::Host| {
            matches!(host, tokio_postgres::config::Host::Unix(_))
        };
        #[cfg(not(unix))]
        let unix = |_: &tokio_postgres::config::Host| false;
        !hosts.is_empty() && hosts.iter().all(unix)
    }

    /// Sorts out a failed attempt: `Err` with the error to stop at when waiting cannot cure
    /// it (a TLS failure, a database that does not exist, a refused login), `Ok` with the
    /// error itself when another try may succeed (refused, starting up, not resolvable).
    pub fn retryable(&self, err: tokio_postgres::Error) -> Result<tokio_postgres::Error, Error> {
        let host = match self.postgres.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(name)) => name.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => String::new(),
        };
        if let Some(message) = self.tls.explain(&err, &host) {
            return Err(Error::Tls(message));
        }
        if let Some(db) = err.as_db_error() {
            if *db.code() == SqlState::INVALID_CATALOG_NAME {
                return Err(Error::NoSuchDatabase(db.message().to_owned()));
            }
        }
        if is_refusal(&err) {
            return Err(Error::database("connecting", err));
        }
        Ok(err)
    }
}

/// Parses a `postgres://` URL or `key=value` connection string, for dbtool: it must name a
/// host, and the session is named `dbtool` unless `application_name` says otherwise.
pub fn parse_url(url: &str) -> Result<ConnectOptions, Error> {
    let mut options = ConnectOptions::parse(url)?;
    if options.postgres.get_hosts().is_empty() {
        return Err(Error::BadUrl("no host given".into()));
    }
    if options.postgres.get_application_name().is_none() {
        options.postgres.application_name("dbtool");
    }
    Ok(options)
}

/// Connects, retrying for up to `wait` while the server refuses, is starting up or cannot
/// be resolved yet. What waiting will not fix fails at once: a wrong password or a role
/// the server does not admit, a database that does not exist, a TLS failure.
pub async fn connect(
    options: &ConnectOptions,
    wait: Duration,
    progress: &Progress,
) -> Result<Client, Error> {
    let started = Instant::now();
    let deadline = started + wait;
    let mut backoff = Duration::from_millis(50);
    let mut announced = false;
    loop {
        let mut attempt = options.clone();
        let left = deadline.saturating_duration_since(Instant::now());
        attempt
            .postgres
            .connect_timeout(left.clamp(Duration::from_secs(1), Duration::from_secs(10)));
        let last_error = match attempt.connect_once().await {
            Ok((client, connection)) => {
                tokio::spawn(async move {
                    // Errors surface on the client's next request; nothing to do here.
                    let _ = connection.await;
                });
                return Ok(client);
            }
            Err(err) => options.retryable(err)?,
        };
        let now = Instant::now();
        if now + backoff > deadline {
            return Err(Error::Unreachable {
                waited_secs: started.elapsed().as_secs(),
                last_error: describe(&last_error),
            });
        }
        if !announced {
            progress.line(&format!(
                "waiting up to {} s for the database: {}",
                wait.as_secs(),
                describe(&last_error)
            ));
            announced = true;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// The server refused the login: wrong password, unknown role, no pg_hba.conf entry.
fn is_refusal(err: &tokio_postgres::Error) -> bool {
    matches!(
        err.code(),
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    )
}

/// The whole error chain on one line ("error connecting to server: Connection refused").
fn describe(err: &tokio_postgres::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text = format!("{text}: {inner_text}");
        }
        source = inner.source();
    }
    text
}
