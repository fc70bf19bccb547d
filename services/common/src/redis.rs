//! The Redis client of a service: one multiplexed connection, made lazily (so a service starts
//! while Redis is down) and re-made by itself after Redis restarts; a short back-off after a
//! failure, so callers that can do without Redis (a cache, an outbox) skip it at once instead
//! of waiting on it in every request; and the readiness probe.
//!
//! `rediss://` URLs connect over TLS (rustls with the ring provider). The server's certificate
//! is checked against the system's roots, or against the certificate authorities in the PEM
//! file named by `REDIS_CA_CERT` (a cluster's own CA).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisResult, TlsCertificates};

pub use redis::RedisError;

/// The variable naming a PEM file of the certificate authorities to trust for `rediss://`
/// (default: the system's roots).
pub const CA_CERT_VAR: &str = "REDIS_CA_CERT";

/// Time limits of the shared connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisSettings {
    /// Limit for connecting and for each command's answer; default 1 s. Redis answers in well
    /// under a millisecond, so anything slower means it is gone.
    pub timeout: Duration,
    /// How long Redis is skipped after a failed command; default 1 s.
    pub back_off: Duration,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(1),
            back_off: Duration::from_secs(1),
        }
    }
}

/// A cheaply cloned handle on the shared Redis connection.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: ConnectionManager,
    health: Arc<Health>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("client", &self.client)
            .field("known_down", &self.health.is_down())
            .finish()
    }
}

/// When Redis last failed, as milliseconds since `start` (0: no failure in force).
#[derive(Debug)]
struct Health {
    start: Instant,
    down_until_ms: AtomicU64,
    back_off: Duration,
}

impl Health {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_down(&self) -> bool {
        let until = self.down_until_ms.load(Ordering::Relaxed);
        until != 0 && self.now_ms() < until
    }

    fn mark_down(&self) {
        let back_off = u64::try_from(self.back_off.as_millis()).unwrap_or(u64::MAX);
        // At least 1 so that "down until" never reads as "never failed".
        let until = self.now_ms().saturating_add(back_off).max(1);
        self.down_until_ms.store(until, Ordering::Relaxed);
    }

    fn mark_up(&self) {
        self.down_until_ms.store(0, Ordering::Relaxed);
    }
}

impl Redis {
    /// A client for `redis_url` (`redis://host:port[/db]`, or `rediss://` for TLS, trusting
    /// the certificate authorities of the file named by `REDIS_CA_CERT` when it is set). No
    /// connection is made here; the first command connects. Must be called inside a Tokio
    /// runtime.
    pub fn new(redis_url: &str, settings: RedisSettings) -> RedisResult<Self> {
        let ca_cert = std::env::var_os(CA_CERT_VAR)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        Self::with_ca_cert(redis_url, settings, ca_cert.as_deref())
    }

    /// Like [`Redis::new`], with the CA file given rather than read from `REDIS_CA_CERT`.
    /// `ca_cert` is used by `rediss://` URLs only.
    pub fn with_ca_cert(
        redis_url: &str,
        settings: RedisSettings,
        ca_cert: Option<&Path>,
    ) -> RedisResult<Self> {
        let client = client(redis_url, ca_cert)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            // One attempt per use: the manager tries again on the next command, and a caller
            // waiting through a retry loop is exactly what the back-off avoids.
            .set_number_of_retries(0);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            client,
            manager,
            health: Arc::new(Health {
                start: Instant::now(),
                down_until_ms: AtomicU64::new(0),
                back_off: settings.back_off,
            }),
        })
    }

    /// The shared connection, or `None` during the back-off after a failure. Pass each
    /// command's result through [`Redis::observe`] so failures start the back-off.
    pub fn connection(&self) -> Option<ConnectionManager> {
        (!self.health.is_down()).then(|| self.manager.clone())
    }

    /// Returns `result` unchanged, starting the back-off when it shows Redis unreachable
    /// (refused, timed out, connection dropped) and ending it on success. Errors Redis itself
    /// answered (a wrong type, a missing group) say nothing about reachability.
    pub fn observe<T>(&self, result: RedisResult<T>) -> RedisResult<T> {
        match &result {
            Ok(_) => self.health.mark_up(),
            Err(err) if is_unreachable(err) => self.health.mark_down(),
            Err(_) => {}
        }
        result
    }

    /// Whether Redis failed within the back-off time.
    pub fn is_known_down(&self) -> bool {
        self.health.is_down()
    }

    /// The client, for a dedicated connection that must not share the multiplexed one (a
    /// blocking `XREADGROUP` would hold up every other command behind it).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Readiness probe: `PING` on the shared connection, whatever the back-off says.
    pub async fn ping(&self) -> RedisResult<()> {
        let mut conn = self.manager.clone();
        let result: RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        self.observe(result).map(drop)
    }
}

fn client(redis_url: &str, ca_cert: Option<&Path>) -> RedisResult<redis::Client> {
    if !redis_url.starts_with("rediss://") {
        return redis::Client::open(redis_url);
    }
    // The redis crate builds its TLS configuration with rustls's process-wide provider:
    // make it ring whatever else the build enables (Err: one is installed already).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(path) = ca_cert else {
        return redis::Client::open(redis_url);
    };
    let pem = std::fs::read(path).map_err(|e| {
        RedisError::from((
            ErrorKind::InvalidClientConfig,
            "cannot read the CA certificate file",
            format!("{CA_CERT_VAR}={}: {e}", path.display()),
        ))
    })?;
    redis::Client::build_with_tls(
        redis_url,
        TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        },
    )
}

/// Whether an error means Redis could not be reached, rather than that it refused a command.
pub fn is_unreachable(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_url_is_refused() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        assert!(Redis::new("http://not-redis", RedisSettings::default()).is_err());
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_the_probe_and_starts_the_back_off() {
        // Port 1 on loopback: nothing listens there, so connecting is refused at once.
        let redis = Redis::new(
            "redis://127.0.0.1:1",
            RedisSettings {
                timeout: Duration::from_secs(1),
                back_off: Duration::from_secs(60),
            },
        )
        .unwrap();
        assert!(redis.connection().is_some(), "no failure seen yet");
        let err = redis.ping().await.unwrap_err();
        assert!(is_unreachable(&err), "{err:?}");
        assert!(redis.is_known_down());
        assert!(redis.connection().is_none());
    }
}
