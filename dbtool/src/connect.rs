//! Connecting to PostgreSQL, retrying with backoff while the server is not up yet.

use std::time::{Duration, Instant};

use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::Error;
use crate::progress::Progress;

/// Parses a `postgres://` URL or `key=value` connection string.
pub fn parse_url(url: &str) -> Result<Config, Error> {
    let mut config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| Error::BadUrl(e.to_string()))?;
    if config.get_hosts().is_empty() {
        return Err(Error::BadUrl("no host given".into()));
    }
    if config.get_ssl_mode() == SslMode::Require {
        return Err(Error::BadUrl(
            "sslmode=require is not supported: dbtool connects without TLS (use disable or prefer)"
                .into(),
        ));
    }
    if config.get_application_name().is_none() {
        config.application_name("dbtool");
    }
    Ok(config)
}

/// Connects, retrying for up to `wait` while the server refuses, is starting up or cannot
/// be resolved yet. A wrong password is not retried: waiting will not fix it.
pub async fn connect(
    config: &Config,
    wait: Duration,
    progress: &Progress,
) -> Result<Client, Error> {
    let started = Instant::now();
    let deadline = started + wait;
    let mut backoff = Duration::from_millis(50);
    let mut announced = false;
    loop {
        let mut attempt = config.clone();
        let left = deadline.saturating_duration_since(Instant::now());
        attempt.connect_timeout(left.clamp(Duration::from_secs(1), Duration::from_secs(10)));
        let last_error = match attempt.connect(NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(async move {
                    // Errors surface on the client's next request; nothing to do here.
                    let _ = connection.await;
                });
                return Ok(client);
            }
            Err(err) if is_auth_failure(&err) => {
                return Err(Error::database("connecting", err));
            }
            Err(err) => err,
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

fn is_auth_failure(err: &tokio_postgres::Error) -> bool {
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
