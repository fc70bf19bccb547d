//! The shape every data service has: its own PostgreSQL database and a Redis, both opened
//! lazily so the service starts while either is still down; the standard readiness (the
//! database required, Redis optional); an HTTP server with a background worker beside it,
//! started together and stopped in order (the server finishes its requests, then the worker
//! its round); and `?limit=` read the same way everywhere.
//!
//! catalog (whose worker publishes its outbox) and activity (whose worker consumes the
//! stream) are built from it; a third data service is its routes, its worker and this.

use std::future::Future;

use anyhow::Context as _;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde::Deserialize;
use tokio::sync::watch;

use crate::config::{ConfigError, Env, ErrorBody, HttpConfig};
use crate::health::{Check, Readiness};
use crate::metrics::Metrics;
use crate::postgres::{self, PoolSettings};
use crate::redis::{Redis, RedisSettings};
use crate::running::Running;
use crate::startup::Application;

/// The database and Redis settings of a data service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataConfig {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `DATABASE_POOL_SIZE`, at least 1.
    pub database_pool_size: usize,
    /// `REDIS_URL`, default `redis://localhost:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default empty: put before every Redis key and the stream name, so
    /// several clusters (or parallel tests) can share one Redis.
    pub redis_key_prefix: String,
}

impl DataConfig {
    pub const DEFAULT_REDIS_URL: &'static str = "redis://localhost:6379";

    /// Reads the four variables, with the service's own default database and pool size.
    pub fn from_env(
        env: &Env,
        default_database_url: &str,
        default_pool_size: usize,
    ) -> Result<Self, ConfigError> {
        let database_pool_size: usize = env.parse_or("DATABASE_POOL_SIZE", default_pool_size)?;
        if database_pool_size == 0 {
            return Err(ConfigError::Invalid {
                var: "DATABASE_POOL_SIZE".into(),
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            database_url: env.string_or("DATABASE_URL", default_database_url)?,
            database_pool_size,
            redis_url: env.string_or("REDIS_URL", Self::DEFAULT_REDIS_URL)?,
            redis_key_prefix: env.string_or("REDIS_KEY_PREFIX", "")?,
        })
    }

    /// The given database and Redis, keys under `prefix`: for tests.
    pub fn for_tests(database_url: &str, redis_url: &str, prefix: &str, pool_size: usize) -> Self {
        Self {
            database_url: database_url.to_owned(),
            database_pool_size: pool_size,
            redis_url: redis_url.to_owned(),
            redis_key_prefix: prefix.to_owned(),
        }
    }

    /// A Redis key or stream name with the prefix before it.
    pub fn redis_key(&self, name: &str) -> String {
        format!("{}{name}", self.redis_key_prefix)
    }
}

/// The database pool and the Redis handle of a data service; neither has connected yet.
#[derive(Clone)]
pub struct DataConnections {
    pub pool: Pool,
    pub redis: Redis,
}

impl DataConnections {
    /// Builds both from the settings; a malformed URL or a certificate file that cannot be
    /// read is an error naming the variable.
    pub fn open(config: &DataConfig) -> anyhow::Result<Self> {
        let pool = postgres::pool(
            &config.database_url,
            PoolSettings {
                max_size: config.database_pool_size,
                ..PoolSettings::default()
            },
        )
        .context("DATABASE_URL")?;
        let redis = Redis::new(&config.redis_url, RedisSettings::default()).context("REDIS_URL")?;
        Ok(Self { pool, redis })
    }

    /// Ready when the database answers. Redis is reported but optional: a data service
    /// without it still serves from its database (degraded, not down).
    pub fn readiness(&self) -> Readiness {
        let connections = self.clone();
        Readiness::new(move || {
            let DataConnections { pool, redis } = connections.clone();
            async move {
                vec![
                    Check::required("postgres", postgres::ping(&pool).await),
                    Check::optional("redis", redis.ping().await),
                ]
            }
        })
    }
}

/// The work a data service does beside its HTTP server, until `stop` turns true.
pub trait Worker: Send + 'static {
    /// Named in the error when the worker's task panics.
    const NAME: &'static str;

    fn run(self, stop: watch::Receiver<bool>) -> impl Future<Output = ()> + Send;
}

/// A bound, not yet serving, data service: its HTTP server and its worker.
pub struct DataService<W> {
    http: Application,
    worker: W,
}

impl<W: Worker> DataService<W> {
    /// Binds the ports with `routes` behind the shared layers (errors of the layers worded in
    /// JSON, like the rest of a data service's API) and `metrics` on the metrics port.
    pub async fn build(
        http: &HttpConfig,
        routes: Router,
        metrics: Metrics,
        worker: W,
    ) -> anyhow::Result<Self> {
        let http = HttpConfig {
            error_body: ErrorBody::Json,
            ..http.clone()
        };
        let http = Application::build_with_metrics(&http, routes, metrics).await?;
        Ok(Self { http, worker })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.http.port()
    }

    /// The metrics port actually bound.
    pub fn metrics_port(&self) -> u16 {
        self.http.metrics_port()
    }

    /// Runs on a task of its own until the returned handle stops it or is dropped.
    pub fn spawn(self) -> Running {
        let (port, metrics_port) = (self.port(), self.metrics_port());
        Running::spawn(port, metrics_port, |stop| self.run_until(stop.wait()))
    }

    /// Serves until SIGTERM or SIGINT, then stops as [`run_until`](Self::run_until) does.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(crate::shutdown::signal()).await
    }

    /// Runs the worker and serves until `shutdown` completes; then the server finishes its
    /// requests, and after it the worker finishes its round and stops.
    pub async fn run_until<F>(self, shutdown: F) -> anyhow::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(self.worker.run(stopped));
        let served = self.http.run_until(shutdown).await;
        let _ = stop.send(true);
        worker.await.context(W::NAME)?;
        served.context("HTTP server")
    }
}

/// A data service's error answer: `{"error": message}` with its status.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// A failure on the service's side: 503 when the database is unavailable (by the one rule,
/// [`postgres::is_unavailable`]), 500 for anything else. The cause is logged when answered,
/// never sent: no database error text reaches a client.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ServerError {
    /// Sorts a store's error by the unavailable-database rule.
    pub fn from_store<E>(err: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        if postgres::is_unavailable(&err) {
            Self::Unavailable(err.into())
        } else {
            Self::Internal(err.into())
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "database unavailable")
            }
        }
        error_response(self.status(), &self.to_string())
    }
}

/// `?limit=N`: a page size from 1 to `MAX`, `DEFAULT` when absent. Other query parameters
/// are left to the route's own extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<const DEFAULT: i64, const MAX: i64>(pub i64);

/// A `limit` out of range or not a number: 400 with `{"error": …}`, as every data service
/// words its errors.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct LimitRejection(String);

impl IntoResponse for LimitRejection {
    fn into_response(self) -> Response {
        error_response(StatusCode::BAD_REQUEST, &self.0)
    }
}

impl<const DEFAULT: i64, const MAX: i64> Limit<DEFAULT, MAX> {
    /// Reads the raw value, so that bad ones get this message rather than serde's.
    pub fn parse(raw: Option<&str>) -> Result<Self, LimitRejection> {
        let Some(raw) = raw else {
            return Ok(Self(DEFAULT));
        };
        match raw.parse::<i64>() {
            Ok(limit) if (1..=MAX).contains(&limit) => Ok(Self(limit)),
            _ => Err(LimitRejection(format!(
                "limit must be a whole number from 1 to {MAX}"
            ))),
        }
    }
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<String>,
}

impl<S: Send + Sync, const DEFAULT: i64, const MAX: i64> FromRequestParts<S>
    for Limit<DEFAULT, MAX>
{
    type Rejection = LimitRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<LimitQuery>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                LimitRejection(format!("invalid query: {}", rejection.body_text()))
            })?;
        Self::parse(query.limit.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Page = Limit<20, 100>;

    #[test]
    fn limits_outside_one_to_the_maximum_are_refused() {
        assert_eq!(Page::parse(None), Ok(Limit(20)));
        assert_eq!(Page::parse(Some("1")), Ok(Limit(1)));
        assert_eq!(Page::parse(Some("100")), Ok(Limit(100)));
        for bad in ["0", "101", "-1", "", "ten", "1.5", "99999999999999999999"] {
            assert_eq!(
                Page::parse(Some(bad)).unwrap_err().to_string(),
                "limit must be a whole number from 1 to 100",
                "case {bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_extractor_reads_limit_among_other_parameters() {
        let request = axum::http::Request::builder()
            .uri("/info?after=b&limit=7")
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        assert_eq!(
            Page::from_request_parts(&mut parts, &()).await,
            Ok(Limit(7))
        );
        let request = axum::http::Request::builder()
            .uri("/info?limit=0")
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        let refused = Page::from_request_parts(&mut parts, &()).await.unwrap_err();
        assert_eq!(refused.into_response().status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn data_settings_take_the_services_defaults_and_refuse_an_empty_pool() {
        let unset = Env::from_pairs::<&str, &str>([]);
        let config = DataConfig::from_env(&unset, "postgres://x@localhost/x", 8).unwrap();
        assert_eq!(
            config,
            DataConfig {
                database_url: "postgres://x@localhost/x".into(),
                database_pool_size: 8,
                redis_url: DataConfig::DEFAULT_REDIS_URL.into(),
                redis_key_prefix: String::new(),
            }
        );
        let prefixed = Env::from_pairs([("REDIS_KEY_PREFIX", "t1:")]);
        let config = DataConfig::from_env(&prefixed, "postgres://x@localhost/x", 8).unwrap();
        assert_eq!(config.redis_key("events"), "t1:events");
        let err = DataConfig::from_env(&Env::from_pairs([("DATABASE_POOL_SIZE", "0")]), "", 8)
            .unwrap_err();
        assert!(err.to_string().starts_with("DATABASE_POOL_SIZE"), "{err}");
    }
}
